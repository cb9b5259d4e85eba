//! The real cases `expedite serve --demo` loads: the shipped timelines of US FMS sales
//! (`expedite_data::timelines`) and the DSCA notifications to allies (`expedite_data::dsca`),
//! each with its real dated milestones as events.
//!
//! How a row becomes a case:
//! - **Id.** FMS case identifiers are not public, so each is made in the FMS pattern: the
//!   purchaser's ISO 3166-1 alpha-2 code (for most allies also its FMS country code), the
//!   implementing agency's letter, and three letters from a hash (FNV-1a) of the row's own
//!   key (the timeline id, or the notification's date, purchaser and item), moved on to the
//!   next free letters if two rows of one purchaser and agency collide. The same rows give
//!   the same ids on every start, so loading twice adds nothing.
//! - **Agency.** The timelines and notifications do not name it; aircraft and air-launched
//!   missiles go to the Air Force, ships and naval weapons to the Navy, the rest to the Army.
//! - **Events.** Each milestone with a date is an event on that date: the request is the
//!   Letter of Request, the notification the start of congressional review, the LOA the
//!   implementation, the production contract `on_contract`, the first delivery one unit, the
//!   final delivery the rest. A stage the sources give no date for (`lor_actionable`,
//!   `loa_development`, `offered`) is entered on the day of the next dated milestone, so no
//!   date appears that the sources do not give. A case with no request date opens on its
//!   first dated milestone. Where the stage machine refuses the next event (dates out of
//!   order, an offer before the review ends), the case keeps the events before it.
//! - **Notifications** already covered by a timeline (same purchaser and date) are left out.
//!   Only notifications to allies (NATO members and the AECA NATO+5 partners on the day)
//!   with a stated value are taken; one without a stated quantity is one line of one unit at
//!   the notified value.

use expedite_core::case::{CaseLine, Category};
use expedite_core::machine::Case;
use expedite_core::{
    AecaGroup, Agency, CaseId, Channel, Country, Date, Event, EventKind, NewCase, RuleBook, Stage,
    Usd,
};
use expedite_data::capacity::Catalog;
use expedite_data::dsca::Notification;
use expedite_data::timelines::Timeline;

/// One real case: its Letter of Request and the events since, oldest first.
#[derive(Debug, Clone)]
pub struct RealCase {
    /// Where it comes from: the timeline id, or `DSCA date purchaser item`.
    pub source: String,
    /// The case as opened.
    pub letter: NewCase,
    /// Its dated events.
    pub events: Vec<Event>,
    /// Why its history stops early, if it does.
    pub stopped: Option<String>,
}

/// A row that did not become a case, and why.
#[derive(Debug, Clone)]
pub struct LeftOut {
    /// The row.
    pub source: String,
    /// Why.
    pub reason: String,
}

/// ISO 3166-1 alpha-2 codes of the purchasers the shipped data names.
const ALPHA2: [(&str, &str); 44] = [
    ("ALB", "AL"),
    ("AUS", "AU"),
    ("BEL", "BE"),
    ("BGR", "BG"),
    ("BHR", "BH"),
    ("CAN", "CA"),
    ("CHE", "CH"),
    ("CZE", "CZ"),
    ("DEU", "DE"),
    ("DNK", "DK"),
    ("ESP", "ES"),
    ("EST", "EE"),
    ("FIN", "FI"),
    ("FRA", "FR"),
    ("GBR", "GB"),
    ("GRC", "GR"),
    ("HRV", "HR"),
    ("HUN", "HU"),
    ("ISL", "IS"),
    ("ISR", "IL"),
    ("ITA", "IT"),
    ("JPN", "JP"),
    ("KOR", "KR"),
    ("LTU", "LT"),
    ("LUX", "LU"),
    ("LVA", "LV"),
    ("MKD", "MK"),
    ("MNE", "ME"),
    ("NLD", "NL"),
    ("NOR", "NO"),
    ("NZL", "NZ"),
    ("POL", "PL"),
    ("PRT", "PT"),
    ("ROU", "RO"),
    ("SAU", "SA"),
    ("SVK", "SK"),
    ("SVN", "SI"),
    ("SWE", "SE"),
    ("TUR", "TR"),
    ("TWN", "TW"),
    ("USA", "US"),
    ("ARE", "AE"),
    ("QAT", "QA"),
    ("EGY", "EG"),
];

fn alpha2(country: Country) -> Option<&'static str> {
    ALPHA2
        .iter()
        .find(|(iso3, _)| *iso3 == country.iso3())
        .map(|(_, code)| *code)
}

/// The agency that would run a sale of this item (see the module documentation).
pub fn agency_for(item: &str, line: Option<&str>) -> Agency {
    let text = format!("{} {}", item, line.unwrap_or_default()).to_lowercase();
    const AIR: [&str; 14] = [
        "f-35", "f35", "f-16", "f16", "f-15", "amraam", "aim-", "jassm", "agm-", "kc-", "c-130",
        "aircraft", "fighter", "aim9",
    ];
    const NAVY: [&str; 10] = [
        "harpoon", "sm-6", "sm-2", "aegis", "mh-60", "naval", "ship", "tomahawk", "torpedo", "p-8",
    ];
    if NAVY.iter().any(|word| text.contains(word)) {
        Agency::Navy
    } else if AIR.iter().any(|word| text.contains(word)) {
        Agency::AirForce
    } else {
        Agency::Army
    }
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Three letters from a number, base 26.
fn letters(mut number: u64) -> String {
    let mut out = String::new();
    for _ in 0..3 {
        out.push(char::from(b'A' + (number % 26) as u8));
        number /= 26;
    }
    out
}

/// An id in the FMS pattern for a row, not yet in `taken`.
fn make_id(country: Country, agency: Agency, key: &str, taken: &mut Vec<String>) -> Option<CaseId> {
    let prefix = format!("{}-{}", alpha2(country)?, agency.letter());
    let start = fnv1a(key) % (26 * 26 * 26);
    for step in 0..(26 * 26 * 26) {
        let text = format!("{prefix}-{}", letters((start + step) % (26 * 26 * 26)));
        if !taken.contains(&text) {
            taken.push(text.clone());
            return CaseId::parse(&text).ok();
        }
    }
    None
}

/// The dated steps of a case, in the order the stage machine takes them.
enum Step {
    Advance(Stage),
    FirstUnit,
    Rest,
}

/// Applies the steps with their dates (each undated step takes the next dated one's date)
/// through the stage machine; returns the events it accepts and why it stopped, if it did.
fn events_for(
    letter: &NewCase,
    steps: Vec<(Step, Option<Date>)>,
    rules: &RuleBook,
) -> Result<(Vec<Event>, Option<String>), String> {
    let mut case = Case::open(letter.clone(), rules).map_err(|error| error.to_string())?;
    let last_dated = steps.iter().rposition(|(_, date)| date.is_some());
    let Some(last_dated) = last_dated else {
        return Ok((Vec::new(), None));
    };
    let mut events = Vec::new();
    for (index, (step, _)) in steps.iter().enumerate().take(last_dated + 1) {
        let Some(date) = steps[index..].iter().find_map(|(_, date)| *date) else {
            break;
        };
        let kind = match step {
            Step::Advance(stage) => EventKind::Advance { to: *stage },
            Step::FirstUnit => EventKind::Deliver {
                line: 0,
                quantity: 1,
            },
            Step::Rest => {
                let remaining = case.lines[0].quantity.saturating_sub(case.delivered[0]);
                if remaining == 0 {
                    continue;
                }
                EventKind::Deliver {
                    line: 0,
                    quantity: remaining,
                }
            }
        };
        let event = Event { date, kind };
        match case.apply(&event, rules) {
            Ok(next) => {
                case = next;
                events.push(event);
            }
            Err(refusal) => return Ok((events, Some(refusal.to_string()))),
        }
    }
    Ok((events, None))
}

fn line_of(item: &str, quantity: u32, value: Usd, production_line: Option<String>) -> CaseLine {
    CaseLine {
        item: item.chars().take(200).collect(),
        quantity,
        unit_usd: Usd::from_cents(value.cents() / u64::from(quantity.max(1))),
        mde: true,
        category: Category::Article,
        production_line,
    }
}

/// The real cases of the shipped data, in a stable order, and the rows left out.
pub fn real_cases(
    timelines: &[Timeline],
    notifications: &[Notification],
    catalog: &Catalog,
    rules: &RuleBook,
) -> (Vec<RealCase>, Vec<LeftOut>) {
    let mut taken: Vec<String> = Vec::new();
    let mut cases = Vec::new();
    let mut left_out = Vec::new();
    for timeline in timelines {
        let source = timeline.id.clone();
        let leave = |reason: &str| LeftOut {
            source: source.clone(),
            reason: reason.to_owned(),
        };
        if !timeline.is_us_sale() || timeline.channel != Channel::Fms {
            left_out.push(leave("not a US FMS sale"));
            continue;
        }
        let Some(value) = timeline.value_usd else {
            left_out.push(leave("no value stated"));
            continue;
        };
        let milestones = &timeline.milestones;
        let date =
            |milestone: Option<expedite_data::timelines::Milestone>| milestone.map(|m| m.date);
        let opened = date(milestones.request)
            .or(date(milestones.notification))
            .or(date(milestones.loa));
        let Some(lor_received) = opened else {
            left_out.push(leave("no request, notification or LOA date"));
            continue;
        };
        let agency = agency_for(&timeline.system, timeline.line.as_deref());
        let Some(id) = make_id(timeline.purchaser, agency, &timeline.id, &mut taken) else {
            left_out.push(leave("no two-letter code for the purchaser"));
            continue;
        };
        let letter = NewCase {
            id,
            purchaser: timeline.purchaser,
            agency,
            channel: Channel::Fms,
            lines: vec![line_of(
                &timeline.system,
                timeline.quantity,
                value,
                timeline.line.clone(),
            )],
            lor_received,
            offer_expiration_days: None,
            emergency: false,
            rule_set: None,
        };
        let steps = vec![
            (Step::Advance(Stage::LorActionable), None),
            (Step::Advance(Stage::LoaDevelopment), None),
            (
                Step::Advance(Stage::CongressionalReview),
                date(milestones.notification),
            ),
            (Step::Advance(Stage::Offered), None),
            (Step::Advance(Stage::Implemented), date(milestones.loa)),
            (
                Step::Advance(Stage::OnContract),
                date(milestones.production_contract).or(date(milestones.first_delivery)),
            ),
            (Step::FirstUnit, date(milestones.first_delivery)),
            (Step::Rest, date(milestones.final_delivery)),
        ];
        match events_for(&letter, steps, rules) {
            Ok((events, stopped)) => cases.push(RealCase {
                source,
                letter,
                events,
                stopped,
            }),
            Err(reason) => left_out.push(leave(&reason)),
        }
    }
    for notification in notifications {
        let Some(date) = notification.date else {
            continue;
        };
        let source = format!(
            "DSCA {date} {} {}",
            notification.country.iso3(),
            notification.item
        );
        let leave = |reason: &str| LeftOut {
            source: source.clone(),
            reason: reason.to_owned(),
        };
        if notification.country.aeca_group_on(date) == AecaGroup::Other {
            left_out.push(leave("not a NATO or NATO+5 ally on the day"));
            continue;
        }
        let covered = timelines.iter().any(|timeline| {
            timeline.purchaser == notification.country
                && timeline.milestones.notification.map(|m| m.date) == Some(date)
        });
        if covered {
            left_out.push(leave("the same sale is in the timelines"));
            continue;
        }
        let Some(value) = notification.value_usd else {
            left_out.push(leave("no value stated"));
            continue;
        };
        let mapped = catalog.map(notification);
        let units = mapped
            .as_ref()
            .and_then(|mapped| mapped.units)
            .filter(|units| *units > 0)
            .unwrap_or(1);
        let production_line = mapped.map(|mapped| mapped.line);
        let agency = agency_for(&notification.item, production_line.as_deref());
        let key = format!(
            "{date}|{}|{}",
            notification.country.iso3(),
            notification.item
        );
        let Some(id) = make_id(notification.country, agency, &key, &mut taken) else {
            left_out.push(leave("no two-letter code for the purchaser"));
            continue;
        };
        let letter = NewCase {
            id,
            purchaser: notification.country,
            agency,
            channel: Channel::Fms,
            lines: vec![line_of(&notification.item, units, value, production_line)],
            lor_received: date,
            offer_expiration_days: None,
            emergency: false,
            rule_set: None,
        };
        let steps = vec![
            (Step::Advance(Stage::LorActionable), None),
            (Step::Advance(Stage::LoaDevelopment), None),
            (Step::Advance(Stage::CongressionalReview), Some(date)),
        ];
        match events_for(&letter, steps, rules) {
            Ok((events, stopped)) => cases.push(RealCase {
                source,
                letter,
                events,
                stopped,
            }),
            Err(reason) => left_out.push(leave(&reason)),
        }
    }
    (cases, left_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> (Vec<RealCase>, Vec<LeftOut>) {
        let timelines = Timeline::builtin().expect("timelines");
        let notifications = expedite_data::dsca::builtin().expect("notifications");
        let catalog = Catalog::builtin().expect("catalog");
        let rules = RuleBook::builtin().expect("rules");
        real_cases(&timelines, &notifications, &catalog, &rules)
    }

    #[test]
    fn estonias_himars_keeps_its_real_dates() {
        let (cases, _) = shipped();
        let estonia = cases
            .iter()
            .find(|case| case.source == "EST-HIMARS-2022")
            .expect("Estonia's HIMARS is a US FMS sale in the timelines");
        assert!(estonia.letter.id.as_str().starts_with("EE-B-"));
        let dated = |kind: EventKind| {
            estonia
                .events
                .iter()
                .find(|event| event.kind == kind)
                .map(|event| event.date.to_string())
        };
        // The first delivery of the shipped file: 2025-04-30 (the data crate's doc example).
        assert_eq!(
            dated(EventKind::Deliver {
                line: 0,
                quantity: 1
            }),
            Some("2025-04-30".to_owned())
        );
    }

    #[test]
    fn ids_are_unique_follow_the_fms_pattern_and_carry_the_agency_letter() {
        let (cases, _) = shipped();
        assert!(cases.len() > 30, "{} cases", cases.len());
        let mut ids: Vec<&str> = cases.iter().map(|case| case.letter.id.as_str()).collect();
        for case in &cases {
            assert_eq!(case.letter.id.agency_letter(), case.letter.agency.letter());
            assert!(CaseId::parse(case.letter.id.as_str()).is_ok());
        }
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before);
        let (again, _) = shipped();
        assert!(
            cases
                .iter()
                .zip(&again)
                .all(|(a, b)| a.letter.id == b.letter.id),
            "the same rows give the same ids"
        );
    }

    #[test]
    fn a_notification_already_in_the_timelines_is_not_loaded_twice() {
        let (cases, left_out) = shipped();
        assert!(
            left_out
                .iter()
                .any(|row| row.reason == "the same sale is in the timelines")
        );
        assert!(
            !cases
                .iter()
                .any(|case| case.source.contains("TWN") && case.source.starts_with("DSCA")),
            "Taiwan is not a NATO+5 ally"
        );
    }

    #[test]
    fn every_purchaser_of_the_shipped_data_has_a_two_letter_code_for_its_case_ids() {
        // A purchaser missing from the table would silently drop its sales from the demo
        // (Bahrain's F-16 Block 70 did, until its code was added).
        let (cases, left_out) = shipped();
        let without_code: Vec<&str> = left_out
            .iter()
            .filter(|row| row.reason == "no two-letter code for the purchaser")
            .map(|row| row.source.as_str())
            .collect();
        assert_eq!(without_code, Vec::<&str>::new());
        assert!(cases.iter().any(|case| case.source == "BHR-F16B70-2017"));
    }
}
