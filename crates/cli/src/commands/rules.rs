//! `expedite rules check|list|samm|replay`: the statutory rules on the command line.

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use expedite_core::rules::{
    Channel, NotificationDecision, RuleBook, RuleError, RuleSet, SaleCheck,
};
use expedite_core::{AecaGroup, Country, Date, Usd};
use expedite_data::dsca::{self, Notification, NotificationFilter};
use expedite_data::replay::{self, Change, Replay, ReplayRow, Verdict};
use serde::Serialize;

use crate::output::{self, Format, Source};
use crate::period::{self, DateFlag, YearOrDate};

/// The `rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Does a proposed sale need congressional notification, and when can the offer go out?
    Check(CheckArgs),
    /// The rule sets expedite knows, laws and proposals, each figure confirmed or not.
    List(ListArgs),
    /// The SAMM time standards, with source and confidence.
    Samm(ListArgs),
    /// Judge every shipped DSCA notification under a rule set and under the law in force on
    /// its date: which would Congress not have seen?
    Replay(ReplayArgs),
}

/// The channel of a sale, which decides the paragraph of AECA §36.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ChannelArg {
    /// Foreign Military Sale under an LOA: §36(b).
    #[default]
    Fms,
    /// Direct commercial sale under an export licence: §36(c).
    Dcs,
    /// Manufacturing licence or technical assistance agreement: §36(d).
    Mla,
}

impl From<ChannelArg> for Channel {
    fn from(arg: ChannelArg) -> Channel {
        match arg {
            ChannelArg::Fms => Channel::Fms,
            ChannelArg::Dcs => Channel::Dcs,
            ChannelArg::Mla => Channel::Mla,
        }
    }
}

/// Arguments of `rules check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Purchasing country: ISO 3166-1 alpha-3 code (e.g. POL) or English name.
    #[arg(long)]
    purchaser: String,
    /// The date the sale is judged on, YYYY-MM-DD.
    #[arg(long, value_parser = DateFlag)]
    date: Date,
    /// fms (§36(b)), dcs (export licence, §36(c)) or mla (manufacturing licence or technical
    /// assistance agreement, §36(d)).
    #[arg(long, value_enum, default_value_t)]
    channel: ChannelArg,
    /// Value of the Major Defense Equipment (14000000, 14,000,000, $14M, $1.2B).
    #[arg(long, allow_hyphen_values = true)]
    mde_usd: Option<String>,
    /// Total value of defense articles and services, MDE and firearms included, D&C
    /// excluded. When omitted: the MDE plus the firearms value (the sale is nothing else).
    #[arg(long, allow_hyphen_values = true)]
    total_usd: Option<String>,
    /// Value of design and construction services (fms only).
    #[arg(long, allow_hyphen_values = true)]
    dc_usd: Option<String>,
    /// Value of USML Category I firearms (dcs only).
    #[arg(long, allow_hyphen_values = true)]
    firearms_usd: Option<String>,
    /// Countries of the sales territory besides the purchaser, ISO3[,ISO3…] (fms, dcs):
    /// one outside NATO+5 brings the general thresholds (§36(b)(6)).
    #[arg(long, value_name = "ISO3[,ISO3…]")]
    territory: Option<String>,
    /// An enhancement or upgrade of a notified sale (fms only; §36(b)(5)).
    #[arg(long)]
    upgrade: bool,
    /// The President invokes the emergency waiver (AECA §36(b)(1), reference §3.4).
    #[arg(long)]
    emergency: bool,
    /// Judge by this rule set instead of the law in force on the date (see `rules list`).
    #[arg(long)]
    rule_set: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Arguments of `rules list` and `rules samm`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Arguments of `rules replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The rule set to replay (see `rules list`), e.g. hr3613-2025.
    #[arg(long)]
    rule_set: String,
    /// Notifications announced on or after, YYYY-MM-DD or a year (its first day).
    #[arg(long, value_name = "DATE|YEAR")]
    from: Option<YearOrDate>,
    /// Notifications announced on or before, YYYY-MM-DD or a year (its last day).
    #[arg(long, value_name = "DATE|YEAR")]
    to: Option<YearOrDate>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn rule_set_source(set: &RuleSet) -> Source {
    Source::new(
        format!("{}: {} ({})", set.id, set.title, set.status),
        set.effective.to_string(),
    )
}

/// Runs a `rules` subcommand.
pub fn run(command: RulesCommand) -> anyhow::Result<()> {
    let book = RuleBook::builtin()?;
    match command {
        RulesCommand::Check(args) => check(&book, &args),
        RulesCommand::List(args) => list(&book, args.format),
        RulesCommand::Samm(args) => samm(&book, args.format),
        RulesCommand::Replay(args) => run_replay(&book, &args),
    }
}

fn parse_amount(flag: &str, text: Option<&str>) -> anyhow::Result<Option<Usd>> {
    text.map(|text| Usd::parse(text).with_context(|| format!("--{flag}: invalid amount")))
        .transpose()
}

fn parse_territory(text: &str) -> anyhow::Result<Vec<Country>> {
    text.split(',')
        .map(str::trim)
        .filter(|code| !code.is_empty())
        .map(|code| Country::parse(code).context("--territory"))
        .collect()
}

fn check(book: &RuleBook, args: &CheckArgs) -> anyhow::Result<()> {
    let purchaser = Country::parse(&args.purchaser).context("--purchaser")?;
    let date = args.date;
    let channel = Channel::from(args.channel);
    let mut sale = SaleCheck::new(purchaser, date, channel);
    sale.mde = parse_amount("mde-usd", args.mde_usd.as_deref())?;
    sale.articles_services = parse_amount("total-usd", args.total_usd.as_deref())?;
    sale.design_construction = parse_amount("dc-usd", args.dc_usd.as_deref())?;
    sale.firearms = parse_amount("firearms-usd", args.firearms_usd.as_deref())?;
    if let Some(territory) = &args.territory {
        sale.territory = parse_territory(territory)?;
    }
    sale.upgrade = args.upgrade;
    sale.emergency = args.emergency;
    let decision = match book.judge(&sale, args.rule_set.as_deref()) {
        Ok(decision) => decision,
        Err(RuleError::NotForChannel {
            input,
            channel,
            why,
        }) => {
            bail!(
                "{} does not apply to --channel {channel}: {why}",
                input.flag()
            )
        }
        Err(error) => return Err(anyhow::Error::new(error).context("cannot judge the sale")),
    };
    let set = book.get(&decision.rule_set)?;
    match args.format {
        Format::Json => output::print_json_with_sources(&decision, &[rule_set_source(set)]),
        Format::Table => output::print_text(&describe(&decision, set)),
        Format::Csv => print_check_csv(&decision),
    }
}

fn group_name(group: AecaGroup) -> &'static str {
    match group {
        AecaGroup::NatoPlus5 => "NATO+5",
        AecaGroup::Other => "outside NATO+5",
    }
}

fn describe(decision: &NotificationDecision, set: &RuleSet) -> String {
    let verdict = match (decision.channel, decision.notification_required) {
        (Channel::Mla, _) => {
            "notification REQUIRED (§36(d): every such agreement, no dollar threshold)".to_owned()
        }
        (_, true) => {
            let crossed: Vec<&str> = decision
                .thresholds_crossed
                .iter()
                .map(|t| t.as_str())
                .collect();
            format!(
                "notification REQUIRED (thresholds reached: {})",
                crossed.join(", ")
            )
        }
        (_, false) => "no notification required".to_owned(),
    };
    let channel = match decision.channel {
        Channel::Fms => "fms: Foreign Military Sale, AECA §36(b)",
        Channel::Dcs => "dcs: direct commercial sale (export licence), AECA §36(c)",
        Channel::Mla => "mla: manufacturing licence or technical assistance agreement, AECA §36(d)",
    };
    let mut table = output::key_value_table();
    table.add_row(vec![
        "purchaser",
        &format!(
            "{} ({}), {} on {}",
            decision.purchaser.name(),
            decision.purchaser,
            group_name(decision.group),
            decision.date
        ),
    ]);
    table.add_row(vec!["channel", channel]);
    table.add_row(vec![
        "rule set",
        &format!("{} ({})", decision.rule_set, set.status),
    ]);
    if decision.territory_outside_nato_plus_5 {
        table.add_row(vec![
            "territory",
            "includes a country outside NATO+5: the general thresholds apply (§36(b)(6), §36(c)(5))",
        ]);
    }
    table.add_row(vec!["verdict", &verdict]);
    let informal = if decision.channel == Channel::Fms {
        format!(
            "{} days, before the formal notification (not counted in the offer date)",
            decision.informal_review_days
        )
    } else {
        "none: the stored sources describe the informal review for FMS only".to_owned()
    };
    table.add_row(vec!["informal review", &informal]);
    table.add_row(vec![
        "formal review",
        &format!("{} days", decision.formal_review_days),
    ]);
    let (label, what) = match decision.channel {
        Channel::Fms => ("earliest offer", "LOA offered"),
        Channel::Dcs => ("earliest licence", "licence issued"),
        Channel::Mla => ("earliest approval", "agreement approved"),
    };
    table.add_row(vec![
        label,
        &format!(
            "{} days after the formal notification ({what})",
            decision.earliest_offer_after_notification_days
        ),
    ]);
    if let Some(days) = decision.pre_delivery_report_days {
        table.add_row(vec![
            "upgrade report",
            &format!(
                "at least {days} days before delivery, for deliveries within {} years of the certification (§36(b)(5)(A))",
                set.upgrade().report_window_years.value
            ),
        ]);
    }
    if decision.emergency_waiver {
        let waiver = match (decision.channel, decision.group) {
            (Channel::Dcs, AecaGroup::Other) => {
                "review waived (AECA §36(c)(2)); CRS notes the waiver text is ambiguous for licences outside NATO+5 (reference §3.4)"
            }
            (Channel::Dcs, AecaGroup::NatoPlus5) => {
                "review waived (AECA §36(c)(2), reference §3.4)"
            }
            (Channel::Mla, _) => "review waived (AECA §36(d)(2), reference §3.4)",
            (Channel::Fms, _) => "review waived (AECA §36(b)(1), reference §3.4)",
        };
        table.add_row(vec!["emergency", waiver]);
    }
    table.add_row(vec!["source", &decision.citation]);
    table.to_string()
}

fn print_check_csv(decision: &NotificationDecision) -> anyhow::Result<()> {
    let crossed: Vec<&str> = decision
        .thresholds_crossed
        .iter()
        .map(|t| t.as_str())
        .collect();
    output::print_csv(
        &[
            "purchaser",
            "date",
            "rule_set",
            "group",
            "notification_required",
            "thresholds_crossed",
            "informal_review_days",
            "formal_review_days",
            "earliest_offer_after_notification_days",
            "channel",
            "territory_outside_nato_plus_5",
            "pre_delivery_report_days",
            "emergency_waiver",
        ],
        vec![vec![
            decision.purchaser.to_string(),
            decision.date.to_string(),
            decision.rule_set.clone(),
            decision.group.to_string(),
            decision.notification_required.to_string(),
            crossed.join(";"),
            decision.informal_review_days.to_string(),
            decision.formal_review_days.to_string(),
            decision.earliest_offer_after_notification_days.to_string(),
            decision.channel.to_string(),
            decision.territory_outside_nato_plus_5.to_string(),
            decision
                .pre_delivery_report_days
                .map(|days| days.to_string())
                .unwrap_or_default(),
            decision.emergency_waiver.to_string(),
        ]],
    )
}

#[derive(Serialize)]
struct RuleSets<'a> {
    rule_sets: &'a [RuleSet],
}

fn list(book: &RuleBook, format: Format) -> anyhow::Result<()> {
    let sources: Vec<Source> = book.rule_sets().iter().map(rule_set_source).collect();
    match format {
        Format::Json => output::print_json_with_sources(
            &RuleSets {
                rule_sets: book.rule_sets(),
            },
            &sources,
        ),
        Format::Csv => {
            let rows = book
                .rule_sets()
                .iter()
                .flat_map(|set| {
                    set.figures().into_iter().map(|figure| {
                        vec![
                            set.id.clone(),
                            set.kind.as_str().to_owned(),
                            set.status.clone(),
                            set.effective.to_string(),
                            figure.section.to_owned(),
                            figure.group.to_owned(),
                            figure.name.to_owned(),
                            figure.value.to_string(),
                            figure.unit.to_owned(),
                            figure.confirmed.to_string(),
                            figure.source,
                        ]
                    })
                })
                .collect();
            output::print_csv(
                &[
                    "rule_set",
                    "kind",
                    "status",
                    "effective",
                    "section",
                    "group",
                    "figure",
                    "value",
                    "unit",
                    "confirmed",
                    "source",
                ],
                rows,
            )
        }
        Format::Table => {
            let mut table = output::table(&[
                "id",
                "status",
                "effective",
                "FMS NATO+5 MDE / A&S / D&C",
                "FMS others MDE / A&S / D&C",
                "unconfirmed figures",
            ]);
            for set in book.rule_sets() {
                let summary = |group| {
                    let figures = set.fms().group(group);
                    format!(
                        "{} / {} / {}",
                        figures.mde.value,
                        figures.articles_services.value,
                        figures.design_construction.value
                    )
                };
                let unconfirmed = set
                    .figures()
                    .iter()
                    .filter(|figure| !figure.confirmed)
                    .count();
                table.add_row(vec![
                    set.id.clone(),
                    format!("{}: {}", set.kind.as_str(), set.status),
                    set.effective.to_string(),
                    summary(AecaGroup::NatoPlus5),
                    summary(AecaGroup::Other),
                    format!("{unconfirmed} of {}", set.figures().len()),
                ]);
            }
            output::print_text(&format!(
                "{table}\nEvery figure with its source and whether it is confirmed: expedite rules list --format csv"
            ))
        }
    }
}

fn samm(book: &RuleBook, format: Format) -> anyhow::Result<()> {
    let samm = book.samm();
    if format == Format::Json {
        return output::print_json_with_sources(
            samm,
            &[Source::new(
                "SAMM time standards compiled in expedite (samm.toml); each standard names its source",
                samm.as_of.to_string(),
            )],
        );
    }
    let confidence = |c| format!("{c:?}").to_lowercase();
    let mut rows: Vec<Vec<String>> = [
        ("offer expiration", &samm.offer_expiration_days),
        ("offer expiration (BPC)", &samm.bpc_offer_expiration_days),
        ("LOR acknowledgement", &samm.lor_acknowledgement_days),
        (
            "closure after supply complete",
            &samm.closure_after_supply_complete_days,
        ),
    ]
    .into_iter()
    .map(|(name, sourced)| {
        vec![
            name.to_owned(),
            sourced.value.to_string(),
            confidence(sourced.confidence),
            sourced.source.clone(),
        ]
    })
    .collect();
    for group in &samm.aod_groups {
        rows.push(vec![
            format!("LOA offer, AOD group {}", group.group),
            group
                .target_days
                .map(|days| days.to_string())
                .unwrap_or_default(),
            confidence(group.confidence),
            group.source.clone(),
        ]);
    }
    let header = ["standard", "days", "confidence", "source"];
    if format == Format::Csv {
        return output::print_csv(&header, rows);
    }
    let mut table = output::table(&header);
    for mut row in rows {
        if row[1].is_empty() {
            row[1] = "unknown".to_owned();
        }
        table.add_row(row);
    }
    output::print_text(&table.to_string())
}

#[derive(Serialize)]
struct ReplayAnswer<'a> {
    rule_set: &'a str,
    status: &'a str,
    from: Option<Date>,
    to: Option<Date>,
    #[serde(flatten)]
    replay: &'a Replay,
}

fn run_replay(book: &RuleBook, args: &ReplayArgs) -> anyhow::Result<()> {
    let set = book.get(&args.rule_set).context("--rule-set")?;
    period::check_range(args.from, args.to)?;
    let from = args.from.map(YearOrDate::first_day);
    let to = args.to.map(YearOrDate::last_day);
    let all = dsca::builtin().context("the shipped DSCA notifications")?;
    let filter = NotificationFilter {
        purchasers: Vec::new(),
        from,
        to,
    };
    let chosen: Vec<&Notification> = all.iter().filter(|n| filter.matches(n)).collect();
    let replay = replay::replay(book, &set.id, chosen.iter().copied())?;
    let mut sources = vec![rule_set_source(set)];
    let mut laws: Vec<&str> = replay.rows.iter().map(|row| row.law.as_str()).collect();
    laws.sort_unstable();
    laws.dedup();
    for law in laws {
        if law != set.id {
            sources.push(rule_set_source(book.get(law)?));
        }
    }
    sources.push(dsca_source(&all));
    match args.format {
        Format::Json => output::print_json_with_sources(
            &ReplayAnswer {
                rule_set: &set.id,
                status: &set.status,
                from,
                to,
                replay: &replay,
            },
            &sources,
        ),
        Format::Csv => print_replay_csv(&replay),
        Format::Table => output::print_text(&describe_replay(&replay, set, &sources)),
    }
}

fn dsca_source(all: &[Notification]) -> Source {
    let dates = all.iter().filter_map(|n| n.date);
    let first = dates
        .clone()
        .min()
        .map(|d| d.to_string())
        .unwrap_or_default();
    let last = dates.max().map(|d| d.to_string()).unwrap_or_default();
    Source::new(
        format!(
            "DSCA Major Arms Sales notifications shipped with expedite: a sample of {}, not a census, {first} to {last}",
            all.len()
        ),
        last,
    )
}

fn verdict_text(verdict: Verdict) -> String {
    match verdict {
        Verdict::Required => "required".to_owned(),
        Verdict::NotRequired => "not required".to_owned(),
        Verdict::DependsOnMde { mde_at_least } => format!("if MDE >= {mde_at_least}"),
    }
}

fn mde_at_least(verdict: Verdict) -> String {
    match verdict {
        Verdict::DependsOnMde { mde_at_least } => (mde_at_least.cents() / 100).to_string(),
        Verdict::Required | Verdict::NotRequired => String::new(),
    }
}

fn print_replay_csv(replay: &Replay) -> anyhow::Result<()> {
    let rows = replay
        .rows
        .iter()
        .map(|row: &ReplayRow| {
            vec![
                row.date.to_string(),
                row.iso3.to_string(),
                row.purchaser.clone(),
                row.item.clone(),
                (row.value_usd.cents() / 100).to_string(),
                row.mde_value_usd
                    .map(|mde| (mde.cents() / 100).to_string())
                    .unwrap_or_default(),
                row.group.to_string(),
                row.law.clone(),
                row.under_law.as_str().to_owned(),
                mde_at_least(row.under_law),
                replay.rule_set.clone(),
                row.under_rule_set.as_str().to_owned(),
                mde_at_least(row.under_rule_set),
                row.change.as_str().to_owned(),
            ]
        })
        .collect();
    output::print_csv(
        &[
            "date",
            "iso3",
            "purchaser",
            "item",
            "value_usd",
            "mde_value_usd",
            "group",
            "law",
            "under_law",
            "law_mde_at_least_usd",
            "rule_set",
            "under_rule_set",
            "rule_set_mde_at_least_usd",
            "change",
        ],
        rows,
    )
}

fn describe_replay(replay: &Replay, set: &RuleSet, sources: &[Source]) -> String {
    let mut text = format!(
        "{} ({}): {} notifications judged against the law in force on each date.\n",
        set.id,
        set.status,
        replay.rows.len()
    );
    let changed: Vec<&ReplayRow> = replay
        .rows
        .iter()
        .filter(|row| row.change != Change::Unchanged)
        .collect();
    if changed.is_empty() {
        text.push_str("No notification changes.\n");
    } else {
        let mut table = output::table(&[
            "date",
            "purchaser",
            "item",
            "value",
            "group",
            "under law",
            "under set",
            "change",
        ]);
        for row in changed {
            table.add_row(vec![
                row.date.to_string(),
                row.iso3.to_string(),
                row.item.clone(),
                row.value_usd.to_string(),
                group_name(row.group).to_owned(),
                verdict_text(row.under_law),
                verdict_text(row.under_rule_set),
                row.change.as_str().replace('_', " "),
            ]);
        }
        text.push_str(&format!("{table}\n"));
    }
    let mut totals = output::table(&[
        "group",
        "judged",
        "value",
        "no longer notified",
        "value",
        "undetermined (MDE not stated)",
        "value",
        "newly required",
    ]);
    for row in &replay.totals {
        totals.add_row(vec![
            match row.group {
                "nato_plus_5" => "NATO+5".to_owned(),
                "other" => "outside NATO+5".to_owned(),
                other => other.to_owned(),
            },
            row.notifications.to_string(),
            row.value_usd.short(),
            row.no_longer_required.to_string(),
            row.no_longer_required_usd.short(),
            row.undetermined.to_string(),
            row.undetermined_usd.short(),
            row.newly_required.to_string(),
        ]);
    }
    text.push_str(&format!("{totals}\n"));
    for skipped in &replay.skipped {
        text.push_str(&format!(
            "Not judged: {} {} ({}): {}.\n",
            skipped
                .date
                .map(|d| d.to_string())
                .unwrap_or_else(|| "undated".to_owned()),
            skipped.purchaser,
            skipped.item,
            skipped.reason
        ));
    }
    for source in sources {
        match &source.date {
            Some(date) => text.push_str(&format!("Source: {} ({date}).\n", source.name)),
            None => text.push_str(&format!("Source: {}.\n", source.name)),
        }
    }
    text.trim_end().to_owned()
}
