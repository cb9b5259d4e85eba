//! Forecast portfolios built from real data: the shared layer between the forecast engine
//! and the commands and service that use it (DESIGN.md, "The parts": `portfolio/`).
//!
//! - [`template`]: the demo's scenario template, read and checked like a scenario.
//! - [`demo`]: the demo's portfolio (case selection, stage inference, catalog lines, mapping
//!   to a forecast scenario) and its forecast.
//! - [`fit`]: log-normal and Weibull fits to right-censored intervals, and the choice
//!   between them.
//! - [`offset`]: the first-delivery delay as a signed normal offset, a mean per line and a
//!   shared spread, fitted to exact, censored and year-dated residuals.
//! - [`promise`]: how far promised first deliveries slip, fitted per channel and checked
//!   by leaving each sale out.
//! - [`calibrate`]: fitting stage durations, delays, slips and rates from real timelines.
//! - [`backtest`]: forecasting real sales as of past dates and scoring them against what
//!   happened.
//! - [`stored`]: the forecast scenario of stored cases as of a day, and the snapshot of each
//!   case's forecast the store keeps for forecast alerts.
//!
//! May depend on core, data and forecast; reads no file and no clock: the caller passes in
//! the data and "today".

pub mod backtest;
pub mod calibrate;
pub mod demo;
mod error;
pub mod fit;
mod minimise;
pub mod offset;
pub mod promise;
pub mod sipri_sales;
pub mod span;
pub mod stored;
pub mod template;

pub use demo::{DemoPortfolio, Provenance, build_demo, run_demo};
pub use error::PortfolioError;
pub use template::Template;
