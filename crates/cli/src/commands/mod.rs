//! One module per subcommand.

pub mod alerts;
pub mod backtest;
pub mod database;
pub mod demo;
pub mod dsca;
pub mod forecast;
pub mod metrics;
pub mod nato;
pub mod rules;
pub mod serve;
pub mod sipri;
pub mod sources;
pub mod token;
pub mod verify;
