//! Bad input of every kind gets a Twilio-shaped error with Twilio's code, never a panic,
//! a 5xx or a plain-text body, and a rejected request changes nothing.

use reqwest::{Method, StatusCode};

use crate::helpers::{Form, TestApp, assert_twilio_error, assert_twilio_error_for, sid_of, spawn_app};

const UNKNOWN_CONVERSATION: &str = "CH00000000000000000000000000000000";
const UNKNOWN_MESSAGE: &str = "IM00000000000000000000000000000000";

/// Form parameters of one request.
type Params = Vec<(&'static str, String)>;

/// Invalid message parameters, for create and update alike: (what is wrong, form, HTTP
/// status, code).
fn invalid_message_forms() -> Vec<(&'static str, Params, StatusCode, u64)> {
    let bad = StatusCode::BAD_REQUEST;
    vec![
        ("attributes that are not JSON", vec![("Attributes", "{not json".into())], bad, 50304),
        ("empty attributes", vec![("Attributes", String::new())], bad, 50304),
        ("attributes over 4 KB", vec![("Attributes", format!("\"{}\"", "x".repeat(4096)))], bad, 50303),
        ("a body over 32 KB", vec![("Body", "b".repeat(32 * 1024 + 1))], bad, 50504),
        ("an author over 256 characters", vec![("Author", "a".repeat(257))], bad, 50310),
        ("a DateCreated that is not a date", vec![("DateCreated", "yesterday".into())], bad, 50308),
        ("a DateCreated on February 30th", vec![("DateCreated", "2024-02-30T00:00:00Z".into())], bad, 50308),
        ("a DateUpdated without a time", vec![("DateUpdated", "2024-01-01".into())], bad, 50309),
        ("a parameter sent twice", vec![("Body", "a".into()), ("Body", "b".into())], bad, 20001),
    ]
}

/// The messages of a conversation, to prove a rejected request changed nothing.
async fn snapshot(app: &TestApp, form: &Form, conversation: &str) -> serde_json::Value {
    app.get(&form.messages(conversation)).await["messages"].clone()
}

#[tokio::test]
async fn invalid_create_parameters_get_twilio_codes_and_store_nothing_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        app.message(&form, &conversation, "existing").await;
        let before = snapshot(&app, &form, &conversation).await;
        for (case, params, status, code) in invalid_message_forms() {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = app.send(Method::POST, &form.messages(&conversation), &params).await;
            assert_twilio_error_for(&format!("{}: create with {case}", form.name()), response, status, code).await;
        }
        assert_eq!(
            snapshot(&app, &form, &conversation).await,
            before,
            "{}: a rejected create stored something",
            form.name()
        );
        assert_eq!(app.message(&form, &conversation, "next").await["index"], 1, "rejected creates consume no index");
    }
}

#[tokio::test]
async fn invalid_update_parameters_get_twilio_codes_and_change_nothing_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let message = app.message(&form, &conversation, "original").await;
        let path = format!("{}/{}", form.messages(&conversation), sid_of(&message));
        for (case, params, status, code) in invalid_message_forms() {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = app.send(Method::POST, &path, &params).await;
            assert_twilio_error_for(&format!("{}: update with {case}", form.name()), response, status, code).await;
        }
        assert_eq!(app.get(&path).await, message, "{}: a rejected update changed the message", form.name());
    }
}

#[tokio::test]
async fn unknown_and_malformed_sids_in_paths_are_twilio_404s_naming_the_path() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let unknown_message = format!("{}/{UNKNOWN_MESSAGE}", form.messages(&conversation));
        let malformed_message = format!("{}/IMnot-a-sid", form.messages(&conversation));
        for (case, method, path) in [
            ("create in an unknown conversation", Method::POST, form.messages(UNKNOWN_CONVERSATION)),
            ("list an unknown conversation", Method::GET, form.messages(UNKNOWN_CONVERSATION)),
            ("list an unknown unique name", Method::GET, form.messages("no-such-unique-name")),
            ("fetch an unknown message", Method::GET, unknown_message.clone()),
            ("update an unknown message", Method::POST, unknown_message.clone()),
            ("delete an unknown message", Method::DELETE, unknown_message),
            ("fetch a malformed message SID", Method::GET, malformed_message.clone()),
            ("delete a malformed message SID", Method::DELETE, malformed_message),
        ] {
            let case = format!("{}: {case}", form.name());
            let response = app.send(method.clone(), &path, &[]).await;
            let message = assert_twilio_error_for(&case, response, StatusCode::NOT_FOUND, 20404).await;
            let resource = path.strip_prefix("/v1").expect("v1 path");
            assert_eq!(message, format!("The requested resource {resource} was not found"), "{case}");
        }
    }
    for (case, path) in [
        ("a malformed service SID", "/v1/Services/ISnope/Conversations"),
        ("an unknown service", "/v1/Services/IS00000000000000000000000000000000/Conversations/x/Messages"),
    ] {
        assert_twilio_error_for(case, app.send(Method::GET, path, &[]).await, StatusCode::NOT_FOUND, 20404).await;
    }
}

#[tokio::test]
async fn invalid_list_parameters_are_400s_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        for (case, query) in [
            ("a page size of zero", "PageSize=0"),
            ("a negative page size", "PageSize=-1"),
            ("a page size in words", "PageSize=ten"),
            ("a fractional page size", "PageSize=1.5"),
            ("a negative page", "Page=-1"),
            ("a page that is not a number", "Page=x"),
            ("a page token that is not one", "PageToken=garbage"),
            ("a page token of an unknown kind", "PageToken=PTZ1"),
            ("a page token without a position", "PageToken=PTA"),
            ("an unknown order", "Order=sideways"),
        ] {
            let case = format!("{}: {case}", form.name());
            let path = format!("{}?{query}", form.messages(&conversation));
            let response = app.send(Method::GET, &path, &[]).await;
            let message = assert_twilio_error_for(&case, response, StatusCode::BAD_REQUEST, 20001).await;
            assert!(!message.is_empty(), "{case}");
        }
    }
}

#[tokio::test]
async fn an_invalid_webhook_header_is_a_400_on_every_write() {
    let app = spawn_app().await;
    let form = Form::Default;
    let conversation = app.conversation(&form).await;
    let message = app.message(&form, &conversation, "x").await;
    let item = format!("{}/{}", form.messages(&conversation), sid_of(&message));
    for (case, method, path) in [
        ("create", Method::POST, form.messages(&conversation)),
        ("update", Method::POST, item.clone()),
        ("delete", Method::DELETE, item.clone()),
    ] {
        let response = app
            .client
            .request(method, format!("{}{path}", app.base))
            .basic_auth(app.account, Some("t"))
            .header("X-Twilio-Webhook-Enabled", "maybe")
            .send()
            .await
            .expect("send");
        assert_twilio_error_for(case, response, StatusCode::BAD_REQUEST, 20001).await;
    }
    assert_eq!(app.get(&item).await, message, "the rejected delete kept the message");
}

#[tokio::test]
async fn unknown_routes_are_twilio_404s_and_wrong_methods_twilio_405s_with_allow() {
    let app = spawn_app().await;
    let message = assert_twilio_error(app.send(Method::GET, "/v1/Nope", &[]).await, StatusCode::NOT_FOUND, 20404).await;
    assert_eq!(message, "The requested resource /Nope was not found");
    assert_twilio_error(app.send(Method::GET, "/nope", &[]).await, StatusCode::NOT_FOUND, 20404).await;

    let conversation = app.conversation(&Form::Default).await;
    let collection = Form::Default.messages(&conversation);
    for (case, method, path, allowed) in [
        ("PUT on the message list", Method::PUT, collection.clone(), "GET,HEAD,POST"),
        ("DELETE on the message list", Method::DELETE, collection.clone(), "GET,HEAD,POST"),
        ("PATCH on a message", Method::PATCH, format!("{collection}/{UNKNOWN_MESSAGE}"), "GET,HEAD,POST,DELETE"),
        ("PUT on the service list", Method::PUT, "/v1/Services".to_owned(), "GET,HEAD,POST"),
    ] {
        let response = app.send(method.clone(), &path, &[]).await;
        let allow = response.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert_twilio_error_for(case, response, StatusCode::METHOD_NOT_ALLOWED, 20004).await;
        let mut got: Vec<&str> = allow.split(',').collect();
        let mut want: Vec<&str> = allowed.split(',').collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{case}: Allow");
    }
}

#[tokio::test]
async fn an_oversized_body_is_a_twilio_413_and_stores_nothing() {
    let app = spawn_app().await;
    let conversation = app.conversation(&Form::Default).await;
    let huge = "B".repeat(2 * 1024 * 1024);
    let response = app.send(Method::POST, &Form::Default.messages(&conversation), &[("Body", &huge)]).await;
    assert_twilio_error(response, StatusCode::PAYLOAD_TOO_LARGE, 20413).await;
    assert_eq!(app.get(&Form::Default.messages(&conversation)).await["messages"], serde_json::json!([]));
}

#[tokio::test]
async fn missing_or_malformed_credentials_are_401_20003() {
    let app = spawn_app().await;
    let url = format!("{}/v1/Conversations", app.base);
    let no_credentials = app.client.get(&url).send().await.expect("send");
    assert_eq!(
        no_credentials.headers().get("www-authenticate").and_then(|v| v.to_str().ok()),
        Some("Basic realm=\"Twilio API\"")
    );
    let message = assert_twilio_error(no_credentials, StatusCode::UNAUTHORIZED, 20003).await;
    assert_eq!(message, "Authentication Error - No credentials provided");
    for (case, user, password) in [
        ("a username that is not a SID", "not-a-sid", "t"),
        ("a truncated account SID", "ACshort", "t"),
        ("a SID that is neither an account nor a key", "MG00000000000000000000000000000001", "t"),
        ("an empty password", "AC00000000000000000000000000000001", ""),
    ] {
        let response = app.client.get(&url).basic_auth(user, Some(password)).send().await.expect("send");
        assert_twilio_error_for(case, response, StatusCode::UNAUTHORIZED, 20003).await;
    }
    let bearer = app.client.get(&url).header("Authorization", "Bearer abc").send().await.expect("send");
    assert_twilio_error(bearer, StatusCode::UNAUTHORIZED, 20003).await;
    let garbage = app.client.get(&url).header("Authorization", "Basic !!!").send().await.expect("send");
    assert_twilio_error(garbage, StatusCode::UNAUTHORIZED, 20003).await;
}

#[tokio::test]
async fn the_basic_scheme_is_case_insensitive_and_two_authorization_headers_are_refused() {
    let app = spawn_app().await;
    let url = format!("{}/v1/Conversations", app.base);
    let credentials = crate::helpers::basic_credentials(crate::helpers::ACCOUNT);
    let encoded = credentials.trim_start_matches("Basic ");

    for scheme in ["Basic", "basic", "BASIC", "bAsIc"] {
        let response =
            app.client.get(&url).header("Authorization", format!("{scheme} {encoded}")).send().await.expect("send");
        assert_eq!(response.status(), StatusCode::OK, "scheme {scheme}");
    }
    let twice = app
        .client
        .get(&url)
        .header("Authorization", &credentials)
        .header("Authorization", crate::helpers::basic_credentials(crate::helpers::OTHER_ACCOUNT))
        .send()
        .await
        .expect("send");
    let message = assert_twilio_error(twice, StatusCode::UNAUTHORIZED, 20003).await;
    assert_eq!(message, "Authentication Error - more than one Authorization header");
    let same_twice =
        app.client.get(&url).header("Authorization", &credentials).header("Authorization", &credentials).send().await;
    assert_twilio_error(same_twice.expect("send"), StatusCode::UNAUTHORIZED, 20003).await;
}

#[tokio::test]
async fn a_forged_host_header_cannot_inject_into_urls() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/v1/Conversations", app.base))
        .basic_auth(app.account, Some("t"))
        .header("Host", "evil\"host")
        .send()
        .await
        .expect("send");
    let body: serde_json::Value = response.json().await.expect("JSON");
    let url = body["url"].as_str().expect("url");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
}

#[tokio::test]
async fn urls_follow_the_host_header_of_each_request() {
    // A client switching hosts on one connection must see its own host in every URL.
    let app = spawn_app().await;
    for host in ["one.example:1000", "two.example:2000", "one.example:1000", "127.0.0.1:9"] {
        let response = app
            .client
            .post(format!("{}/v1/Conversations", app.base))
            .basic_auth(app.account, Some("t"))
            .header("Host", host)
            .send()
            .await
            .expect("send");
        let body: serde_json::Value = response.json().await.expect("JSON");
        let url = body["url"].as_str().expect("url");
        assert!(url.starts_with(&format!("http://{host}/v1/Conversations/CH")), "{host}: {url}");
    }
}
