//! Media uploads (Media Content Service shape) attached to messages, and content templates.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Form, TestApp, assert_twilio_error, assert_twilio_error_for, sid_of, spawn_app};

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
