//! The dashboard's pages over real sockets: sign-in, CSRF, every page's status and content,
//! escaping of user text, and the purchaser's view with no other country anywhere.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{TestApp, advance, himars_on_contract, letter, prioritise, spawn_app};

/// A signed-in browser: its session cookie and the CSRF token of its forms.
struct Browser {
    client: reqwest::Client,
    address: String,
    cookie: String,
    csrf: String,
}

struct Page {
    status: u16,
    location: String,
    set_cookies: Vec<String>,
    body: String,
}

/// Form encoding (the test client has no `form` feature).
trait FormFields {
    fn form_fields(self, fields: &[(&str, &str)]) -> Self;
}

impl FormFields for reqwest::RequestBuilder {
    fn form_fields(self, fields: &[(&str, &str)]) -> Self {
        let encode = |text: &str| {
            text.bytes()
                .map(|byte| match byte {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        char::from(byte).to_string()
                    }
                    other => format!("%{other:02X}"),
                })
                .collect::<String>()
        };
        let body: Vec<String> = fields
            .iter()
            .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
            .collect();
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"))
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn fetch(request: reqwest::RequestBuilder) -> Page {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let location = headers
        .get("location")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let set_cookies = headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok().map(str::to_owned))
        .collect();
    Page {
        status,
        location,
        set_cookies,
        body: response.text().await.expect("body"),
    }
}

/// The value of `name="csrf"` in a page's first form.
fn csrf_of(body: &str) -> String {
    let start = body.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    body[start..]
        .split('"')
        .next()
        .expect("its value")
        .to_owned()
}

fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|header| {
        let pair = header.split(';').next()?;
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

/// Signs in with a token the way a browser does: GET the form, POST it with its cookie.
async fn sign_in(app: &TestApp, token: &str) -> Browser {
    let client = client();
    let form = fetch(client.get(format!("{}/login", app.address))).await;
    assert_eq!(form.status, 200);
    let login_cookie = cookie_value(&form.set_cookies, "expedite_login").expect("login cookie");
    let signed = fetch(
        client
            .post(format!("{}/login", app.address))
            .header("cookie", format!("expedite_login={login_cookie}"))
            .form_fields(&[
                ("csrf", csrf_of(&form.body).as_str()),
                ("token", token),
                ("next", "/"),
            ]),
    )
    .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let session = cookie_value(&signed.set_cookies, "expedite_session").expect("session cookie");
    let mut browser = Browser {
        client,
        address: app.address.clone(),
        cookie: format!("expedite_session={session}"),
        csrf: String::new(),
    };
    let home = browser.get("/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    browser.csrf = csrf_of(&home.body);
    browser
}

impl Browser {
    async fn get(&self, path: &str) -> Page {
        fetch(
            self.client
                .get(format!("{}{path}", self.address))
                .header("cookie", &self.cookie),
        )
        .await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        fetch(
            self.client
                .post(format!("{}{path}", self.address))
                .header("cookie", &self.cookie)
                .form_fields(fields),
        )
        .await
    }
}

/// Poland's Patriot (army), Estonia's HIMARS (army) and a Norwegian AMRAAM (air force).
async fn three_countries(app: &TestApp) {
    let mut poland = letter("PL-B-ZAB", "POL", "army");
    poland["lines"][0]["production_line"] = json!("pac3-mse");
    poland["lines"][0]["item"] = json!("PAC-3 MSE interceptor for Wisła");
    app.open(&poland).await;
    let mut estonia = letter("EE-B-HIM", "EST", "army");
    estonia["lines"][0]["production_line"] = json!("himars");
    app.open(&estonia).await;
    let norway = json!({"id": "NO-D-AMR", "purchaser": "NOR", "agency": "air_force",
        "lor_received": "2022-03-01",
        "lines": [{"item": "AIM-120C-8/D AMRAAM", "quantity": 205, "unit_usd": 4_600_000, "mde": true}]});
    app.open(&norway).await;
}

#[tokio::test]
async fn a_page_without_a_session_sends_the_browser_to_sign_in_and_back() {
    let app = spawn_app().await;
    let page = fetch(client().get(format!("{}/cases/PL-B-ZAB", app.address))).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location, "/login?next=/cases/PL-B-ZAB");
    let form = fetch(client().get(format!("{}/login?next=/lines", app.address))).await;
    assert!(
        form.body.contains("<label for=\"token\">"),
        "labelled field"
    );
    assert!(form.body.contains("name=\"token\""));
    assert!(form.body.contains("name=\"next\" value=\"/lines\""));
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_strict_and_secure_behind_tls() {
    let app = spawn_app().await;
    let client = client();
    let form = fetch(
        client
            .get(format!("{}/login", app.address))
            .header("x-forwarded-proto", "https"),
    )
    .await;
    let login_cookie = cookie_value(&form.set_cookies, "expedite_login").expect("login cookie");
    let signed = fetch(
        client
            .post(format!("{}/login", app.address))
            .header("cookie", format!("expedite_login={login_cookie}"))
            .header("x-forwarded-proto", "https")
            .form_fields(&[
                ("csrf", csrf_of(&form.body).as_str()),
                ("token", app.analyst.as_str()),
            ]),
    )
    .await;
    assert_eq!(signed.status, 303);
    let session = signed
        .set_cookies
        .iter()
        .find(|cookie| cookie.starts_with("expedite_session="))
        .expect("session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    // Over plain HTTP the cookie cannot be Secure, or the browser would never send it back.
    let browser = sign_in(&app, &app.analyst).await;
    assert!(!browser.cookie.contains("Secure"));
}

#[tokio::test]
async fn a_wrong_token_is_refused_on_the_form_and_sign_out_ends_the_session() {
    let app = spawn_app().await;
    let client = client();
    let form = fetch(client.get(format!("{}/login", app.address))).await;
    let login_cookie = cookie_value(&form.set_cookies, "expedite_login").expect("login cookie");
    let refused = fetch(
        client
            .post(format!("{}/login", app.address))
            .header("cookie", format!("expedite_login={login_cookie}"))
            .form_fields(&[
                ("csrf", csrf_of(&form.body).as_str()),
                ("token", "exp_not_a_token"),
            ]),
    )
    .await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("unknown or has been revoked"));

    let browser = sign_in(&app, &app.analyst).await;
    let out = browser.post("/logout", &[("csrf", &browser.csrf)]).await;
    assert_eq!((out.status, out.location.as_str()), (303, "/login"));
    assert_eq!(browser.get("/").await.status, 303, "the old cookie is dead");
}

#[tokio::test]
async fn a_revoked_token_signs_its_sessions_out_at_once() {
    let app = spawn_app().await;
    let browser = sign_in(&app, &app.analyst).await;
    use expedite_store::Store;
    assert!(
        app.store
            .revoke_token("analyst", jiff::Timestamp::now())
            .await
            .expect("revoke")
    );
    assert_eq!(browser.get("/").await.status, 303);
}

#[tokio::test]
async fn every_form_without_the_session_csrf_token_is_refused() {
    let app = spawn_app().await;
    three_countries(&app).await;
    // Sign-in without the double-submit cookie.
    let form = fetch(client().get(format!("{}/login", app.address))).await;
    let no_cookie = fetch(
        client()
            .post(format!("{}/login", app.address))
            .form_fields(&[
                ("csrf", csrf_of(&form.body).as_str()),
                ("token", app.admin.as_str()),
            ]),
    )
    .await;
    assert_eq!(no_cookie.status, 403);

    let army = sign_in(&app, &app.army).await;
    for csrf in [None, Some("forged")] {
        let mut fields = vec![
            ("version", "1"),
            ("kind", "advance"),
            ("to", "lor_actionable"),
            ("date", "2025-01-03"),
        ];
        if let Some(csrf) = csrf {
            fields.push(("csrf", csrf));
        }
        let refused = army.post("/cases/PL-B-ZAB", &fields).await;
        assert_eq!(refused.status, 403, "{csrf:?}");
        assert!(refused.body.contains("security token"));
        let out = army.post("/logout", &fields).await;
        assert_eq!(out.status, 403);
    }
    let case = app.get("/api/v1/cases/PL-B-ZAB", &app.admin).await;
    assert_eq!(case.body["version"], 1, "nothing was written");
}

#[tokio::test]
async fn every_page_answers_an_analyst_with_its_key_content() {
    let app = spawn_app().await;
    three_countries(&app).await;
    let browser = sign_in(&app, &app.analyst).await;
    let expectations: [(&str, &[&str]); 6] = [
        (
            "/",
            &[
                "Cases by stage",
                "PL-B-ZAB",
                "EE-B-HIM",
                "NO-D-AMR",
                "<svg",
                "Late against SAMM targets",
            ],
        ),
        (
            "/cases/PL-B-ZAB",
            &[
                "Poland",
                "PAC-3 MSE interceptor",
                "history verified",
                "Timeline of PL-B-ZAB",
                "<cite>",
            ],
        ),
        (
            "/lines",
            &[
                "PAC-3 MSE",
                "rate over time",
                "Cases waiting on",
                "PL-B-ZAB",
            ],
        ),
        ("/suppliers", &["No SIPRI trade register"]),
        (
            "/nato",
            &[
                "Share of GDP",
                "at or above 2 %",
                "3.5 %",
                "5 %",
                "Poland since 2014",
            ],
        ),
        (
            "/forecast",
            &[
                "Run forecast",
                "Eastern flank",
                "enctype=\"multipart/form-data\"",
            ],
        ),
    ];
    for (path, wanted) in expectations {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        for text in wanted {
            assert!(page.body.contains(text), "{path} lacks {text}");
        }
        assert!(
            page.body.contains("aria-label="),
            "{path}: every chart is a named image"
        );
    }
    // The analyst may read but not write: no form to record events.
    let case = browser.get("/cases/PL-B-ZAB").await;
    assert!(!case.body.contains("Record transition"));
}

#[tokio::test]
async fn a_purchaser_sees_no_other_country_on_any_page() {
    let app = spawn_app().await;
    three_countries(&app).await;
    let estonia = sign_in(&app, &app.estonia).await;
    let others = [
        "PL-B-ZAB",
        "NO-D-AMR",
        "Poland",
        "Norway",
        "Wisła",
        "AIM-120C-8",
    ];
    for path in [
        "/",
        "/?q=Poland",
        "/?q=Wis",
        "/?stage=lor_received",
        "/?purchaser=POL",
        "/lines",
        "/forecast",
        "/cases/EE-B-HIM",
    ] {
        let page = estonia.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        // The search box shows back what the viewer typed; nothing else may name another.
        let typed = path.split("q=").nth(1).unwrap_or("\u{0}");
        for other in others.iter().filter(|other| !other.starts_with(typed)) {
            assert!(!page.body.contains(other), "{path} shows {other}");
        }
    }
    let home = estonia.get("/").await;
    assert!(home.body.contains("EE-B-HIM"));
    assert!(
        home.body.contains("<strong id=\"case-count\">1</strong>"),
        "counts only its own"
    );
    let searched = estonia.get("/?q=Poland").await;
    assert!(
        searched
            .body
            .contains("<strong id=\"case-count\">0</strong>")
    );
    assert_eq!(estonia.get("/cases/PL-B-ZAB").await.status, 404);
    assert_eq!(estonia.get("/cases/NO-D-AMR").await.status, 404);
    assert_eq!(
        estonia.get("/suppliers").await.status,
        403,
        "no analytics, as in the API"
    );
    assert_eq!(estonia.get("/nato").await.status, 403);
    let home = estonia.get("/").await;
    assert!(
        !home.body.contains("href=\"/nato\""),
        "no links to pages it may not open"
    );
}

#[tokio::test]
async fn text_a_user_typed_is_escaped_on_every_page() {
    let app = spawn_app().await;
    let mut hostile = letter("EE-B-XSS", "EST", "army");
    hostile["lines"][0]["item"] = json!("<script>alert(1)</script> & \"launcher\"");
    hostile["lines"][0]["production_line"] = json!("<img src=x onerror=alert(2)>");
    app.open(&hostile).await;
    let browser = sign_in(&app, &app.admin).await;
    for path in ["/", "/cases/EE-B-XSS", "/lines", "/?q=%3Cscript%3E"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            !page.body.contains("<script>"),
            "{path} has a raw script tag"
        );
        assert!(
            !page.body.contains("<img src=x"),
            "{path} has a raw img tag"
        );
    }
    let case = browser.get("/cases/EE-B-XSS").await;
    assert!(
        case.body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
    );
}

#[tokio::test]
async fn a_case_manager_records_a_transition_and_sees_the_api_refusals_on_the_form() {
    let app = spawn_app().await;
    three_countries(&app).await;
    let army = sign_in(&app, &app.army).await;
    let page = army.get("/cases/PL-B-ZAB").await;
    assert!(page.body.contains("Record transition") && page.body.contains("Record delivery"));
    assert!(page.body.contains("<label for=\"advance-date\">"));

    let moved = army
        .post(
            "/cases/PL-B-ZAB",
            &[
                ("csrf", &army.csrf),
                ("version", "1"),
                ("kind", "advance"),
                ("to", "lor_actionable"),
                ("date", "2025-01-03"),
            ],
        )
        .await;
    assert_eq!(
        (moved.status, moved.location.as_str()),
        (303, "/cases/PL-B-ZAB")
    );
    let after = army.get("/cases/PL-B-ZAB").await;
    assert!(after.body.contains("advance to lor_actionable"));
    assert!(
        after.body.contains("usasac-army"),
        "the history names the token"
    );
    assert!(after.body.contains("history verified"));

    // The stage machine's refusal, word for word as the API gives it.
    let skipped = army
        .post(
            "/cases/PL-B-ZAB",
            &[
                ("csrf", &army.csrf),
                ("version", "2"),
                ("kind", "advance"),
                ("to", "offered"),
                ("date", "2025-01-04"),
            ],
        )
        .await;
    assert_eq!(skipped.status, 422);
    assert!(skipped.body.contains(
        "FMS stages follow the forward path in order; the next stage is loa_development"
    ));
    let stale = army
        .post(
            "/cases/PL-B-ZAB",
            &[
                ("csrf", &army.csrf),
                ("version", "1"),
                ("kind", "advance"),
                ("to", "loa_development"),
                ("date", "2025-01-04"),
            ],
        )
        .await;
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("read it again"));
    let bad_fields = army
        .post(
            "/cases/PL-B-ZAB",
            &[
                ("csrf", &army.csrf),
                ("version", "2"),
                ("kind", "deliver"),
                ("line", "0"),
                ("quantity", "many"),
                ("date", "someday"),
            ],
        )
        .await;
    assert_eq!(bad_fields.status, 422);
    assert!(bad_fields.body.contains("<code>quantity</code>"));
    assert!(bad_fields.body.contains("<code>date</code>"));
    let case = app.get("/api/v1/cases/PL-B-ZAB", &app.admin).await;
    assert_eq!(
        case.body["version"], 2,
        "only the accepted event was written"
    );

    // A purchaser has no form, and a forged post is refused.
    let poland = sign_in(&app, &app.poland).await;
    let page = poland.get("/cases/PL-B-ZAB").await;
    assert!(!page.body.contains("Record transition"));
    let forged = poland
        .post(
            "/cases/PL-B-ZAB",
            &[
                ("csrf", &poland.csrf),
                ("version", "2"),
                ("kind", "advance"),
                ("to", "loa_development"),
                ("date", "2025-01-05"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    // The Navy's manager does not see the Army's case at all.
    let navy = sign_in(&app, &app.navy).await;
    assert_eq!(navy.get("/cases/PL-B-ZAB").await.status, 404);
}

#[tokio::test]
async fn the_allies_page_counts_members_at_each_target_for_the_chosen_year() {
    let app = spawn_app().await;
    let browser = sign_in(&app, &app.analyst).await;
    let page = browser.get("/nato?year=2023&country=EST").await;
    assert_eq!(page.status, 200);
    // NATO's 2023 figures: ten members at or above 2 % (the data crate's doc example).
    assert!(
        page.body.contains("<strong>10</strong> at or above 2 %"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Estonia since 2014"));
    assert_eq!(browser.get("/nato?year=1990").await.status, 400);
    assert_eq!(browser.get("/nato?country=XXX").await.status, 400);
}

fn multipart_body(boundary: &str, fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
}

#[tokio::test]
async fn a_forecast_runs_in_the_background_and_shows_its_chart_table_and_downloads() {
    let app = spawn_app().await;
    let browser = sign_in(&app, &app.analyst).await;
    let boundary = "expedite-test-boundary";
    let post = |fields: Vec<(&'static str, String)>| {
        let fields: Vec<(&str, String)> = fields;
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = multipart_body(boundary, &pairs);
        fetch(
            browser
                .client
                .post(format!("{}/forecast", browser.address))
                .header("cookie", &browser.cookie)
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body),
        )
    };
    let refused = post(vec![("choice", "eastern-flank".into())]).await;
    assert_eq!(refused.status, 403, "no CSRF token");
    let too_many = post(vec![
        ("csrf", browser.csrf.clone()),
        ("choice", "eastern-flank".into()),
        ("trials", "9999999".into()),
    ])
    .await;
    assert_eq!(too_many.status, 422);
    assert!(too_many.body.contains("trials: from 1 to 20000"));
    let started = post(vec![
        ("csrf", browser.csrf.clone()),
        ("choice", "eastern-flank".into()),
        ("trials", "300".into()),
    ])
    .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let run = started.location.clone();
    assert!(run.starts_with("/forecast/runs/"));
    let mut page = browser.get(&run).await;
    for _ in 0..200 {
        if !page.body.contains("<progress") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        page = browser.get(&run).await;
    }
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("final delivery, P10–P90"),
        "the fan chart"
    );
    assert!(page.body.contains("id=\"forecast-table\""));
    assert!(page.body.contains("PL-B-ZAB"));
    let json = browser.get(&format!("{run}/report.json")).await;
    let report: Value = serde_json::from_str(&json.body).expect("JSON report");
    assert_eq!(report["trials"], 300);
    let csv = browser.get(&format!("{run}/report.csv")).await;
    assert!(csv.body.starts_with("policy,case,contract_p10"));
    assert!(csv.body.lines().count() > 2);
    // Another session cannot see the run.
    let other = sign_in(&app, &app.admin).await;
    assert_eq!(other.get(&run).await.status, 404);
}

#[tokio::test]
async fn a_purchaser_may_forecast_only_its_own_cases() {
    let app = spawn_app().await;
    let estonia = sign_in(&app, &app.estonia).await;
    let boundary = "b";
    let body = multipart_body(
        boundary,
        &[("csrf", &estonia.csrf), ("choice", "eastern-flank")],
    );
    let refused = fetch(
        estonia
            .client
            .post(format!("{}/forecast", estonia.address))
            .header("cookie", &estonia.cookie)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body),
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("may forecast only Estonia"));
}

#[tokio::test]
async fn the_portfolio_filters_sorts_and_pages() {
    let app = spawn_app().await;
    let first = [
        "AA", "AB", "AC", "AD", "AE", "AF", "AG", "AH", "AJ", "AK", "AL",
    ];
    let second = ["A", "B", "C", "D", "E"];
    for number in 0..55 {
        let id = format!("PL-B-{}{}", first[number % 11], second[number / 11]);
        app.open(&letter(&id, "POL", "army")).await;
    }
    app.post(
        "/api/v1/cases/PL-B-AAA/events",
        &app.army,
        &advance(1, "2025-01-02", "lor_actionable"),
    )
    .await;
    let browser = sign_in(&app, &app.analyst).await;
    let first = browser.get("/").await;
    assert!(first.body.contains("page 1 of 2"));
    assert!(first.body.contains("rel=\"next\""));
    let second = browser.get("/?page=2").await;
    assert!(second.body.contains("page 2 of 2"));
    let actionable = browser.get("/?stage=lor_actionable").await;
    assert!(
        actionable
            .body
            .contains("<strong id=\"case-count\">1</strong>")
    );
    let by_latest = browser.get("/?sort=last_event&dir=desc").await;
    let table = by_latest.body.find("id=\"cases\"").expect("the case table");
    let first_row = by_latest.body[table..]
        .split("<td><a href=\"/cases/")
        .nth(1)
        .expect("a row");
    assert!(
        first_row.starts_with("PL-B-AAA"),
        "latest event first: {first_row}"
    );
    assert_eq!(browser.get("/?stage=nowhere").await.status, 400);
}

#[tokio::test]
async fn the_stylesheet_is_served_by_the_binary() {
    let app = spawn_app().await;
    let sheet = fetch(client().get(format!("{}/static/style.css", app.address))).await;
    assert_eq!(sheet.status, 200);
    assert!(
        sheet.body.contains("focus-visible"),
        "keyboard focus is visible"
    );
}

/// Starts the API with its case-forecast store in hand and the background worker running.
async fn spawn_with_forecasts() -> (
    TestApp,
    std::sync::Arc<expedite_web::forecasts::CaseForecasts>,
) {
    let captured = std::sync::Arc::new(std::sync::Mutex::new(None));
    let slot = std::sync::Arc::clone(&captured);
    let app = support::spawn_app_with(move |state| {
        tokio::spawn(expedite_web::forecasts::keep_fresh(
            std::sync::Arc::clone(&state.store),
            std::sync::Arc::clone(&state.forecast_inputs),
            std::sync::Arc::clone(&state.forecasts),
            Duration::from_secs(3600),
        ));
        *slot.lock().expect("slot") = Some(std::sync::Arc::clone(&state.forecasts));
        state
    })
    .await;
    let forecasts = captured.lock().expect("slot").take().expect("forecasts");
    (app, forecasts)
}

async fn wait_for_forecast(app: &TestApp, id: &str, token: &str, after: Option<&str>) -> Value {
    for _ in 0..600 {
        let reply = app
            .get(&format!("/api/v1/cases/{id}/forecast"), token)
            .await;
        let computed = reply.body["computed_at"].as_str();
        if computed.is_some() && computed != after {
            return reply.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no forecast for {id}");
}

#[tokio::test]
async fn every_stored_case_on_a_line_gets_a_forecast_that_only_its_country_sees() {
    let (app, _forecasts) = spawn_with_forecasts().await;
    three_countries(&app).await;
    // Opening cases is not a reported write: wake the worker by a transition.
    let moved = app
        .post(
            "/api/v1/cases/EE-B-HIM/events",
            &app.army,
            &advance(1, "2025-01-03", "lor_actionable"),
        )
        .await;
    assert_eq!(moved.status, 201);
    let forecast = wait_for_forecast(&app, "EE-B-HIM", &app.estonia, None).await;
    for what in ["contract", "first_delivery", "final_delivery"] {
        let band = &forecast[what];
        assert!(
            band["p10"].as_str() <= band["p50"].as_str()
                && band["p50"].as_str() <= band["p90"].as_str(),
            "{what}: {band}"
        );
    }
    assert!(
        forecast["assumptions"]
            .as_array()
            .is_some_and(|list| !list.is_empty())
    );
    assert!(forecast["as_of"].is_string());
    // Estonia does not see Poland's forecast, as it does not see the case.
    let other = app
        .get("/api/v1/cases/PL-B-ZAB/forecast", &app.estonia)
        .await;
    assert_eq!(other.status, 404);
    // A case with no production line has no forecast, and says why.
    let none = app
        .get("/api/v1/cases/NO-D-AMR/forecast", &app.analyst)
        .await;
    assert_eq!(none.status, 200);
    assert!(none.body["forecast"].is_null());
    assert!(
        none.body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("production line"))
    );
    // The case page draws the bands, and the purchaser's portfolio counts only its own.
    let estonia = sign_in(&app, &app.estonia).await;
    let page = estonia.get("/cases/EE-B-HIM").await;
    assert!(page.body.contains("forecast: final delivery"));
    assert!(page.body.contains("Forecast as of"));
}

#[tokio::test]
async fn a_transition_recorded_on_the_page_recomputes_the_forecast_in_the_background() {
    let (app, _forecasts) = spawn_with_forecasts().await;
    three_countries(&app).await;
    let army = sign_in(&app, &app.army).await;
    let first = army
        .post(
            "/cases/PL-B-ZAB",
            &[
                ("csrf", &army.csrf),
                ("version", "1"),
                ("kind", "advance"),
                ("to", "lor_actionable"),
                ("date", "2025-01-03"),
            ],
        )
        .await;
    assert_eq!(first.status, 303);
    let before = wait_for_forecast(&app, "PL-B-ZAB", &app.army, None).await;
    let computed = before["computed_at"]
        .as_str()
        .expect("computed_at")
        .to_owned();
    let second = army
        .post(
            "/cases/PL-B-ZAB",
            &[
                ("csrf", &army.csrf),
                ("version", "2"),
                ("kind", "advance"),
                ("to", "loa_development"),
                ("date", "2025-02-03"),
            ],
        )
        .await;
    assert_eq!(
        second.status, 303,
        "answered before any forecast is computed"
    );
    let after = wait_for_forecast(&app, "PL-B-ZAB", &app.army, Some(&computed)).await;
    assert_ne!(after["computed_at"], before["computed_at"]);
}

#[tokio::test]
async fn a_purchaser_forecasts_its_own_stored_cases_from_the_page() {
    let app = spawn_app().await;
    three_countries(&app).await;
    let estonia = sign_in(&app, &app.estonia).await;
    let form = estonia.get("/forecast").await;
    assert!(form.body.contains("value=\"stored\""));
    let boundary = "b";
    let body = multipart_body(
        boundary,
        &[
            ("csrf", &estonia.csrf),
            ("choice", "stored"),
            ("trials", "200"),
        ],
    );
    let started = fetch(
        estonia
            .client
            .post(format!("{}/forecast", estonia.address))
            .header("cookie", &estonia.cookie)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body),
    )
    .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let mut page = estonia.get(&started.location).await;
    for _ in 0..200 {
        if !page.body.contains("<progress") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        page = estonia.get(&started.location).await;
    }
    assert!(page.body.contains("EE-B-HIM"), "its own case is forecast");
    assert!(!page.body.contains("PL-B-ZAB"), "no other country's case");
}

/// The body of the metrics table: its cells, without the page's other text.
fn metrics_table(body: &str) -> &str {
    let start = body
        .find("<table id=\"metrics\">")
        .expect("the metrics table");
    let end = body[start..].find("</table>").expect("its end") + start;
    &body[start..end]
}

#[tokio::test]
async fn the_metrics_page_shows_every_phase_the_targets_late_events_and_sources_to_an_admin() {
    let app = spawn_app().await;
    three_countries(&app).await;
    let moved = app
        .post(
            "/api/v1/cases/PL-B-ZAB/events",
            &app.army,
            &advance(1, "2025-01-03", "lor_actionable"),
        )
        .await;
    assert_eq!(moved.status, 201);
    let admin = sign_in(&app, &app.admin).await;
    let page = admin.get("/metrics?from=2025-Q1&to=2025-Q2").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("<a href=\"/metrics\" aria-current=\"page\">Metrics</a>")
    );
    let table = metrics_table(&page.body);
    // Three LORs wait for their offer at the end of 2025-Q1 (Norway's since 2022-03-01,
    // 1,126 days; the two others since 2025-01-01, 89 days): the median age is 89.
    assert!(
        table.contains("<td class=\"date\">2025-Q1</td><td>LOR → offer</td><td>all countries</td><td class=\"num\">0</td><td class=\"num\">–</td><td class=\"num\">–</td><td class=\"num\">–</td><td class=\"num\">3</td><td class=\"num\">89</td>"),
        "{table}"
    );
    assert!(
        page.body
            .contains("Quarters <strong>2025-Q1 to 2025-Q2</strong>")
    );
    // Four events, all recorded now for dates in 2022 and 2025: every one late.
    assert!(
        page.body
            .contains("<strong id=\"late-events\">4</strong> of 4 events")
    );
    assert!(
        page.body.contains("<strong>assumed (unconfirmed)</strong>"),
        "the AOD target is assumed"
    );
    assert!(
        page.body
            .contains("<td>offer → acceptance</td><td class=\"num\">85</td>")
    );
    assert!(
        page.body.contains(">confirmed<"),
        "the offer expiration is confirmed"
    );
    assert!(
        page.body
            .contains("Source: case store (events and their own dates), refreshed")
    );
    assert_eq!(
        page.body.matches("<svg role=\"img\"").count(),
        2,
        "two charts"
    );
    assert!(
        page.body
            .contains("aria-label=\"Median days per phase, all countries\"")
    );
}

#[tokio::test]
async fn a_purchaser_sees_its_own_countrys_metrics_and_the_aggregate_and_no_other_country() {
    let app = spawn_app().await;
    three_countries(&app).await;
    let estonia = sign_in(&app, &app.estonia).await;
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            "/metrics?from=2025-Q1&to=2025-Q2",
            ">EST<",
            &[">POL<", ">NOR<"],
        ),
        (
            "/metrics?from=2025-Q1&to=2025-Q2&by=purchaser",
            ">EST<",
            &[">POL<", ">NOR<"],
        ),
        (
            "/metrics?from=2025-Q1&to=2025-Q2&by=line",
            ">himars<",
            &[">pac3-mse<", ">unassigned<"],
        ),
        (
            "/metrics?from=2025-Q1&to=2025-Q2&by=agency",
            ">army<",
            &[">air_force<"],
        ),
    ];
    for (path, own, others) in cases {
        let page = estonia.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let table = metrics_table(&page.body);
        assert!(table.contains(">all countries<"), "{path}: the aggregate");
        assert!(table.contains(own), "{path}: its own rows");
        for other in others {
            assert!(!table.contains(other), "{path} shows {other}");
        }
        for name in ["Poland", "Norway", "PL-B-ZAB", "NO-D-AMR"] {
            assert!(!page.body.contains(name), "{path} names {name}");
        }
    }
    // The aggregate covers every country: three LORs wait at the end of 2025-Q1, one of them
    // Estonia's.
    let page = estonia.get("/metrics?from=2025-Q1&to=2025-Q1").await;
    let table = metrics_table(&page.body);
    assert!(table.contains("<td>LOR → offer</td><td>all countries</td><td class=\"num\">0</td><td class=\"num\">–</td><td class=\"num\">–</td><td class=\"num\">–</td><td class=\"num\">3</td>"), "{table}");
    assert!(table.contains("<td>LOR → offer</td><td>EST</td><td class=\"num\">0</td><td class=\"num\">–</td><td class=\"num\">–</td><td class=\"num\">–</td><td class=\"num\">1</td><td class=\"num\">89</td>"), "{table}");
}

#[tokio::test]
async fn a_bad_metrics_parameter_is_a_400_page_that_names_it() {
    let app = spawn_app().await;
    let admin = sign_in(&app, &app.admin).await;
    for (path, named) in [
        (
            "/metrics?from=2025-Q5",
            "from: &#39;2025-Q5&#39; is not a quarter",
        ),
        ("/metrics?to=last", "to: &#39;last&#39; is not a quarter"),
        (
            "/metrics?by=country",
            "by: unknown grouping &#39;country&#39;",
        ),
        (
            "/metrics?as_of=yesterday",
            "as_of: &#39;yesterday&#39; is not a date",
        ),
        (
            "/metrics?from=2025-Q4&to=2025-Q1",
            "from: 2025-Q4 is after to (2025-Q1)",
        ),
        ("/metrics?from=2999-Q1", "from: 2999-Q1 starts after today"),
        (
            "/metrics?colour=red",
            "unknown query parameter &#39;colour&#39;",
        ),
    ] {
        let page = admin.get(path).await;
        assert_eq!(page.status, 400, "{path}");
        assert!(
            page.body.contains("<h1>Bad request</h1>"),
            "{path}: {}",
            page.body
        );
        assert!(page.body.contains(named), "{path}: {}", page.body);
    }
    // An empty field of the form means its default.
    let page = admin.get("/metrics?from=&to=&by=&as_of=").await;
    assert_eq!(page.status, 200, "{}", page.body);
}

#[tokio::test]
async fn a_case_page_lists_its_missed_samm_offer_alert_with_what_and_why() {
    let app = spawn_app().await;
    // The LOR of 2025-01-01 became actionable on 2025-01-03 (validated in 2 days, within
    // the 5-day target); the offer was due 100 days later, on 2025-04-13, and never came.
    app.open(&letter("EE-B-HIM", "EST", "army")).await;
    let moved = app
        .post(
            "/api/v1/cases/EE-B-HIM/events",
            &app.army,
            &advance(1, "2025-01-03", "lor_actionable"),
        )
        .await;
    assert_eq!(moved.status, 201);
    let estonia = sign_in(&app, &app.estonia).await;
    let page = estonia.get("/cases/EE-B-HIM").await;
    assert_eq!(page.status, 200);
    let table = alerts_table(&page.body);
    let rows: Vec<&str> = table.split("<tr>").skip(2).collect();
    assert_eq!(rows.len(), 2, "near, then missed: {table}");
    assert!(
        rows[0].starts_with("<td class=\"date\">2025-04-14</td><td>SAMM: offer</td><td><strong class=\"late-flag\">missed</strong></td>"),
        "newest first: {}",
        rows[0]
    );
    assert!(rows[0].contains("the SAMM target of 2025-04-13 is missed"));
    assert!(
        rows[0].contains("AOD group B"),
        "why: the rule and its source"
    );
    assert!(
        rows[1].starts_with("<td class=\"date\">2025-03-30</td><td>SAMM: offer</td><td>near</td>"),
        "{}",
        rows[1]
    );
    assert!(!table.contains("LOR validation"), "met in time, no alert");
}

#[tokio::test]
async fn a_case_with_no_deadline_near_or_missed_says_it_has_no_alert() {
    let app = spawn_app().await;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let mut fresh = letter("EE-B-NEW", "EST", "army");
    fresh["lor_received"] = json!(today.to_string());
    app.open(&fresh).await;
    let estonia = sign_in(&app, &app.estonia).await;
    let page = estonia.get("/cases/EE-B-NEW").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No alert has been raised on this case."));
    assert!(!page.body.contains("<table id=\"alerts\">"));
}

#[tokio::test]
async fn a_case_page_lists_the_queue_change_a_tier_change_caused_without_naming_another_country() {
    // Poland's 48 HIMARS were ordered before Estonia's 24; Estonia's case then goes to tier 0
    // and takes the first place. Poland's page says so, and why, but not whose case it is.
    let app = spawn_app().await;
    himars_on_contract(&app, "PL-B-HIA", "POL", 48, "2025-03-01").await;
    himars_on_contract(&app, "EN-B-HIB", "EST", 24, "2025-06-01").await;
    let inputs = expedite_web::forecasts::ForecastInputs::shipped().expect("shipped inputs");
    let day = "2026-11-30".parse().expect("day");
    let record = || expedite_web::forecasts::record(&app.store, &inputs, day);
    record().await.expect("first forecasts kept");
    let prioritised = prioritise(&app, "EN-B-HIB", 0).await;
    assert_eq!(prioritised.status, 201, "{}", prioritised.body);
    record().await.expect("second forecasts kept");
    let poland = sign_in(&app, &app.poland).await;
    let page = poland.get("/cases/PL-B-HIA").await;
    assert_eq!(page.status, 200);
    let table = alerts_table(&page.body);
    assert!(
        table.contains("<td>queue on line himars</td><td>down</td>"),
        "{table}"
    );
    assert!(
        table.contains("another purchaser&#x27;s case is tier 0, this case tier 1")
            || table.contains("another purchaser&#39;s case is tier 0, this case tier 1"),
        "{table}"
    );
    assert!(
        !page.body.contains("EN-B-HIB"),
        "Estonia's case id stays hidden"
    );
    let admin = sign_in(&app, &app.admin).await;
    let page = admin.get("/cases/PL-B-HIA").await;
    assert!(
        page.body.contains("EN-B-HIB is tier 0, this case tier 1"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_promised_case_forecast_is_drawn_from_its_promise_and_says_how_likely_it_is_kept() {
    // Promised 2028-06-30 on 2026-11-01: the shipped slip of FMS promises (a normal) puts
    // the first-delivery P50 about its median after the promise.
    let (app, _forecasts) = spawn_with_forecasts().await;
    himars_on_contract(&app, "PL-B-HIA", "POL", 48, "2025-03-01").await;
    let before = wait_for_forecast(&app, "PL-B-HIA", &app.admin, None).await;
    assert!(before["p_first_by_promise"].is_null(), "{before}");
    let promised = app
        .post(
            "/api/v1/cases/PL-B-HIA/events",
            &app.admin,
            &serde_json::json!({"version": 6, "date": "2026-11-01", "kind": "promise",
                                "first_delivery": "2028-06-30"}),
        )
        .await;
    assert_eq!(promised.status, 201, "{}", promised.body);
    // A recompute started before the promise may still land first: wait for the one after.
    let mut after = wait_for_forecast(&app, "PL-B-HIA", &app.admin, None).await;
    for _ in 0..600 {
        if after["p_first_by_promise"].is_number() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = wait_for_forecast(&app, "PL-B-HIA", &app.admin, None).await;
    }
    let kept = after["p_first_by_promise"].as_f64().expect("a share");
    assert!((0.0..0.2).contains(&kept), "{after}");
    let p50: expedite_core::Date = after["first_delivery"]["p50"]
        .as_str()
        .and_then(|text| text.parse().ok())
        .expect("a date");
    let promise: expedite_core::Date = "2028-06-30".parse().expect("a date");
    let days = promise.until(p50).expect("dates").get_days();
    let params = expedite_portfolio::calibrate::Params::shipped().expect("shipped parameters");
    let Some(expedite_forecast::scenario::RawDist::Normal { median: slip, .. }) =
        params.promise_slip(expedite_core::Channel::Fms)
    else {
        panic!("the shipped slip of FMS promises is a normal");
    };
    assert!(
        (f64::from(days) - slip).abs() <= 28.0,
        "P50 {p50}, {days} days after the promise, the slip's median {slip}"
    );
    // The case page shows the promise in its timeline and how likely it is kept.
    let admin = sign_in(&app, &app.admin).await;
    let page = admin.get("/cases/PL-B-HIA").await;
    assert!(
        page.body.contains(
            "<td>first delivery promised (on 2026-11-01)</td><td>promise</td><td>2028-06-30</td>"
        ),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("on or before the promised day in"),
        "{}",
        page.body
    );
    // Its P50 is after the promise: the case's alerts warn that the promise is at risk.
    let table = alerts_table(&page.body);
    assert!(
        table.contains("<td>forecast: promised first delivery</td><td>after_promise</td>"),
        "{table}"
    );
    assert!(
        table.contains(
            "the first delivery promised for 2028-06-30 is now more likely missed than kept"
        ),
        "{table}"
    );
}

#[tokio::test]
async fn a_case_manager_records_a_promise_from_the_case_page_and_a_bad_one_names_its_field() {
    let app = spawn_app().await;
    himars_on_contract(&app, "PL-B-HIA", "POL", 48, "2025-03-01").await;
    let admin = sign_in(&app, &app.admin).await;
    let page = admin.get("/cases/PL-B-HIA").await;
    assert!(page.body.contains("Record promise"), "{}", page.body);
    let bad = admin
        .post(
            "/cases/PL-B-HIA",
            &[
                ("csrf", &admin.csrf),
                ("version", "6"),
                ("kind", "promise"),
                ("first_delivery", "soon"),
                ("date", "2026-11-01"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("<code>first_delivery</code>"),
        "{}",
        bad.body
    );
    let recorded = admin
        .post(
            "/cases/PL-B-HIA",
            &[
                ("csrf", &admin.csrf),
                ("version", "6"),
                ("kind", "promise"),
                ("first_delivery", "2028-06-30"),
                ("date", "2026-11-01"),
            ],
        )
        .await;
    assert_eq!(recorded.status, 303, "{}", recorded.body);
    let case = app.get("/api/v1/cases/PL-B-HIA", &app.admin).await;
    assert_eq!(
        case.body["promise"],
        serde_json::json!({"first_delivery": "2028-06-30", "made": "2026-11-01"})
    );
}

/// The case page's alerts table, from its opening tag to its end.
fn alerts_table(body: &str) -> &str {
    let start = body
        .find("<table id=\"alerts\">")
        .expect("the alerts table");
    &body[start..start + body[start..].find("</table>").expect("end")]
}
