//! Conversation states moved on by timers: `Timers.Inactive`/`Timers.Closed`, the
//! account's default timers, the emulator's clock that runs them out, the webhook they
//! fire (`Reason=TIMER`), and what a closed conversation refuses. No sleeps: the clock is
//! frozen and advanced through `/_emulator/clock`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_twilio_error_for, json_ok, sid_of, spawn_app};
use crate::receiver::Receiver;

const START: &str = "2030-01-01T00:00:00Z";

async fn freeze(app: &TestApp, at: &str) {
    json_ok(app.control(Method::POST, "/_emulator/clock", Some(&json!({"freeze_at": at}))).await).await;
}

async fn advance(app: &TestApp, seconds: i64) {
    json_ok(app.control(Method::POST, "/_emulator/clock", Some(&json!({"advance_seconds": seconds}))).await).await;
}

#[tokio::test]
async fn timers_make_a_conversation_inactive_then_closed_and_fire_reason_timer_on_both_forms() {
    let app = spawn_app().await;
    let mut receiver = Receiver::spawn().await;
    let hook = receiver.url("/state");
    let settings = [("PostWebhookUrl", hook.as_str()), ("Method", "POST"), ("Filters", "onConversationStateUpdated")];
    app.post("/v1/Configuration/Webhooks", &settings).await;
    freeze(&app, START).await;

    for form in app.forms().await {
        let case = form.name();
        freeze(&app, START).await;
        let created = app.post(&form.conversations(), &[("Timers.Inactive", "PT5M"), ("Timers.Closed", "PT1H")]).await;
        assert_eq!(
            created["timers"],
            json!({"date_inactive": "2030-01-01T00:05:00Z", "date_closed": "2030-01-01T01:00:00Z"}),
            "{case}"
        );
        let path = format!("{}/{}", form.conversations(), sid_of(&created));

        advance(&app, 299).await;
        assert_eq!(app.get(&path).await["state"], "active", "{case}: a second before the timer");
        advance(&app, 1).await;
        let inactive = app.get(&path).await;
        assert_eq!(
            (&inactive["state"], &inactive["date_updated"]),
            (&json!("inactive"), &json!("2030-01-01T00:05:00Z")),
            "{case}"
        );
        let fired = receiver.next().await;
        assert_eq!(fired.event_type(), "onConversationStateUpdated", "{case}");
        assert_eq!(fired.param("ConversationSid").as_deref(), Some(sid_of(&created).as_str()), "{case}");
        assert_eq!(
            (fired.param("StateFrom"), fired.param("StateTo"), fired.param("Reason")),
            (Some("active".into()), Some("inactive".into()), Some("TIMER".into())),
            "{case}"
        );
        assert!(fired.param("StateUpdated").is_some(), "{case}");

        // A jump past the closed timer closes it at once, through the clock alone.
        advance(&app, 7_200).await;
        let fired = receiver.next().await;
        assert_eq!(
            (fired.param("StateFrom"), fired.param("StateTo"), fired.param("Reason")),
            (Some("inactive".into()), Some("closed".into()), Some("TIMER".into())),
            "{case}"
        );
        let closed = app.get(&path).await;
        assert_eq!(
            (&closed["state"], &closed["date_updated"]),
            (&json!("closed"), &json!("2030-01-01T01:00:00Z")),
            "{case}"
        );

        // A closed conversation takes no message, no participant, and no reactivation.
        let refusals = [
            ("message", format!("{path}/Messages"), ("Body", "late")),
            ("participant", format!("{path}/Participants"), ("Identity", "late")),
            ("reactivation", path.clone(), ("State", "active")),
        ];
        for (what, url, param) in refusals {
            let response = app.send(Method::POST, &url, &[param]).await;
            assert_twilio_error_for(&format!("{case}: {what}"), response, StatusCode::BAD_REQUEST, 50377).await;
        }
        assert!(receiver.drain().is_empty(), "{case}: nothing else fired");
    }
}

#[tokio::test]
async fn both_timers_running_out_at_once_fire_two_transitions_in_order() {
    let app = spawn_app().await;
    let mut receiver = Receiver::spawn().await;
    let hook = receiver.url("/state");
    let settings = [("PostWebhookUrl", hook.as_str()), ("Method", "POST"), ("Filters", "onConversationStateUpdated")];
    app.post("/v1/Configuration/Webhooks", &settings).await;
    freeze(&app, START).await;
    let created = app.post("/v1/Conversations", &[("Timers.Inactive", "PT10M"), ("Timers.Closed", "PT20M")]).await;

    advance(&app, 86_400).await;

    let steps: Vec<_> = [receiver.next().await, receiver.next().await]
        .iter()
        .map(|fired| (fired.param("StateTo").unwrap_or_default(), fired.param("StateUpdated").is_some()))
        .collect();
    assert_eq!(steps, [("inactive".to_owned(), true), ("closed".to_owned(), true)]);
    assert_eq!(app.get(&format!("/v1/Conversations/{}", sid_of(&created))).await["state"], "closed");
}

#[tokio::test]
async fn timer_values_are_checked_with_twilio_codes_on_both_forms() {
    let app = spawn_app().await;
    let cases = [
        ("inactive under a minute", "Timers.Inactive", "PT59S", 50375),
        ("closed under ten minutes", "Timers.Closed", "PT9M59S", 50376),
        ("inactive not a duration", "Timers.Inactive", "5 minutes", 50379),
        ("inactive in months", "Timers.Inactive", "P1M", 50379),
        ("closed not a duration", "Timers.Closed", "PT", 50380),
    ];
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let update = format!("{}/{conversation}", form.conversations());
        for (case, name, value, code) in cases {
            for (operation, url) in [("create", form.conversations()), ("update", update.clone())] {
                let response = app.send(Method::POST, &url, &[(name, value)]).await;
                let case = format!("{}: {operation}: {case}", form.name());
                assert_twilio_error_for(&case, response, StatusCode::BAD_REQUEST, code).await;
            }
        }
    }
}

#[tokio::test]
async fn account_default_timers_apply_and_an_empty_value_clears_a_timer() {
    let app = spawn_app().await;
    freeze(&app, START).await;
    let plain = app.post("/v1/Conversations", &[]).await;
    assert_eq!(plain["timers"], json!({}), "no timer: Twilio's empty object");

    app.post("/v1/Configuration", &[("DefaultInactiveTimer", "PT10M"), ("DefaultClosedTimer", "P1D")]).await;
    let defaulted = app.post("/v1/Conversations", &[]).await;
    let own = app.post("/v1/Conversations", &[("Timers.Inactive", "PT2M")]).await;
    let path = format!("/v1/Conversations/{}", sid_of(&defaulted));
    let cleared: Value = app.post(&path, &[("Timers.Closed", "")]).await;

    assert_eq!(
        defaulted["timers"],
        json!({"date_inactive": "2030-01-01T00:10:00Z", "date_closed": "2030-01-02T00:00:00Z"})
    );
    assert_eq!(own["timers"], json!({"date_inactive": "2030-01-01T00:02:00Z", "date_closed": "2030-01-02T00:00:00Z"}));
    assert_eq!(cleared["timers"], json!({"date_inactive": "2030-01-01T00:10:00Z", "date_closed": null}));
}

#[tokio::test]
async fn timers_survive_an_export_and_import() {
    let app = spawn_app().await;
    freeze(&app, START).await;
    let created = app.post("/v1/Conversations", &[("Timers.Inactive", "PT5M")]).await;
    let exported = json_ok(app.control(Method::GET, "/_emulator/state", None).await).await;

    let other = spawn_app().await;
    freeze(&other, START).await;
    let imported = other.control(Method::PUT, "/_emulator/state", Some(&exported)).await;
    assert!(imported.status().is_success(), "{}", imported.status());
    advance(&other, 300).await;

    let path = format!("/v1/Conversations/{}", sid_of(&created));
    let fetched = other.get(&path).await;
    assert_eq!(
        (&fetched["state"], &fetched["timers"]["date_inactive"]),
        (&json!("inactive"), &json!("2030-01-01T00:05:00Z"))
    );
}

#[tokio::test]
async fn user_and_participant_conversations_show_the_conversations_timers() {
    let app = spawn_app().await;
    let conversation = app.post("/v1/Conversations", &[("Timers.Inactive", "PT5M"), ("Timers.Closed", "PT1H")]).await;
    let sid = conversation["sid"].as_str().expect("a sid").to_owned();
    app.post(&format!("/v1/Conversations/{sid}/Participants"), &[("Identity", "tim")]).await;
    app.post("/v1/Users", &[("Identity", "tim")]).await;

    let user_conversations = app.get("/v1/Users/tim/Conversations").await;
    let participant_conversations = app.get("/v1/ParticipantConversations?Identity=tim").await;

    assert!(conversation["timers"]["date_inactive"].is_string(), "{conversation}");
    assert_eq!(user_conversations["conversations"][0]["timers"], conversation["timers"]);
    assert_eq!(participant_conversations["conversations"][0]["conversation_timers"], conversation["timers"]);
}

#[tokio::test]
async fn a_new_message_makes_an_inactive_conversation_active_again_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let case = form.name();
        freeze(&app, START).await;
        let created = app.post(&form.conversations(), &[("Timers.Inactive", "PT5M"), ("Timers.Closed", "PT1H")]).await;
        let path = format!("{}/{}", form.conversations(), sid_of(&created));
        advance(&app, 300).await;
        assert_eq!(app.get(&path).await["state"], "inactive", "{case}");
        advance(&app, 60).await;

        app.post(&format!("{path}/Messages"), &[("Body", "anyone there?")]).await;
        let after = app.get(&path).await;
        advance(&app, 3600).await;
        let later = app.get(&path).await;

        assert_eq!(
            (&after["state"], &after["date_updated"]),
            (&json!("active"), &json!("2030-01-01T00:06:00Z")),
            "{case}"
        );
        assert_eq!(
            after["timers"],
            json!({"date_inactive": null, "date_closed": "2030-01-01T01:00:00Z"}),
            "{case}: the spent inactive timer is cleared, the closed one still runs"
        );
        assert_eq!(later["state"], "closed", "{case}");
    }
}
