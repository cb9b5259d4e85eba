//! `/`: the portfolio of the cases the viewer may see, by stage, late ones, reviews ending,
//! deliveries due, latest activity; filtered, searched, sorted and paged.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use expedite_core::{Agency, Country, Date, Stage, Usd};
use expedite_store::{CaseFilter, StoredCase};

use super::format::{self, stage_label};
use super::session::Viewer;
use super::{Layout, Opt, PageError, charts, html, options};
use crate::AppState;

/// Cases per page of the list.
pub const PAGE_SIZE: usize = 50;
/// Most cases the portfolio reads in one request.
pub const MAX_CASES: u32 = 100_000;
/// How far ahead a congressional review's end counts as "soon".
pub const REVIEW_SOON_DAYS: i64 = 30;
/// How far ahead a forecast delivery counts as due.
pub const DELIVERY_DUE_DAYS: i64 = 90;

/// The filters, as the query string names them.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    purchaser: String,
    agency: String,
    stage: String,
    line: String,
    q: String,
    sort: String,
    dir: String,
}

impl Filters {
    fn link(&self, sort: &str, dir: &str, page: usize) -> String {
        let page = if page > 1 {
            page.to_string()
        } else {
            String::new()
        };
        format!(
            "/{}",
            format::query(&[
                ("purchaser", &self.purchaser),
                ("agency", &self.agency),
                ("stage", &self.stage),
                ("line", &self.line),
                ("q", &self.q),
                ("sort", sort),
                ("dir", dir),
                ("page", &page),
            ])
        )
    }
}

/// One case in a list.
#[derive(Debug, Clone)]
pub struct CaseRow {
    id: String,
    purchaser: String,
    purchaser_name: String,
    agency: &'static str,
    stage: String,
    value: String,
    value_cents: u64,
    last_event: Date,
    samm_due: Option<Date>,
    late: bool,
    items: String,
}

impl CaseRow {
    fn of(stored: &StoredCase, today: Date) -> CaseRow {
        let case = &stored.case;
        let value = notified_value(stored);
        CaseRow {
            id: case.id.to_string(),
            purchaser: case.purchaser.iso3().to_owned(),
            purchaser_name: case.purchaser.name().to_owned(),
            agency: case.agency.as_str(),
            stage: stage_label(case.stage.as_str()),
            value: format::approx(value),
            value_cents: value.cents(),
            last_event: case.last_event,
            samm_due: stored.samm_due,
            late: stored.samm_due.is_some_and(|due| due < today),
            items: case
                .lines
                .iter()
                .map(|line| line.item.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

/// The value of every line of a case (what is notified and offered).
pub fn notified_value(stored: &StoredCase) -> Usd {
    format::sum(
        stored
            .case
            .lines
            .iter()
            .filter_map(|line| line.value().ok()),
    )
}

struct StageRow {
    stage: String,
    key: &'static str,
    count: usize,
    value: String,
}

struct ReviewRow {
    id: String,
    purchaser: String,
    ends: Date,
    days_left: i64,
}

struct DueRow {
    id: String,
    purchaser: String,
    what: &'static str,
    p10: Date,
    p50: Date,
    p90: Date,
}

struct SortLink {
    label: &'static str,
    href: String,
    aria_sort: &'static str,
}

#[derive(Template)]
#[template(path = "portfolio.html")]
struct PortfolioPage {
    layout: Layout,
    today: Date,
    filters: Filters,
    purchasers: Vec<Opt>,
    agencies: Vec<Opt>,
    stages: Vec<Opt>,
    production_lines: Vec<Opt>,
    by_stage: Vec<StageRow>,
    stage_chart: String,
    total_count: usize,
    total_value: String,
    late: Vec<CaseRow>,
    late_count: usize,
    reviews: Vec<ReviewRow>,
    due: Vec<DueRow>,
    forecasts_known: usize,
    recent: Vec<CaseRow>,
    rows: Vec<CaseRow>,
    sort_links: Vec<SortLink>,
    page: usize,
    pages: usize,
    previous: Option<String>,
    next: Option<String>,
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map_or("", |(_, value)| value.trim())
}

/// `GET /`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let today = crate::today();
    let filters = Filters {
        purchaser: param(&params, "purchaser").to_uppercase(),
        agency: param(&params, "agency").to_owned(),
        stage: param(&params, "stage").to_owned(),
        line: param(&params, "line").to_owned(),
        q: param(&params, "q").chars().take(200).collect(),
        sort: param(&params, "sort").to_owned(),
        dir: param(&params, "dir").to_owned(),
    };
    let purchaser = match filters.purchaser.as_str() {
        "" => None,
        code => Some(
            Country::from_iso3(code)
                .map_err(|error| PageError::BadRequest(format!("purchaser: {error}")))?,
        ),
    };
    let agency = match filters.agency.as_str() {
        "" => None,
        name => Some(
            Agency::parse(name)
                .map_err(|error| PageError::BadRequest(format!("agency: {error}")))?,
        ),
    };
    let stage = match filters.stage.as_str() {
        "" => None,
        name => Some(
            Stage::parse(name).map_err(|error| PageError::BadRequest(format!("stage: {error}")))?,
        ),
    };
    let page_number = match param(&params, "page") {
        "" => 1,
        text => text
            .parse::<usize>()
            .ok()
            .filter(|page| *page >= 1)
            .ok_or_else(|| PageError::BadRequest("page: must be a whole number from 1".into()))?,
    };

    // Everything the viewer may see; the options of the filters come from it, so a
    // purchaser's lists name only its own country.
    let mut everything = CaseFilter::all_in(viewer.caller.scope());
    everything.limit = MAX_CASES;
    let visible = state.store.list_cases(&everything).await?.cases;
    let mut purchasers: Vec<(String, String)> = visible
        .iter()
        .map(|stored| {
            (
                stored.case.purchaser.iso3().to_owned(),
                stored.case.purchaser.name().to_owned(),
            )
        })
        .collect();
    purchasers.sort();
    purchasers.dedup();
    let mut production_lines: Vec<String> = visible
        .iter()
        .flat_map(|stored| stored.case.lines.iter())
        .filter_map(|line| line.production_line.clone())
        .collect();
    production_lines.sort();
    production_lines.dedup();

    let needle = filters.q.to_lowercase();
    let cases: Vec<&StoredCase> = visible
        .iter()
        .filter(|stored| {
            let case = &stored.case;
            purchaser.is_none_or(|country| case.purchaser == country)
                && agency.is_none_or(|agency| case.agency == agency)
                && stage.is_none_or(|stage| case.stage == stage)
                && (filters.line.is_empty()
                    || case
                        .lines
                        .iter()
                        .any(|line| line.production_line.as_deref() == Some(&filters.line)))
                && (needle.is_empty() || matches_text(stored, &needle))
        })
        .collect();

    let by_stage: Vec<StageRow> = Stage::ALL
        .iter()
        .map(|stage| {
            let in_stage: Vec<&&StoredCase> = cases
                .iter()
                .filter(|stored| stored.case.stage == *stage)
                .collect();
            StageRow {
                stage: stage_label(stage.as_str()),
                key: stage.as_str(),
                count: in_stage.len(),
                value: format::approx(format::sum(
                    in_stage.iter().map(|stored| notified_value(stored)),
                )),
            }
        })
        .filter(|row| row.count > 0)
        .collect();
    let stage_chart = charts::bars(
        "Cases by stage",
        "number of cases",
        &by_stage
            .iter()
            .map(|row| (row.stage.clone(), row.count as f64))
            .collect::<Vec<_>>(),
        &[],
    )?;

    let mut late: Vec<CaseRow> = cases
        .iter()
        .filter(|stored| stored.samm_due.is_some_and(|due| due < today))
        .map(|stored| CaseRow::of(stored, today))
        .collect();
    late.sort_by_key(|row| row.samm_due);
    let late_count = late.len();
    late.truncate(20);

    let mut reviews: Vec<ReviewRow> = cases
        .iter()
        .filter(|stored| stored.case.stage == Stage::CongressionalReview)
        .filter_map(|stored| {
            let ends = stored.case.review.as_ref()?.earliest_offer;
            let days_left = format::days_between(today, ends);
            (0..=REVIEW_SOON_DAYS)
                .contains(&days_left)
                .then(|| ReviewRow {
                    id: stored.case.id.to_string(),
                    purchaser: stored.case.purchaser.name().to_owned(),
                    ends,
                    days_left,
                })
        })
        .collect();
    reviews.sort_by_key(|row| row.ends);

    let (due, forecasts_known) = deliveries_due(&state, &cases, today);

    let mut recent: Vec<CaseRow> = cases
        .iter()
        .map(|stored| CaseRow::of(stored, today))
        .collect();
    recent.sort_by(|a, b| b.last_event.cmp(&a.last_event).then(a.id.cmp(&b.id)));
    recent.truncate(10);

    let mut rows: Vec<CaseRow> = cases
        .iter()
        .map(|stored| CaseRow::of(stored, today))
        .collect();
    let descending = filters.dir == "desc";
    match filters.sort.as_str() {
        "purchaser" => rows.sort_by(|a, b| a.purchaser_name.cmp(&b.purchaser_name)),
        "agency" => rows.sort_by_key(|row| row.agency),
        "stage" => rows.sort_by_key(|row| stage_rank(&row.stage)),
        "value" => rows.sort_by_key(|row| row.value_cents),
        "last_event" => rows.sort_by_key(|row| row.last_event),
        "due" => rows.sort_by_key(|row| row.samm_due.map_or((1, None), |due| (0, Some(due)))),
        _ => {}
    }
    if descending {
        rows.reverse();
    }
    let total_count = rows.len();
    let pages = total_count.div_ceil(PAGE_SIZE).max(1);
    let page_number = page_number.min(pages);
    let rows: Vec<CaseRow> = rows
        .into_iter()
        .skip((page_number - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    let sort_links = [
        ("id", "Case"),
        ("purchaser", "Purchaser"),
        ("agency", "Agency"),
        ("stage", "Stage"),
        ("value", "Notified value"),
        ("last_event", "Last event"),
        ("due", "SAMM due"),
    ]
    .into_iter()
    .map(|(key, label)| {
        let current = filters.sort == key || (filters.sort.is_empty() && key == "id");
        let next_dir = if current && !descending {
            "desc"
        } else {
            "asc"
        };
        SortLink {
            label,
            href: filters.link(key, next_dir, 1),
            aria_sort: match (current, descending) {
                (false, _) => "none",
                (true, false) => "ascending",
                (true, true) => "descending",
            },
        }
    })
    .collect();
    let previous =
        (page_number > 1).then(|| filters.link(&filters.sort, &filters.dir, page_number - 1));
    let next =
        (page_number < pages).then(|| filters.link(&filters.sort, &filters.dir, page_number + 1));
    let total_value = format::approx(format::sum(
        cases.iter().map(|stored| notified_value(stored)),
    ));

    html(&PortfolioPage {
        layout: Layout::new("Portfolio", "portfolio", &viewer),
        today,
        purchasers: options(purchasers, &filters.purchaser),
        agencies: options(
            Agency::ALL.iter().map(|agency| {
                (
                    agency.as_str().to_owned(),
                    agency.as_str().replace('_', " "),
                )
            }),
            &filters.agency,
        ),
        stages: options(
            Stage::ALL
                .iter()
                .map(|stage| (stage.as_str().to_owned(), stage_label(stage.as_str()))),
            &filters.stage,
        ),
        production_lines: options(
            production_lines
                .into_iter()
                .map(|line| (line.clone(), line)),
            &filters.line,
        ),
        by_stage,
        stage_chart,
        total_count,
        total_value,
        late,
        late_count,
        reviews,
        due,
        forecasts_known,
        recent,
        rows,
        sort_links,
        page: page_number,
        pages,
        previous,
        next,
        filters,
    })
}

/// Whether the case's id, purchaser, agency, items or lines contain `needle` (lower case),
/// as the API's `text` filter searches.
fn matches_text(stored: &StoredCase, needle: &str) -> bool {
    let case = &stored.case;
    let contains = |text: &str| text.to_lowercase().contains(needle);
    contains(case.id.as_str())
        || contains(case.purchaser.iso3())
        || contains(case.purchaser.name())
        || contains(case.agency.as_str())
        || case.lines.iter().any(|line| {
            contains(&line.item) || line.production_line.as_deref().is_some_and(contains)
        })
}

fn stage_rank(label: &str) -> usize {
    Stage::ALL
        .iter()
        .position(|stage| stage_label(stage.as_str()) == label)
        .unwrap_or(usize::MAX)
}

/// Cases whose forecast puts a first or final delivery within [`DELIVERY_DUE_DAYS`], and how
/// many of the cases have a forecast at all.
fn deliveries_due(state: &AppState, cases: &[&StoredCase], today: Date) -> (Vec<DueRow>, usize) {
    let horizon = today
        .checked_add(jiff::Span::new().days(DELIVERY_DUE_DAYS))
        .unwrap_or(today);
    let mut known = 0;
    let mut due = Vec::new();
    for stored in cases {
        let case = &stored.case;
        let Some(forecast) = state.forecasts.get(&case.id) else {
            continue;
        };
        known += 1;
        if case.fully_delivered() || case.stage.is_terminal() {
            continue;
        }
        let delivered_any = case.delivered.iter().any(|count| *count > 0);
        let (what, dates) = if delivered_any {
            ("final delivery", forecast.forecast.final_delivery)
        } else {
            ("first delivery", forecast.forecast.first_delivery)
        };
        if dates.p50 >= today && dates.p50 <= horizon {
            due.push(DueRow {
                id: case.id.to_string(),
                purchaser: case.purchaser.name().to_owned(),
                what,
                p10: dates.p10,
                p50: dates.p50,
                p90: dates.p90,
            });
        }
    }
    due.sort_by_key(|row| row.p50);
    (due, known)
}
