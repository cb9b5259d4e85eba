//! `expedite rules check|list|samm`: the statutory rules on the command line.

use anyhow::Context;
use clap::{Args, Subcommand};
use expedite_core::case::CaseValues;
use expedite_core::rules::{NotificationCheck, NotificationDecision, RuleBook, RuleKind};
use expedite_core::{Country, Date, Usd};

use crate::output::{self, Format};

/// The `rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Does a proposed sale need congressional notification, and when can the offer go out?
    Check(CheckArgs),
    /// The rule sets expedite knows, laws and proposals.
    List(ListArgs),
    /// The SAMM time standards, with source and confidence.
    Samm(ListArgs),
}

/// Arguments of `rules check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Purchasing country: ISO 3166-1 alpha-3 code (e.g. POL) or English name.
    #[arg(long)]
    purchaser: String,
    /// The date the sale is judged on, YYYY-MM-DD.
    #[arg(long)]
    date: String,
    /// Value of the Major Defense Equipment (14000000, 14,000,000, $14M, $1.2B).
    #[arg(long, default_value = "0", allow_hyphen_values = true)]
    mde_usd: String,
    /// Total value of defense articles and services, MDE included, D&C excluded.
    #[arg(long, default_value = "0", allow_hyphen_values = true)]
    total_usd: String,
    /// Value of design and construction services.
    #[arg(long, default_value = "0", allow_hyphen_values = true)]
    dc_usd: String,
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

/// Runs a `rules` subcommand.
pub fn run(command: RulesCommand) -> anyhow::Result<()> {
    let book = RuleBook::builtin()?;
    match command {
        RulesCommand::Check(args) => check(&book, &args),
        RulesCommand::List(args) => list(&book, args.format),
        RulesCommand::Samm(args) => samm(&book, args.format),
    }
}

fn parse_amount(flag: &str, text: &str) -> anyhow::Result<Usd> {
    Usd::parse(text).with_context(|| format!("--{flag}: invalid amount"))
}

fn check(book: &RuleBook, args: &CheckArgs) -> anyhow::Result<()> {
    let purchaser = Country::parse(&args.purchaser).context("--purchaser")?;
    let date: Date = args.date.parse().with_context(|| {
        format!(
            "--date: '{}' is not a date of the form YYYY-MM-DD",
            args.date
        )
    })?;
    let values = CaseValues {
        mde: parse_amount("mde-usd", &args.mde_usd)?,
        articles_services: parse_amount("total-usd", &args.total_usd)?,
        design_construction: parse_amount("dc-usd", &args.dc_usd)?,
    };
    let sale = NotificationCheck {
        purchaser,
        date,
        values,
        emergency: args.emergency,
    };
    let decision = book
        .check(&sale, args.rule_set.as_deref())
        .context("cannot judge the sale")?;
    match args.format {
        Format::Json => output::print_json(&decision),
        Format::Table => output::print_text(&describe(&decision)),
        Format::Csv => print_check_csv(&decision),
    }
}

fn describe(decision: &NotificationDecision) -> String {
    let group = match decision.group {
        expedite_core::AecaGroup::NatoPlus5 => "NATO+5",
        expedite_core::AecaGroup::Other => "outside NATO+5",
    };
    let verdict = if decision.notification_required {
        let crossed: Vec<&str> = decision
            .thresholds_crossed
            .iter()
            .map(|t| t.as_str())
            .collect();
        format!(
            "notification REQUIRED (thresholds reached: {})",
            crossed.join(", ")
        )
    } else {
        "no notification required".to_owned()
    };
    let mut table = output::key_value_table();
    table.add_row(vec![
        "purchaser",
        &format!(
            "{} ({}), {group} on {}",
            decision.purchaser.name(),
            decision.purchaser,
            decision.date
        ),
    ]);
    table.add_row(vec!["rule set", &decision.rule_set]);
    table.add_row(vec!["verdict", &verdict]);
    table.add_row(vec![
        "informal review",
        &format!("{} days", decision.informal_review_days),
    ]);
    table.add_row(vec![
        "formal review",
        &format!("{} days", decision.formal_review_days),
    ]);
    table.add_row(vec![
        "earliest offer",
        &format!(
            "{} days after notification",
            decision.earliest_offer_after_notification_days
        ),
    ]);
    if decision.emergency_waiver {
        table.add_row(vec![
            "emergency",
            "review waived (AECA §36(b)(1), reference §3.4)",
        ]);
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
        ]],
    )
}

fn list(book: &RuleBook, format: Format) -> anyhow::Result<()> {
    let rows: Vec<serde_json::Value> = book
        .rule_sets()
        .iter()
        .map(|set| {
            serde_json::json!({
                "id": set.id,
                "title": set.title,
                "kind": match set.kind { RuleKind::Law => "law", RuleKind::Proposal => "proposal" },
                "effective": set.effective.to_string(),
                "citation": set.citation,
                "nato_plus_5": set.group_rules(expedite_core::AecaGroup::NatoPlus5),
                "other": set.group_rules(expedite_core::AecaGroup::Other),
            })
        })
        .collect();
    if format == Format::Json {
        return output::print_json(&rows);
    }
    let mut table = output::table(&[
        "id",
        "kind",
        "effective",
        "NATO+5 MDE / A&S / D&C, review",
        "others MDE / A&S / D&C, review",
        "title",
    ]);
    for set in book.rule_sets() {
        let summary = |group| {
            let rules = set.group_rules(group);
            format!(
                "{} / {} / {}, {}+{} days",
                rules.mde_usd,
                rules.articles_services_usd,
                rules.design_construction_usd,
                rules.informal_review_days,
                rules.formal_review_days
            )
        };
        let kind = match set.kind {
            RuleKind::Law => "law",
            RuleKind::Proposal => "proposal",
        };
        table.add_row(vec![
            set.id.clone(),
            kind.to_owned(),
            set.effective.to_string(),
            summary(expedite_core::AecaGroup::NatoPlus5),
            summary(expedite_core::AecaGroup::Other),
            set.title.clone(),
        ]);
    }
    output::print_text(&table.to_string())
}

fn samm(book: &RuleBook, format: Format) -> anyhow::Result<()> {
    let samm = book.samm();
    if format == Format::Json {
        return output::print_json(samm);
    }
    let mut table = output::table(&["standard", "days", "confidence", "source"]);
    let confidence = |c| format!("{c:?}").to_lowercase();
    for (name, sourced) in [
        ("offer expiration", &samm.offer_expiration_days),
        ("offer expiration (BPC)", &samm.bpc_offer_expiration_days),
        ("LOR acknowledgement", &samm.lor_acknowledgement_days),
        (
            "closure after supply complete",
            &samm.closure_after_supply_complete_days,
        ),
    ] {
        table.add_row(vec![
            name.to_owned(),
            sourced.value.to_string(),
            confidence(sourced.confidence),
            sourced.source.clone(),
        ]);
    }
    for group in &samm.aod_groups {
        let days = group
            .target_days
            .map_or_else(|| "unknown".to_owned(), |days| days.to_string());
        table.add_row(vec![
            format!("LOA offer, AOD group {}", group.group),
            days,
            confidence(group.confidence),
            group.source.clone(),
        ]);
    }
    output::print_text(&table.to_string())
}
