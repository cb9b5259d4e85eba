//! What `--help`, `--version`, completions and the manual page show beyond the argument
//! definitions: examples after every command's help, short flags for the options many
//! commands share, and the dates of the shipped data in `--version`.

/// Examples shown at the end of each command's `--help`, by command path.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "expedite",
        "expedite demo\n  expedite rules check --purchaser POL --date 2025-03-01 --mde-usd '$24M' --total-usd '$24M'\n  expedite nato status --year 2024\n  expedite sipri leadtimes --file trade-register.csv --from 2015 --recipient-group nato",
    ),
    (
        "rules",
        "expedite rules check --purchaser EGY --date 2025-03-01 --mde-usd '$24M' --total-usd 24000000\n  expedite rules list\n  expedite rules samm -f csv\n  expedite rules replay --rule-set hr3613-2025",
    ),
    (
        "rules check",
        "expedite rules check --purchaser EGY --date 2025-03-01 --mde-usd '$24M' --total-usd 24000000\n  expedite rules check --purchaser POL --date 2025-03-01 --total-usd '$1.2B' -f json\n  expedite rules check --purchaser POL --date 2025-03-01 --mde-usd '$20M' --territory UKR\n  expedite rules check --purchaser JPN --date 2025-03-01 --channel dcs --mde-usd '$30M'\n  expedite rules check --purchaser KOR --date 2025-03-01 --channel mla\n  expedite rules check --purchaser EGY --date 2025-03-01 --mde-usd '$14M' --upgrade",
    ),
    (
        "rules replay",
        "expedite rules replay --rule-set hr3613-2025\n  expedite rules replay --rule-set hr3138-2025 --from 2025 -f csv",
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
    (
        "metrics",
        "expedite metrics --db sqlite://demo.db --from 2025-Q1 --to 2025-Q4 --by purchaser\n  expedite metrics --db sqlite://demo.db --from 2022-Q3 --report metrics-report",
    ),
    (
        "alerts",
        "expedite alerts --db sqlite://demo.db --since 2026-11-01\n  expedite alerts --db sqlite://demo.db --near-days 30 --threshold-days 60 --refresh -f json",
    ),
    (
        "sources",
        "expedite sources\n  expedite sources --sipri trade-register.csv -f csv",
    ),
    (
        "verify",
        "expedite verify --db sqlite://expedite.db\n  expedite verify --db postgres://expedite@db.example/expedite --key-file /etc/expedite/history.key",
    ),
    (
        "calibrate",
        "expedite calibrate crates/data/data/cases/timelines.csv --observed 2026-03-31 --register trade-register.csv --register-ordered-before 2015\n  expedite calibrate my-sales.csv --observed 2026-03-31 --out my-params.toml --family likelier",
    ),
    (
        "backtest",
        "expedite backtest crates/data/data/cases/timelines.csv --observed 2026-03-31 --calibration leave-one-out --register trade-register.csv --register-ordered-before 2015\n  expedite backtest other-sales.csv --observed 2026-03-31 --params my-params.toml -f csv\n  expedite backtest trade-register.csv --sipri --observed 2024-12-31 --ordered-from 2015",
    ),
];

/// Short flags for options many commands share; each is added only where the command has
/// the option and the letter is free.
const SHORT_FLAGS: &[(&str, char)] = &[("format", 'f'), ("seed", 's'), ("trials", 't')];

/// The command line with examples, short flags and the long version added.
pub fn decorated(command: clap::Command) -> clap::Command {
    // Built once per run; clap keeps `&'static str`s.
    let version: &'static str = Box::leak(long_version().into_boxed_str());
    decorate(command.long_version(version), "")
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
