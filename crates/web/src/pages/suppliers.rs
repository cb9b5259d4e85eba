//! `/suppliers`: years from order to delivery by supplier, from the SIPRI trade register the
//! server was started with (`--sipri`), with sample sizes; the United States against South
//! Korea, Germany and France for NATO buyers.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use expedite_core::Country;
use expedite_data::sipri::leadtime::{
    self, DealFilter, GroupBy, LeadTimeGroup, PartySelector, RecipientGroup,
};

use super::session::Viewer;
use super::{Layout, PageError, charts, html, may_read_analytics};
use crate::AppState;

/// Suppliers compared for NATO buyers.
pub const COMPARED: [&str; 4] = ["USA", "KOR", "DEU", "FRA"];
/// Order year the comparison starts from when none is asked for.
pub const DEFAULT_FROM: i32 = 2000;
/// Suppliers listed in the table of all suppliers.
const TOP_SUPPLIERS: usize = 25;

struct GroupRow {
    key: String,
    deals: usize,
    with_delivery: usize,
    fully_delivered: String,
    median_first: String,
    p90_first: String,
    median_full: String,
    within_two: String,
}

impl GroupRow {
    fn of(group: &LeadTimeGroup) -> GroupRow {
        let years = |value: Option<f64>| value.map_or("–".to_owned(), |v| format!("{v:.1}"));
        GroupRow {
            key: group.key.clone(),
            deals: group.deals,
            with_delivery: group.deals_with_delivery,
            // The newer SIPRI layout has no number ordered, so no full deliveries to count.
            fully_delivered: group
                .deals_fully_delivered
                .map_or("–".to_owned(), |count| count.to_string()),
            median_first: years(group.first_delivery_years.median),
            p90_first: years(group.first_delivery_years.p90),
            median_full: years(group.full_delivery_years.median),
            within_two: group
                .share_first_delivery_within_years
                .two
                .map_or("–".to_owned(), |share| format!("{:.0} %", share * 100.0)),
        }
    }
}

#[derive(Template)]
#[template(path = "suppliers.html")]
struct SuppliersPage {
    layout: Layout,
    loaded: bool,
    source: String,
    from: i32,
    compared: Vec<GroupRow>,
    chart: String,
    all: Vec<GroupRow>,
}

/// `GET /suppliers?from=2000`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    if !may_read_analytics(&viewer.caller) {
        return Err(PageError::Forbidden("read analytics"));
    }
    let from = match params.iter().find(|(key, _)| key == "from") {
        None => DEFAULT_FROM,
        Some((_, value)) if value.trim().is_empty() => DEFAULT_FROM,
        Some((_, value)) => value
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|year| (1950..=2100).contains(year))
            .ok_or_else(|| PageError::BadRequest("from: must be a year such as 2000".into()))?,
    };
    let layout = Layout::new("Suppliers", "suppliers", &viewer);
    let Some(register) = state.sipri.as_deref() else {
        return html(&SuppliersPage {
            layout,
            loaded: false,
            source: String::new(),
            from,
            compared: Vec::new(),
            chart: String::new(),
            all: Vec::new(),
        });
    };
    let nato_buyers = DealFilter {
        from_year: Some(from),
        recipient_group: Some(RecipientGroup::Nato),
        suppliers: COMPARED
            .iter()
            .filter_map(|code| Country::from_iso3(code).ok())
            .map(PartySelector::Country)
            .collect(),
        ..DealFilter::default()
    };
    let compared_report = leadtime::lead_times(register, &nato_buyers, GroupBy::Supplier);
    let compared: Vec<GroupRow> = compared_report.groups.iter().map(GroupRow::of).collect();
    let chart = charts::bars(
        &format!("Median years from order to first delivery, NATO buyers, orders from {from}"),
        "years (median)",
        &compared_report
            .groups
            .iter()
            .filter_map(|group| {
                group.first_delivery_years.median.map(|median| {
                    (
                        format!("{} (n={})", group.key, group.deals_with_delivery),
                        median,
                    )
                })
            })
            .collect::<Vec<_>>(),
        &[],
    )?;
    let every_supplier = DealFilter {
        from_year: Some(from),
        ..DealFilter::default()
    };
    let mut all_groups = leadtime::lead_times(register, &every_supplier, GroupBy::Supplier).groups;
    all_groups.sort_by(|a, b| b.deals.cmp(&a.deals).then(a.key.cmp(&b.key)));
    let all = all_groups
        .iter()
        .take(TOP_SUPPLIERS)
        .map(GroupRow::of)
        .collect();
    let source = format!(
        "{} rows{}",
        register.records,
        register
            .generated
            .as_deref()
            .map(|generated| format!(", {generated}"))
            .unwrap_or_default()
    );
    html(&SuppliersPage {
        layout,
        loaded: true,
        source,
        from,
        compared,
        chart,
        all,
    })
}
