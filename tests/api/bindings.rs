//! Push bindings, `/v1/Services/{IS}/Bindings[/{BS}]`, which only state documents make (on
//! Twilio only client SDKs do), and a service's notification configuration,
//! `/v1/Services/{IS}/Configuration/Notifications`.

use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ACCOUNT, TestApp, assert_twilio_error_for, json_ok, sid_of, spawn_app, spawn_binary_with};

pub(crate) const SERVICE: &str = "IS00000000000000000000000000000b15";
pub(crate) const APN: &str = "BS000000000000000000000000000000a1";
pub(crate) const FCM: &str = "BS000000000000000000000000000000f2";
const CREDENTIAL: &str = "CR00000000000000000000000000000001";

/// A document bringing a service with two bindings, one of them without a SID.
fn seed() -> Value {
    json!({ "accounts": [{ "account_sid": ACCOUNT, "services": [{
        "sid": SERVICE,
        "friendly_name": "pushy",
        "bindings": [
            {
                "sid": APN, "binding_type": "apn", "endpoint": "alice-iphone", "identity": "alice",
                "credential_sid": CREDENTIAL, "message_types": ["new_message", "added_to_conversation"],
                "date_created": "2016-10-21T11:37:03Z"
            },
            { "sid": FCM, "binding_type": "fcm", "endpoint": "bob-pixel", "identity": "bob" },
            { "binding_type": "twilsock", "endpoint": "alice-browser", "identity": "alice" }
        ]
    }]}]})
}

pub(crate) async fn seeded() -> TestApp {
    let app = spawn_app().await;
    json_ok(app.control(Method::POST, "/_emulator/state", Some(&seed())).await).await;
    app
}

fn sids(list: &Value) -> Vec<String> {
    list["bindings"].as_array().expect("bindings").iter().map(sid_of).collect()
}

#[tokio::test]
async fn seeded_bindings_are_fetched_listed_by_filter_and_deleted() {
    // Arrange
    let app = seeded().await;
    let bindings = format!("/v1/Services/{SERVICE}/Bindings");

    // Act
    let apn = app.get(&format!("{bindings}/{APN}")).await;
    let all = app.get(&bindings).await;

    // Assert
    assert_eq!(
        apn,
        json!({
            "sid": APN, "account_sid": ACCOUNT, "chat_service_sid": SERVICE,
            "date_created": "2016-10-21T11:37:03Z", "date_updated": "2016-10-21T11:37:03Z",
            "endpoint": "alice-iphone", "identity": "alice", "binding_type": "apn",
            "credential_sid": CREDENTIAL, "message_types": ["new_message", "added_to_conversation"],
            "url": format!("{}{bindings}/{APN}", app.base),
        })
    );
    let listed = sids(&all);
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[..2], [APN, FCM]);
    let twilsock = listed[2].clone();
    assert!(twilsock.starts_with("BS"), "{twilsock}");
    assert_eq!((&all["meta"]["key"], &all["meta"]["page_size"]), (&json!("bindings"), &json!(50)));
    assert_eq!(all["bindings"][1]["credential_sid"], Value::Null);

    let filtered = [
        ("?Identity=alice", vec![APN, twilsock.as_str()]),
        ("?BindingType=fcm", vec![FCM]),
        ("?BindingType=fcm&BindingType=apn", vec![APN, FCM]),
        ("?Identity=alice&BindingType=twilsock", vec![twilsock.as_str()]),
        ("?Identity=alice&Identity=bob&BindingType=gcm", vec![]),
        ("?Identity=carol", vec![]),
    ];
    for (query, expected) in filtered {
        assert_eq!(sids(&app.get(&format!("{bindings}{query}")).await), expected, "{query}");
    }
    let paged = app.get(&format!("{bindings}?Identity=alice&PageSize=1")).await;
    assert_eq!(sids(&paged), [APN]);
    let next = paged["meta"]["next_page_url"].as_str().expect("next page").to_owned();
    assert!(next.contains("Identity=alice&PageSize=1"), "{next}");
    assert_eq!(sids(&app.get_url(&next).await), [twilsock.as_str()]);

    let link = app.get(&format!("/v1/Services/{SERVICE}")).await["links"]["bindings"].as_str().map(str::to_owned);
    assert_eq!(app.get_url(&link.expect("the service links its bindings")).await, all, "the service's link answers");

    let deleted = app.send(Method::DELETE, &format!("{bindings}/{APN}"), &[]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(sids(&app.get(&bindings).await), [FCM, twilsock.as_str()]);
    let again = app.send(Method::DELETE, &format!("{bindings}/{APN}"), &[]).await;
    assert_twilio_error_for("deleted twice", again, StatusCode::NOT_FOUND, 20404).await;
}

#[tokio::test]
async fn bad_binding_requests_get_twilio_errors() {
    let app = seeded().await;
    let bindings = format!("/v1/Services/{SERVICE}/Bindings");
    let unknown_service = "/v1/Services/IS00000000000000000000000000000999/Bindings";
    let cases: [(&str, Method, String, StatusCode, u64); 6] = [
        (
            "unknown binding",
            Method::GET,
            format!("{bindings}/BS00000000000000000000000000000999"),
            StatusCode::NOT_FOUND,
            20404,
        ),
        ("malformed SID", Method::GET, format!("{bindings}/BSxyz"), StatusCode::NOT_FOUND, 20404),
        (
            "delete of an unknown binding",
            Method::DELETE,
            format!("{bindings}/BS00000000000000000000000000000999"),
            StatusCode::NOT_FOUND,
            20404,
        ),
        ("unknown service", Method::GET, unknown_service.to_owned(), StatusCode::NOT_FOUND, 20404),
        (
            "binding of an unknown service",
            Method::GET,
            format!("{unknown_service}/{APN}"),
            StatusCode::NOT_FOUND,
            20404,
        ),
        ("unknown BindingType", Method::GET, format!("{bindings}?BindingType=sms"), StatusCode::BAD_REQUEST, 20001),
    ];
    for (case, method, path, status, code) in cases {
        let response = app.send(method, &path, &[]).await;
        assert_twilio_error_for(case, response, status, code).await;
    }
    // An import is all or nothing: a binding SID already in the service refuses it whole.
    let again = app.control(Method::POST, "/_emulator/state", Some(&seed())).await;
    let message = assert_twilio_error_for("imported twice", again, StatusCode::BAD_REQUEST, 20001).await;
    assert!(message.contains("bindings[0].sid"), "{message}");
    assert_eq!(app.get(&bindings).await["bindings"].as_array().map(Vec::len), Some(3));
    // The REST API cannot create bindings: only client SDKs do.
    let create = app.send(Method::POST, &bindings, &[("BindingType", "apn")]).await;
    assert_eq!(create.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn bindings_and_notifications_survive_an_export_and_import() {
    // Arrange
    let app = seeded().await;
    let service = format!("/v1/Services/{SERVICE}");
    app.send(Method::DELETE, &format!("{service}/Bindings/{FCM}"), &[]).await;
    app.post(
        &format!("{service}/Configuration/Notifications"),
        &[("NewMessage.Enabled", "true"), ("LogEnabled", "true")],
    )
    .await;
    let bindings = app.get(&format!("{service}/Bindings")).await;
    let notifications = app.get(&format!("{service}/Configuration/Notifications")).await;
    let exported = json_ok(app.control(Method::GET, "/_emulator/state", None).await).await;

    // Act
    app.control(Method::POST, "/_emulator/reset", None).await;
    json_ok(app.control(Method::PUT, "/_emulator/state", Some(&exported)).await).await;

    // Assert
    assert_eq!(app.get(&format!("{service}/Bindings")).await, bindings);
    assert_eq!(app.get(&format!("{service}/Configuration/Notifications")).await, notifications);
    assert_eq!(json_ok(app.control(Method::GET, "/_emulator/state", None).await).await, exported);
    let document = &exported["accounts"][0]["services"][1];
    assert_eq!(document["bindings"].as_array().map(Vec::len), Some(2));
    assert_eq!(document["notifications"]["new_message"]["enabled"], json!(true));
}

#[tokio::test]
async fn notifications_answer_twilio_defaults_and_keep_what_is_not_updated() {
    // Arrange
    let app = spawn_app().await;
    let service = sid_of(&app.post("/v1/Services", &[("FriendlyName", "noisy")]).await);
    let path = format!("/v1/Services/{service}/Configuration/Notifications");

    // Act
    let defaults = app.get(&path).await;
    let linked = app.get(&format!("/v1/Services/{service}/Configuration")).await;
    let link = linked["links"]["notifications"].as_str().expect("link").to_owned();
    let at_link = app.get_url(&link).await;
    let updated = app
        .post(
            &path,
            &[
                ("NewMessage.Enabled", "true"),
                ("NewMessage.Sound", "chime"),
                ("NewMessage.WithMedia.Template", "${MEDIA_COUNT} files"),
                ("RemovedFromConversation.Enabled", "TRUE"),
            ],
        )
        .await;

    // Assert
    assert_eq!(
        defaults,
        json!({
            "account_sid": ACCOUNT, "chat_service_sid": service, "log_enabled": false,
            "added_to_conversation": {
                "enabled": false, "template": "You have been added to a Conversation: ${CONVERSATION}", "sound": "ring"
            },
            "new_message": {
                "enabled": false,
                "template": "You have a new message in ${CONVERSATION} from ${PARTICIPANT}: ${MESSAGE}",
                "badge_count_enabled": false, "sound": "ring",
                "with_media": {
                    "enabled": false,
                    "template": "You have a new message in ${CONVERSATION} with ${MEDIA_COUNT} media files: ${MEDIA}"
                }
            },
            "removed_from_conversation": {
                "enabled": false, "template": "You have been removed from a Conversation: ${CONVERSATION}", "sound": "ring"
            },
            "url": format!("{}{path}", app.base),
        })
    );
    assert_eq!(at_link, defaults, "the configuration's link answers");
    let mut expected = defaults.clone();
    expected["new_message"]["enabled"] = json!(true);
    expected["new_message"]["sound"] = json!("chime");
    expected["new_message"]["with_media"]["template"] = json!("${MEDIA_COUNT} files");
    expected["removed_from_conversation"]["enabled"] = json!(true);
    assert_eq!(updated, expected);
    assert_eq!(app.get(&path).await, expected);

    let refused = app.send(Method::POST, &path, &[("LogEnabled", "sometimes")]).await;
    assert_twilio_error_for("LogEnabled not a boolean", refused, StatusCode::BAD_REQUEST, 20001).await;
    let unknown =
        app.send(Method::GET, "/v1/Services/IS00000000000000000000000000000999/Configuration/Notifications", &[]).await;
    assert_twilio_error_for("unknown service", unknown, StatusCode::NOT_FOUND, 20404).await;
    assert_eq!(app.get(&path).await, expected, "a refused update changes nothing");
}

/// A state file path of this test's own, removed (with its companions) when dropped.
pub(crate) struct TempState(pub(crate) PathBuf);

impl Drop for TempState {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        for suffix in [".log", ".log.old", ".lock", ".compacting"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

#[tokio::test]
async fn restarts_on_a_state_file_keep_bindings_their_deletes_and_notifications() {
    let state = TempState(std::env::temp_dir().join(format!("emulator-state-{}-bindings.json", std::process::id())));
    let path = state.0.to_str().expect("utf-8 temp path").to_owned();
    let running = spawn_binary_with(&["--state-file", &path]);
    json_ok(running.control(Method::POST, "/_emulator/state", Some(&seed())).await).await;
    let service = format!("/v1/Services/{SERVICE}");
    assert_eq!(
        running.send(Method::DELETE, &format!("{service}/Bindings/{APN}"), &[]).await.status(),
        StatusCode::NO_CONTENT
    );
    running.post(&format!("{service}/Configuration/Notifications"), &[("AddedToConversation.Template", "hi")]).await;
    let paths = [format!("{service}/Bindings"), format!("{service}/Configuration/Notifications")];
    let mut before = Vec::new();
    for path in &paths {
        before.push(running.get(path).await.to_string().replace(&running.base, ""));
    }
    running.kill();

    // The first restart replays the log; the second reads the snapshot the first wrote.
    for round in ["from the log", "from the snapshot"] {
        let restarted = spawn_binary_with(&["--state-file", &path]);
        let mut after = Vec::new();
        for path in &paths {
            after.push(restarted.get(path).await.to_string().replace(&restarted.base, ""));
        }
        assert_eq!(after, before, "{round}");
        restarted.kill();
    }
}
