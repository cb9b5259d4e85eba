//! The `expedite` binary: argument parsing and wiring, nothing else.
//!
//! Each subcommand lives in its own module under `commands/` and calls into the library
//! crates. Exit codes (docs/README.md, "Exit codes"): 0 success (a closed pipe counts as
//! success), 1 failure at run time (a file that cannot be read, a database that does not
//! answer or is not there, a key that cannot be read), 2 usage errors and bad input, 3 when
//! `verify` finds the history broken.

mod commands;
mod help;
mod output;
mod period;

use std::io;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use clap_complete::Shell;

use output::ColorChoice;

/// Follow foreign military sales from the Letter of Request to the last delivery.
#[derive(Debug, Parser)]
#[command(name = "expedite", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
struct GlobalArgs {
    /// No progress bars or notes on stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Fit tables in this many columns (default: $COLUMNS, else the terminal's width; no
    /// limit when piped).
    #[arg(long, global = true, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(20..))]
    width: Option<u16>,
    /// Box-drawn tables: auto = on a terminal unless NO_COLOR is set; never = plain
    /// aligned text.
    #[arg(long, global = true, value_enum, default_value_t, value_name = "WHEN")]
    color: ColorChoice,
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
    /// Fit stage durations, first-delivery delays and delivery spans (and how a span grows
    /// with the order) to real case timelines, and write the parameters file the forecasts
    /// use.
    Calibrate(commands::backtest::CalibrateArgs),
    /// Forecast real sales as of the day after their notification and their LOA, using only
    /// what was known then, and score the forecasts against what happened.
    Backtest(commands::backtest::BacktestArgs),
    /// The case service: JSON API over a SQLite or PostgreSQL case store.
    Serve(commands::serve::ServeArgs),
    /// Access tokens for the case service: create, list, revoke.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the manual page (roff) to stdout.
    Man,
    /// Quarterly case-execution metrics per phase from a case store; --report writes CSV
    /// tables and a page of SVG charts.
    Metrics(commands::metrics::MetricsArgs),
    /// Alerts on stored cases: SAMM targets, congressional review, offer expiry near or missed;
    /// forecasts whose delivery P50 moved or whose queue position changed.
    Alerts(commands::alerts::AlertsArgs),
    /// Every data source with the day it was last refreshed; older than a year is flagged.
    Sources(commands::sources::SourcesArgs),
    /// Checks a case database against its history key: every case's events, row and lines,
    /// and the ledger over all cases. Exit code 3 when something does not verify.
    Verify(commands::verify::VerifyArgs),
}

fn main() -> ExitCode {
    let matches = help::decorated(Cli::command()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    output::configure(output::Settings::from_flags(
        cli.global.width,
        cli.global.color,
        cli.global.quiet,
    ));
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
        Command::Completions { shell } => {
            let mut command = help::decorated(Cli::command());
            clap_complete::generate(shell, &mut command, "expedite", &mut io::stdout());
            Ok(())
        }
        Command::Man => man(),
        Command::Metrics(args) => commands::metrics::run(args),
        Command::Alerts(args) => commands::alerts::run(args),
        Command::Sources(args) => commands::sources::run(args),
        Command::Verify(args) => commands::verify::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let code = output::exit_code(&error);
            if code != 0 {
                // Passwords in a database URL never reach the terminal, whatever the error.
                eprintln!(
                    "error: {}",
                    expedite_store::redact::redact(&format!("{error:#}"))
                );
            }
            ExitCode::from(code)
        }
    }
}

/// `expedite man`: the manual page of the whole command line.
fn man() -> anyhow::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(help::decorated(Cli::command())).render(&mut page)?;
    io::Write::write_all(&mut io::stdout().lock(), &page)?;
    Ok(())
}
