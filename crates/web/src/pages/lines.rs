//! `/lines`: each production line's rate over time (reported, capacity, planned), its order
//! book from the cases the viewer may see, which cases wait on it, and the bottleneck.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use expedite_data::capacity::RateKind;
use expedite_store::CaseFilter;

use super::charts::{self, Line};
use super::session::Viewer;
use super::{Layout, PageError, html};
use crate::AppState;

struct RateRow {
    from: String,
    kind: &'static str,
    units_per_year: String,
    as_published: String,
}

struct WaitingCase {
    id: String,
    purchaser: String,
    item: String,
    ordered: u32,
    delivered: u32,
    stage: String,
}

struct LineView {
    id: String,
    system: String,
    producer: String,
    unit: String,
    rates: Vec<RateRow>,
    chart: String,
    waiting: Vec<WaitingCase>,
    queued_units: u64,
    current_rate: Option<f64>,
    years_of_work: Option<f64>,
    in_catalog: bool,
}

#[derive(Template)]
#[template(path = "lines.html")]
struct LinesPage {
    layout: Layout,
    lines: Vec<LineView>,
    bottleneck: Option<(String, String)>,
}

fn kind_label(kind: RateKind) -> &'static str {
    match kind {
        RateKind::Reported => "reported",
        RateKind::Capacity => "capacity",
        RateKind::Target => "planned",
    }
}

/// `GET /lines`.
pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let catalog = state.forecast_inputs.catalog();
    let today = crate::today();
    let mut everything = CaseFilter::all_in(viewer.caller.scope());
    everything.limit = super::portfolio::MAX_CASES;
    let cases = state.store.list_cases(&everything).await?.cases;

    let mut ids: Vec<String> = catalog.lines.iter().map(|line| line.id.clone()).collect();
    for stored in &cases {
        for line in &stored.case.lines {
            if let Some(id) = &line.production_line
                && !ids.contains(id)
            {
                ids.push(id.clone());
            }
        }
    }

    let mut views = Vec::new();
    for id in ids {
        let entry = catalog.line(&id);
        let mut waiting = Vec::new();
        for stored in &cases {
            let case = &stored.case;
            if case.stage.is_terminal() {
                continue;
            }
            for (line, delivered) in case.lines.iter().zip(case.delivered.iter().copied()) {
                if line.production_line.as_deref() == Some(id.as_str()) && delivered < line.quantity
                {
                    waiting.push(WaitingCase {
                        id: case.id.to_string(),
                        purchaser: case.purchaser.name().to_owned(),
                        item: line.item.clone(),
                        ordered: line.quantity,
                        delivered,
                        stage: super::format::stage_label(case.stage.as_str()),
                    });
                }
            }
        }
        let queued_units: u64 = waiting
            .iter()
            .map(|case| u64::from(case.ordered - case.delivered))
            .sum();
        let (rates, chart, current_rate, system, producer, unit) = match entry {
            Some(line) => {
                let rates = line
                    .rates
                    .iter()
                    .map(|step| RateRow {
                        from: step.from.to_string(),
                        kind: kind_label(step.kind),
                        units_per_year: format!("{:.0}", step.units_per_year),
                        as_published: step.as_published.clone(),
                    })
                    .collect();
                let series = |name: &str, kinds: &[RateKind]| Line {
                    name: name.to_owned(),
                    points: line
                        .rates
                        .iter()
                        .filter(|step| kinds.contains(&step.kind))
                        .map(|step| (charts::day_number(step.from), step.units_per_year))
                        .collect(),
                    steps: true,
                };
                let lines: Vec<Line> = [
                    series("reported", &[RateKind::Reported]),
                    series("capacity", &[RateKind::Capacity]),
                    series("planned", &[RateKind::Target]),
                ]
                .into_iter()
                .filter(|series| !series.points.is_empty())
                .collect();
                let chart = charts::lines(
                    &format!("{}: rate over time", line.system),
                    "date the rate applies from",
                    &format!("{} per year", line.unit),
                    &lines,
                    true,
                )?;
                let current = line
                    .base_rates()
                    .into_iter()
                    .rfind(|step| step.from <= today)
                    .map(|step| step.units_per_year);
                (
                    rates,
                    chart,
                    current,
                    line.system.clone(),
                    line.producer.clone().unwrap_or_default(),
                    line.unit.clone(),
                )
            }
            None => (
                Vec::new(),
                String::new(),
                None,
                id.clone(),
                String::new(),
                "unit".to_owned(),
            ),
        };
        let years_of_work = current_rate
            .filter(|rate| *rate > 0.0)
            .map(|rate| queued_units as f64 / rate);
        views.push(LineView {
            id,
            system,
            producer,
            unit,
            rates,
            chart,
            waiting,
            queued_units,
            current_rate,
            years_of_work,
            in_catalog: entry.is_some(),
        });
    }
    let bottleneck = views
        .iter()
        .filter_map(|view| view.years_of_work.map(|years| (years, view)))
        .filter(|(years, _)| *years > 0.0)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(years, view)| (view.system.clone(), format!("{years:.1}")));
    html(&LinesPage {
        layout: Layout::new("Production lines", "lines", &viewer),
        lines: views,
        bottleneck,
    })
}
