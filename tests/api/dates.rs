//! Dates that Twilio's format cannot print back (outside years 0001 to 9999 in UTC) are
//! refused where they come in, with the code a malformed date of that parameter gets, so
//! nothing is stored that a client could not read (twilio-python parses dates strictly).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Form, TestApp, assert_twilio_error_for, json_ok, sid_of, spawn_app};

/// Valid RFC 3339 instants that land in year 0 or year 10000 once their offset is applied.
const UNPRINTABLE: [&str; 4] =
    ["0000-01-01T00:00:00+01:00", "0001-01-01T00:59:59+01:00", "9999-12-31T23:59:59-01:00", "0000-12-31T23:59:59Z"];

/// The printable ends, and how they come back.
const EDGES: [(&str, &str); 3] = [
    ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
    ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
    ("9999-12-31T22:59:59-01:00", "9999-12-31T23:59:59Z"),
];

/// `(parameter, code)` for each unprintable date: the code its malformed dates get.
fn unprintable(parameters: &[(&'static str, u64)]) -> Vec<(&'static str, &'static str, u64)> {
    parameters.iter().flat_map(|&(parameter, code)| UNPRINTABLE.map(|date| (parameter, date, code))).collect()
}

/// Sends `params` and asserts a 400 with `code`; a failure names the request and its dates.
async fn refused(app: &TestApp, method: Method, path: &str, params: &[(&str, &str)], code: u64) {
    let case = format!("{method} {path} with {params:?}");
    assert_twilio_error_for(&case, app.send(method, path, params).await, StatusCode::BAD_REQUEST, code).await;
}

#[tokio::test]
async fn message_dates_outside_years_0001_to_9999_get_50308_or_50309_and_store_nothing_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let message = app.message(&form, &conversation, "existing").await;
        let path = format!("{}/{}", form.messages(&conversation), sid_of(&message));

        // Create and update refuse them alike, and nothing changes.
        for (parameter, date, code) in unprintable(&[("DateCreated", 50308), ("DateUpdated", 50309)]) {
            refused(&app, Method::POST, &form.messages(&conversation), &[("Body", "x"), (parameter, date)], code).await;
            refused(&app, Method::POST, &path, &[(parameter, date)], code).await;
        }
        assert_eq!(app.get(&path).await, message, "{}: a refused update changed the message", form.name());
        let listed = app.get(&form.messages(&conversation)).await;
        assert_eq!(listed["messages"], json!([message]), "{}: a refused create stored something", form.name());
    }
}

#[tokio::test]
async fn message_dates_at_the_ends_of_the_printable_years_round_trip_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        for (sent, printed) in EDGES {
            let params = [("Body", "x"), ("DateCreated", sent), ("DateUpdated", sent)];
            let created = app.post(&form.messages(&conversation), &params).await;
            assert_eq!((&created["date_created"], &created["date_updated"]), (&json!(printed), &json!(printed)));
            let path = format!("{}/{}", form.messages(&conversation), sid_of(&created));
            assert_eq!(app.post(&path, &[("DateUpdated", sent)]).await["date_updated"], printed, "{}", form.name());
        }
    }
}

#[tokio::test]
async fn conversation_and_participant_dates_outside_the_printable_years_get_their_parameters_codes_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let participants = format!("{}/{conversation}/Participants", form.conversations());
        let conversation_dates = unprintable(&[("DateCreated", 50308), ("DateUpdated", 50309)]);
        let participant_dates =
            unprintable(&[("DateCreated", 50308), ("DateUpdated", 50309), ("LastReadTimestamp", 20001)]);

        for (parameter, date, code) in conversation_dates {
            refused(&app, Method::POST, &form.conversations(), &[(parameter, date)], code).await;
            let path = format!("{}/{conversation}", form.conversations());
            refused(&app, Method::POST, &path, &[(parameter, date)], code).await;
        }
        for (parameter, date, code) in participant_dates {
            refused(&app, Method::POST, &participants, &[("Identity", "alice"), (parameter, date)], code).await;
        }
        let conversations = app.get(&form.conversations()).await["conversations"].clone();
        assert_eq!(
            conversations.as_array().map(Vec::len),
            Some(1),
            "{}: a refused create stored something",
            form.name()
        );
        assert_eq!(app.get(&participants).await["participants"], json!([]), "{}", form.name());
    }
}

#[tokio::test]
async fn conversation_list_ranges_refuse_unprintable_starts_and_treat_the_last_day_as_open_ended() {
    let app = spawn_app().await;
    let created = app.post("/v1/Conversations", &[("DateCreated", "9999-12-31T23:59:59Z")]).await;
    for start in ["0000-12-31", "0000-01-01T00:00:00+01:00"] {
        refused(&app, Method::GET, &format!("/v1/Conversations?StartDate={}", start.replace('+', "%2B")), &[], 20001)
            .await;
    }
    for end in ["9999-12-31", "9999-12-31T23:59:59Z"] {
        let listed = app.get(&format!("/v1/Conversations?EndDate={end}")).await;
        assert_eq!(listed["conversations"], json!([created]), "EndDate={end} includes the last printable second");
    }
}

#[tokio::test]
async fn chat_dates_outside_the_printable_years_get_50308_or_50309_and_store_nothing() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let channels = format!("/v2/Services/{service}/Channels");
    let channel = sid_of(&app.post(&channels, &[]).await);
    let messages = format!("{channels}/{channel}/Messages");
    let message = app.post(&messages, &[("Body", "existing")]).await;
    let path = format!("{messages}/{}", sid_of(&message));
    for (parameter, date, code) in unprintable(&[("DateCreated", 50308), ("DateUpdated", 50309)]) {
        refused(&app, Method::POST, &channels, &[(parameter, date)], code).await;
        refused(&app, Method::POST, &messages, &[("Body", "x"), (parameter, date)], code).await;
        refused(&app, Method::POST, &path, &[(parameter, date)], code).await;
    }
    assert_eq!(app.get(&messages).await["messages"], json!([message]), "nothing stored or changed");
    assert_eq!(app.get(&channels).await["channels"].as_array().map(Vec::len), Some(1), "no channel stored");
}

/// `POST /_emulator/clock` with `change`, which must be refused with 20001.
async fn clock_refuses(app: &TestApp, change: Value) {
    let response = app.control(Method::POST, "/_emulator/clock", Some(&change)).await;
    assert_twilio_error_for(&format!("the clock change {change}"), response, StatusCode::BAD_REQUEST, 20001).await;
}

#[tokio::test]
async fn clock_settings_that_would_leave_the_printable_years_get_20001_and_change_nothing() {
    let app = spawn_app().await;
    // A running clock: offsets and steps that overflow or leave the years.
    for change in [
        json!({ "offset_seconds": i64::MAX }),
        json!({ "offset_seconds": i64::MIN }),
        json!({ "offset_seconds": 253_402_300_799_i64 }),
        json!({ "advance_seconds": i64::MAX }),
        json!({ "advance_seconds": i64::MIN }),
        json!({ "freeze_at": "0000-01-01T00:00:00+01:00" }),
        json!({ "freeze_at": "9999-12-31T23:59:59-01:00" }),
    ] {
        clock_refuses(&app, change).await;
    }
    let running = json_ok(app.control(Method::GET, "/_emulator/clock", None).await).await;
    assert_eq!((&running["frozen"], &running["offset_seconds"]), (&json!(false), &json!(0)));

    // A clock frozen at the last printable second cannot step past it, and stamps it.
    let last = json!({ "freeze_at": "9999-12-31T23:59:59Z" });
    json_ok(app.control(Method::POST, "/_emulator/clock", Some(&last)).await).await;
    clock_refuses(&app, json!({ "advance_seconds": 1 })).await;
    let frozen = json_ok(app.control(Method::GET, "/_emulator/clock", None).await).await;
    assert_eq!((&frozen["now"], &frozen["frozen"]), (&json!("9999-12-31T23:59:59Z"), &json!(true)));
    let conversation = app.conversation(&Form::Default).await;
    let message = app.message(&Form::Default, &conversation, "at the end of time").await;
    assert_eq!(message["date_created"], "9999-12-31T23:59:59Z");

    // And at the first one, it cannot step back.
    let first = json!({ "freeze_at": "0001-01-01T00:00:00Z" });
    json_ok(app.control(Method::POST, "/_emulator/clock", Some(&first)).await).await;
    clock_refuses(&app, json!({ "advance_seconds": -1 })).await;
    let frozen = json_ok(app.control(Method::GET, "/_emulator/clock", None).await).await;
    assert_eq!(frozen["now"], "0001-01-01T00:00:00Z");
}
