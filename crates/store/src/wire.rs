//! Reading a core [`Event`] back from JSON.
//!
//! `expedite_core::Event` serializes as `{"date", "kind", ...}` but does not deserialize:
//! serde does not support `deny_unknown_fields` beside `flatten`, so every field the
//! flattened `EventKind` owns is refused as unknown. [`EventWire`] is the same shape without
//! that attribute; unknown fields are still refused, by `EventKind`'s own
//! `deny_unknown_fields`. Once the core's `Event` reads its own output, this goes.

use expedite_core::{Date, Event, EventKind};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An event as JSON: `{"date": "2025-01-10", "kind": "advance", "to": "offered"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventWire {
    /// The day it happened.
    pub date: Date,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl From<EventWire> for Event {
    fn from(wire: EventWire) -> Event {
        Event {
            date: wire.date,
            kind: wire.kind,
        }
    }
}

/// For `#[serde(with = "wire")]` on a field of type [`Event`].
///
/// # Errors
/// The serializer's.
pub fn serialize<S: Serializer>(event: &Event, serializer: S) -> Result<S::Ok, S::Error> {
    event.serialize(serializer)
}

/// For `#[serde(with = "wire")]` on a field of type [`Event`].
///
/// # Errors
/// The deserializer's, e.g. an unknown field or kind.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Event, D::Error> {
    EventWire::deserialize(deserializer).map(Event::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_back_what_they_write_and_refuse_unknown_fields() {
        let event = Event {
            date: jiff::civil::date(2025, 1, 10),
            kind: EventKind::Deliver {
                line: 0,
                quantity: 2,
            },
        };
        let json = serde_json::to_string(&event).expect("serialize");
        let back: EventWire = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(Event::from(back), event);
        let unknown = r#"{"date": "2025-01-10", "kind": "advance", "to": "offered", "extra": 1}"#;
        assert!(serde_json::from_str::<EventWire>(unknown).is_err());
    }
}
