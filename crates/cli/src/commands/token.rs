//! `expedite token create|list|revoke`: access tokens for the case service.
//!
//! Works on the database directly, so it works while `expedite serve` runs (SQLite waits
//! for the server's write lock; PostgreSQL has no such lock to wait for).

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use expedite_core::{Agency, Country};
use expedite_store::{NewToken, Role, Store, TokenInfo};
use serde_json::json;

use super::database::{Access, DbArgs, parse_duration};
use crate::output::{self, Format};

/// The `token` subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Creates a token and prints its secret, once.
    Create(CreateArgs),
    /// Lists tokens (never their secrets).
    List(ListArgs),
    /// Revokes a token by id or name; it stops working at once.
    Revoke(RevokeArgs),
}

/// Arguments of `token create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    db: DbArgs,
    /// admin, case_manager (needs --agency), purchaser (needs --country) or analyst.
    #[arg(long)]
    role: String,
    /// Purchasing country of a purchaser token: ISO 3166-1 alpha-3, e.g. POL.
    #[arg(long)]
    country: Option<String>,
    /// Implementing agency of a case-manager token: army, navy, air_force, dsca, dla, other.
    #[arg(long)]
    agency: Option<String>,
    /// Name recorded in every event the token writes (default: role and id).
    #[arg(long)]
    name: Option<String>,
    /// The token stops working this long after it is made, e.g. 90d, 12h (default: never).
    #[arg(long, value_parser = parse_duration)]
    expires: Option<std::time::Duration>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Arguments of `token list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Arguments of `token revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The token's id or name (refused if it is one token's id and another's name).
    token: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Runs a `token` subcommand.
pub fn run(command: TokenCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match command {
            TokenCommand::Create(args) => create(args).await,
            TokenCommand::List(args) => list(args).await,
            TokenCommand::Revoke(args) => revoke(args).await,
        }
    })
}

/// The `sources` entry of JSON output: the database read, and when.
fn source(db: &DbArgs) -> serde_json::Value {
    json!([{ "name": db.shown(), "date": jiff::Timestamp::now() }])
}

async fn create(args: CreateArgs) -> anyhow::Result<()> {
    let role = Role::parse(&args.role).context("--role")?;
    let country = args
        .country
        .as_deref()
        .map(Country::from_iso3)
        .transpose()
        .context("--country")?;
    let agency = args
        .agency
        .as_deref()
        .map(Agency::parse)
        .transpose()
        .context("--agency")?;
    let mut new = NewToken::new(role, country, agency, args.name)?;
    let now = jiff::Timestamp::now();
    if let Some(expires) = args.expires {
        let lifetime = jiff::SignedDuration::try_from(expires).context("--expires")?;
        new = new.expiring(
            now.checked_add(lifetime)
                .context("--expires is too far away")?,
        );
    }
    let store = args.db.open(Access::Create).await?;
    let issued = store.create_token(new, now).await;
    store.close().await;
    let issued = issued?;
    match args.format {
        Format::Json => output::print_json(&issued),
        Format::Csv => output::print_csv(
            &[
                "token", "id", "name", "role", "country", "agency", "created", "expires",
            ],
            vec![vec![
                issued.token.clone(),
                issued.info.id.clone(),
                issued.info.name.clone(),
                issued.info.role.to_string(),
                issued
                    .info
                    .country
                    .map(|c| c.iso3().to_owned())
                    .unwrap_or_default(),
                issued
                    .info
                    .agency
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
                issued.info.created_at.to_string(),
                issued
                    .info
                    .expires_at
                    .map(|at| at.to_string())
                    .unwrap_or_default(),
            ]],
        ),
        Format::Table => {
            output::print_text(&issued.token)?;
            eprintln!(
                "token '{}' ({}) created; this is the only time its secret is shown",
                issued.info.name, issued.info.role
            );
            Ok(())
        }
    }
}

async fn list(args: ListArgs) -> anyhow::Result<()> {
    let store = args.db.open(Access::Existing { needs_key: false }).await?;
    let tokens = store.tokens().await;
    store.close().await;
    let tokens = tokens?;
    match args.format {
        Format::Json => {
            output::print_json(&json!({ "tokens": tokens, "sources": source(&args.db) }))
        }
        Format::Csv => output::print_csv(&TOKEN_COLUMNS, tokens.iter().map(row).collect()),
        Format::Table => {
            let mut table = output::table(&TOKEN_COLUMNS);
            for token in &tokens {
                table.add_row(row(token));
            }
            output::print_text(&table.to_string())
        }
    }
}

const TOKEN_COLUMNS: [&str; 8] = [
    "id", "name", "role", "country", "agency", "created", "expires", "revoked",
];

fn row(token: &TokenInfo) -> Vec<String> {
    vec![
        token.id.clone(),
        token.name.clone(),
        token.role.to_string(),
        token
            .country
            .map(|country| country.iso3().to_owned())
            .unwrap_or_default(),
        token
            .agency
            .map(|agency| agency.to_string())
            .unwrap_or_default(),
        token.created_at.to_string(),
        token
            .expires_at
            .map(|at| at.to_string())
            .unwrap_or_default(),
        token
            .revoked_at
            .map(|at| at.to_string())
            .unwrap_or_default(),
    ]
}

async fn revoke(args: RevokeArgs) -> anyhow::Result<()> {
    let store = args.db.open(Access::Existing { needs_key: false }).await?;
    let revoked = store
        .revoke_token(&args.token, jiff::Timestamp::now())
        .await;
    store.close().await;
    if !revoked? {
        bail!("no live token with id or name '{}'", args.token);
    }
    match args.format {
        Format::Json => {
            output::print_json(&json!({ "revoked": args.token, "sources": source(&args.db) }))
        }
        Format::Csv => output::print_csv(&["revoked"], vec![vec![args.token.clone()]]),
        Format::Table => output::print_text(&format!("revoked {}", args.token)),
    }
}
