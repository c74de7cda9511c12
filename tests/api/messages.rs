//! Every Messages operation, each run on both URL forms from one table, with response
//! shapes checked against the documentation's examples in fixtures/.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Form, assert_twilio_error, assert_twilio_error_for, json_ok, sid_of, spawn_app};

/// Fields that are null on a plain message (no author participant, media, receipts or
/// template); the documentation's examples show them filled in.
const NULL_ON_PLAIN_MESSAGES: [&str; 4] = ["media", "participant_sid", "delivery", "content_sid"];

/// The documentation's example response for `operation` on `form`, from fixtures/.
fn fixture(form: &Form, operation: &str) -> Value {
    let text = match (form, operation) {
        (Form::Default, "create") => include_str!("../../fixtures/message_create_create.json"),
        (Form::Default, "fetch") => include_str!("../../fixtures/message_fetch_fetch.json"),
        (Form::Default, "update") => include_str!("../../fixtures/message_update_update.json"),
        (Form::Service(_), "create") => {
            include_str!("../../fixtures/service_message_create_create.json")
        }
        (Form::Service(_), "fetch") => {
            include_str!("../../fixtures/service_message_fetch_fetch.json")
        }
        (Form::Service(_), "update") => {
            include_str!("../../fixtures/service_message_update_update.json")
        }
        _ => unreachable!("no fixture for {operation}"),
    };
    serde_json::from_str(text).expect("fixture is JSON")
}

/// Asserts that `actual` has exactly the documented keys, in the documented order, with
/// the documented JSON types (null allowed where a neighbour resource is not emulated).
fn assert_shape(actual: &Value, documented: &Value, context: &str) {
    let (actual, documented) = (actual.as_object().expect("object"), documented.as_object().expect("object"));
    let keys = |o: &serde_json::Map<String, Value>| o.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(actual), keys(documented), "{context}: keys differ from the documentation");
    for (key, expected) in documented {
        let value = &actual[key];
        let same_type = std::mem::discriminant(value) == std::mem::discriminant(expected);
        let allowed_null = value.is_null() && (expected.is_null() || NULL_ON_PLAIN_MESSAGES.contains(&key.as_str()));
        assert!(same_type || allowed_null, "{context}: `{key}` is {value}, documented like {expected}");
        if let (Value::Object(links), Value::Object(documented_links)) = (value, expected) {
            assert_eq!(keys(links), keys(documented_links), "{context}: keys of `{key}`");
        }
    }
}

/// Whether `value` is a SID with `prefix`: two letters and 32 lower-case hex digits.
fn is_sid(value: &Value, prefix: &str) -> bool {
    value.as_str().is_some_and(|s| {
        s.len() == 34
            && s.starts_with(prefix)
            && s[2..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[tokio::test]
async fn create_returns_201_with_the_documented_shape_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;

        let response = app
            .send(
                Method::POST,
                &form.messages(&conversation),
                &[("Author", "alice"), ("Body", "hello"), ("Attributes", r#"{"k":1}"#)],
            )
            .await;

        assert_eq!(response.status(), StatusCode::CREATED, "{}", form.name());
        let message = json_ok(response).await;
        assert_shape(&message, &fixture(&form, "create"), form.name());
        assert!(is_sid(&message["sid"], "IM"), "{message}");
        assert_eq!(message["account_sid"], app.account);
        assert_eq!(message["conversation_sid"], conversation.as_str());
        assert_eq!(
            (&message["author"], &message["body"], &message["attributes"]),
            (&"alice".into(), &"hello".into(), &r#"{"k":1}"#.into())
        );
        assert_eq!(message["index"], 0);
        let url = format!("{}{}/{}", app.base, form.messages(&conversation), sid_of(&message));
        assert_eq!(message["url"], url.as_str());
        assert_eq!(message["links"]["delivery_receipts"], format!("{url}/Receipts"));
        assert_eq!(message["links"]["channel_metadata"], format!("{url}/ChannelMetadata"));
        match &form {
            Form::Default => assert!(message.get("chat_service_sid").is_none(), "{message}"),
            Form::Service(service) => assert_eq!(message["chat_service_sid"], service.as_str()),
        }
    }
}

#[tokio::test]
async fn create_applies_twilio_defaults_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let message = app.post(&form.messages(&conversation), &[]).await;
        assert_eq!(message["author"], "system", "{}", form.name());
        assert_eq!(message["attributes"], "{}");
        assert_eq!(message["body"], Value::Null);
        for key in NULL_ON_PLAIN_MESSAGES {
            assert_eq!(message[key], Value::Null, "{key}");
        }
        assert_eq!(message["date_updated"], message["date_created"]);
        let created = message["date_created"].as_str().expect("date string");
        assert!(created.len() == 20 && created.ends_with('Z') && created.as_bytes()[10] == b'T', "{created}");
    }
}

#[tokio::test]
async fn create_accepts_date_overrides_with_offsets_and_ignores_unknown_parameters() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let message = app
            .post(
                &form.messages(&conversation),
                &[
                    ("DateCreated", "2024-01-02T05:04:05.250+02:00"),
                    ("DateUpdated", "2024-01-03T00:00:00Z"),
                    ("Subject", "ignored"),
                    ("NoSuchParameter", "x"),
                ],
            )
            .await;
        assert_eq!(message["date_created"], "2024-01-02T03:04:05Z", "{}", form.name());
        assert_eq!(message["date_updated"], "2024-01-03T00:00:00Z");
        assert!(message.get("subject").is_none());
    }
}

#[tokio::test]
async fn fetch_returns_the_created_message_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let created = app.post(&form.messages(&conversation), &[("Author", "bob"), ("Body", "hi")]).await;
        let fetched = app.get(&format!("{}/{}", form.messages(&conversation), sid_of(&created))).await;
        assert_eq!(fetched, created, "{}", form.name());
        assert_shape(&fetched, &fixture(&form, "fetch"), form.name());
    }
}

#[tokio::test]
async fn update_changes_fields_but_not_index_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        app.message(&form, &conversation, "first").await;
        let created = app.message(&form, &conversation, "second").await;
        let path = format!("{}/{}", form.messages(&conversation), sid_of(&created));
        let response = app
            .send(
                Method::POST,
                &path,
                &[
                    ("Body", "edited"),
                    ("Author", "carol"),
                    ("Attributes", "[1,2]"),
                    ("DateUpdated", "2030-05-06T07:08:09Z"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{}", form.name());
        let updated = json_ok(response).await;
        assert_shape(&updated, &fixture(&form, "update"), form.name());
        assert_eq!(
            (&updated["body"], &updated["author"], &updated["attributes"]),
            (&"edited".into(), &"carol".into(), &"[1,2]".into())
        );
        assert_eq!(updated["index"], 1);
        assert_eq!(updated["date_created"], created["date_created"]);
        assert_eq!(updated["date_updated"], "2030-05-06T07:08:09Z");
        assert_eq!(app.get(&path).await, updated, "the update is stored");
    }
}

#[tokio::test]
async fn update_leaves_unsent_fields_alone() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let created = app
            .post(&form.messages(&conversation), &[("Author", "dan"), ("Body", "keep"), ("Attributes", "{\"a\":1}")])
            .await;
        let path = format!("{}/{}", form.messages(&conversation), sid_of(&created));
        let updated = app.post(&path, &[("Body", "changed")]).await;
        assert_eq!(
            (&updated["author"], &updated["attributes"]),
            (&"dan".into(), &"{\"a\":1}".into()),
            "{}",
            form.name()
        );
    }
}

#[tokio::test]
async fn delete_answers_204_with_an_empty_body_and_frees_nothing_else_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let kept = app.message(&form, &conversation, "kept").await;
        let doomed = app.message(&form, &conversation, "doomed").await;
        let path = format!("{}/{}", form.messages(&conversation), sid_of(&doomed));

        let response = app.send(Method::DELETE, &path, &[]).await;

        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{}", form.name());
        assert!(response.bytes().await.expect("body").is_empty());
        assert_twilio_error(app.send(Method::GET, &path, &[]).await, StatusCode::NOT_FOUND, 20404).await;
        assert_twilio_error(app.send(Method::DELETE, &path, &[]).await, StatusCode::NOT_FOUND, 20404).await;
        app.get(&format!("{}/{}", form.messages(&conversation), sid_of(&kept))).await;
        let next = app.message(&form, &conversation, "after").await;
        assert_eq!(next["index"], 2, "a deleted index is never reused");
    }
}

#[tokio::test]
async fn list_returns_messages_in_index_order_with_all_meta_keys_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        for body in ["a", "b", "c"] {
            app.message(&form, &conversation, body).await;
        }
        let cases = [
            ("no Order: ascending, not echoed", "", ["a", "b", "c"], ""),
            ("Order=desc", "?Order=desc", ["c", "b", "a"], "Order=desc&"),
            ("Order in mixed case, descending", "?Order=DeSc", ["c", "b", "a"], "Order=desc&"),
            ("Order in mixed case, ascending", "?Order=AsC", ["a", "b", "c"], "Order=asc&"),
        ];
        for (case, order, expected, echoed) in cases {
            let case = format!("{}: {case}", form.name());
            let page = app.get(&format!("{}{order}", form.messages(&conversation))).await;
            let bodies: Vec<&str> = page["messages"]
                .as_array()
                .expect("messages")
                .iter()
                .map(|m| m["body"].as_str().unwrap_or(""))
                .collect();
            assert_eq!(bodies, expected, "{case}");
            let meta = page["meta"].as_object().expect("meta");
            let keys: Vec<&str> = meta.keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                ["page", "page_size", "first_page_url", "previous_page_url", "url", "next_page_url", "key"],
                "{case}"
            );
            assert_eq!(meta["key"], "messages", "{case}");
            assert_eq!(meta["page_size"], 50, "{case}");
            let no_pages = (&meta["previous_page_url"], &meta["next_page_url"]);
            assert_eq!(no_pages, (&Value::Null, &Value::Null), "{case}");
            let first = format!("{}{}?{echoed}PageSize=50&Page=0", app.base, form.messages(&conversation));
            assert_eq!(meta["first_page_url"], first.as_str(), "{case}");
            assert_eq!(meta["url"], first.as_str(), "{case}");
            for message in page["messages"].as_array().expect("messages") {
                assert_shape(message, &fixture(&form, "fetch"), &format!("{case}: list item"));
            }
        }
    }
}

#[tokio::test]
async fn the_webhook_header_is_accepted_on_every_write() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let url = |path: &str| format!("{}{path}", app.base);
        let send = |method: Method, path: String, value: &'static str| {
            app.client
                .request(method, url(&path))
                .basic_auth(app.account, Some("t"))
                .header("X-Twilio-Webhook-Enabled", value)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("Body=hook")
        };
        let created =
            json_ok(send(Method::POST, form.messages(&conversation), "true").send().await.expect("send")).await;
        let path = format!("{}/{}", form.messages(&conversation), sid_of(&created));
        json_ok(send(Method::POST, path.clone(), "false").send().await.expect("send")).await;
        let deleted = send(Method::DELETE, path, "true").send().await.expect("send");
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT, "{}", form.name());
    }
}

#[tokio::test]
async fn messages_are_reachable_through_the_conversation_unique_name() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.post(&form.conversations(), &[("UniqueName", "support-room")]).await;
        let message = app.message(&form, "support-room", "by name").await;
        assert_eq!(message["conversation_sid"], conversation["sid"], "{}", form.name());
        assert!(message["url"].as_str().expect("url").contains(sid_of(&conversation).as_str()), "URLs use the SID");
        let listed = app.get(&form.messages("support-room")).await;
        assert_eq!(listed["messages"][0], message);
    }
}

#[tokio::test]
async fn the_default_service_form_and_the_short_form_share_one_store() {
    let app = spawn_app().await;
    let default_service = app.default_service().await;
    let (short, long) = (Form::Default, Form::Service(default_service.clone()));
    let conversation = app.conversation(&short).await;
    let created = app.message(&short, &conversation, "shared").await;

    let fetched = app.get(&format!("{}/{}", long.messages(&conversation), sid_of(&created))).await;

    assert_eq!(fetched["body"], "shared");
    assert_eq!(fetched["chat_service_sid"], default_service.as_str());
    assert_eq!(fetched["url"], format!("{}{}/{}", app.base, long.messages(&conversation), sid_of(&created)));
}

#[tokio::test]
async fn a_conversation_of_another_service_is_not_reachable_through_the_short_form() {
    let app = spawn_app().await;
    let [_, service_form] = app.forms().await;
    let conversation = app.conversation(&service_form).await;
    let response = app.send(Method::GET, &Form::Default.messages(&conversation), &[]).await;
    assert_twilio_error(response, StatusCode::NOT_FOUND, 20404).await;
}
#[tokio::test]
async fn a_message_is_reachable_only_through_its_own_conversation_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        // Two conversations of one service, a message in the first.
        let (home, other) = (app.conversation(&form).await, app.conversation(&form).await);
        let message = app.message(&form, &home, "stays home").await;
        let sid = sid_of(&message);
        let elsewhere = format!("{}/{sid}", form.messages(&other));

        // Every operation through the other conversation misses it.
        for (case, method, params) in [
            ("fetch", Method::GET, &[][..]),
            ("update", Method::POST, &[("Body", "moved?")][..]),
            ("delete", Method::DELETE, &[][..]),
        ] {
            let response = app.send(method.clone(), &elsewhere, params).await;
            let case = format!("{}: {case} through another conversation", form.name());
            assert_twilio_error_for(&case, response, StatusCode::NOT_FOUND, 20404).await;
        }
        let receipts = app.send(Method::GET, &format!("{elsewhere}/Receipts"), &[]).await;
        assert_twilio_error(receipts, StatusCode::NOT_FOUND, 20404).await;
        let at_home = app.get(&format!("{}/{sid}", form.messages(&home))).await;
        assert_eq!(at_home, message, "{}: untouched", form.name());

        // A deleted conversation takes its messages with it.
        let deleted = app.send(Method::DELETE, &format!("{}/{home}", form.conversations()), &[]).await;
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        let gone = app.send(Method::GET, &format!("{}/{sid}", form.messages(&home)), &[]).await;
        assert_twilio_error(gone, StatusCode::NOT_FOUND, 20404).await;
        let listed = app.get(&form.messages(&other)).await;
        assert_eq!(listed["messages"], serde_json::json!([]), "{}", form.name());
    }
}

#[tokio::test]
async fn text_that_json_escapes_comes_back_exactly_on_both_forms() {
    let app = spawn_app().await;
    let tricky = "say \"hi\"\\ \n\ttab \u{1} 🎉 </script>";
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        // Every mix: escapes in the body, in the author, in both, in neither.
        for (author, body) in [("plain", tricky), (tricky, "plain"), (tricky, tricky), ("plain", "plain")] {
            let created = app.post(&form.messages(&conversation), &[("Author", author), ("Body", body)]).await;
            let url = format!("{}/{}", form.messages(&conversation), sid_of(&created));
            let fetched = app.get(&url).await;
            assert_eq!((fetched["author"].as_str(), fetched["body"].as_str()), (Some(author), Some(body)));
            // An update of the author alone keeps the body exactly.
            let updated = app.post(&url, &[("Author", "renamed")]).await;
            assert_eq!((updated["author"].as_str(), updated["body"].as_str()), (Some("renamed"), Some(body)));
        }
        let listed = app.get(&form.messages(&conversation)).await;
        let bodies: Vec<&str> =
            listed["messages"].as_array().expect("messages").iter().filter_map(|m| m["body"].as_str()).collect();
        assert_eq!(bodies, [tricky, "plain", tricky, "plain"], "{}", form.name());
    }
}
