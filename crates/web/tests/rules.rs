//! `POST /api/v1/rules/notification` with the inputs of AECA §36 beyond FMS: the channel, the
//! sales territory, Category I firearms and upgrades (update §1), and the error naming the
//! field (422, like every invalid value) for an input the channel does not know.

mod support;

use serde_json::json;
use support::spawn_app;

const PATH: &str = "/api/v1/rules/notification";

#[tokio::test]
async fn the_api_judges_every_channel_like_the_cli() {
    let app = spawn_app().await;
    // §36(b)(6): Poland with Ukraine in the sales territory gets the general $14M.
    let territory = app
        .post(
            PATH,
            &app.analyst,
            &json!({"purchaser": "POL", "date": "2025-06-01", "mde_usd": "$20M", "territory": ["UKR"]}),
        )
        .await;
    assert_eq!(territory.status, 200, "{}", territory.body);
    assert_eq!(territory.body["territory_outside_nato_plus_5"], true);
    assert_eq!(territory.body["thresholds_crossed"], json!(["mde"]));
    // §36(c): $30M of MDE to Japan under a licence.
    let dcs = app
        .post(
            PATH,
            &app.analyst,
            &json!({"purchaser": "JPN", "date": "2025-06-01", "channel": "dcs", "mde_usd": 30_000_000}),
        )
        .await;
    assert_eq!(dcs.body["channel"], "dcs");
    assert_eq!(dcs.body["formal_review_days"], 15);
    // §36(d): always notified, no thresholds.
    let mla = app
        .post(
            PATH,
            &app.analyst,
            &json!({"purchaser": "EGY", "date": "2025-06-01", "channel": "mla"}),
        )
        .await;
    assert_eq!(mla.body["notification_required"], true);
    assert_eq!(mla.body["thresholds_crossed"], json!([]));
    // §36(b)(5): the 45-day report before delivery.
    let upgrade = app
        .post(
            PATH,
            &app.analyst,
            &json!({"purchaser": "EGY", "date": "2025-06-01", "mde_usd": "$1M", "upgrade": true}),
        )
        .await;
    assert_eq!(upgrade.body["pre_delivery_report_days"], 45);
}

#[tokio::test]
async fn an_input_the_channel_does_not_know_is_a_422_naming_it() {
    let app = spawn_app().await;
    for (body, field) in [
        (
            json!({"purchaser": "EGY", "date": "2025-06-01", "channel": "dcs", "dc_usd": 1}),
            "dc_usd",
        ),
        (
            json!({"purchaser": "EGY", "date": "2025-06-01", "firearms_usd": 1}),
            "firearms_usd",
        ),
        (
            json!({"purchaser": "EGY", "date": "2025-06-01", "channel": "mla", "territory": ["UKR"]}),
            "territory",
        ),
        (
            json!({"purchaser": "EGY", "date": "2025-06-01", "channel": "lease"}),
            "channel",
        ),
        (
            json!({"purchaser": "EGY", "date": "2025-06-01", "territory": ["Atlantis"]}),
            "territory",
        ),
    ] {
        let reply = app.post(PATH, &app.analyst, &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.body);
        assert_eq!(reply.fields(), [field.to_owned()], "{body}: {}", reply.body);
    }
}
