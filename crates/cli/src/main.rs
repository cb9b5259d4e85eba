//! The `expedite` binary: argument parsing and wiring, nothing else.
//!
//! Each subcommand lives in its own module under `commands/` and calls into the library
//! crates. Exit codes (STYLE.md habit 4): 0 success, 2 for bad input, usage or I/O errors;
//! a closed pipe counts as success.

mod commands;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Follow foreign military sales from the Letter of Request to the last delivery.
#[derive(Debug, Parser)]
#[command(name = "expedite", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Statutory rules: congressional notification (AECA §36(b)) and SAMM standards.
    #[command(subcommand)]
    Rules(commands::rules::RulesCommand),
    /// SIPRI trade register: lead times from order to delivery, and the deals behind them.
    #[command(subcommand)]
    Sipri(commands::sipri::SipriCommand),
    /// NATO defence expenditure against the 2% / 3.5% / 5% targets.
    #[command(subcommand)]
    Nato(commands::nato::NatoCommand),
    /// DSCA congressional notifications of proposed sales, 2022-2025.
    #[command(subcommand)]
    Dsca(commands::dsca::DscaCommand),
    /// The main job on the shipped data: forecast the notified sales to European allies on
    /// their production lines, base against an "expedite" policy.
    Demo(commands::demo::DemoArgs),
    /// Delivery forecast: when each case is on contract and delivered, P10/P50/P90, under
    /// the production capacity of its lines, and what each policy in the scenario changes.
    Forecast(commands::forecast::ForecastArgs),
    /// Fit stage durations and first-delivery delays to real case timelines, and write the
    /// parameters file the forecasts use.
    Calibrate(commands::backtest::CalibrateArgs),
    /// Forecast real sales as of the day after their notification and their LOA, using only
    /// what was known then, and score the forecasts against what happened.
    Backtest(commands::backtest::BacktestArgs),
    /// The case service: JSON API over a SQLite or PostgreSQL case store.
    Serve(commands::serve::ServeArgs),
    /// Access tokens for the case service: create, list, revoke.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Rules(command) => commands::rules::run(command),
        Command::Sipri(command) => commands::sipri::run(command),
        Command::Nato(command) => commands::nato::run(command),
        Command::Dsca(command) => commands::dsca::run(command),
        Command::Demo(args) => commands::demo::run(args),
        Command::Forecast(args) => commands::forecast::run(args),
        Command::Calibrate(args) => commands::backtest::run_calibrate(args),
        Command::Backtest(args) => commands::backtest::run_backtest(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Token(command) => commands::token::run(command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if output::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
