//! The Conversation resource on both URL forms, by SID and by unique name.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{assert_twilio_error, assert_twilio_error_for, json_ok, sid_of, spawn_app};

#[tokio::test]
async fn conversations_support_every_operation_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        // Create
        let response = app
            .send(
                Method::POST,
                &form.conversations(),
                &[("FriendlyName", "Support"), ("UniqueName", "case-1"), ("Attributes", "{\"t\":1}")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{}", form.name());
        let created = json_ok(response).await;
        let documented: Value =
            serde_json::from_str(include_str!("../../fixtures/conversation_fetch_fetch.json")).expect("fixture");
        let keys = |v: &Value| v.as_object().expect("object").keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&created), keys(&documented));
        assert_eq!(
            (&created["friendly_name"], &created["unique_name"], &created["state"]),
            (&"Support".into(), &"case-1".into(), &"active".into())
        );
        let url = format!("{}{}/{}", app.base, form.conversations(), sid_of(&created));
        assert_eq!(created["url"], url.as_str());
        assert_eq!(created["links"]["messages"], format!("{url}/Messages"));

        // Fetch by SID and by unique name
        let by_sid = app.get(&format!("{}/{}", form.conversations(), sid_of(&created))).await;
        assert_eq!(by_sid, created);
        assert_eq!(app.get(&format!("{}/case-1", form.conversations())).await, created);

        // Update (by unique name), including a rename
        let updated = app
            .post(
                &format!("{}/case-1", form.conversations()),
                &[("FriendlyName", "Renamed"), ("UniqueName", "case-2"), ("State", "inactive")],
            )
            .await;
        assert_eq!(
            (&updated["friendly_name"], &updated["unique_name"], &updated["state"]),
            (&"Renamed".into(), &"case-2".into(), &"inactive".into())
        );
        assert_twilio_error(
            app.send(Method::GET, &format!("{}/case-1", form.conversations()), &[]).await,
            StatusCode::NOT_FOUND,
            20404,
        )
        .await;

        // List
        let listed = app.get(&form.conversations()).await;
        assert_eq!(listed["conversations"], serde_json::json!([updated]));
        assert_eq!(listed["meta"]["key"], "conversations");

        // Delete cascades to messages and frees the unique name (an inactive conversation
        // still takes messages; a closed one would refuse them).
        app.message(&form, "case-2", "bye").await;
        let deleted = app.send(Method::DELETE, &format!("{}/case-2", form.conversations()), &[]).await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        assert_twilio_error(
            app.send(Method::GET, &form.messages(&sid_of(&created)), &[]).await,
            StatusCode::NOT_FOUND,
            20404,
        )
        .await;
        app.post(&form.conversations(), &[("UniqueName", "case-2")]).await;
    }
}

#[tokio::test]
async fn invalid_conversation_input_gets_twilio_codes() {
    let app = spawn_app().await;
    for form in app.forms().await {
        app.post(&form.conversations(), &[("UniqueName", "taken")]).await;
        type Params<'a> = &'a [(&'a str, &'a str)];
        let cases: [(&str, Params, StatusCode, u64); 5] = [
            ("a duplicate unique name", &[("UniqueName", "taken")], StatusCode::CONFLICT, 50353),
            (
                "a unique name shaped like a SID",
                &[("UniqueName", "CH0123456789abcdef0123456789abcdef")],
                StatusCode::BAD_REQUEST,
                50390,
            ),
            ("attributes that are not JSON", &[("Attributes", "nope")], StatusCode::BAD_REQUEST, 50304),
            ("an unknown state", &[("State", "asleep")], StatusCode::BAD_REQUEST, 20001),
            ("a DateCreated that is not a date", &[("DateCreated", "never")], StatusCode::BAD_REQUEST, 50308),
        ];
        for (case, params, status, code) in cases {
            let response = app.send(Method::POST, &form.conversations(), params).await;
            assert_twilio_error_for(&format!("{}: {case}", form.name()), response, status, code).await;
        }
        assert_eq!(
            app.get(&form.conversations()).await["conversations"].as_array().map(Vec::len),
            Some(1),
            "nothing stored"
        );
    }
}

#[tokio::test]
async fn conversation_lists_filter_by_state() {
    let app = spawn_app().await;
    app.post("/v1/Conversations", &[("State", "inactive")]).await;
    let active = app.post("/v1/Conversations", &[]).await;
    let listed = app.get("/v1/Conversations?State=active").await;
    assert_eq!(listed["conversations"], serde_json::json!([active]));
    assert!(listed["meta"]["url"].as_str().is_some_and(|url| url.contains("State=active&PageSize=50")));
}
