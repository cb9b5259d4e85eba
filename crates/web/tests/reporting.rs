//! `/api/v1/metrics` and `/api/v1/alerts` over HTTP: what each token sees, and the feed's
//! shape against JSON Feed 1.1.

mod support;

use serde_json::{Value, json};
use support::{
    Backend, TestApp, advance, backends, himars_on_contract, prioritise, spawn_app, spawn_app_on,
};

/// A small case (2 × $1M, no congressional review): LOR 2025-01-01, actionable 01-03,
/// LOA development 01-04, offered on `offered`.
async fn offered_case(app: &TestApp, id: &str, purchaser: &str, offered: &str) {
    app.open(&json!({
        "id": id, "purchaser": purchaser, "agency": "army", "lor_received": "2025-01-01",
        "lines": [{"item": "Javelin missile", "quantity": 2, "unit_usd": 1_000_000, "mde": true}]
    }))
    .await;
    let path = format!("/api/v1/cases/{id}/events");
    for (version, (date, to)) in (1..).zip([
        ("2025-01-03", "lor_actionable"),
        ("2025-01-04", "loa_development"),
        (offered, "offered"),
    ]) {
        let reply = app
            .post(&path, &app.admin, &advance(version, date, to))
            .await;
        assert_eq!(reply.status, 201, "{id} to {to}: {}", reply.body);
    }
}

/// Poland offered after 40 days, Estonia after 69, both in 2025-Q1.
async fn seeded() -> TestApp {
    let app = spawn_app().await;
    offered_case(&app, "PL-B-DAA", "POL", "2025-02-10").await;
    offered_case(&app, "EN-B-DAB", "EST", "2025-03-11").await;
    app
}

fn lor_to_offer(body: &Value, group: Option<&str>) -> Option<Value> {
    body["quarters"]
        .as_array()
        .expect("quarters")
        .iter()
        .find(|row| {
            row["phase"] == "lor_to_offer"
                && row["group"].as_str() == group
                && row["quarter"] == "2025-Q1"
        })
        .cloned()
}

const Q1: &str = "/api/v1/metrics?from=2025-Q1&to=2025-Q1&as_of=2025-06-30";

#[tokio::test]
async fn a_purchaser_sees_its_own_countrys_metrics_and_the_all_country_aggregate_only() {
    let app = seeded().await;
    for path in [Q1.to_owned(), format!("{Q1}&by=purchaser")] {
        let reply = app.get(&path, &app.poland).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let all = lor_to_offer(&reply.body, None).expect("aggregate row");
        assert_eq!(all["completed"], 2, "the aggregate covers Estonia too");
        assert_eq!(all["median_days"], 40);
        assert_eq!(all["p90_days"], 69);
        let own = lor_to_offer(&reply.body, Some("POL")).expect("Poland's row");
        assert_eq!(
            (own["completed"].clone(), own["median_days"].clone()),
            (json!(1), json!(40))
        );
        assert!(
            reply.body["quarters"]
                .as_array()
                .expect("quarters")
                .iter()
                .all(|row| row["group"].is_null() || row["group"] == "POL"),
            "no Estonian rows for Poland"
        );
        assert!(reply.body["sources"].is_array());
    }
    let admin = app.get(&format!("{Q1}&by=purchaser"), &app.admin).await;
    let estonia = lor_to_offer(&admin.body, Some("EST")).expect("the admin sees Estonia");
    assert_eq!(estonia["median_days"], 69);
    // Exactly the documented row shape.
    let mut keys: Vec<&str> = estonia
        .as_object()
        .expect("row")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "completed",
            "group",
            "median_days",
            "on_time_share",
            "open_at_end",
            "open_median_age_days",
            "p90_days",
            "phase",
            "quarter"
        ]
    );
}

#[tokio::test]
async fn bad_metrics_parameters_name_the_field() {
    let app = spawn_app().await;
    let bad_quarter = app.get("/api/v1/metrics?from=2025-Q5", &app.admin).await;
    assert_eq!((bad_quarter.status, bad_quarter.code()), (422, "invalid"));
    assert_eq!(bad_quarter.fields(), ["from"]);
    let reversed = app
        .get(
            "/api/v1/metrics?from=2025-Q3&to=2025-Q1&as_of=2025-12-31",
            &app.admin,
        )
        .await;
    assert_eq!(
        (reversed.status, reversed.fields()),
        (422, vec!["from".to_owned()])
    );
    let grouping = app.get("/api/v1/metrics?by=country", &app.admin).await;
    assert_eq!(grouping.fields(), ["by"]);
    let format = app.get("/api/v1/metrics?format=table", &app.admin).await;
    assert_eq!(format.fields(), ["format"]);
    let unknown = app.get("/api/v1/metrics?quarter=2025-Q1", &app.admin).await;
    assert_eq!((unknown.status, unknown.code()), (400, "unknown_field"));
}

/// Checks a document against JSON Feed 1.1's required fields and types.
fn assert_json_feed(feed: &Value) {
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert!(feed["title"].is_string(), "title is required");
    for optional in ["home_page_url", "feed_url", "description"] {
        assert!(
            feed[optional].is_null() || feed[optional].is_string(),
            "{optional}"
        );
    }
    for item in feed["items"].as_array().expect("items is required") {
        assert!(item["id"].is_string(), "item id is a string: {item}");
        assert!(
            item["content_text"].is_string() || item["content_html"].is_string(),
            "an item has content_text or content_html: {item}"
        );
        if let Some(date) = item.get("date_published") {
            let text = date.as_str().expect("date_published is a string");
            assert!(
                text.parse::<jiff::Timestamp>().is_ok(),
                "date_published is RFC 3339: {text}"
            );
        }
        if let Some(tags) = item.get("tags") {
            assert!(
                tags.as_array()
                    .expect("tags is an array")
                    .iter()
                    .all(Value::is_string)
            );
        }
        for key in item.as_object().expect("item").keys() {
            let known = [
                "id",
                "url",
                "external_url",
                "title",
                "content_html",
                "content_text",
                "summary",
                "image",
                "banner_image",
                "date_published",
                "date_modified",
                "authors",
                "tags",
                "language",
                "attachments",
            ];
            assert!(
                known.contains(&key.as_str()) || key.starts_with('_'),
                "extensions start with an underscore: {key}"
            );
        }
    }
}

async fn feed(app: &TestApp, query: &str, token: &str) -> Value {
    let response = app
        .client
        .get(format!("{}/api/v1/alerts{query}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
        Some("application/feed+json")
    );
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn the_alerts_feed_is_a_json_feed_scoped_to_the_caller_and_empty_when_nothing_changed() {
    let app = seeded().await;
    // Poland's offer of 2025-02-10 expired unaccepted on 05-06 (85 days); Estonia's of
    // 03-11 on 06-04.
    let admin = feed(&app, "?as_of=2025-06-30", &app.admin).await;
    assert_json_feed(&admin);
    let ids: Vec<&str> = admin["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| item["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"PL-B-DAA/offer_expiration/missed/2025-05-06"),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"EN-B-DAB/offer_expiration/missed/2025-06-04"),
        "{ids:?}"
    );
    let estonia = feed(&app, "?as_of=2025-06-30", &app.estonia).await;
    assert_json_feed(&estonia);
    assert!(
        estonia["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|item| item["_expedite"]["purchaser"] == "EST"),
        "only Estonia's cases"
    );
    let unchanged = feed(&app, "?as_of=2025-06-30&since=2025-06-06", &app.admin).await;
    assert_json_feed(&unchanged);
    assert_eq!(
        unchanged["items"],
        json!([]),
        "nothing became true since 06-06"
    );
    let bad = app.get("/api/v1/alerts?since=yesterday", &app.admin).await;
    assert_eq!((bad.status, bad.fields()), (422, vec!["since".to_owned()]));
}

#[tokio::test]
async fn metrics_as_csv_are_the_rows_of_the_cli() {
    let app = seeded().await;
    let response = app
        .client
        .get(format!("{}{Q1}&format=csv&by=purchaser", app.address))
        .bearer_auth(&app.poland)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("body");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "quarter,phase,group,completed,median_days,p90_days,on_time_share,open_at_end,open_median_age_days"
        )
    );
    assert!(
        text.contains("2025-Q1,lor_to_offer,,2,40,69,1,0,\n"),
        "{text}"
    );
    assert!(
        text.contains("2025-Q1,lor_to_offer,POL,1,40,40,1,0,\n"),
        "{text}"
    );
    assert!(!text.contains("EST"), "{text}");
}

/// Poland's 48 launchers ordered 2025-03-01, then Estonia's 24 ordered 2025-06-01: both at
/// the default tier, so Poland goes first.
async fn himars_queue() -> TestApp {
    himars_queue_on(Backend::Sqlite).await
}

async fn himars_queue_on(backend: Backend) -> TestApp {
    let app = spawn_app_on(backend).await;
    himars_on_contract(&app, "PL-B-HIA", "POL", 48, "2025-03-01").await;
    himars_on_contract(&app, "EN-B-HIB", "EST", 24, "2025-06-01").await;
    app
}

const FORECAST_DAY: &str = "2026-11-30";

/// Computes every stored case's forecast as of [`FORECAST_DAY`] and keeps what is new, as
/// the background worker does after a recompute; returns how many were kept.
async fn record_forecasts(
    app: &TestApp,
    inputs: &expedite_web::forecasts::ForecastInputs,
) -> usize {
    let as_of = FORECAST_DAY.parse().expect("day");
    let recorded = expedite_web::forecasts::record(&app.store, inputs, as_of)
        .await
        .expect("forecasts recorded");
    assert_eq!(recorded.forecast, 2, "both cases are forecast");
    recorded.kept
}

fn forecast_items(feed: &Value) -> Vec<Value> {
    feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|item| {
            matches!(
                item["_expedite"]["kind"].as_str(),
                Some("p50_moved" | "queue_changed")
            )
        })
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_recompute_with_nothing_changed_keeps_no_snapshot_and_raises_no_alert() {
    let app = himars_queue().await;
    let inputs = expedite_web::forecasts::ForecastInputs::shipped().expect("shipped inputs");
    assert_eq!(record_forecasts(&app, &inputs).await, 2);
    assert_eq!(record_forecasts(&app, &inputs).await, 0);
    let admin = feed(&app, &format!("?as_of={FORECAST_DAY}"), &app.admin).await;
    assert_json_feed(&admin);
    assert_eq!(forecast_items(&admin), Vec::<Value>::new());
}

#[tokio::test]
async fn a_forecast_kept_for_an_earlier_day_knows_only_the_events_dated_by_then() {
    // Both cases were opened on 2025-01-01 and signed their LOAs on 2025-02-01; Poland's went
    // on contract on 2025-03-01, Estonia's on 2025-06-01. A forecast kept as of 2025-04-01
    // (`expedite alerts --refresh --as-of 2025-04-01`, recorded later) sees Estonia's case as
    // it stood then: implemented, not yet on contract, with no place in the queue.
    use expedite_store::Store as _;
    let app = himars_queue().await;
    let inputs = expedite_web::forecasts::ForecastInputs::shipped().expect("shipped inputs");
    let day: expedite_core::Date = "2025-04-01".parse().expect("day");
    let recorded = expedite_web::forecasts::record(&app.store, &inputs, day)
        .await
        .expect("forecasts recorded");
    assert_eq!(recorded.forecast, 2, "both cases were open on {day}");
    let estonia_id = expedite_core::CaseId::parse("EN-B-HIB").expect("id");
    let kept = app
        .store
        .forecast_snapshots(expedite_store::Scope::All, Some(&estonia_id))
        .await
        .expect("snapshots");
    let estonia = kept.last().expect("Estonia's forecast is kept");
    assert_eq!(estonia.as_of, day);
    assert_eq!(estonia.inputs.stage, expedite_core::Stage::Implemented);
    assert!(
        estonia
            .inputs
            .milestones
            .iter()
            .all(|milestone| milestone.date <= day),
        "{:?}",
        estonia.inputs.milestones
    );
    assert!(
        estonia.queues.iter().all(|queue| queue.place.is_none()),
        "not on contract on {day}, so no place yet: {:?}",
        estonia.queues
    );
    // On the eve of the letters of request neither case existed.
    let eve = "2024-12-31".parse().expect("day");
    let before = expedite_web::forecasts::record(&app.store, &inputs, eve)
        .await
        .expect("forecasts recorded");
    assert_eq!(before.forecast, 0);
}

#[tokio::test]
async fn a_rate_cut_on_a_line_raises_p50_moved_saying_the_lines_rate_moved() {
    let app = himars_queue().await;
    let inputs = expedite_web::forecasts::ForecastInputs::shipped().expect("shipped inputs");
    record_forecasts(&app, &inputs).await;
    // The HIMARS line builds half as many launchers a year at every step.
    let mut catalog = inputs.catalog().clone();
    let himars = catalog
        .lines
        .iter_mut()
        .find(|line| line.id == "himars")
        .expect("himars is in the catalog");
    for step in &mut himars.rates {
        step.units_per_year /= 2.0;
    }
    let cut = inputs.with_catalog(catalog);
    assert_eq!(record_forecasts(&app, &cut).await, 2);
    let admin = feed(&app, &format!("?as_of={FORECAST_DAY}"), &app.admin).await;
    assert_json_feed(&admin);
    // Estonia's 24 launchers queue behind Poland's 48: the cut delays their start, and so
    // both deliveries. (Poland's, at the front of the queue, are held back by the first-
    // delivery delay and the delivery span more than by the line's pace.)
    let moved: Vec<&Value> = admin["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|item| {
            item["_expedite"]["kind"] == "p50_moved"
                && item["_expedite"]["case"] == "EN-B-HIB"
                && item["_expedite"]["subject"] == "final_delivery"
        })
        .collect();
    assert_eq!(moved.len(), 1, "{admin:#}");
    let alert = &moved[0]["_expedite"];
    assert!(
        alert["moved"].as_i64().expect("days") > 30,
        "later by more than the threshold: {alert}"
    );
    let why = alert["why"].as_str().expect("why");
    assert!(
        why.contains("line himars's known rate steps changed: from 2022-01-01, 48 → 24 a year"),
        "{why}"
    );
    assert_eq!(alert["raised_on"], FORECAST_DAY);
    // A threshold above the move raises nothing.
    let days = alert["moved"].as_i64().expect("days");
    let higher = feed(
        &app,
        &format!("?as_of={FORECAST_DAY}&threshold_days={days}"),
        &app.admin,
    )
    .await;
    assert!(
        forecast_items(&higher)
            .iter()
            .all(|item| item["_expedite"]["subject"] != "final_delivery"
                || item["_expedite"]["case"] != "EN-B-HIB"),
        "{higher:#}"
    );
}

#[tokio::test]
async fn a_tier_change_that_moves_another_case_ahead_raises_a_queue_alert_naming_it_and_the_tier_rule()
 {
    let app = himars_queue().await;
    let inputs = expedite_web::forecasts::ForecastInputs::shipped().expect("shipped inputs");
    record_forecasts(&app, &inputs).await;
    let prioritised = prioritise(&app, "EN-B-HIB", 0).await;
    assert_eq!(prioritised.status, 201, "{}", prioritised.body);
    assert_eq!(prioritised.body["tier"], 0);
    assert_eq!(prioritised.body["stage"], "on_contract");
    assert_eq!(record_forecasts(&app, &inputs).await, 2);
    let poland = feed(&app, &format!("?as_of={FORECAST_DAY}"), &app.poland).await;
    assert_json_feed(&poland);
    let queue: Vec<Value> = forecast_items(&poland)
        .into_iter()
        .filter(|item| item["_expedite"]["kind"] == "queue_changed")
        .collect();
    assert_eq!(queue.len(), 1, "{poland:#}");
    let alert = &queue[0]["_expedite"];
    assert_eq!(alert["case"], "PL-B-HIA");
    assert_eq!(alert["subject"], "himars");
    assert_eq!(alert["moved"], 1, "one place down");
    assert!(
        alert["message"]
            .as_str()
            .expect("message")
            .ends_with("another purchaser's case moved ahead of it"),
        "Poland may not see Estonia's case id: {alert}"
    );
    assert_eq!(
        alert["why"],
        "another purchaser's case is tier 0, this case tier 1: the lower tier goes first (another purchaser's case's tier went from 1 to 0)"
    );
    let admin = forecast_items(&feed(&app, &format!("?as_of={FORECAST_DAY}"), &app.admin).await);
    let named = admin
        .iter()
        .find(|item| {
            item["_expedite"]["case"] == "PL-B-HIA" && item["_expedite"]["kind"] == "queue_changed"
        })
        .expect("the admin sees Poland's alert");
    assert_eq!(
        named["_expedite"]["why"],
        "EN-B-HIB is tier 0, this case tier 1: the lower tier goes first (EN-B-HIB's tier went from 1 to 0)"
    );
}

#[tokio::test]
async fn a_purchaser_sees_only_its_own_forecast_alerts() {
    for backend in backends() {
        a_purchaser_sees_only_its_own_forecast_alerts_on(backend).await;
    }
}

async fn a_purchaser_sees_only_its_own_forecast_alerts_on(backend: Backend) {
    let app = himars_queue_on(backend).await;
    let inputs = expedite_web::forecasts::ForecastInputs::shipped().expect("shipped inputs");
    record_forecasts(&app, &inputs).await;
    let prioritised = prioritise(&app, "EN-B-HIB", 0).await;
    assert_eq!(prioritised.status, 201, "{}", prioritised.body);
    record_forecasts(&app, &inputs).await;
    let admin = forecast_items(&feed(&app, &format!("?as_of={FORECAST_DAY}"), &app.admin).await);
    let cases: std::collections::BTreeSet<&str> = admin
        .iter()
        .filter_map(|item| item["_expedite"]["case"].as_str())
        .collect();
    assert_eq!(
        cases.into_iter().collect::<Vec<_>>(),
        ["EN-B-HIB", "PL-B-HIA"],
        "both cases' places changed"
    );
    for (token, purchaser) in [(&app.poland, "POL"), (&app.estonia, "EST")] {
        let own = forecast_items(&feed(&app, &format!("?as_of={FORECAST_DAY}"), token).await);
        assert!(!own.is_empty(), "{purchaser} has its own alerts");
        assert!(
            own.iter()
                .all(|item| item["_expedite"]["purchaser"] == purchaser),
            "{purchaser} sees only its own: {own:#?}"
        );
    }
    let bad = app
        .get("/api/v1/alerts?threshold_days=-1", &app.admin)
        .await;
    assert_eq!(
        (bad.status, bad.fields()),
        (422, vec!["threshold_days".to_owned()])
    );
    app.finish().await;
}

#[tokio::test]
async fn a_tier_beyond_nine_is_refused_naming_tier_and_nothing_is_written() {
    let app = himars_queue().await;
    let refused = prioritise(&app, "EN-B-HIB", 10).await;
    assert_eq!(
        (refused.status, refused.fields()),
        (422, vec!["tier".to_owned()])
    );
    let case = app.get("/api/v1/cases/EN-B-HIB", &app.admin).await;
    assert_eq!(case.body["version"], 6);
    assert!(case.body.get("tier").is_none(), "still the default tier");
}

#[tokio::test]
async fn a_promise_event_is_kept_on_the_case_and_a_bad_one_is_refused_naming_why() {
    let app = himars_queue().await;
    let promise = |version: i64, date: &str, first_delivery: &str| json!({"version": version, "date": date, "kind": "promise", "first_delivery": first_delivery});
    let events = "/api/v1/cases/EN-B-HIB/events";
    let promised = app
        .post(events, &app.admin, &promise(6, "2026-11-01", "2027-06-30"))
        .await;
    assert_eq!(promised.status, 201, "{}", promised.body);
    assert_eq!(promised.body["stage"], "on_contract");
    assert_eq!(
        promised.body["promise"],
        json!({"first_delivery": "2027-06-30", "made": "2026-11-01"})
    );
    // A promise for a day before it is made breaks the stage machine's rule; a date that is
    // no date names its field. Neither is written.
    let past = app
        .post(events, &app.admin, &promise(7, "2026-11-02", "2026-10-01"))
        .await;
    assert_eq!((past.status, past.code()), (422, "illegal_transition"));
    let bad = app
        .post(events, &app.admin, &promise(7, "2026-11-02", "2027-13-01"))
        .await;
    assert_eq!(
        (bad.status, bad.fields()),
        (422, vec!["first_delivery".to_owned()])
    );
    let case = app.get("/api/v1/cases/EN-B-HIB", &app.admin).await;
    assert_eq!(case.body["version"], 7);
    assert_eq!(case.body["promise"]["first_delivery"], "2027-06-30");
    app.finish().await;
}
