//! Kept forecasts of stored cases ([`ForecastSnapshot`]), one row each in
//! `forecast_snapshots` (migration 0003), so that [`expedite_core::forecast_alerts`] can
//! compare a case's forecast with its previous one.
//!
//! A forecast is derived from the history and can be computed again, so these rows are not
//! part of the keyed chain. A snapshot that says the same as the case's last kept one
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
    let mut last = latest_of_every_case(tx).await?;
    let mut appended = 0;
    for snapshot in snapshots {
        let seq = match last.get(&snapshot.case) {
            Some((_, kept)) if kept.says_the_same_as(snapshot) => continue,
            Some((seq, _)) => seq + 1,
            None => 0,
        };
        insert(tx, snapshot, seq).await?;
        last.insert(snapshot.case.clone(), (seq, snapshot.clone()));
        appended += 1;
    }
    Ok(appended)
}

/// Each case's newest kept snapshot and its `seq`, read in one query rather than one per
/// case, as appending runs inside the write transaction.
async fn latest_of_every_case(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
) -> Result<HashMap<CaseId, (i64, ForecastSnapshot)>, StoreError> {
    sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM forecast_snapshots AS newest WHERE seq = \
         (SELECT MAX(seq) FROM forecast_snapshots WHERE case_id = newest.case_id)"
    )))
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|row| {
        let snapshot = from_row(row)?;
        Ok((snapshot.case.clone(), (row.try_get("seq")?, snapshot)))
    })
    .collect()
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
/// oldest first.
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
        "SELECT {COLUMNS} FROM forecast_snapshots{clause} ORDER BY case_id, seq"
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
