//! Kept forecasts of stored cases ([`ForecastSnapshot`]), one row each in
//! `forecast_snapshots` (migration 0003), so that [`expedite_core::forecast_alerts`] can
//! compare a case's forecast with its previous one.
//!
//! A forecast is derived from the history and can be computed again, so these rows are not
//! part of the keyed chain. A case's kept forecasts are read in the order of the days they
//! were made for (then of keeping), so each is compared with the forecast of the day before
//! it even when an earlier day is kept later (`expedite alerts --refresh --as-of` a past
//! day). A snapshot that says the same as the one before it by day
//! ([`ForecastSnapshot::says_the_same_as`]: equal percentiles, queues and inputs, whatever
//! the day it was made for) adds no row, so periodic recomputes do not fill the table.

use std::collections::HashMap;

use expedite_core::Percentiles;
use expedite_core::forecast_alerts::ForecastSnapshot;
use expedite_core::{Agency, CaseId, Country, Date};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, Row};

use crate::StoreError;
use crate::model::Scope;
use crate::sql::Conditions;

const COLUMNS: &str = "case_id, seq, purchaser, agency, computed_at, as_of, first_p10, \
    first_p50, first_p90, final_p10, final_p50, final_p90, queues, inputs";

/// Appends each snapshot that says something new for its case, inside `tx`; returns how
/// many were appended.
pub(crate) async fn append(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    snapshots: &[ForecastSnapshot],
) -> Result<usize, StoreError> {
    let mut kept = kept_of_every_case(tx).await?;
    let mut appended = 0;
    for snapshot in snapshots {
        let case = kept.get(&snapshot.case);
        let before = match case {
            Some(Kept { newest, .. }) if newest.as_of <= snapshot.as_of => Some(newest.clone()),
            // A forecast for a day before the newest kept one: compare it with its own
            // predecessor by day.
            Some(_) => newest_on_or_before(tx, &snapshot.case, snapshot.as_of).await?,
            None => None,
        };
        if before.is_some_and(|before| before.says_the_same_as(snapshot)) {
            continue;
        }
        let seq = case.map_or(0, |case| case.last_seq + 1);
        insert(tx, snapshot, seq).await?;
        let newest = match kept.remove(&snapshot.case) {
            Some(case) if case.newest.as_of > snapshot.as_of => case.newest,
            _ => snapshot.clone(),
        };
        kept.insert(
            snapshot.case.clone(),
            Kept {
                last_seq: seq,
                newest,
            },
        );
        appended += 1;
    }
    Ok(appended)
}

/// What a case has kept: the `seq` of its last row, and its forecast for the latest day.
struct Kept {
    last_seq: i64,
    newest: ForecastSnapshot,
}

/// [`Kept`] of every case, read in one query rather than one per case, as appending runs
/// inside the write transaction.
async fn kept_of_every_case(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
) -> Result<HashMap<CaseId, Kept>, StoreError> {
    sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS}, \
         (SELECT MAX(seq) FROM forecast_snapshots AS kept WHERE kept.case_id = newest.case_id) \
         AS last_seq FROM forecast_snapshots AS newest WHERE NOT EXISTS \
         (SELECT 1 FROM forecast_snapshots AS later WHERE later.case_id = newest.case_id \
         AND (later.as_of > newest.as_of OR (later.as_of = newest.as_of AND later.seq > newest.seq)))"
    )))
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|row| {
        let newest = from_row(row)?;
        let last_seq = row.try_get("last_seq")?;
        Ok((newest.case.clone(), Kept { last_seq, newest }))
    })
    .collect()
}

/// A case's kept forecast for the latest day on or before `day`, if any.
async fn newest_on_or_before(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    case: &CaseId,
    day: Date,
) -> Result<Option<ForecastSnapshot>, StoreError> {
    sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM forecast_snapshots WHERE case_id = $1 AND as_of <= $2 \
         ORDER BY as_of DESC, seq DESC LIMIT 1"
    )))
    .bind(case.as_str())
    .bind(day.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    snapshot: &ForecastSnapshot,
    seq: i64,
) -> Result<(), StoreError> {
    let (first, last) = (&snapshot.first_delivery, &snapshot.final_delivery);
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO forecast_snapshots ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    )))
    .bind(snapshot.case.as_str())
    .bind(seq)
    .bind(snapshot.purchaser.iso3())
    .bind(snapshot.agency.as_str())
    .bind(snapshot.computed_at.to_string())
    .bind(snapshot.as_of.to_string())
    .bind(first.p10.to_string())
    .bind(first.p50.to_string())
    .bind(first.p90.to_string())
    .bind(last.p10.to_string())
    .bind(last.p50.to_string())
    .bind(last.p90.to_string())
    .bind(to_json(&snapshot.queues)?)
    .bind(to_json(&snapshot.inputs)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A JSON column's text.
fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|error| StoreError::Corrupt(format!("forecast snapshot: {error}")))
}

/// The snapshots of the cases in `scope` (of one case, if given): cases by id, each case's
/// in the order of the days they were made for, then of keeping.
pub(crate) async fn read(
    reader: &AnyPool,
    scope: Scope,
    case: Option<&CaseId>,
) -> Result<Vec<ForecastSnapshot>, StoreError> {
    let mut conditions = Conditions::default();
    conditions.push_scope(scope);
    if let Some(case) = case {
        conditions.push("case_id = ?", case.as_str().to_owned());
    }
    let (clause, params) = conditions.finish();
    let mut query = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM forecast_snapshots{clause} ORDER BY case_id, as_of, seq"
    )));
    for param in &params {
        query = query.bind(param.as_str());
    }
    query
        .fetch_all(reader)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

fn from_row(row: &AnyRow) -> Result<ForecastSnapshot, StoreError> {
    let text = |column: &str| -> Result<String, StoreError> { Ok(row.try_get(column)?) };
    let broken = |column: &str, error: &dyn std::fmt::Display| {
        StoreError::Corrupt(format!("forecast snapshot column {column}: {error}"))
    };
    let date = |column: &str| -> Result<Date, StoreError> {
        text(column)?
            .parse::<Date>()
            .map_err(|error| broken(column, &error))
    };
    let band = |prefix: &str| -> Result<Percentiles, StoreError> {
        Ok(Percentiles {
            p10: date(&format!("{prefix}_p10"))?,
            p50: date(&format!("{prefix}_p50"))?,
            p90: date(&format!("{prefix}_p90"))?,
        })
    };
    Ok(ForecastSnapshot {
        case: CaseId::parse(&text("case_id")?).map_err(|error| broken("case_id", &error))?,
        purchaser: Country::from_iso3(&text("purchaser")?)
            .map_err(|error| broken("purchaser", &error))?,
        agency: Agency::parse(&text("agency")?).map_err(|error| broken("agency", &error))?,
        computed_at: text("computed_at")?
            .parse()
            .map_err(|error| broken("computed_at", &error))?,
        as_of: date("as_of")?,
        first_delivery: band("first")?,
        final_delivery: band("final")?,
        queues: serde_json::from_str(&text("queues")?).map_err(|error| broken("queues", &error))?,
        inputs: serde_json::from_str(&text("inputs")?).map_err(|error| broken("inputs", &error))?,
    })
}
