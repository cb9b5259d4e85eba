//! Server time of the portfolio page (`GET /`) over 2,000 stored cases, seen by an admin
//! (who sees them all): the router is called in process, so the time is the server's alone
//! (store read, filters, summaries, chart, template), not the network's. Prints p50, p99 and
//! the slowest of the measured requests. Run by `bench/dashboard.sh`; not a test.
//!
//!   cargo bench -p expedite-web --bench dashboard            # 2,000 cases, 300 requests
//!   CASES=5000 REQUESTS=500 cargo bench -p expedite-web --bench dashboard

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, header};
use expedite_core::{Agency, CaseId, Event, EventKind, NewCase, Stage};
use expedite_store::{Author, NewToken, Role, SqlStore, Store};
use expedite_web::AppState;
use serde_json::json;
use tower::ServiceExt;

const STAGES: [Stage; 6] = [
    Stage::LorActionable,
    Stage::LoaDevelopment,
    Stage::CongressionalReview,
    Stage::Offered,
    Stage::Implemented,
    Stage::OnContract,
];

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// `count` cases over 20 purchasers, three agencies and four production lines (each worth
/// enough to need congressional review), each moved
/// along the FMS path by a number of stages that varies with its number.
async fn fill(store: &SqlStore, count: usize) {
    let countries = [
        "POL", "EST", "LVA", "LTU", "ROU", "DEU", "NLD", "NOR", "FIN", "SWE", "DNK", "CZE", "SVK",
        "ITA", "ESP", "GRC", "BEL", "JPN", "AUS", "KOR",
    ];
    let codes = [
        "PL", "EE", "LV", "LT", "RO", "DE", "NL", "NO", "FI", "SE", "DK", "CZ", "SK", "IT", "ES",
        "GR", "BE", "JP", "AU", "KR",
    ];
    let agencies = [Agency::Army, Agency::Navy, Agency::AirForce];
    let lines = ["pac3-mse", "himars", "javelin", "f35"];
    let author = Author {
        name: "bench".to_owned(),
        at: jiff::Timestamp::now(),
    };
    for number in 0..count {
        let agency = agencies[number % agencies.len()];
        let designator: String = [number / 676 % 26, number / 26 % 26, number % 26]
            .iter()
            .map(|digit| char::from(b'A' + *digit as u8))
            .collect();
        let id = format!("{}-{}-{designator}", codes[number % 20], agency.letter());
        let letter = json!({
            "id": id,
            "purchaser": countries[number % 20],
            "agency": agency.as_str(),
            "lor_received": "2024-01-10",
            "lines": [{"item": format!("item {number}"), "quantity": 10 + number % 90,
                       "unit_usd": 50_000_000 + number as u64 * 1_000, "mde": true,
                       "production_line": lines[number % lines.len()]}]
        });
        let new: NewCase = serde_json::from_value(letter).expect("bench case");
        let case_id = CaseId::parse(&id).expect("bench id");
        store.open_case(new, &author).await.expect("open");
        for (version, stage) in (1..).zip(STAGES.iter().take(number % (STAGES.len() + 1))) {
            let date = format!("2024-{:02}-15", 2 + version).parse().expect("date");
            let event = Event {
                date,
                kind: EventKind::Advance { to: *stage },
            };
            store
                .append_event(&case_id, version, event, &author)
                .await
                .expect("advance");
        }
    }
}

fn cookie_of(response: &axum::response::Response, name: &str) -> String {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.split(';').next()?.strip_prefix(&format!("{name}=")))
        .expect("cookie")
        .to_owned()
}

async fn body_text(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    String::from_utf8_lossy(&bytes).into_owned()
}

fn main() {
    let cases = env_number("CASES", 2_000);
    let requests = env_number("REQUESTS", 300);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let folder = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", folder.path().join("bench.db").display());
        let options = expedite_store::OpenOptions::new(expedite_store::HistoryKey::generate());
        let store = SqlStore::open(&url, &options).await.expect("store");
        let started = Instant::now();
        fill(&store, cases).await;
        eprintln!("{cases} cases stored in {:.1} s", started.elapsed().as_secs_f64());
        let admin = store
            .create_token(
                NewToken::new(Role::Admin, None, None, Some("bench".to_owned())).expect("token"),
                jiff::Timestamp::now(),
            )
            .await
            .expect("create token");
        let state = AppState::new(Arc::new(store.clone()) as Arc<dyn Store>).expect("state");
        let app = expedite_web::router(state);

        let form = app
            .clone()
            .oneshot(Request::get("/login").body(Body::empty()).expect("request"))
            .await
            .expect("login form");
        let login_cookie = cookie_of(&form, "expedite_login");
        let body = format!("csrf={login_cookie}&token={}&next=/", admin.token);
        let signed = app
            .clone()
            .oneshot(
                Request::post("/login")
                    .header(header::COOKIE, format!("expedite_login={login_cookie}"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .expect("request"),
            )
            .await
            .expect("sign in");
        let session = format!("expedite_session={}", cookie_of(&signed, "expedite_session"));

        let page = |path: &'static str| {
            let app = app.clone();
            let session = session.clone();
            async move {
                let started = Instant::now();
                let response = app
                    .oneshot(
                        Request::get(path)
                            .header(header::COOKIE, session)
                            .body(Body::empty())
                            .expect("request"),
                    )
                    .await
                    .expect("page");
                assert_eq!(response.status(), 200);
                let text = body_text(response).await;
                (started.elapsed(), text.len())
            }
        };
        // Warm-up: caches, connections, allocator.
        for _ in 0..10 {
            page("/").await;
        }
        let mut times: Vec<Duration> = Vec::with_capacity(requests);
        let mut size = 0;
        for _ in 0..requests {
            let (elapsed, bytes) = page("/").await;
            times.push(elapsed);
            size = bytes;
        }
        times.sort_unstable();
        let at = |share: f64| {
            let rank = ((share * times.len() as f64).ceil() as usize).clamp(1, times.len());
            times[rank - 1].as_secs_f64() * 1_000.0
        };
        println!(
            "portfolio page, {cases} cases, admin, {requests} requests one at a time ({size} bytes each): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target: p99 < 100 ms)",
            at(0.50),
            at(0.99),
            at(1.0)
        );
    });
}
