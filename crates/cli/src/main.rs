//! The `expedite` binary: argument parsing and wiring, nothing else.
//!
//! Each subcommand lives in its own module under `commands/` and calls into the library
//! crates. Exit codes (docs/README.md, "Exit codes"): 0 success (a closed pipe counts as
//! success), 1 failure at run time (a file that cannot be read, an unreachable database),
//! 2 usage errors and bad input.

mod commands;
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
}

/// Examples shown at the end of each command's `--help`, by command path.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "expedite",
        "expedite demo\n  expedite rules check --purchaser POL --date 2025-03-01 --mde-usd '$24M' --total-usd '$24M'\n  expedite nato status --year 2024\n  expedite sipri leadtimes --file trade-register.csv --from 2015 --recipient-group nato",
    ),
    (
        "rules",
        "expedite rules check --purchaser EGY --date 2025-03-01 --mde-usd '$24M' --total-usd 24000000\n  expedite rules list\n  expedite rules samm -f csv",
    ),
    (
        "rules check",
        "expedite rules check --purchaser EGY --date 2025-03-01 --mde-usd '$24M' --total-usd 24000000\n  expedite rules check --purchaser POL --date 2025-03-01 --total-usd '$1.2B' -f json",
    ),
    (
        "rules list",
        "expedite rules list\n  expedite rules list -f json",
    ),
    (
        "rules samm",
        "expedite rules samm\n  expedite rules samm -f csv",
    ),
    (
        "sipri",
        "expedite sipri leadtimes --file trade-register.csv --from 2015 --recipient-group nato\n  expedite sipri deals --file trade-register.csv --supplier KOR --recipient POL",
    ),
    (
        "sipri leadtimes",
        "expedite sipri leadtimes --file trade-register.csv --from 2015 --recipient-group nato --supplier USA --supplier KOR -f csv\n  EXPEDITE_SIPRI=trade-register.csv expedite sipri leadtimes --by category --status new",
    ),
    (
        "sipri deals",
        "expedite sipri deals --file trade-register.csv --supplier KOR --recipient POL --from 2022\n  expedite sipri deals --file trade-register.csv --recipient-group nato --members-any-time -f csv",
    ),
    (
        "nato",
        "expedite nato status --year 2024\n  expedite nato trend POL\n  expedite nato path --target 3.5 --by 2035 -f csv",
    ),
    (
        "nato status",
        "expedite nato status\n  expedite nato status --year 2024 --target 2 -f json",
    ),
    (
        "nato trend",
        "expedite nato trend POL\n  expedite nato trend Germany -f csv",
    ),
    (
        "nato path",
        "expedite nato path --target 3.5 --by 2035\n  expedite nato path --target 5 -f csv",
    ),
    (
        "dsca",
        "expedite dsca summary --purchaser POL\n  expedite dsca list --from 2025 --purchaser DNK",
    ),
    (
        "dsca list",
        "expedite dsca list --from 2025-01-01 --purchaser DNK\n  expedite dsca list --from 2024 --to 2024 -f csv",
    ),
    (
        "dsca summary",
        "expedite dsca summary --purchaser POL -f csv\n  expedite dsca summary --from 2023 --to 2024",
    ),
    (
        "demo",
        "expedite demo\n  expedite demo --trials 2000 --chart demo.svg\n  expedite demo --print-template > my-assumptions.toml",
    ),
    (
        "forecast",
        "expedite forecast examples/forecast/eastern-flank.toml\n  expedite forecast examples/forecast/eastern-flank.toml -q -f json",
    ),
    (
        "serve",
        "expedite serve --demo\n  expedite serve --db postgres://postgres@127.0.0.1:5432/expedite --addr 127.0.0.1:8081",
    ),
    (
        "token",
        "expedite token create --role analyst --name my-analyst\n  expedite token list\n  expedite token revoke my-analyst",
    ),
    (
        "token create",
        "expedite token create --role case_manager --agency army --name usasac-army -f json",
    ),
    (
        "token list",
        "expedite token list\n  expedite token list -f csv",
    ),
    ("token revoke", "expedite token revoke usasac-army"),
    (
        "completions",
        "expedite completions bash > ~/.local/share/bash-completion/completions/expedite\n  expedite completions zsh > ~/.zfunc/_expedite",
    ),
    ("man", "expedite man > expedite.1 && man ./expedite.1"),
];

/// Short flags for options many commands share; each is added only where the command has
/// the option and the letter is free.
const SHORT_FLAGS: &[(&str, char)] = &[("format", 'f'), ("seed", 's'), ("trials", 't')];

/// The command line with examples, short flags and the long version added.
fn command() -> clap::Command {
    // Built once per run; clap keeps `&'static str`s.
    let version: &'static str = Box::leak(long_version().into_boxed_str());
    let command = Cli::command().long_version(version);
    decorate(command, "")
}

fn decorate(mut command: clap::Command, path: &str) -> clap::Command {
    let key = if path.is_empty() { "expedite" } else { path };
    if let Some((_, examples)) = EXAMPLES.iter().find(|(name, _)| *name == key) {
        command = command.after_help(format!("Examples:\n  {examples}"));
    }
    for &(id, short) in SHORT_FLAGS {
        let has_arg = command.get_arguments().any(|arg| arg.get_id() == id);
        let taken = command
            .get_arguments()
            .any(|arg| arg.get_short() == Some(short));
        if has_arg && !taken {
            command = command.mut_arg(id, |arg| arg.short(short));
        }
    }
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    for name in names {
        let sub_path = if path.is_empty() {
            name.clone()
        } else {
            format!("{path} {name}")
        };
        command = command.mut_subcommand(&name, |sub| decorate(sub, &sub_path));
    }
    command
}

/// `--version`: the program's version and the dates of the data shipped in it.
fn long_version() -> String {
    let mut text = env!("CARGO_PKG_VERSION").to_owned();
    let nato = expedite_data::nato::EDITION;
    text.push_str(&format!(
        "\nshipped data:\n  NATO: {}, published {} ({} are estimates)",
        nato.title, nato.published, nato.estimate_years
    ));
    match expedite_data::dsca::builtin() {
        Ok(notifications) => {
            let sample = expedite_data::dsca::SampleInfo::of(&notifications);
            let span = match (sample.first_date, sample.last_date) {
                (Some(first), Some(last)) => format!(", announced {first} to {last}"),
                _ => String::new(),
            };
            text.push_str(&format!(
                "\n  DSCA: a sample of {} notifications{span}",
                sample.notifications
            ));
        }
        Err(error) => text.push_str(&format!("\n  DSCA: unreadable ({error})")),
    }
    match expedite_data::capacity::Catalog::builtin() {
        Ok(catalog) => {
            let latest = catalog
                .lines
                .iter()
                .flat_map(|line| &line.rates)
                .filter(|step| step.kind != expedite_data::capacity::RateKind::Target)
                .map(|step| step.from)
                .max();
            let latest = latest.map_or_else(String::new, |date| {
                format!(", latest reported or capacity rate from {date}")
            });
            text.push_str(&format!(
                "\n  production-line catalog: {} lines{latest}",
                catalog.lines.len()
            ));
        }
        Err(error) => text.push_str(&format!(
            "\n  production-line catalog: unreadable ({error})"
        )),
    }
    text
}

fn main() -> ExitCode {
    let matches = command().get_matches();
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
        Command::Serve(args) => commands::serve::run(args),
        Command::Token(command) => commands::token::run(command),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut command(), "expedite", &mut io::stdout());
            Ok(())
        }
        Command::Man => man(),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let code = output::exit_code(&error);
            if code != 0 {
                eprintln!("error: {error:#}");
            }
            ExitCode::from(code)
        }
    }
}

/// `expedite man`: the manual page of the whole command line.
fn man() -> anyhow::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command()).render(&mut page)?;
    io::Write::write_all(&mut io::stdout().lock(), &page)?;
    Ok(())
}
