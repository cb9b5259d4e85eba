//! Time to compute the quarterly metrics over a store of many cases, the way they were read
//! before (the cases page by page, then one query per case for its events) and the way
//! `history::metrics_for` reads them now (one list, one query over every event). Both give
//! the same report; the bench checks that, then prints the median of each. Run by
//! `bench/metrics.sh`; not a test.
//!
//!   cargo bench -p expedite-store --bench metrics                 # 6,480 cases, 5 runs each
//!   CASES=2000 RUNS=9 cargo bench -p expedite-store --bench metrics
//!   cargo bench -p expedite-store --bench metrics --profile dev   # a debug build

use std::time::{Duration, Instant};

use expedite_core::machine::Case;
use expedite_core::metrics::{self, Quarter, Window};
use expedite_core::{CaseId, Date, Event, EventKind, NewCase, RuleBook, Stage};
use expedite_store::history::{self, MetricsQuery, MetricsReport};
use expedite_store::{
    Author, CaseFilter, HistoryKey, OpenOptions, Scope, SqlStore, Store, StoreError,
};
use jiff::ToSpan;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn day(text: &str) -> Date {
    text.parse().expect("bench date")
}

/// A writer recording at noon UTC on `date`.
fn recorded_on(date: Date) -> Author {
    let at = date
        .at(12, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .expect("a valid time")
        .timestamp();
    Author {
        name: "bench".into(),
        at,
    }
}

/// `count` small cases (below every notification threshold) over 20 purchasers and three
/// agencies, their LORs spread over 2019–2024, each taken a number of steps along the FMS
/// path that varies with its number (up to its final delivery), every tenth event recorded
/// 45 days late.
async fn fill(store: &SqlStore, count: usize) {
    let countries = [
        ("POL", "PL"),
        ("EST", "EE"),
        ("LVA", "LV"),
        ("LTU", "LT"),
        ("ROU", "RO"),
        ("DEU", "GM"),
        ("NLD", "NL"),
        ("NOR", "NO"),
        ("FIN", "FI"),
        ("SWE", "SW"),
        ("DNK", "DA"),
        ("CZE", "EZ"),
        ("SVK", "LO"),
        ("ITA", "IT"),
        ("ESP", "SP"),
        ("GRC", "GR"),
        ("BEL", "BE"),
        ("JPN", "JA"),
        ("AUS", "AT"),
        ("KOR", "KS"),
    ];
    let agencies = [("army", 'B'), ("navy", 'P'), ("air_force", 'D')];
    let first_lor = day("2019-01-01");
    let mut events = 0_usize;
    for number in 0..count {
        let (iso3, code) = countries[number % countries.len()];
        let (agency, letter) = agencies[number / countries.len() % agencies.len()];
        let designator: String = [number / 676 % 26, number / 26 % 26, number % 26]
            .iter()
            .map(|digit| char::from(b'A' + u8::try_from(*digit).expect("a letter")))
            .collect();
        let id = format!("{code}-{letter}-{designator}");
        let spread = i64::try_from(number * 7 % 2_150).expect("small");
        let lor = first_lor.saturating_add(spread.days());
        let new: NewCase = serde_json::from_value(serde_json::json!({
            "id": id, "purchaser": iso3, "agency": agency, "lor_received": lor.to_string(),
            "lines": [{"item": "PAC-3 MSE interceptor", "quantity": 2, "unit_usd": 1_000_000,
                       "mde": true, "production_line": "pac3-mse"}]
        }))
        .expect("bench case");
        store.open_case(new, &recorded_on(lor)).await.expect("open");
        let vary = i64::try_from(number % 97).expect("small");
        let steps: [(i64, EventKind); 7] = [
            (5, advance(Stage::LorActionable)),
            (1, advance(Stage::LoaDevelopment)),
            (60 + 3 * vary, advance(Stage::Offered)),
            (20 + vary / 2, advance(Stage::Implemented)),
            (90 + 2 * vary, advance(Stage::OnContract)),
            (300 + 4 * vary, deliver(1)),
            (120 + vary, deliver(1)),
        ];
        let case = CaseId::parse(&id).expect("bench id");
        let mut date = lor;
        for (step, (after, kind)) in steps.into_iter().take(number % 8).enumerate() {
            date = date.saturating_add(after.days());
            let recorded = if (number + step + 1).is_multiple_of(10) {
                date.saturating_add(45.days())
            } else {
                date
            };
            let version = i64::try_from(step + 1).expect("small");
            store
                .append_event(&case, version, Event { date, kind }, &recorded_on(recorded))
                .await
                .expect("a legal event");
            events += 1;
        }
        events += 1;
    }
    eprintln!("{count} cases, {events} events stored");
}

fn advance(to: Stage) -> EventKind {
    EventKind::Advance { to }
}

fn deliver(quantity: u32) -> EventKind {
    EventKind::Deliver { line: 0, quantity }
}

/// The cases as `history::cases_in` read them before: 500 at a time.
async fn cases_page_by_page(store: &dyn Store, scope: Scope) -> Result<Vec<Case>, StoreError> {
    const PAGE: u32 = 500;
    let mut cases = Vec::new();
    let mut filter = CaseFilter::all_in(scope);
    filter.limit = PAGE;
    loop {
        let page = store.list_cases(&filter).await?;
        let fetched = page.cases.len();
        cases.extend(page.cases.into_iter().map(|stored| stored.case));
        if fetched < PAGE as usize {
            return Ok(cases);
        }
        filter.offset += PAGE;
    }
}

/// `history::metrics_for` as it was before `Store::events_in`: the cases page by page, then
/// each case's events by its own query.
async fn metrics_case_by_case(
    store: &dyn Store,
    query: &MetricsQuery,
    rules: &RuleBook,
) -> MetricsReport {
    let all = cases_page_by_page(store, Scope::All).await.expect("cases");
    let window = Window::new(query.from, query.to, query.as_of, &all).expect("window");
    let quarters = metrics::compute_view(&all, &all, query.by, &window, rules.samm());
    let (mut events, mut late, mut newest_recorded) = (0, 0, None);
    for case in &all {
        let recorded = history::recordings(&store.events(&case.id).await.expect("events"));
        events += recorded.len();
        late += metrics::late_recorded(&recorded);
        newest_recorded = newest_recorded.max(recorded.iter().map(|r| r.recorded).max());
    }
    MetricsReport {
        quarters,
        as_of: query.as_of,
        events,
        late_recorded_events: late,
        targets: metrics::phase_targets(rules.samm()),
        newest_recorded,
    }
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort_unstable();
    times[times.len() / 2].as_secs_f64() * 1_000.0
}

fn main() {
    let cases = env_number("CASES", 6_480);
    let runs = env_number("RUNS", 5).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let folder = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", folder.path().join("bench.db").display());
        let store = SqlStore::open(&url, &OpenOptions::new(HistoryKey::generate()))
            .await
            .expect("store");
        let started = Instant::now();
        fill(&store, cases).await;
        eprintln!("stored in {:.1} s", started.elapsed().as_secs_f64());
        let rules = RuleBook::builtin().expect("rules");
        let query = MetricsQuery {
            from: Some(Quarter::parse("2019-Q1").expect("quarter")),
            to: Some(Quarter::parse("2026-Q4").expect("quarter")),
            by: None,
            as_of: day("2026-11-30"),
        };
        let before = metrics_case_by_case(&store, &query, &rules).await;
        let after = history::metrics_for(&store, Scope::All, &query, rules.samm())
            .await
            .expect("metrics");
        assert_eq!(before, after, "both reads give the same report");
        eprintln!(
            "same report both ways: {} rows, {} events, {} recorded late",
            after.quarters.len(),
            after.events,
            after.late_recorded_events
        );
        let (mut old, mut new) = (Vec::new(), Vec::new());
        // Alternated, so that a busy moment on a shared machine hits both alike.
        for _ in 0..runs {
            let started = Instant::now();
            metrics_case_by_case(&store, &query, &rules).await;
            old.push(started.elapsed());
            let started = Instant::now();
            history::metrics_for(&store, Scope::All, &query, rules.samm())
                .await
                .expect("metrics");
            new.push(started.elapsed());
        }
        // The two reads apart: the case list, and the events.
        let (mut paged, mut listed, mut per_case, mut at_once) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            let started = Instant::now();
            let all = cases_page_by_page(&store, Scope::All).await.expect("cases");
            paged.push(started.elapsed());
            let started = Instant::now();
            history::cases_in(&store, Scope::All).await.expect("cases");
            listed.push(started.elapsed());
            let started = Instant::now();
            for case in &all {
                store.events(&case.id).await.expect("events");
            }
            per_case.push(started.elapsed());
            let started = Instant::now();
            store.events_in(Scope::All).await.expect("events");
            at_once.push(started.elapsed());
        }
        println!(
            "metrics over {cases} cases (SQLite, 2019-Q1..2026-Q4, median of {runs} runs): \
             before (cases page by page, one query per case) {:.0} ms; \
             after (one list, one query) {:.0} ms",
            median(old),
            median(new)
        );
        println!(
            "  the case list: page by page {:.0} ms, at once {:.0} ms; \
             the events: one query per case {:.0} ms, one query {:.0} ms",
            median(paged),
            median(listed),
            median(per_case),
            median(at_once)
        );
        store.close().await;
    });
}
