//! Bad input an attacker (or a sloppy client) sends, on SQLite and PostgreSQL alike: each
//! gets its status and the JSON error body naming the field, and nothing is stored.
//! Extends the table in `api.rs` with what the attack of issue 12 found: NUL bytes, money
//! as a JSON float, other content types, duplicate keys, dates from year 0 to 9999, zero
//! trials, a forecast over its budget, and ids that would reveal another agency's case.

mod support;

use serde_json::{Value, json};
use support::{advance, backends, letter, spawn_app_on};

/// One request and what it must get.
struct Bad {
    what: &'static str,
    method: &'static str,
    path: String,
    content_type: Option<&'static str>,
    body: Option<String>,
    status: u16,
    code: &'static str,
    fields: &'static [&'static str],
}

fn json_body(
    what: &'static str,
    path: &str,
    body: String,
    status: u16,
    code: &'static str,
    fields: &'static [&'static str],
) -> Bad {
    Bad {
        what,
        method: "POST",
        path: path.to_owned(),
        content_type: Some("application/json"),
        body: Some(body),
        status,
        code,
        fields,
    }
}

fn with(mut base: Value, edit: impl FnOnce(&mut Value)) -> String {
    edit(&mut base);
    base.to_string()
}

const SCENARIO: &str = r#"
name = "one case"
start = "2025-01-01"
[[lines]]
id = "shells"
rate = [ { from = "2024-01-01", per_year = 365 } ]
[[cases]]
id = "PL-B-AAA"
purchaser = "POL"
stage = "on_contract"
since = "2025-01-01"
lines = [ { line = "shells", quantity = 10, unit_usd = 1000 } ]
"#;

/// A scenario of 250 single-line cases: at 20,000 trials, 5 million line-trials.
fn big_scenario() -> String {
    let mut text = String::from(
        "name = \"big\"\nstart = \"2025-01-01\"\n[[lines]]\nid = \"shells\"\nrate = [ { from = \"2024-01-01\", per_year = 365 } ]\n",
    );
    for n in 0..250 {
        text.push_str(&format!(
            "[[cases]]\nid = \"C{n}\"\npurchaser = \"POL\"\nstage = \"on_contract\"\nsince = \"2025-01-01\"\nlines = [ {{ line = \"shells\", quantity = 1, unit_usd = 1 }} ]\n"
        ));
    }
    text
}

fn bad_inputs() -> Vec<Bad> {
    let case = || letter("PL-B-NEW", "POL", "army");
    let event = || advance(1, "2025-01-05", "lor_actionable");
    let cases = "/api/v1/cases";
    let events = "/api/v1/cases/PL-B-ZAB/events";
    let rules = "/api/v1/rules/notification";
    let forecast = "/api/v1/forecast";
    let notification =
        json!({"purchaser": "POL", "date": "2025-01-01", "mde_usd": 100, "total_usd": 200});
    vec![
        json_body("NUL in an item", cases, with(case(), |c| c["lines"][0]["item"] = json!("PAC-3\u{0}MSE")), 422, "invalid", &["lines[0].item"]),
        json_body("NUL in a stage name", events, with(event(), |e| e["to"] = json!("lor_\u{0}actionable")), 422, "invalid", &["to"]),
        json_body("NUL in a scenario", forecast, json!({"scenario": "name = \"a\u{0}\""}).to_string(), 422, "invalid", &["scenario"]),
        Bad {
            what: "NUL in a query parameter",
            method: "GET",
            path: "/api/v1/cases?text=%00".to_owned(),
            content_type: None,
            body: None,
            status: 422,
            code: "invalid",
            fields: &["text"],
        },
        json_body("money as a float one cent off", cases, r#"{"id": "PL-B-NEW", "purchaser": "POL", "agency": "army", "lor_received": "2025-01-01", "lines": [{"item": "x", "quantity": 1, "unit_usd": 90071992547409.93}]}"#.into(), 422, "invalid", &["lines[0].unit_usd"]),
        json_body("money as a float that rounds away", cases, r#"{"id": "PL-B-NEW", "purchaser": "POL", "agency": "army", "lor_received": "2025-01-01", "lines": [{"item": "x", "quantity": 1, "unit_usd": 20000000000000001.5}]}"#.into(), 422, "invalid", &["lines[0].unit_usd"]),
        json_body("money as a float in a notification check", rules, with(notification.clone(), |n| n["mde_usd"] = json!(100.5)), 422, "invalid", &["mde_usd"]),
        json_body("a quantity with a fraction", cases, with(case(), |c| c["lines"][0]["quantity"] = json!(2.5)), 422, "invalid", &["lines[0].quantity"]),
        Bad {
            what: "a body that is not declared JSON",
            method: "POST",
            path: cases.to_owned(),
            content_type: Some("text/plain"),
            body: Some(case().to_string()),
            status: 415,
            code: "unsupported_media_type",
            fields: &[],
        },
        Bad {
            what: "a form post",
            method: "POST",
            path: events.to_owned(),
            content_type: Some("application/x-www-form-urlencoded"),
            body: Some("version=1".to_owned()),
            status: 415,
            code: "unsupported_media_type",
            fields: &[],
        },
        Bad {
            what: "no content type",
            method: "POST",
            path: rules.to_owned(),
            content_type: None,
            body: Some(notification.to_string()),
            status: 415,
            code: "unsupported_media_type",
            fields: &[],
        },
        json_body("a duplicate key", cases, r#"{"id": "PL-B-NEW", "purchaser": "EST", "purchaser": "POL", "agency": "army", "lor_received": "2025-01-01", "lines": [{"item": "x", "quantity": 1, "unit_usd": 1}]}"#.into(), 400, "malformed", &[]),
        json_body("a duplicate key in a line", events, r#"{"version": 1, "version": 2, "date": "2025-01-05", "kind": "advance", "to": "lor_actionable"}"#.into(), 400, "malformed", &[]),
        json_body("year 0000", cases, with(case(), |c| c["lor_received"] = json!("0000-01-01")), 422, "invalid", &["lor_received"]),
        json_body("year 9999", cases, with(case(), |c| c["lor_received"] = json!("9999-12-31")), 422, "invalid", &["lor_received"]),
        json_body("the last day of 1949", cases, with(case(), |c| c["lor_received"] = json!("1949-12-31")), 422, "invalid", &["lor_received"]),
        json_body("an event in 2101", events, with(event(), |e| e["date"] = json!("2101-01-01")), 422, "invalid", &["date"]),
        json_body("a notification dated 0001", rules, with(notification, |n| n["date"] = json!("0001-01-01")), 422, "invalid", &["date"]),
        Bad {
            what: "as_of in year 0",
            method: "GET",
            path: "/api/v1/cases?late=true&as_of=0000-01-01".to_owned(),
            content_type: None,
            body: None,
            status: 422,
            code: "invalid",
            fields: &["as_of"],
        },
        json_body("zero trials", forecast, json!({"scenario": SCENARIO, "trials": 0}).to_string(), 422, "invalid", &["trials"]),
        json_body("a forecast over its budget", forecast, json!({"scenario": big_scenario(), "trials": 20_000}).to_string(), 422, "over_budget", &["scenario"]),
        json_body("an id whose agency letter is not its agency", cases, with(case(), |c| c["id"] = json!("PL-D-JAS")), 422, "invalid", &["id"]),
    ]
}

#[tokio::test]
async fn hostile_input_gets_a_clear_4xx_with_the_json_error_on_every_backend_and_changes_nothing() {
    for backend in backends() {
        let app = spawn_app_on(backend).await;
        app.open(&letter("PL-B-ZAB", "POL", "army")).await;
        for bad in bad_inputs() {
            let reply = app
                .send_raw(
                    bad.method,
                    &bad.path,
                    Some(&app.admin),
                    bad.content_type,
                    bad.body,
                )
                .await;
            assert_eq!(
                (reply.status, reply.code()),
                (bad.status, bad.code),
                "{backend:?} {}: {}",
                bad.what,
                reply.body
            );
            assert!(
                reply.body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{backend:?} {}",
                bad.what
            );
            assert_eq!(
                reply.fields(),
                bad.fields,
                "{backend:?} {}: {}",
                bad.what,
                reply.body
            );
        }
        let everything = app.get("/api/v1/cases", &app.admin).await;
        assert_eq!(
            everything.body["total"], 1,
            "{backend:?}: no bad case was stored"
        );
        let case = app.get("/api/v1/cases/PL-B-ZAB", &app.admin).await;
        assert_eq!(
            case.body["version"], 1,
            "{backend:?}: no bad event was stored"
        );
        let verified = app.get("/api/v1/cases/PL-B-ZAB/verify", &app.admin).await;
        assert_eq!(verified.body["valid"], true, "{backend:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn creating_another_agencys_case_id_answers_the_same_whether_or_not_it_exists() {
    for backend in backends() {
        let app = spawn_app_on(backend).await;
        // Norway's AMRAAM, an Air Force case, exists; the Army manager tries its id and one
        // that does not exist: the two answers are the same.
        app.open(&letter("NO-D-AMR", "NOR", "air_force")).await;
        let mut answers = Vec::new();
        for id in ["NO-D-AMR", "NO-D-ZZZ"] {
            let reply = app
                .post("/api/v1/cases", &app.army, &json!({"id": id, "purchaser": "NOR", "agency": "army",
                    "lor_received": "2025-01-01", "lines": [{"item": "x", "quantity": 1, "unit_usd": 1}]}))
                .await;
            answers.push((reply.status, reply.code().to_owned(), reply.fields()));
        }
        assert_eq!(answers[0], answers[1], "{backend:?}");
        assert_eq!(answers[0].0, 422, "{backend:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_token_runs_at_most_two_forecasts_at_once() {
    let app = spawn_app_on(support::Backend::Sqlite).await;
    // Each just inside the budget (20,000 trials × 150 line-trials = 3 million), so slow
    // enough to overlap.
    let mut text = String::from(
        "name = \"wide\"\nstart = \"2025-01-01\"\n[[lines]]\nid = \"shells\"\nrate = [ { from = \"2024-01-01\", per_year = 365 } ]\n",
    );
    for n in 0..149 {
        text.push_str(&format!(
            "[[cases]]\nid = \"C{n}\"\npurchaser = \"POL\"\nstage = \"on_contract\"\nsince = \"2025-01-01\"\nlines = [ {{ line = \"shells\", quantity = 1, unit_usd = 1 }} ]\n"
        ));
    }
    let body = json!({"scenario": text, "trials": 20_000});
    let (first, second, third) = tokio::join!(
        app.post("/api/v1/forecast", &app.analyst, &body),
        app.post("/api/v1/forecast", &app.analyst, &body),
        async {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            app.post("/api/v1/forecast", &app.analyst, &body).await
        }
    );
    let mut statuses = [first.status, second.status, third.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 429], "{}", third.body);
    // Another token is not held up by the first one's forecasts.
    let other = app
        .post(
            "/api/v1/forecast",
            &app.admin,
            &json!({"scenario": SCENARIO, "trials": 10}),
        )
        .await;
    assert_eq!(other.status, 200);
    app.finish().await;
}

#[tokio::test]
async fn a_forecast_stops_when_its_client_hangs_up() {
    let app = spawn_app_on(support::Backend::Sqlite).await;
    let mut text = String::from(
        "name = \"wide\"\nstart = \"2025-01-01\"\n[[lines]]\nid = \"shells\"\nrate = [ { from = \"2024-01-01\", per_year = 365 } ]\n",
    );
    for n in 0..149 {
        text.push_str(&format!(
            "[[cases]]\nid = \"C{n}\"\npurchaser = \"POL\"\nstage = \"on_contract\"\nsince = \"2025-01-01\"\nlines = [ {{ line = \"shells\", quantity = 1, unit_usd = 1 }} ]\n"
        ));
    }
    let body = json!({"scenario": text, "trials": 20_000});
    // Two clients take the token's two slots and hang up after 300 ms.
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .expect("client");
    for _ in 0..2 {
        let sent = impatient
            .post(format!("{}/api/v1/forecast", app.address))
            .bearer_auth(&app.analyst)
            .json(&body)
            .send()
            .await;
        assert!(sent.is_err(), "the forecast should outlast 300 ms");
    }
    // Had their runs gone on, both slots would still be taken (429) for seconds.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let small = json!({"scenario": SCENARIO, "trials": 10});
    let next = app.post("/api/v1/forecast", &app.analyst, &small).await;
    assert_eq!(next.status, 200, "{}", next.body);
    app.finish().await;
}
