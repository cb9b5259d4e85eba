//! The hash chain that makes a case's history tamper-evident.
//!
//! Each event is stored as its canonical JSON (objects with keys in byte order, no
//! whitespace) together with the hash of the previous event and its own hash, an
//! HMAC-SHA-256 under the [history key](crate::key) of the previous hash and the body, in
//! lower-case hex. The first event's previous hash is [`GENESIS`]. The case row keeps the
//! hash of the latest event, so deleting the tail of the history is detected as well as
//! editing or deleting any event inside it; without the key nobody can recompute a hash.
//!
//! [`verify_case`] then checks the case row and its lines, the projections the service reads
//! and filters by, against the replay of the events.

use crate::key::{HistoryKey, same_digest};
use crate::model::{Change, EventRecord};
use crate::projection::{CaseRow, LineRow, Projection};
use expedite_core::machine::Case;
use expedite_core::{CaseId, RuleBook};
use serde::Serialize;
use serde_json::Value;

/// The previous hash of a case's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The JSON form hashed and stored for one event.
#[derive(Debug, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventBody {
    pub(crate) case: CaseId,
    pub(crate) seq: i64,
    pub(crate) actor: String,
    pub(crate) recorded_at: jiff::Timestamp,
    pub(crate) change: Change,
}

/// An event row as stored: the indexed columns and the hashed body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Position in the history.
    pub seq: i64,
    /// Actor column (must match the body).
    pub actor: String,
    /// Recorded-at column, RFC 3339 (must match the body).
    pub recorded_at: String,
    /// Canonical JSON of the event.
    pub body: String,
    /// Stored hash of the previous event.
    pub prev_hash: String,
    /// Stored hash of this event.
    pub hash: String,
}

/// The outcome of walking one case's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The case.
    pub case: CaseId,
    /// Events walked.
    pub events: usize,
    /// Whether every link holds and the replay matches the stored case.
    pub valid: bool,
    /// The first broken link, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken: Option<BrokenLink>,
}

/// Where a chain breaks first, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    /// The first event that does not verify (the version, for the case row itself).
    pub seq: i64,
    /// What is wrong with it.
    pub reason: String,
}

/// Canonical JSON: object keys sorted by their UTF-8 bytes, no insignificant whitespace.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|(left, _), (right, _)| left.as_bytes().cmp(right.as_bytes()));
            out.push('{');
            for (position, (key, inner)) in entries.into_iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(inner, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (position, inner) in items.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                write_canonical(inner, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The keyed hash of one link: HMAC-SHA-256 of `prev_hash` and `body`, lower-case hex.
pub fn link_hash(key: &HistoryKey, prev_hash: &str, body: &str) -> String {
    key.mac("event", &[prev_hash.as_bytes(), body.as_bytes()])
}

/// The canonical body of an event.
pub(crate) fn encode_body(body: &EventBody) -> Result<String, serde_json::Error> {
    Ok(canonical_json(&serde_json::to_value(body)?))
}

/// Reads a stored row back into a record (used by listing; verification checks more).
pub(crate) fn decode_row(row: &EventRow) -> Result<EventRecord, serde_json::Error> {
    let body: EventBody = serde_json::from_str(&row.body)?;
    Ok(EventRecord {
        case: body.case,
        seq: body.seq,
        actor: body.actor,
        recorded_at: body.recorded_at,
        change: body.change,
        prev_hash: row.prev_hash.clone(),
        hash: row.hash.clone(),
    })
}

/// What verification reads of one case: its events (ordered by seq), its row and its
/// lines, any of which may have been tampered with or removed.
#[derive(Debug, Clone, Default)]
pub struct StoredHistory {
    /// The event rows.
    pub events: Vec<EventRow>,
    /// The case row, if there is one.
    pub row: Option<CaseRow>,
    /// The case's line rows, by position.
    pub lines: Vec<LineRow>,
}

/// The end of a verified chain: what the ledger record counts for one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEnd {
    /// Events in the chain.
    pub events: i64,
    /// Hash of the last one.
    pub hash: String,
}

/// Walks a case's events, replays them through the stage machine and checks the case row
/// and its lines against the replay; reports the first broken link. Also returns where the
/// event chain ends, as far as it holds, for the ledger check.
pub fn verify_case(
    case: &CaseId,
    stored: &StoredHistory,
    rules: &RuleBook,
    key: &HistoryKey,
) -> (Verification, ChainEnd) {
    let end = ChainEnd {
        events: i64::try_from(stored.events.len()).unwrap_or(i64::MAX),
        hash: stored
            .events
            .last()
            .map_or(GENESIS.to_owned(), |row| row.hash.clone()),
    };
    let broken = first_broken_link(case, stored, rules, key);
    (
        Verification {
            case: case.clone(),
            events: stored.events.len(),
            valid: broken.is_none(),
            broken,
        },
        end,
    )
}

fn first_broken_link(
    case: &CaseId,
    stored: &StoredHistory,
    rules: &RuleBook,
    key: &HistoryKey,
) -> Option<BrokenLink> {
    let broken = |seq: i64, reason: String| Some(BrokenLink { seq, reason });
    let rows = &stored.events;
    let mut previous_hash = GENESIS.to_owned();
    let mut replayed: Option<Case> = None;
    for (position, row) in rows.iter().enumerate() {
        let expected_seq = i64::try_from(position).unwrap_or(i64::MAX);
        if row.seq != expected_seq {
            return broken(
                expected_seq,
                format!(
                    "event {expected_seq} is missing (next stored is {})",
                    row.seq
                ),
            );
        }
        if row.prev_hash != previous_hash {
            return broken(
                row.seq,
                "its previous hash does not match the event before it".to_owned(),
            );
        }
        if !same_digest(&link_hash(key, &row.prev_hash, &row.body), &row.hash) {
            return broken(
                row.seq,
                "its content does not match its keyed hash (edited, or written without the key)"
                    .to_owned(),
            );
        }
        if let Err(reason) = check_body(case, row, &mut replayed, rules) {
            return broken(row.seq, reason);
        }
        previous_hash.clone_from(&row.hash);
    }
    let count = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let Some(row) = &stored.row else {
        return broken(
            count,
            "the case row is missing: it was deleted behind the service's back".to_owned(),
        );
    };
    let Some(replayed) = replayed else {
        return broken(
            0,
            format!(
                "the case is at version {} but it has no events: its history was deleted",
                row.version
            ),
        );
    };
    if row.version != count || row.head_hash != previous_hash {
        return broken(
            count,
            format!(
                "the case is at version {} but {count} event(s) remain: history was deleted",
                row.version
            ),
        );
    }
    if let Some(reason) = check_projection(row, &stored.lines, &replayed, rules) {
        return broken(count, reason);
    }
    if !row.is_sealed(key) {
        return broken(
            count,
            "the case row was changed behind the service's back (its keyed digest does not match)"
                .to_owned(),
        );
    }
    None
}

/// The first column of the case row or its lines that differs from the replay.
fn check_projection(
    row: &CaseRow,
    lines: &[LineRow],
    replayed: &Case,
    rules: &RuleBook,
) -> Option<String> {
    let expected = Projection::of(replayed, rules);
    let stored_state: Option<Case> = serde_json::from_str(&row.state).ok();
    if stored_state.as_ref() != Some(replayed) {
        return Some("the stored case differs from the replay of its events".to_owned());
    }
    let columns = [
        (
            "purchaser",
            row.purchaser.as_str(),
            expected.purchaser.as_str(),
        ),
        ("agency", row.agency.as_str(), expected.agency.as_str()),
        ("channel", row.channel.as_str(), expected.channel.as_str()),
        ("stage", row.stage.as_str(), expected.stage.as_str()),
        (
            "samm_due",
            row.samm_due.as_deref().unwrap_or("none"),
            expected.samm_due.as_deref().unwrap_or("none"),
        ),
        ("search", row.search.as_str(), expected.search.as_str()),
    ];
    for (column, stored, history) in columns {
        if stored != history {
            return Some(format!(
                "the case row's {column} is '{stored}' but its history says '{history}'"
            ));
        }
    }
    if lines != expected.lines.as_slice() {
        let position = lines
            .iter()
            .zip(&expected.lines)
            .position(|(stored, history)| stored != history)
            .unwrap_or(lines.len().min(expected.lines.len()));
        return Some(format!(
            "case line {position} differs from the history ({} stored, {} in the history)",
            lines.len(),
            expected.lines.len()
        ));
    }
    None
}

fn check_body(
    case: &CaseId,
    row: &EventRow,
    replayed: &mut Option<Case>,
    rules: &RuleBook,
) -> Result<(), String> {
    let body: EventBody = serde_json::from_str(&row.body)
        .map_err(|error| format!("its body does not read: {error}"))?;
    if body.case != *case || body.seq != row.seq {
        return Err(format!(
            "its body belongs to {} event {}",
            body.case, body.seq
        ));
    }
    if body.actor != row.actor || body.recorded_at.to_string() != row.recorded_at {
        return Err("its actor or time columns differ from its hashed body".to_owned());
    }
    let next = match (replayed.as_ref(), body.change) {
        (None, Change::Opened(new)) => {
            Case::open(new, rules).map_err(|error| format!("it does not open a case: {error}"))?
        }
        (Some(current), Change::Event(event)) => current
            .apply(&event, rules)
            .map_err(|error| format!("the stage machine rejects it: {error}"))?,
        (None, Change::Event(_)) => {
            return Err("the history does not start with the opening".to_owned());
        }
        (Some(_), Change::Opened(_)) => return Err("a case is opened only once".to_owned()),
    };
    *replayed = Some(next);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_drops_whitespace() {
        let value: Value =
            serde_json::from_str(r#"{ "b": 1, "a": {"z": [1, {"y": "x", "b": null}], "c": "é"} }"#)
                .expect("json");
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"c":"é","z":[1,{"b":null,"y":"x"}]},"b":1}"#
        );
    }

    #[test]
    fn a_link_hash_needs_the_key_and_covers_previous_and_body() {
        let key = HistoryKey::from_hex(&"ab".repeat(32)).expect("key");
        let hash = link_hash(&key, GENESIS, "{}");
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, link_hash(&key, GENESIS, "{ }"));
        assert_ne!(hash, link_hash(&key, &"1".repeat(64), "{}"));
        let other = HistoryKey::from_hex(&"cd".repeat(32)).expect("key");
        assert_ne!(hash, link_hash(&other, GENESIS, "{}"));
    }
}
