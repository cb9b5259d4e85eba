//! Each case's place in its production lines' queues, as the scenario states them: no
//! trial, no random number.
//!
//! A line releases units in order of priority tier (lower first), then order date (the
//! contract date), then case id (DESIGN.md, "Production"; [`crate::engine`] plays it). So a
//! case's place is fixed by what the scenario states, and this module reads it off: the
//! cases ahead, their units, and the units of the backlog and of other customers' orders
//! that go first. It is what a forecast alert explains a queue change by
//! ([`expedite_core::forecast_alerts`]).
//!
//! A case that is not on contract has no order date and so no place yet (its place depends
//! on a contract date still to be drawn); a case with nothing left to build on a line has
//! no place on it. Units ahead count what the scenario states as still to build: the
//! backlog as stated, other customers' orders in full (production between the line's book
//! date and the start is not subtracted) and each case's undelivered units.

use std::collections::BTreeMap;

use expedite_core::Date;
use expedite_core::forecast_alerts::{LineQueue, QueuePlace, QueuedCase};

use crate::engine::{SpreadBacklog, days_between};
use crate::scenario::{Case, Line, Scenario};

/// One case's places in the queues of its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseQueues {
    /// The case id.
    pub case: String,
    /// One per production line the case buys from, in the order of its case lines.
    pub queues: Vec<LineQueue>,
}

/// A case's units queued on one line: its queue key and units.
#[derive(Debug, Clone)]
struct Entry<'a> {
    case: &'a str,
    tier: u32,
    order_date: Date,
    units: u32,
}

impl Entry<'_> {
    /// Tier, then order date, then case id: the engine's order among cases.
    fn key(&self) -> (u32, Date, &str) {
        (self.tier, self.order_date, self.case)
    }
}

impl Scenario {
    /// Every case's place in each of its lines' queues, in case order.
    pub fn queue_positions(&self) -> Vec<CaseQueues> {
        let mut entries: BTreeMap<usize, Vec<Entry<'_>>> = BTreeMap::new();
        for case in &self.cases {
            for (line, units) in units_to_build(case) {
                if let Some(order_date) = case.order_date
                    && !case.is_delivered()
                {
                    entries.entry(line).or_default().push(Entry {
                        case: &case.id,
                        tier: case.tier,
                        order_date,
                        units,
                    });
                }
            }
        }
        for queue in entries.values_mut() {
            queue.sort_by(|a, b| a.key().cmp(&b.key()));
        }
        self.cases
            .iter()
            .map(|case| CaseQueues {
                case: case.id.clone(),
                queues: lines_of(case)
                    .into_iter()
                    .map(|line| {
                        let queue = entries.get(&line).map_or(&[][..], Vec::as_slice);
                        line_queue(&self.lines[line], queue, &case.id)
                    })
                    .collect(),
            })
            .collect()
    }
}

/// The production lines a case buys from, each once, in the order of its case lines.
fn lines_of(case: &Case) -> Vec<usize> {
    let mut lines = Vec::new();
    for case_line in &case.lines {
        if !lines.contains(&case_line.line) {
            lines.push(case_line.line);
        }
    }
    lines
}

/// Units still to build per production line (several case lines on one line add up).
fn units_to_build(case: &Case) -> Vec<(usize, u32)> {
    lines_of(case)
        .into_iter()
        .map(|line| {
            let units = case
                .lines
                .iter()
                .filter(|case_line| case_line.line == line)
                .map(|case_line| case_line.quantity.saturating_sub(case_line.delivered))
                .sum();
            (line, units)
        })
        .filter(|&(_, units)| units > 0)
        .collect()
}

/// One case's view of a line's queue (`queue` sorted, holding every case with a place).
fn line_queue(line: &Line, queue: &[Entry<'_>], case: &str) -> LineQueue {
    let own = queue.iter().find(|entry| entry.case == case);
    let cases = queue
        .iter()
        .filter(|entry| entry.case != case)
        .map(|entry| QueuedCase {
            case: entry.case.to_owned(),
            tier: entry.tier,
            order_date: entry.order_date,
            units: entry.units,
            ahead: own.is_some_and(|own| entry.key() < own.key()),
        })
        .collect::<Vec<_>>();
    let place = own.map(|own| {
        let ahead: Vec<&QueuedCase> = cases.iter().filter(|queued| queued.ahead).collect();
        let other_units_ahead = backlog_ahead(line, own) + orders_ahead(line, own);
        QueuePlace {
            position: u32::try_from(ahead.len() + 1).unwrap_or(u32::MAX),
            tier: own.tier,
            order_date: own.order_date,
            units_ahead: other_units_ahead
                + ahead
                    .iter()
                    .map(|queued| u64::from(queued.units))
                    .sum::<u64>(),
            other_units_ahead,
        }
    });
    LineQueue {
        line: line.id.clone(),
        place,
        cases,
    }
}

/// Other customers' orders that go first: a lower tier, or the same tier ordered on or
/// before the case (orders rank before cases of the same tier and day, as in the engine).
fn orders_ahead(line: &Line, own: &Entry<'_>) -> u64 {
    line.orders
        .iter()
        .filter(|order| (order.tier, order.date) <= (own.tier, own.order_date))
        .map(|order| u64::from(order.units))
        .sum()
}

/// The backlog's units that go first. A backlog that does not hold the cases is one block
/// ahead of every case. One that held them is other customers' orders spread evenly before
/// its date at the planned rate, at the backlog's tier ([`SpreadBacklog`], as the engine):
/// those of a lower tier, or of the case's tier ordered on or before it, go first.
fn backlog_ahead(line: &Line, own: &Entry<'_>) -> u64 {
    let units = u64::from(line.backlog);
    let Some(as_of) = line.backlog_as_of.filter(|_| line.backlog_includes_cases) else {
        return units;
    };
    if line.backlog_tier != own.tier {
        return if line.backlog_tier < own.tier {
            units
        } else {
            0
        };
    }
    let spread = SpreadBacklog::of(line, as_of, 0.0);
    u64::from(spread.ordered_by(days_between(as_of, own.order_date)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three cases on one line with a 100-unit backlog: A (tier 1, 2025-02-01), B (tier 1,
    /// 2025-01-01), C (tier 0, 2025-06-01), and D not on contract.
    fn scenario() -> Scenario {
        Scenario::from_toml_str(
            r#"
            name = "queue"
            start = "2026-01-01"
            [[lines]]
            id = "pac3"
            backlog = 100
            rate = [ { from = "2024-01-01", per_year = 500 } ]
            [[cases]]
            id = "PL-B-AAA"
            purchaser = "POL"
            stage = "on_contract"
            since = "2025-02-01"
            lines = [ { line = "pac3", quantity = 10, unit_usd = 1000 } ]
            [[cases]]
            id = "DE-B-BBB"
            purchaser = "DEU"
            stage = "on_contract"
            since = "2025-01-01"
            lines = [ { line = "pac3", quantity = 20, unit_usd = 1000 } ]
            [[cases]]
            id = "UA-B-CCC"
            purchaser = "UKR"
            stage = "on_contract"
            since = "2025-06-01"
            tier = 0
            lines = [ { line = "pac3", quantity = 30, unit_usd = 1000 } ]
            [[cases]]
            id = "CH-B-DDD"
            purchaser = "CHE"
            stage = "implemented"
            since = "2025-06-01"
            lines = [ { line = "pac3", quantity = 5, unit_usd = 1000 } ]
            "#,
        )
        .expect("valid scenario")
    }

    fn place_of(queues: &[CaseQueues], case: &str) -> Option<QueuePlace> {
        queues
            .iter()
            .find(|queues| queues.case == case)
            .and_then(|queues| queues.queues[0].place.clone())
    }

    #[test]
    fn the_queue_goes_by_tier_then_order_date_then_id_behind_the_backlog() {
        let queues = scenario().queue_positions();
        let ukraine = place_of(&queues, "UA-B-CCC").expect("on contract");
        assert_eq!((ukraine.position, ukraine.units_ahead), (1, 100));
        let germany = place_of(&queues, "DE-B-BBB").expect("on contract");
        assert_eq!((germany.position, germany.units_ahead), (2, 130));
        let poland = place_of(&queues, "PL-B-AAA").expect("on contract");
        assert_eq!((poland.position, poland.units_ahead), (3, 150));
        assert_eq!(poland.other_units_ahead, 100);
        let seen_by_poland = &queues[0].queues[0].cases;
        let ahead: Vec<&str> = seen_by_poland
            .iter()
            .filter(|queued| queued.ahead)
            .map(|queued| queued.case.as_str())
            .collect();
        assert_eq!(ahead, ["UA-B-CCC", "DE-B-BBB"]);
    }

    #[test]
    fn a_case_not_on_contract_has_no_place_yet_and_is_in_nobodys_way() {
        let queues = scenario().queue_positions();
        assert_eq!(place_of(&queues, "CH-B-DDD"), None);
        assert!(
            queues[0].queues[0]
                .cases
                .iter()
                .all(|queued| queued.case != "CH-B-DDD")
        );
    }

    #[test]
    fn same_tier_and_day_goes_by_case_id() {
        let text = |tier_b: u32| {
            format!(
                r#"
                name = "ties"
                start = "2026-01-01"
                [[lines]]
                id = "l"
                rate = [ {{ from = "2024-01-01", per_year = 10 }} ]
                [[cases]]
                id = "PL-B-BBB"
                purchaser = "POL"
                stage = "on_contract"
                since = "2025-01-01"
                lines = [ {{ line = "l", quantity = 1, unit_usd = 1 }} ]
                [[cases]]
                id = "PL-B-AAA"
                purchaser = "POL"
                stage = "on_contract"
                since = "2025-01-01"
                tier = {tier_b}
                lines = [ {{ line = "l", quantity = 1, unit_usd = 1 }} ]
                "#
            )
        };
        let tied = Scenario::from_toml_str(&text(1))
            .expect("valid")
            .queue_positions();
        assert_eq!(place_of(&tied, "PL-B-BBB").map(|p| p.position), Some(2));
        let demoted = Scenario::from_toml_str(&text(2))
            .expect("valid")
            .queue_positions();
        assert_eq!(place_of(&demoted, "PL-B-BBB").map(|p| p.position), Some(1));
    }

    #[test]
    fn a_backlog_holding_the_cases_puts_only_earlier_orders_of_its_tier_ahead() {
        // 365 units a year: one unit a day; 100 units ordered over the 100 days before
        // 2025-12-31, the last on 2025-12-30. A case ordered 2025-12-01 has the units
        // ordered on or before that day ahead: those of 2025-09-22 .. 2025-12-01.
        let scenario = Scenario::from_toml_str(
            r#"
            name = "book"
            start = "2026-01-01"
            [[lines]]
            id = "l"
            backlog = { units = 110, as_of = "2025-12-31", includes_cases = true }
            rate = [ { from = "2024-01-01", per_year = 365 } ]
            [[cases]]
            id = "PL-B-AAA"
            purchaser = "POL"
            stage = "on_contract"
            since = "2025-12-01"
            lines = [ { line = "l", quantity = 10, unit_usd = 1 } ]
            "#,
        )
        .expect("valid scenario");
        let place = place_of(&scenario.queue_positions(), "PL-B-AAA").expect("on contract");
        assert_eq!(place.other_units_ahead, 71);
    }

    /// A line paused (rate 0) on the backlog's date and resuming at 73 a year: the held
    /// backlog's other orders are spaced by the resumed rate, five days apart (the
    /// engine's rule), so a case ordered 31 days before the backlog's date has four of them
    /// ahead; the engine, run on the same scenario, builds exactly four units before it.
    fn paused_line(backlog: &str, start: &str) -> Scenario {
        Scenario::from_toml_str(&format!(
            r#"
            name = "paused"
            start = "{start}"
            [[lines]]
            id = "l"
            backlog = {backlog}
            rate = [ {{ from = "2020-01-01", per_year = 365 }},
                     {{ from = "2024-07-01", per_year = 0 }},
                     {{ from = "2026-01-01", per_year = 73 }} ]
            [[cases]]
            id = "PL-B-AAA"
            purchaser = "POL"
            stage = "on_contract"
            since = "2024-12-01"
            lines = [ {{ line = "l", quantity = 10, unit_usd = 1 }} ]
            "#
        ))
        .expect("valid scenario")
    }

    fn first_delivery(scenario: &Scenario) -> Date {
        let report = crate::run(scenario, &crate::RunOptions::default()).expect("runs");
        report.runs[0].cases[0].first_delivery.p50
    }

    #[test]
    fn a_held_backlog_on_a_paused_line_is_spaced_by_the_resumed_rate_as_the_engine_does() {
        let held = paused_line(
            r#"{ units = 20, as_of = "2025-01-01", includes_cases = true }"#,
            "2025-01-01",
        );
        let place = place_of(&held.queue_positions(), "PL-B-AAA").expect("on contract");
        assert_eq!(place.other_units_ahead, 4);
        let four_ahead = paused_line("4", "2025-01-01");
        assert_eq!(first_delivery(&held), first_delivery(&four_ahead));
        let five_ahead = paused_line("5", "2025-01-01");
        assert_ne!(first_delivery(&held), first_delivery(&five_ahead));
    }
}
