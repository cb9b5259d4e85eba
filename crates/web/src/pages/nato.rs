//! `/nato`: each member's defence spending as a share of GDP in a chosen year against 2 %,
//! 3.5 % and 5 %, how many meet each, and one member's trend since 2014.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use expedite_core::Country;
use expedite_data::Percent;

use super::charts::{self, Line};
use super::session::Viewer;
use super::{Layout, PageError, html, may_read_analytics};
use crate::AppState;

/// The targets compared, in hundredths of a percent of GDP.
pub const TARGETS: [i32; 3] = [200, 350, 500];

struct MemberRow {
    iso3: String,
    country: String,
    pct: String,
    meets: Vec<bool>,
}

struct TrendRow {
    year: i32,
    pct: String,
    equipment: String,
    estimate: bool,
    member: bool,
}

#[derive(Template)]
#[template(path = "nato.html")]
struct NatoPage {
    layout: Layout,
    year: i32,
    years: Vec<i32>,
    targets: Vec<String>,
    counts: Vec<usize>,
    reporting: usize,
    members: Vec<MemberRow>,
    missing: Vec<String>,
    chart: String,
    country: String,
    countries: Vec<(String, String)>,
    trend_name: String,
    trend_change: String,
    trend_chart: String,
    trend: Vec<TrendRow>,
}

/// `GET /nato?year=2024&country=POL`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    if !may_read_analytics(&viewer.caller) {
        return Err(PageError::Forbidden("read analytics"));
    }
    let nato = &state.nato;
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    };
    let latest = nato
        .latest_year()
        .ok_or_else(|| PageError::Internal("no NATO figures".into()))?;
    let first = expedite_data::nato::SERIES_START_YEAR;
    let year = match param("year") {
        None => latest,
        Some(text) => text
            .parse::<i32>()
            .ok()
            .filter(|year| (first..=latest).contains(year))
            .ok_or_else(|| {
                PageError::BadRequest(format!("year: must be a year from {first} to {latest}"))
            })?,
    };
    let country = match param("country") {
        None => {
            Country::from_iso3("POL").map_err(|error| PageError::Internal(error.to_string()))?
        }
        Some(code) => Country::from_iso3(code)
            .map_err(|error| PageError::BadRequest(format!("country: {error}")))?,
    };
    let mut statuses = Vec::new();
    for hundredths in TARGETS {
        statuses.push(
            nato.status(Some(year), Percent::from_hundredths(hundredths))
                .map_err(|error| PageError::BadRequest(format!("year: {error}")))?,
        );
    }
    let base = &statuses[0];
    let mut members: Vec<MemberRow> = base
        .meeting
        .iter()
        .map(|m| (m.iso3, m.country.clone(), m.pct_gdp))
        .chain(
            base.below
                .iter()
                .map(|b| (b.iso3, b.country.clone(), b.pct_gdp)),
        )
        .map(|(iso3, country, pct)| MemberRow {
            iso3: iso3.to_owned(),
            country,
            pct: pct.to_string(),
            meets: TARGETS
                .iter()
                .map(|target| pct >= Percent::from_hundredths(*target))
                .collect(),
        })
        .collect();
    let mut bars: Vec<(String, f64, String)> = base
        .meeting
        .iter()
        .map(|m| (m.country.clone(), m.pct_gdp.as_f64(), m.iso3.to_owned()))
        .chain(
            base.below
                .iter()
                .map(|b| (b.country.clone(), b.pct_gdp.as_f64(), b.iso3.to_owned())),
        )
        .collect();
    bars.sort_by(|a, b| b.1.total_cmp(&a.1));
    members.sort_by(|a, b| {
        let share = |row: &MemberRow| {
            bars.iter()
                .position(|bar| bar.2 == row.iso3)
                .unwrap_or(usize::MAX)
        };
        share(a).cmp(&share(b))
    });
    let chart = charts::bars(
        &format!("Defence spending as a share of GDP, {year}"),
        "% of GDP",
        &bars
            .iter()
            .map(|(name, pct, _)| (name.clone(), *pct))
            .collect::<Vec<_>>(),
        &TARGETS
            .iter()
            .map(|target| {
                (
                    f64::from(*target) / 100.0,
                    format!("{} %", f64::from(*target) / 100.0),
                )
            })
            .collect::<Vec<_>>(),
    )?;
    let trend = nato
        .trend(country)
        .map_err(|error| PageError::BadRequest(format!("country: {error}")))?;
    let points: Vec<(f64, f64)> = trend
        .series
        .iter()
        .filter_map(|point| Some((f64::from(point.year), point.pct_gdp?.as_f64())))
        .collect();
    let equipment: Vec<(f64, f64)> = trend
        .series
        .iter()
        .filter_map(|point| Some((f64::from(point.year), point.pct_equipment?.as_f64())))
        .collect();
    let trend_chart = charts::lines(
        &format!("{}: defence spending since {first}", trend.country),
        "year",
        "per cent",
        &[
            Line {
                name: "% of GDP".to_owned(),
                points,
                steps: false,
            },
            Line {
                name: "% of spending on equipment".to_owned(),
                points: equipment,
                steps: false,
            },
        ],
        false,
    )?;
    let mut countries: Vec<(String, String)> = nato
        .members()
        .iter()
        .map(|member| (member.country.iso3().to_owned(), member.name.clone()))
        .collect();
    countries.sort_by(|a, b| a.1.cmp(&b.1));
    html(&NatoPage {
        layout: Layout::new("Allies", "nato", &viewer),
        year,
        years: (first..=latest).rev().collect(),
        targets: TARGETS
            .iter()
            .map(|target| format!("{} %", f64::from(*target) / 100.0))
            .collect(),
        counts: statuses.iter().map(|status| status.count_meeting).collect(),
        reporting: base.members_reporting,
        members,
        missing: base.missing.iter().map(|m| m.country.clone()).collect(),
        chart,
        country: country.iso3().to_owned(),
        countries,
        trend_name: trend.country.clone(),
        trend_change: trend
            .change_since_2014_pct_points
            .map_or("–".to_owned(), |change| change.to_string()),
        trend_chart,
        trend: trend
            .series
            .iter()
            .map(|point| TrendRow {
                year: point.year,
                pct: point.pct_gdp.map_or("–".to_owned(), |p| p.to_string()),
                equipment: point
                    .pct_equipment
                    .map_or("–".to_owned(), |p| p.to_string()),
                estimate: point.estimate,
                member: point.member,
            })
            .collect(),
    })
}
