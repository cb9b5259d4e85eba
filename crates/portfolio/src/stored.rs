//! Forecasts of stored cases: every open case on a production line of the catalog in one
//! scenario (so cases on the same line queue for it together), built like `expedite demo`
//! and `expedite backtest` build theirs, and the snapshot of each case's forecast that the
//! store keeps for forecast alerts.
//!
//! [`ForecastInputs`] holds the catalog's rates, the calibrated stage durations, rate
//! multiplier, ramp slip and first-delivery delay ([`crate::calibrate`]) and the template's
//! build times, transport and backlog; [`scenario_for`] turns stored cases ([`CaseFacts`]:
//! the case as its history built it, with its dated deliveries; [`CaseFacts::as_it_stood`]
//! reads it as of an earlier day) into a scenario as of a day,
//! each case at the tier its latest `prioritise` event set (default 1); [`snapshot_of`]
//! reads a case's forecast, queues and inputs into a [`ForecastSnapshot`]. The service
//! (`expedite_web::forecasts`) and `expedite alerts --refresh` share them. Pure: the caller
//! reads the store and passes in the day.

use std::collections::BTreeMap;

use expedite_core::Date;
use expedite_core::RuleBook;
use expedite_core::Stage;
use expedite_core::forecast_alerts::{ForecastSnapshot, LineInputs, RateStep, SnapshotInputs};
use expedite_core::machine::{Case, DEFAULT_TIER, Event, EventKind, NewCase};
use expedite_data::capacity::Catalog;
use expedite_forecast::Scenario;
use expedite_forecast::queue::CaseQueues;
use expedite_forecast::report::CaseForecast;
use expedite_forecast::scenario::{
    RawBacklog, RawCase, RawCaseLine, RawDate, RawDelivery, RawLine, RawMilestones, RawScenario,
};

use crate::backtest::{Assumed, known_rates};
use crate::calibrate::Params;
use crate::template::Template;

/// What every case forecast is built from: the catalog, the calibrated parameters and the
/// demo template's assumptions, as `expedite demo` and `expedite backtest` use them.
#[derive(Debug, Clone)]
pub struct ForecastInputs {
    catalog: Catalog,
    params: Params,
    assumed: Assumed,
    backlog_years: BTreeMap<String, f64>,
    trials: u32,
    seed: u64,
    rules: RuleBook,
}

/// Why the forecast inputs could not be read (a build defect: the shipped files are tested).
#[derive(Debug, thiserror::Error)]
#[error("forecast inputs: {0}")]
pub struct InputsError(String);

impl ForecastInputs {
    /// The shipped catalog, calibration and template.
    ///
    /// # Errors
    /// If a shipped file does not read.
    pub fn shipped() -> Result<ForecastInputs, InputsError> {
        let error = |what: &str, detail: String| InputsError(format!("{what}: {detail}"));
        let template =
            Template::builtin().map_err(|e| error("scenario template", e.to_string()))?;
        let params = Params::shipped().map_err(|e| error("calibration", e.to_string()))?;
        // The backlogs as the demo takes them under the calibration (none where the fitted
        // delay already holds the usual wait behind other buyers).
        let (calibrated, _) = template.calibrated(&params);
        Ok(ForecastInputs {
            catalog: Catalog::builtin().map_err(|e| error("catalog", e.to_string()))?,
            assumed: Assumed::of(&template),
            backlog_years: calibrated
                .lines
                .iter()
                .map(|(id, line)| (id.clone(), line.backlog_years))
                .collect(),
            params,
            trials: template.trials,
            seed: template.seed,
            rules: RuleBook::builtin().map_err(|e| error("rules", e.to_string()))?,
        })
    }

    /// The same inputs on another catalog (a what-if on a line's rates, or a test's).
    pub fn with_catalog(mut self, catalog: Catalog) -> ForecastInputs {
        self.catalog = catalog;
        self
    }

    /// The catalog the forecasts read the lines' rates from.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The stage machine's rules, by which a case's history is read as it stood on a day
    /// ([`CaseFacts::as_it_stood`]).
    pub fn rules(&self) -> &RuleBook {
        &self.rules
    }

    /// The assumptions every case forecast states.
    pub fn assumptions(&self, as_of: Date) -> Vec<String> {
        vec![
            format!("forecast as of {as_of}, {} trials, seed {}", self.trials, self.seed),
            format!(
                "stage durations: calibrated on real timelines ({}), the rest from the demo's scenario template",
                self.params.source
            ),
            "production: the catalog's published rates known on the day, the template's backlog ahead of every case and build time per line, the calibrated rate multiplier, ramp slip and first-delivery delay".to_owned(),
            "every stored case on a line queues with the others in one scenario; lines without a catalog production line are left out".to_owned(),
            format!("facts first: the milestones and deliveries in the case's history up to {as_of} are not drawn again; those dated later are not known yet"),
        ]
    }
}

/// A stored case with the dated deliveries of its history.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    /// The case.
    pub case: Case,
    /// (date, line position, units) of every delivery so far.
    pub deliveries: Vec<(Date, usize, u32)>,
}

impl CaseFacts {
    /// The case as its history stood at the end of `day`: opened, with every event dated on
    /// or before `day` applied and the deliveries among them; `None` when it was opened
    /// later. A forecast as of a day knows only the facts of that day: a milestone,
    /// delivery, tier or promise dated later is not known yet, whenever it was recorded.
    ///
    /// # Errors
    /// The stage machine's refusal of the history, as text (a store whose chain checks
    /// replays it whole, so a prefix replays too).
    pub fn as_it_stood(
        opening: &NewCase,
        events: &[Event],
        day: Date,
        rules: &RuleBook,
    ) -> Result<Option<CaseFacts>, String> {
        if opening.lor_received > day {
            return Ok(None);
        }
        let mut case = Case::open(opening.clone(), rules).map_err(|error| error.to_string())?;
        let mut deliveries = Vec::new();
        // Events never go back in time (the stage machine refuses it), so the facts of a day
        // are a prefix of the history.
        for event in events.iter().take_while(|event| event.date <= day) {
            case = case
                .apply(event, rules)
                .map_err(|error| error.to_string())?;
            if let EventKind::Deliver { line, quantity } = event.kind {
                deliveries.push((event.date, line, quantity));
            }
        }
        Ok(Some(CaseFacts { case, deliveries }))
    }
}

/// Builds one scenario of every case that can be forecast on `as_of`; returns it with the
/// ids it holds.
///
/// # Errors
/// The forecast's refusal of the scenario, as text.
pub fn scenario_for(
    cases: &[CaseFacts],
    inputs: &ForecastInputs,
    as_of: Date,
) -> Result<(Scenario, Vec<String>), String> {
    let mut raw_cases = Vec::new();
    let mut used_lines: Vec<String> = Vec::new();
    for facts in cases {
        if let Some(raw) = raw_case(facts, inputs, as_of) {
            for line in &raw.lines {
                if !used_lines.contains(&line.line) {
                    used_lines.push(line.line.clone());
                }
            }
            raw_cases.push(raw);
        }
    }
    let ids = raw_cases.iter().map(|case| case.id.clone()).collect();
    let mut channels = inputs.assumed.stages.clone();
    for (channel, stages) in &inputs.params.channels {
        let entry = channels.entry(channel.clone()).or_default();
        for (stage, dist) in stages {
            if stage != "first_delivery_delay" {
                entry.insert(stage.clone(), dist.clone());
            }
        }
    }
    for (channel, transport) in &inputs.assumed.transport {
        channels
            .entry(channel.clone())
            .or_default()
            .insert("transport".to_owned(), transport.clone());
    }
    let lines = used_lines
        .iter()
        .filter_map(|id| inputs.catalog.line(id))
        .map(|line| {
            let (rate, _) = known_rates(line, as_of);
            let now = rate.last().map_or(0.0, |step| step.per_year);
            let backlog = inputs.backlog_years.get(&line.id).copied().unwrap_or(0.0) * now;
            RawLine {
                id: line.id.clone(),
                name: line.system.clone(),
                backlog: RawBacklog::Units(backlog.round() as i64),
                lead_time_days: inputs
                    .assumed
                    .lead_time_days
                    .get(&line.id)
                    .copied()
                    .unwrap_or(0.0),
                rate,
                rate_multiplier: Some(inputs.params.line_defaults.rate_multiplier.clone()),
                ramp_slip: Some(inputs.params.line_defaults.ramp_slip.clone()),
                first_delivery_delay: inputs
                    .params
                    .first_delivery_delay(expedite_core::Channel::Fms, &line.id)
                    .cloned(),
                delivery_span: inputs.params.line_delivery_span(&line.id).cloned(),
                delivery_span_scale: inputs.params.line_delivery_span_scale(&line.id),
                ..RawLine::default()
            }
        })
        .collect();
    let raw = RawScenario {
        name: "stored cases".to_owned(),
        start: RawDate(as_of.to_string()),
        trials: Some(i64::from(inputs.trials)),
        seed: i64::try_from(inputs.seed).ok(),
        target: None,
        channels,
        lines,
        cases: raw_cases,
        policies: Vec::new(),
    };
    let scenario = Scenario::from_raw(raw).map_err(|error| error.to_string())?;
    Ok((scenario, ids))
}

/// A stored case in the scenario's syntax, if it can be forecast: open, not delivered, with
/// at least one line on a catalog line that has a rate.
pub fn raw_case(facts: &CaseFacts, inputs: &ForecastInputs, as_of: Date) -> Option<RawCase> {
    let case = &facts.case;
    if case.stage.is_terminal()
        || matches!(case.stage, Stage::Delivered | Stage::Closed)
        || case.fully_delivered()
    {
        return None;
    }
    let on_line = |line: &expedite_core::CaseLine| {
        let id = line.production_line.as_deref()?;
        let catalog_line = inputs.catalog.line(id)?;
        (!known_rates(catalog_line, as_of).0.is_empty()).then(|| id.to_owned())
    };
    let lines: Vec<RawCaseLine> = case
        .lines
        .iter()
        .filter_map(|line| {
            Some(RawCaseLine {
                line: on_line(line)?,
                quantity: i64::from(line.quantity),
                unit_usd: line.unit_usd,
                mde: line.mde,
                category: Some(line.category),
            })
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    let date = |stage: Stage| case.entered(stage).map(|day| RawDate(day.to_string()));
    let deliveries = facts
        .deliveries
        .iter()
        .filter_map(|&(day, position, units)| {
            let line = on_line(case.lines.get(position)?)?;
            Some(RawDelivery {
                date: RawDate(day.to_string()),
                units: i64::from(units),
                line: Some(line),
            })
        })
        .collect();
    Some(RawCase {
        id: case.id.to_string(),
        purchaser: case.purchaser.iso3().to_owned(),
        channel: Some(case.channel.as_str().to_owned()),
        stage: Some(case.stage.as_str().to_owned()),
        since: date(case.stage),
        milestones: Some(RawMilestones {
            request: date(Stage::LorReceived),
            notification: date(Stage::CongressionalReview),
            loa: date(Stage::Implemented),
            contract: date(Stage::OnContract),
            deliveries,
        }),
        lines,
        // Left out at the default, so a case never prioritised builds the scenario it did.
        tier: (case.tier() != DEFAULT_TIER).then(|| i64::from(case.tier())),
        promised_first_delivery: case
            .promise
            .map(|promise| RawDate(promise.first_delivery.to_string())),
        ..RawCase::default()
    })
}

/// A stored case's forecast as the store keeps it ([`ForecastSnapshot`]): the percentiles,
/// its place in each line's queue, and the inputs that explain a change (its lines' known
/// rate steps and backlog, its stage, milestones, deliveries and tier). `scenario` is the one
/// the forecast ran, `queues` the case's entry of [`Scenario::queue_positions`].
pub fn snapshot_of(
    facts: &CaseFacts,
    scenario: &Scenario,
    forecast: &CaseForecast,
    queues: &CaseQueues,
    as_of: Date,
    computed_at: jiff::Timestamp,
) -> ForecastSnapshot {
    let case = &facts.case;
    let lines = queues
        .queues
        .iter()
        .filter_map(|queue| scenario.lines.iter().find(|line| line.id == queue.line))
        .map(|line| LineInputs {
            line: line.id.clone(),
            rate: line
                .rate
                .iter()
                .map(|step| RateStep {
                    from: step.from,
                    per_year: step.per_year,
                })
                .collect(),
            backlog: u64::from(line.backlog),
        })
        .collect();
    ForecastSnapshot {
        case: case.id.clone(),
        purchaser: case.purchaser,
        agency: case.agency,
        computed_at,
        as_of,
        first_delivery: forecast.first_delivery,
        final_delivery: forecast.final_delivery,
        queues: queues.queues.clone(),
        inputs: SnapshotInputs {
            stage: case.stage,
            milestones: case.milestones.clone(),
            delivered: case.delivered.iter().copied().map(u64::from).sum(),
            tier: case.tier(),
            promised_first_delivery: case.promise.map(|promise| promise.first_delivery),
            lines,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Polish HIMARS case on contract on 2025-03-01, prioritised at `tier` if given.
    fn himars_case(tier: Option<u32>) -> CaseFacts {
        himars_case_with(tier.map(|tier| EventKind::Prioritise { tier }))
    }

    /// The same case, with one more event on 2025-04-01 if given.
    fn himars_case_with(extra: Option<EventKind>) -> CaseFacts {
        let rules = RuleBook::builtin().expect("compiled-in rules");
        let (opening, events) = himars_history(extra);
        let mut case = Case::open(opening, &rules).expect("opens");
        for event in &events {
            case = case.apply(event, &rules).expect("a legal event");
        }
        CaseFacts {
            case,
            deliveries: Vec::new(),
        }
    }

    /// The case's opening (LOR 2025-01-01) and events: LOA 2025-02-01, on contract
    /// 2025-03-01, and `extra` on 2025-04-01 if given.
    fn himars_history(extra: Option<EventKind>) -> (NewCase, Vec<Event>) {
        let opening: NewCase = toml::from_str(
            r#"
            id = "PL-B-HIA"
            purchaser = "POL"
            agency = "army"
            lor_received = "2025-01-01"
            lines = [ { item = "M142 HIMARS launcher", quantity = 12, unit_usd = 100000, mde = true, production_line = "himars" } ]
            "#,
        )
        .expect("a case");
        let mut events: Vec<(&str, EventKind)> = [
            ("2025-01-03", Stage::LorActionable),
            ("2025-01-04", Stage::LoaDevelopment),
            ("2025-01-20", Stage::Offered),
            ("2025-02-01", Stage::Implemented),
            ("2025-03-01", Stage::OnContract),
        ]
        .into_iter()
        .map(|(day, to)| (day, EventKind::Advance { to }))
        .collect();
        if let Some(kind) = extra {
            events.push(("2025-04-01", kind));
        }
        let events = events
            .into_iter()
            .map(|(day, kind)| Event {
                date: day.parse().expect("date"),
                kind,
            })
            .collect();
        (opening, events)
    }

    #[test]
    fn a_case_as_of_a_day_holds_only_the_events_dated_by_then() {
        let rules = RuleBook::builtin().expect("compiled-in rules");
        let (opening, events) = himars_history(Some(EventKind::Deliver {
            line: 0,
            quantity: 4,
        }));
        let on = |day: &str| {
            CaseFacts::as_it_stood(&opening, &events, day.parse().expect("date"), &rules)
                .expect("the history replays")
        };
        assert!(on("2024-12-31").is_none(), "the LOR came on 2025-01-01");
        let signed = on("2025-02-15").expect("open");
        assert_eq!(signed.case.stage, Stage::Implemented);
        assert_eq!(signed.case.entered(Stage::OnContract), None);
        let inputs = ForecastInputs::shipped().expect("shipped inputs");
        let raw =
            raw_case(&signed, &inputs, "2025-02-15".parse().expect("date")).expect("forecastable");
        let milestones = raw.milestones.expect("milestones");
        assert_eq!(
            milestones.contract, None,
            "the contract is still to be drawn"
        );
        let before_delivery = on("2025-03-31").expect("open");
        assert!(before_delivery.deliveries.is_empty());
        assert_eq!(before_delivery.case.delivered, [0]);
        let delivered = on("2025-04-01").expect("open");
        assert_eq!(
            delivered.deliveries,
            [("2025-04-01".parse().expect("date"), 0, 4)]
        );
        assert_eq!(delivered.case.delivered, [4]);
    }

    #[test]
    fn a_case_never_prioritised_queues_at_the_default_tier_and_a_prioritised_one_at_its_own() {
        let inputs = ForecastInputs::shipped().expect("shipped inputs");
        let as_of = "2026-11-30".parse().expect("date");
        let default = raw_case(&himars_case(None), &inputs, as_of).expect("forecastable");
        assert_eq!(
            default.tier, None,
            "the scenario it built before tiers existed"
        );
        let first = raw_case(&himars_case(Some(0)), &inputs, as_of).expect("forecastable");
        assert_eq!(first.tier, Some(0));
        let (scenario, ids) =
            scenario_for(&[himars_case(Some(0))], &inputs, as_of).expect("a scenario");
        assert_eq!(ids, ["PL-B-HIA"]);
        assert_eq!(scenario.cases[0].tier, 0);
        let place = scenario.queue_positions()[0].queues[0]
            .place
            .clone()
            .expect("on contract");
        assert_eq!(place.order_date, "2025-03-01".parse().expect("date"));
    }

    #[test]
    fn a_stored_promise_anchors_the_case_forecast_on_it_and_the_fitted_slip() {
        use expedite_forecast::scenario::RawDist;
        // Promised 2027-06-30 on 2025-04-01: the first delivery is the promise plus the
        // shipped slip of FMS promises (a normal), so P50 that slip's median later.
        let inputs = ForecastInputs::shipped().expect("shipped inputs");
        let Some(RawDist::Normal { median: slip, .. }) =
            inputs.params.promise_slip(expedite_core::Channel::Fms)
        else {
            panic!("the shipped parameters fit a normal slip of FMS promises");
        };
        let as_of: Date = "2026-11-30".parse().expect("date");
        let promised = himars_case_with(Some(EventKind::Promise {
            first_delivery: "2027-06-30".parse().expect("date"),
        }));
        let raw = raw_case(&promised, &inputs, as_of).expect("forecastable");
        assert_eq!(
            raw.promised_first_delivery.map(|date| date.0),
            Some("2027-06-30".to_owned())
        );
        let (scenario, _) = scenario_for(&[promised], &inputs, as_of).expect("a scenario");
        let report = expedite_forecast::run(&scenario, &expedite_forecast::RunOptions::default())
            .expect("runs");
        let forecast = &report.runs[0].cases[0];
        let promise: Date = "2027-06-30".parse().expect("date");
        let days = promise
            .until(forecast.first_delivery.p50)
            .expect("dates")
            .get_days();
        assert!(
            (f64::from(days) - slip).abs() <= 15.0,
            "P50 {days} days after the promise, the slip's median {slip}"
        );
        assert!(forecast.p_first_by_promise.is_some_and(|kept| kept < 0.2));
    }

    #[test]
    fn a_stored_case_queues_behind_no_backlog_of_other_buyers_the_fitted_delay_holds_their_wait() {
        let inputs = ForecastInputs::shipped().expect("shipped inputs");
        assert!(inputs.params.delay_holds_the_usual_queue());
        let as_of = "2026-11-30".parse().expect("date");
        let (scenario, _) = scenario_for(&[himars_case(None)], &inputs, as_of).expect("a scenario");
        let himars = scenario
            .lines
            .iter()
            .find(|line| line.id == "himars")
            .expect("the HIMARS line");
        // The template assumes 1.5 years of HIMARS orders ahead; under the delay, none.
        assert_eq!(himars.backlog, 0);
    }
}
