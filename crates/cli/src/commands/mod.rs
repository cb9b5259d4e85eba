//! One module per subcommand.

pub mod backtest;
pub mod demo;
pub mod dsca;
pub mod forecast;
pub mod nato;
pub mod rules;
pub mod serve;
pub mod sipri;
pub mod token;
