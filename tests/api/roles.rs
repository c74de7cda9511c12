//! Roles, `/v1/Roles[/{RL}]` and `/v1/Services/{IS}/Roles[/{RL}]`: every operation on both
//! URL forms, the default roles every service has, and the state document.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Form, TestApp, assert_twilio_error_for, json_ok, sid_of, spawn_app};

/// `…/Roles` on `form`.
fn roles(form: &Form) -> String {
    match form {
        Form::Default => "/v1/Roles".to_owned(),
        Form::Service(sid) => format!("/v1/Services/{sid}/Roles"),
    }
}

/// The service `form` addresses.
async fn service_of(app: &TestApp, form: &Form) -> String {
    match form {
        Form::Default => app.default_service().await,
        Form::Service(sid) => sid.clone(),
    }
}

#[tokio::test]
async fn roles_support_every_operation_on_both_url_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let (name, roles, service) = (form.name(), roles(&form), service_of(&app, &form).await);

        let response = app
            .send(
                Method::POST,
                &roles,
                &[
                    ("FriendlyName", "moderator"),
                    ("Type", "conversation"),
                    ("Permission", "sendMessage"),
                    ("Permission", "deleteAnyMessage"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{name}");
        let created = json_ok(response).await;
        let sid = sid_of(&created);
        assert!(sid.starts_with("RL"), "{name}");
        assert_eq!(
            (&created["friendly_name"], &created["type"], &created["permissions"], &created["chat_service_sid"]),
            (&json!("moderator"), &json!("conversation"), &json!(["sendMessage", "deleteAnyMessage"]), &json!(service)),
            "{name}"
        );
        assert_eq!(created["account_sid"], app.account, "{name}");
        assert_eq!(created["url"], format!("{}{roles}/{sid}", app.base), "{name}");

        assert_eq!(app.get(&format!("{roles}/{sid}")).await, created, "{name}");
        let listed = app.get(&roles).await;
        assert_eq!(listed["roles"].as_array().map(Vec::len), Some(4), "{name}: three defaults and ours");
        assert_eq!(listed["roles"][3], created, "{name}");
        assert_eq!((&listed["meta"]["key"], &listed["meta"]["page_size"]), (&json!("roles"), &json!(50)), "{name}");

        let updated = app.post(&format!("{roles}/{sid}"), &[("Permission", "leaveConversation")]).await;
        assert_eq!(updated["permissions"], json!(["leaveConversation"]), "{name}: the list is replaced");
        assert_eq!(updated["friendly_name"], "moderator", "{name}");

        let deleted = app.send(Method::DELETE, &format!("{roles}/{sid}"), &[]).await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT, "{name}");
        let gone = app.send(Method::GET, &format!("{roles}/{sid}"), &[]).await;
        assert_twilio_error_for(name, gone, StatusCode::NOT_FOUND, 20404).await;
    }
}

#[tokio::test]
async fn every_service_has_the_default_roles_its_records_name() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let name = form.name();
        let conversation = app.conversation(&form).await;
        let participant =
            app.post(&format!("{}/{conversation}/Participants", form.conversations()), &[("Identity", "ann")]).await;

        let listed = app.get(&roles(&form)).await;
        let defaults: Vec<(Value, Value)> = listed["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .map(|r| (r["friendly_name"].clone(), r["type"].clone()))
            .collect();
        assert_eq!(
            defaults,
            [
                (json!("service admin"), json!("service")),
                (json!("service user"), json!("service")),
                (json!("channel user"), json!("conversation")),
            ],
            "{name}"
        );
        let participant_role =
            app.get(&format!("{}/{}", roles(&form), participant["role_sid"].as_str().expect("role_sid"))).await;
        assert_eq!(participant_role["friendly_name"], "channel user", "{name}");
        assert!(
            participant_role["permissions"].as_array().is_some_and(|p| p.contains(&json!("sendMessage"))),
            "{name}"
        );

        // A default role can change, but not go.
        let user_role = sid_of(&listed["roles"][1]);
        let changed = app.post(&format!("{}/{user_role}", roles(&form)), &[("Permission", "joinConversation")]).await;
        assert_eq!(changed["permissions"], json!(["joinConversation"]), "{name}");
        let refused = app.send(Method::DELETE, &format!("{}/{user_role}", roles(&form)), &[]).await;
        assert_twilio_error_for(name, refused, StatusCode::BAD_REQUEST, 20001).await;
    }
}

/// A refused request: its case, method, path after `…/Roles`, form, and the status and
/// Twilio code expected.
type InvalidCase<'a> = (&'a str, Method, &'a str, Vec<(&'a str, &'a str)>, StatusCode, u64);

#[tokio::test]
async fn invalid_role_requests_get_twilio_errors_on_both_forms() {
    let app = spawn_app().await;
    let long_name = "x".repeat(65);
    let cases: [InvalidCase; 8] = [
        (
            "no FriendlyName",
            Method::POST,
            "",
            vec![("Type", "service"), ("Permission", "a")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        ("no Type", Method::POST, "", vec![("FriendlyName", "r"), ("Permission", "a")], StatusCode::BAD_REQUEST, 20001),
        (
            "unknown Type",
            Method::POST,
            "",
            vec![("FriendlyName", "r"), ("Type", "channel"), ("Permission", "a")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "no Permission",
            Method::POST,
            "",
            vec![("FriendlyName", "r"), ("Type", "service")],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        (
            "FriendlyName over 64 characters",
            Method::POST,
            "",
            vec![("FriendlyName", long_name.as_str()), ("Type", "service"), ("Permission", "a")],
            StatusCode::BAD_REQUEST,
            50003,
        ),
        // Refused before the role is looked up, as the parameter check comes first.
        (
            "update without Permission",
            Method::POST,
            "/RL00000000000000000000000000000000",
            vec![],
            StatusCode::BAD_REQUEST,
            20001,
        ),
        ("unknown role", Method::GET, "/RL00000000000000000000000000000000", vec![], StatusCode::NOT_FOUND, 20404),
        ("malformed SID", Method::DELETE, "/not-a-role", vec![], StatusCode::NOT_FOUND, 20404),
    ];
    for form in app.forms().await {
        for (case, method, tail, params, status, code) in &cases {
            let response = app.send(method.clone(), &format!("{}{tail}", roles(&form)), params).await;
            assert_twilio_error_for(&format!("{case}, {}", form.name()), response, *status, *code).await;
        }
    }
    let unknown_service = app.send(Method::GET, "/v1/Services/IS00000000000000000000000000000000/Roles", &[]).await;
    assert_twilio_error_for("unknown service", unknown_service, StatusCode::NOT_FOUND, 20404).await;
}

#[tokio::test]
async fn roles_go_with_their_service_and_travel_in_the_state_document() {
    let app = spawn_app().await;
    let service = sid_of(&app.post("/v1/Services", &[("FriendlyName", "roles")]).await);
    let path = format!("/v1/Services/{service}/Roles");
    let ours =
        app.post(&path, &[("FriendlyName", "agent"), ("Type", "service"), ("Permission", "joinConversation")]).await;
    let admin = sid_of(&app.get(&path).await["roles"][0]);
    let changed_admin = app.post(&format!("{path}/{admin}"), &[("Permission", "createConversation")]).await;

    let exported = json_ok(app.control(Method::GET, "/_emulator/state", None).await).await;
    let documented = exported.to_string();
    assert!(documented.contains(&sid_of(&ours)) && documented.contains(&admin), "{documented}");
    let reset = app.control(Method::POST, "/_emulator/reset", None).await;
    assert!(reset.status().is_success());
    assert_twilio_error_for("reset", app.send(Method::GET, &path, &[]).await, StatusCode::NOT_FOUND, 20404).await;
    json_ok(app.control(Method::POST, "/_emulator/state", Some(&exported)).await).await;
    assert_eq!(app.get(&format!("{path}/{}", sid_of(&ours))).await, ours);
    assert_eq!(app.get(&format!("{path}/{admin}")).await, changed_admin);

    app.send(Method::DELETE, &format!("/v1/Services/{service}"), &[]).await;
    let gone = app.send(Method::GET, &format!("{path}/{}", sid_of(&ours)), &[]).await;
    assert_twilio_error_for("deleted service", gone, StatusCode::NOT_FOUND, 20404).await;
}

/// The SID of the role of `kind` (`conversation` or `service`) that `form`'s service
/// created first.
async fn default_role(app: &TestApp, form: &Form, kind: &str) -> String {
    let listed = app.get(&roles(form)).await;
    let found = listed["roles"].as_array().and_then(|roles| roles.iter().find(|role| role["type"] == kind));
    sid_of(found.expect("a default role of the kind"))
}

/// A refused write: its case, path, form and the Twilio code it gets (always with 400).
type RoleCase<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, u64);

#[tokio::test]
async fn role_sid_parameters_must_name_a_role_of_the_service_of_the_right_type() {
    let app = spawn_app().await;
    let unknown = "RL00000000000000000000000000000000";
    let elsewhere = sid_of(&app.post("/v1/Services", &[("FriendlyName", "elsewhere")]).await);
    for form in app.forms().await {
        let name = form.name();
        let service = service_of(&app, &form).await;
        let (conversation_role, service_role) =
            (default_role(&app, &form, "conversation").await, default_role(&app, &form, "service").await);
        let other_service_role = default_role(&app, &Form::Service(elsewhere.clone()), "conversation").await;
        let conversation = app.conversation(&form).await;
        let participants = format!("{}/{conversation}/Participants", form.conversations());
        let participant = sid_of(&app.post(&participants, &[("Identity", "ada")]).await);
        let users = match &form {
            Form::Default => "/v1/Users".to_owned(),
            Form::Service(sid) => format!("/v1/Services/{sid}/Users"),
        };
        let user = sid_of(&app.post(&users, &[("Identity", "ada")]).await);
        let cwp = match &form {
            Form::Default => "/v1/ConversationWithParticipants".to_owned(),
            Form::Service(sid) => format!("/v1/Services/{sid}/ConversationWithParticipants"),
        };
        let members = format!("/v2/Services/{service}/Channels/{conversation}/Members");
        let chat_users = format!("/v2/Services/{service}/Users");
        let participant_json = |role: &str| format!(r#"{{"identity":"bo","role_sid":"{role}"}}"#);
        let (wrong_cwp, unknown_cwp) = (participant_json(&service_role), participant_json(unknown));

        let cases: [RoleCase; 12] = [
            ("participant, unknown role", participants.clone(), vec![("Identity", "x"), ("RoleSid", unknown)], 50100),
            (
                "participant, another service's role",
                participants.clone(),
                vec![("Identity", "x"), ("RoleSid", &other_service_role)],
                50100,
            ),
            (
                "participant, service role",
                participants.clone(),
                vec![("Identity", "x"), ("RoleSid", &service_role)],
                50105,
            ),
            (
                "participant update, service role",
                format!("{participants}/{participant}"),
                vec![("RoleSid", &service_role)],
                50105,
            ),
            ("user, unknown role", users.clone(), vec![("Identity", "y"), ("RoleSid", unknown)], 50100),
            ("user, conversation role", users.clone(), vec![("Identity", "y"), ("RoleSid", &conversation_role)], 50105),
            ("user update, conversation role", format!("{users}/{user}"), vec![("RoleSid", &conversation_role)], 50105),
            ("conversation with participants, service role", cwp.clone(), vec![("Participant", &wrong_cwp)], 50105),
            ("conversation with participants, unknown role", cwp.clone(), vec![("Participant", &unknown_cwp)], 50100),
            ("chat member, service role", members.clone(), vec![("Identity", "z"), ("RoleSid", &service_role)], 50105),
            (
                "chat user, channel role",
                chat_users.clone(),
                vec![("Identity", "z"), ("RoleSid", &conversation_role)],
                50105,
            ),
            ("chat user, unknown role", chat_users.clone(), vec![("Identity", "z"), ("RoleSid", unknown)], 50100),
        ];
        for (case, path, form_body, code) in cases {
            let response = app.send(Method::POST, &path, &form_body).await;
            assert_twilio_error_for(&format!("{name}: {case}"), response, StatusCode::BAD_REQUEST, code).await;
        }

        let fitting = app.post(&participants, &[("Identity", "x"), ("RoleSid", &conversation_role)]).await;
        assert_eq!(fitting["role_sid"], conversation_role.as_str(), "{name}");
        let updated = app.post(&format!("{users}/{user}"), &[("RoleSid", &service_role)]).await;
        assert_eq!(updated["role_sid"], service_role.as_str(), "{name}");
        let listed = app.get(&participants).await;
        assert_eq!(listed["participants"].as_array().map(Vec::len), Some(2), "{name}: no refused participant stored");
        assert_eq!(app.get(&users).await["users"].as_array().map(Vec::len), Some(1), "{name}: no refused user stored");
    }
}
