//! Chat v2 Invites, `/v2/Services/{IS}/Channels/{CH}/Invites[/{IN}]`: stored with the
//! channel's conversation, in Chat's representation, kept by state documents and the state
//! file, and deleted with the channel.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::bindings::TempState;
use crate::helpers::{Form, TestApp, assert_twilio_error_for, json_ok, sid_of, spawn_app, spawn_binary_with};

const INVITE_KEYS: [&str; 10] = [
    "account_sid",
    "channel_sid",
    "created_by",
    "date_created",
    "date_updated",
    "identity",
    "role_sid",
    "service_sid",
    "sid",
    "url",
];

/// The invites list of a new channel of the default service.
async fn channel_invites(app: &TestApp) -> (String, String, String) {
    let service = app.default_service().await;
    let channel = app.conversation(&Form::Default).await;
    let invites = format!("/v2/Services/{service}/Channels/{channel}/Invites");
    (service, channel, invites)
}

#[tokio::test]
async fn invites_are_created_fetched_listed_by_identity_and_deleted() {
    let app = spawn_app().await;
    let (service, channel, invites) = channel_invites(&app).await;
    let roles = app.get(&format!("/v2/Services/{service}/Roles")).await;
    let channel_role = roles["roles"]
        .as_array()
        .and_then(|roles| roles.iter().find(|role| role["type"] == "channel"))
        .map(sid_of)
        .expect("a default channel role");

    let created = json_ok(app.send(Method::POST, &invites, &[("Identity", "ada")]).await).await;
    let second = app.post(&invites, &[("Identity", "bob"), ("RoleSid", &channel_role)]).await;
    let fetched = app.get(&format!("{invites}/{}", sid_of(&created))).await;
    let all = app.get(&invites).await;
    let bobs = app.get(&format!("{invites}?Identity=bob&PageSize=1")).await;
    let both = app.get(&format!("{invites}?Identity=bob&Identity=ada")).await;

    let keys: Vec<&str> = created.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, INVITE_KEYS);
    assert!(sid_of(&created).starts_with("IN"));
    assert_eq!((&created["identity"], &created["channel_sid"]), (&Value::from("ada"), &Value::from(channel.as_str())));
    assert_eq!(created["service_sid"], service.as_str());
    assert_eq!(created["role_sid"], channel_role.as_str(), "the default is the members' default role");
    assert_eq!(created["created_by"], Value::Null, "the REST API acts for no user");
    assert_eq!(created["url"], format!("{}{invites}/{}", app.base, sid_of(&created)));
    assert_eq!(fetched, created);
    assert_eq!(all["invites"].as_array().map(Vec::len), Some(2));
    assert_eq!(all["meta"]["key"], "invites");
    assert_eq!(bobs["invites"][0], second);
    assert_eq!(bobs["meta"]["page_size"], 1);
    assert!(bobs["meta"]["url"].as_str().is_some_and(|url| url.contains("Identity=bob")), "{bobs}");
    assert_eq!(both["invites"].as_array().map(Vec::len), Some(2));

    let deleted = app.send(Method::DELETE, &format!("{invites}/{}", sid_of(&created)), &[]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&invites).await["invites"].as_array().map(Vec::len), Some(1));
}

/// A refused request: its case, method, path, form, and the status and code it gets.
type Case<'a> = (&'a str, Method, String, Vec<(&'a str, &'a str)>, StatusCode, u64);

#[tokio::test]
async fn invite_errors_are_twilio_shaped_with_chat_codes() {
    let app = spawn_app().await;
    let (service, _, invites) = channel_invites(&app).await;
    app.post(&invites, &[("Identity", "ada")]).await;
    let user_role = app.get(&format!("/v2/Services/{service}/Roles")).await["roles"]
        .as_array()
        .and_then(|roles| roles.iter().find(|role| role["type"] == "deployment"))
        .map(sid_of)
        .expect("a default service role");
    let missing_channel = format!("/v2/Services/{service}/Channels/CH00000000000000000000000000000000/Invites");
    let unknown_role = "RL00000000000000000000000000000000";

    let cases: [Case; 8] = [
        ("no identity", Method::POST, invites.clone(), vec![], StatusCode::BAD_REQUEST, 20001),
        (
            "a malformed role",
            Method::POST,
            invites.clone(),
            vec![("Identity", "x"), ("RoleSid", "RL1")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "an unknown role",
            Method::POST,
            invites.clone(),
            vec![("Identity", "x"), ("RoleSid", unknown_role)],
            StatusCode::BAD_REQUEST,
            50100,
        ),
        (
            "a service role",
            Method::POST,
            invites.clone(),
            vec![("Identity", "x"), ("RoleSid", &user_role)],
            StatusCode::BAD_REQUEST,
            50105,
        ),
        ("invited twice", Method::POST, invites.clone(), vec![("Identity", "ada")], StatusCode::CONFLICT, 20001),
        ("an unknown channel", Method::GET, missing_channel, vec![], StatusCode::NOT_FOUND, 50300),
        (
            "an unknown invite",
            Method::GET,
            format!("{invites}/IN00000000000000000000000000000000"),
            vec![],
            StatusCode::NOT_FOUND,
            20404,
        ),
        ("a malformed invite SID", Method::DELETE, format!("{invites}/nope"), vec![], StatusCode::NOT_FOUND, 20404),
    ];
    for (case, method, path, form, status, code) in cases {
        assert_twilio_error_for(case, app.send(method, &path, &form).await, status, code).await;
    }
    assert_eq!(app.get(&invites).await["invites"].as_array().map(Vec::len), Some(1), "no refused invite was stored");
}

#[tokio::test]
async fn invites_go_with_their_channel_and_travel_in_state_documents() {
    let app = spawn_app().await;
    let (_, channel, invites) = channel_invites(&app).await;
    let invite = app.post(&invites, &[("Identity", "ada")]).await;
    let exported =
        json_ok(app.control(Method::GET, &format!("/_emulator/state?account={}", app.account), None).await).await;

    let elsewhere = spawn_app().await;
    json_ok(elsewhere.control(Method::POST, "/_emulator/state", Some(&exported)).await).await;
    let imported = elsewhere.get(&invites).await;
    app.send(Method::DELETE, &format!("/v1/Conversations/{channel}"), &[]).await;
    let after = app.send(Method::GET, &format!("{invites}/{}", sid_of(&invite)), &[]).await;

    assert_eq!(
        imported["invites"][0].to_string().replace(&elsewhere.base, ""),
        invite.to_string().replace(&app.base, "")
    );
    assert_twilio_error_for("the channel was deleted", after, StatusCode::NOT_FOUND, 50300).await;
}

#[tokio::test]
async fn restarts_on_a_state_file_keep_invites_and_their_deletes() {
    let state = TempState(std::env::temp_dir().join(format!("emulator-state-{}-invites.json", std::process::id())));
    let path = state.0.to_str().expect("utf-8 temp path").to_owned();
    let running = spawn_binary_with(&["--state-file", &path]);
    let (_, _, invites) = channel_invites(&running).await;
    let gone = running.post(&invites, &[("Identity", "ada")]).await;
    running.post(&invites, &[("Identity", "bob")]).await;
    running.send(Method::DELETE, &format!("{invites}/{}", sid_of(&gone)), &[]).await;
    let before = running.get(&invites).await.to_string().replace(&running.base, "");
    running.kill();

    // The first restart replays the log; the second reads the snapshot the first wrote.
    for round in ["from the log", "from the snapshot"] {
        let restarted = spawn_binary_with(&["--state-file", &path]);
        assert_eq!(restarted.get(&invites).await.to_string().replace(&restarted.base, ""), before, "{round}");
        restarted.kill();
    }
}
