//! Media uploads (Media Content Service shape) attached to messages, and content templates.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Form, TestApp, assert_twilio_error, assert_twilio_error_for, json_ok, sid_of, spawn_app};

/// The service a form's conversations live in.
async fn service_of(app: &TestApp, form: &Form) -> String {
    match form {
        Form::Default => app.default_service().await,
        Form::Service(sid) => sid.clone(),
    }
}

#[tokio::test]
async fn uploaded_media_can_be_fetched_and_downloaded() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let media = app.upload_media(&service, b"\x89PNG fake image", "image/png", "car.png").await;
    let sid = sid_of(&media);
    assert!(sid.starts_with("ME"));
    assert_eq!(
        (&media["size"], &media["content_type"], &media["filename"]),
        (&json!(15), &json!("image/png"), &json!("car.png"))
    );
    assert_eq!(
        (&media["service_sid"], &media["category"], &media["message_sid"]),
        (&json!(service), &json!("media"), &Value::Null)
    );
    assert_eq!(media["url"], format!("/v1/Services/{service}/Media/{sid}"));
    assert_eq!(app.get(&format!("/v1/Services/{service}/Media/{sid}")).await, media);

    let content = app.send(Method::GET, &format!("/v1/Services/{service}/Media/{sid}/Content"), &[]).await;
    assert_eq!(content.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("image/png"));
    assert_eq!(content.bytes().await.expect("bytes").as_ref(), b"\x89PNG fake image");

    let missing =
        app.send(Method::GET, &format!("/v1/Services/{service}/Media/ME00000000000000000000000000000000"), &[]).await;
    assert_twilio_error(missing, StatusCode::NOT_FOUND, 20404).await;
    let untyped = app
        .client
        .post(format!("{}/v1/Services/{service}/Media", app.base))
        .basic_auth(app.account, Some("t"))
        .body("x")
        .send()
        .await
        .expect("send");
    assert_twilio_error(untyped, StatusCode::BAD_REQUEST, 20001).await;
}

#[tokio::test]
async fn uploaded_media_is_served_so_that_it_cannot_run_in_a_browser() {
    let app = spawn_app().await;
    let service = app.default_service().await;
    let cases: [(&str, &str, Option<&str>); 7] = [
        ("text/html", "page.html", Some("attachment")),
        ("text/html; charset=utf-8", "page.htm", Some("attachment")),
        ("image/svg+xml", "logo.svg", Some("attachment")),
        ("application/xml", "feed.xml", Some("attachment")),
        ("text/javascript", "app.js", Some("attachment")),
        ("application/xhtml+xml", "page.xhtml", Some("attachment")),
        ("image/png", "car.png", Some("inline")),
    ];
    for (content_type, filename, disposition) in cases {
        let media = app.upload_media(&service, b"<script>alert(1)</script>", content_type, filename).await;

        let path = format!("/v1/Services/{service}/Media/{}/Content", sid_of(&media));
        let content = app.send(Method::GET, &path, &[]).await;

        let header = |name: &str| content.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{content_type}");
        assert!(header("content-security-policy").is_some_and(|csp| csp.starts_with("sandbox")), "{content_type}");
        assert_eq!(header("content-disposition").as_deref(), disposition, "{content_type}");
        assert_eq!(header("content-type").as_deref(), Some(content_type));
    }
}

#[tokio::test]
async fn an_upload_over_the_file_limit_or_the_account_quota_gets_a_twilio_413_50512() {
    let config = twilio_conversations_emulator::Config {
        max_media_bytes: 3000,
        media_quota_bytes: 5000,
        ..twilio_conversations_emulator::Config::defaults()
    };
    let app = crate::helpers::spawn_app_with(config).await;
    let service = app.default_service().await;
    let upload = |bytes: usize| {
        app.client
            .post(format!("{}/v1/Services/{service}/Media", app.base))
            .basic_auth(app.account, Some("token"))
            .header("Content-Type", "image/png")
            .body(vec![b'p'; bytes])
            .send()
    };

    let too_large = upload(3001).await.expect("send");
    let first = upload(3000).await.expect("send");
    let over_quota = upload(2001).await.expect("send");
    let within_quota = upload(2000).await.expect("send");

    assert_twilio_error_for("a file over the limit", too_large, StatusCode::PAYLOAD_TOO_LARGE, 50512).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_twilio_error_for("past the account's quota", over_quota, StatusCode::PAYLOAD_TOO_LARGE, 50512).await;
    assert_eq!(within_quota.status(), StatusCode::CREATED);
    let configuration = app.send_as(crate::helpers::OTHER_ACCOUNT, Method::GET, "/v1/Configuration", &[]).await;
    let configuration: Value = configuration.json().await.expect("JSON");
    let other_service = configuration["default_chat_service_sid"].as_str().expect("a service").to_owned();
    let elsewhere = app
        .client
        .post(format!("{}/v1/Services/{other_service}/Media", app.base))
        .basic_auth(crate::helpers::OTHER_ACCOUNT, Some("token"))
        .header("Content-Type", "image/png")
        .body(vec![b'p'; 3000])
        .send()
        .await
        .expect("send");
    assert_eq!(elsewhere.status(), StatusCode::CREATED, "the quota is per account");
}

/// Sets or moves the emulator's clock.
async fn set_clock(app: &TestApp, body: Value) {
    let response = app.control(Method::POST, "/_emulator/clock", Some(&body)).await;
    assert!(response.status().is_success(), "{body}");
}

#[tokio::test]
async fn an_upload_never_attached_expires_after_a_day_of_the_emulator_clock() {
    let config = twilio_conversations_emulator::Config {
        media_quota_bytes: 5000,
        ..twilio_conversations_emulator::Config::defaults()
    };
    let app = crate::helpers::spawn_app_with(config).await;
    set_clock(&app, json!({ "freeze_at": "2030-01-01T00:00:00Z" })).await;
    let service = app.default_service().await;
    let conversation = app.conversation(&Form::Default).await;
    let upload = || {
        app.client
            .post(format!("{}/v1/Services/{service}/Media", app.base))
            .basic_auth(app.account, Some("token"))
            .header("Content-Type", "image/png")
            .body(vec![b'p'; 2000])
            .send()
    };
    let attached = sid_of(&upload().await.expect("send").json::<Value>().await.expect("JSON"));
    let message = app
        .send(Method::POST, &Form::Default.messages(&conversation), &[("Author", "a"), ("MediaSid", &attached)])
        .await;
    assert_eq!(message.status(), StatusCode::CREATED);
    let unattached = sid_of(&upload().await.expect("send").json::<Value>().await.expect("JSON"));
    let full = upload().await.expect("send");
    assert_twilio_error_for("the quota is full", full, StatusCode::PAYLOAD_TOO_LARGE, 50512).await;

    set_clock(&app, json!({ "advance_seconds": 86_399 })).await;
    let not_yet = app.send(Method::GET, &format!("/v1/Services/{service}/Media/{unattached}"), &[]).await;
    assert_eq!(not_yet.status(), StatusCode::OK, "a second before a day, the upload is there");
    set_clock(&app, json!({ "advance_seconds": 1 })).await;

    let expired = app.send(Method::GET, &format!("/v1/Services/{service}/Media/{unattached}"), &[]).await;
    assert_twilio_error_for("an expired upload", expired, StatusCode::NOT_FOUND, 20404).await;
    let attach = app
        .send(Method::POST, &Form::Default.messages(&conversation), &[("Author", "a"), ("MediaSid", &unattached)])
        .await;
    assert_twilio_error_for("attaching an expired upload", attach, StatusCode::BAD_REQUEST, 50507).await;
    let kept = app.send(Method::GET, &format!("/v1/Services/{service}/Media/{attached}/Content"), &[]).await;
    assert_eq!(kept.status(), StatusCode::OK, "attached media does not expire");
    let room_again = upload().await.expect("send");
    assert_eq!(room_again.status(), StatusCode::CREATED, "the expired upload no longer counts");
    let exported = json_ok(app.control(Method::GET, "/_emulator/state", None).await).await;
    assert!(!exported.to_string().contains(&unattached), "the expired upload is deleted");
}

#[tokio::test]
async fn media_is_attached_once_and_shown_on_both_apis() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let service = service_of(&app, &form).await;
        let conversation = app.conversation(&form).await;
        let media = app.upload_media(&service, b"%PDF-1.4", "application/pdf", "hello.pdf").await;

        let message = app.post(&form.messages(&conversation), &[("MediaSid", &sid_of(&media))]).await;

        assert_eq!(
            message["media"],
            json!([{ "sid": media["sid"], "size": 8, "content_type": "application/pdf", "filename": "hello.pdf" }]),
            "{}",
            form.name()
        );
        assert_eq!(message["body"], Value::Null);
        let attached = app.get(&format!("/v1/Services/{service}/Media/{}", sid_of(&media))).await;
        assert_eq!((&attached["message_sid"], &attached["channel_sid"]), (&message["sid"], &json!(conversation)));
        let chat =
            app.get(&format!("/v2/Services/{service}/Channels/{conversation}/Messages/{}", sid_of(&message))).await;
        assert_eq!((&chat["type"], &chat["media"]["sid"]), (&json!("media"), &media["sid"]));

        // Errors, each leaving the conversation as it was.
        let before = app.get(&form.messages(&conversation)).await["messages"].clone();
        let cases = [
            ("a malformed media SID", "not-a-media-sid".to_owned(), StatusCode::BAD_REQUEST, 50510),
            ("unknown media", "ME00000000000000000000000000000000".to_owned(), StatusCode::BAD_REQUEST, 50507),
            ("media already attached", sid_of(&media), StatusCode::BAD_REQUEST, 50508),
        ];
        for (case, media_sid, status, code) in cases {
            let response = app.send(Method::POST, &form.messages(&conversation), &[("MediaSid", &media_sid)]).await;
            assert_twilio_error_for(&format!("{}: {case}", form.name()), response, status, code).await;
        }
        let edit = app
            .send(
                Method::POST,
                &format!("{}/{}", form.messages(&conversation), sid_of(&message)),
                &[("Body", "caption")],
            )
            .await;
        assert_twilio_error(edit, StatusCode::BAD_REQUEST, 50509).await;
        assert_eq!(app.get(&form.messages(&conversation)).await["messages"], before);

        // Deleting the message deletes its media.
        app.send(Method::DELETE, &format!("{}/{}", form.messages(&conversation), sid_of(&message)), &[]).await;
        let gone = app.send(Method::GET, &format!("/v1/Services/{service}/Media/{}", sid_of(&media)), &[]).await;
        assert_twilio_error(gone, StatusCode::NOT_FOUND, 20404).await;
    }
}

#[tokio::test]
async fn a_content_template_replaces_body_and_media() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let conversation = app.conversation(&form).await;
        let template = "HX0123456789abcdef0123456789abcdef";
        let message = app
            .post(
                &form.messages(&conversation),
                &[("ContentSid", template), ("ContentVariables", "{\"1\":\"John\"}"), ("Body", "ignored")],
            )
            .await;
        assert_eq!((&message["content_sid"], &message["body"]), (&json!(template), &Value::Null), "{}", form.name());
        for (sid, variables, code) in
            [(template, "{not json", 21656), (template, "[1]", 21656), ("HXnope", "{}", 20001)]
        {
            let response = app
                .send(
                    Method::POST,
                    &form.messages(&conversation),
                    &[("ContentSid", sid), ("ContentVariables", variables)],
                )
                .await;
            assert_twilio_error(response, StatusCode::BAD_REQUEST, code).await;
        }
    }
}
