//! The hash chain that makes a case's history tamper-evident.
//!
//! Each event is stored as its canonical JSON (objects with keys in byte order, no
//! whitespace) together with the hash of the previous event and its own hash,
//! `SHA-256(prev_hash ‖ "\n" ‖ body)` in lower-case hex. The first event's previous hash
//! is [`GENESIS`]. The case row keeps the hash of the latest event, so deleting the tail
//! of the history is detected as well as editing or deleting any event inside it.

use expedite_core::machine::Case;
use expedite_core::{CaseId, RuleBook};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::model::{Change, EventRecord};

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

/// What the case row says about the end of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The case's version (its number of events).
    pub version: i64,
    /// Hash of its latest event.
    pub head_hash: String,
    /// The cached case state, JSON.
    pub state: String,
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

/// `SHA-256(prev_hash ‖ "\n" ‖ body)`, lower-case hex.
pub fn link_hash(prev_hash: &str, body: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(body.as_bytes());
    hex::encode(hasher.finalize())
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

/// Walks a case's rows (ordered by seq) and replays them through the stage machine.
pub fn verify_chain(
    case: &CaseId,
    rows: &[EventRow],
    head: &ChainHead,
    rules: &RuleBook,
) -> Verification {
    let broken = first_broken_link(case, rows, head, rules);
    Verification {
        case: case.clone(),
        events: rows.len(),
        valid: broken.is_none(),
        broken,
    }
}

fn first_broken_link(
    case: &CaseId,
    rows: &[EventRow],
    head: &ChainHead,
    rules: &RuleBook,
) -> Option<BrokenLink> {
    let broken = |seq: i64, reason: String| Some(BrokenLink { seq, reason });
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
        if link_hash(&row.prev_hash, &row.body) != row.hash {
            return broken(row.seq, "its content does not match its hash".to_owned());
        }
        if let Err(reason) = check_body(case, row, &mut replayed, rules) {
            return broken(row.seq, reason);
        }
        previous_hash.clone_from(&row.hash);
    }
    check_head(rows, head, replayed.as_ref())
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

fn check_head(rows: &[EventRow], head: &ChainHead, replayed: Option<&Case>) -> Option<BrokenLink> {
    let count = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let last_hash = rows.last().map_or(GENESIS, |row| row.hash.as_str());
    if head.version != count || head.head_hash != last_hash {
        return Some(BrokenLink {
            seq: count,
            reason: format!(
                "the case is at version {} but {count} event(s) remain: history was deleted",
                head.version
            ),
        });
    }
    let stored: Option<Case> = serde_json::from_str(&head.state).ok();
    if stored.as_ref() != replayed {
        return Some(BrokenLink {
            seq: count - 1,
            reason: "the stored case differs from the replay of its events".to_owned(),
        });
    }
    None
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
    fn link_hash_is_sha256_of_previous_newline_body() {
        // printf '%s\n%s' "$GENESIS" '{}' | sha256sum
        let hash = link_hash(GENESIS, "{}");
        assert_eq!(
            hash,
            "5649d09ed68c17156095d175eef152856c5b1a81c117c409c1e00f096aa6838e"
        );
        assert_ne!(hash, link_hash(GENESIS, "{ }"));
        assert_ne!(hash, link_hash(&"1".repeat(64), "{}"));
    }
}
