//! Which request bodies the Twilio API routes read, on every kind of create route: forms in
//! any spelling, bodies without a type and `multipart/form-data` (older twilio-node) are
//! read alike; a file part, JSON or text is refused and creates nothing; an empty body is
//! an empty form whatever its type.

use reqwest::StatusCode;
use serde_json::{Value, json};

use twilio_conversations_emulator::Config;

use crate::helpers::{TestApp, sid_of, spawn_app, spawn_app_with};

const BOUNDARY: &str = "emulator-test-boundary";

/// A route that reads a form: where to send it, what to send (`n` makes each case's values
/// its own), what the answer must echo, and where to look to prove nothing changed.
struct Target {
    name: &'static str,
    path: String,
    fields: fn(usize) -> Vec<(&'static str, String)>,
    /// The answer's key and the value it must hold after case `n`.
    echo: fn(usize) -> (&'static str, Value),
    /// A GET whose answer changes exactly when the route does something.
    witness: String,
}

/// How a case sends the fields, and what it expects.
#[derive(Clone, Copy)]
enum Encoding {
    Form(&'static str),
    NoContentType,
    Multipart,
    MultipartWithFile,
    Raw(&'static str, &'static str),
    EmptyWith(&'static str),
}

/// What a case must get.
#[derive(Clone, Copy)]
enum Expect {
    Accepted,
    Refused(StatusCode, u64),
    /// The same status as a request without a body.
    AsAnEmptyForm,
}

fn multipart(fields: &[(&str, String)], file: bool) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    if file {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"Attachment\"; filename=\"note.txt\"\r\n\
             Content-Type: text/plain\r\n\r\nsome text\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body
}

async fn send(app: &TestApp, path: &str, content_type: Option<String>, body: String) -> reqwest::Response {
    let mut request = app.client.post(format!("{}{path}", app.base)).basic_auth(app.account, Some("token"));
    if let Some(content_type) = content_type {
        request = request.header("Content-Type", content_type);
    }
    request.body(body).send().await.expect("request reaches the server")
}

async fn targets(app: &TestApp) -> Vec<Target> {
    let service = sid_of(&app.post("/v1/Services", &[("FriendlyName", "bodies")]).await);
    let room = sid_of(&app.post("/v1/Conversations", &[("UniqueName", "bodies")]).await);
    let service_room =
        sid_of(&app.post(&format!("/v1/Services/{service}/Conversations"), &[("UniqueName", "bodies")]).await);
    let message_fields: fn(usize) -> Vec<(&'static str, String)> =
        |n| vec![("Author", "alice".into()), ("Body", format!("hello {n}"))];
    let message_echo: fn(usize) -> (&'static str, Value) = |n| ("body", json!(format!("hello {n}")));
    let messages = format!("/v1/Conversations/{room}/Messages");
    let service_messages = format!("/v1/Services/{service}/Conversations/{service_room}/Messages");
    let participants = format!("/v1/Conversations/{room}/Participants");
    vec![
        Target {
            name: "message create, default form",
            path: messages.clone(),
            fields: message_fields,
            echo: message_echo,
            witness: messages,
        },
        Target {
            name: "message create, service form",
            path: service_messages.clone(),
            fields: message_fields,
            echo: message_echo,
            witness: service_messages,
        },
        Target {
            name: "conversation create",
            path: "/v1/Conversations".into(),
            fields: |n| vec![("FriendlyName", format!("room {n}"))],
            echo: |n| ("friendly_name", json!(format!("room {n}"))),
            witness: "/v1/Conversations".into(),
        },
        Target {
            name: "participant create",
            path: participants.clone(),
            fields: |n| vec![("Identity", format!("user-{n}")), ("Attributes", "{\"n\":1}".into())],
            echo: |n| ("identity", json!(format!("user-{n}"))),
            witness: participants,
        },
        Target {
            name: "account webhooks (repeated Filters)",
            path: "/v1/Configuration/Webhooks".into(),
            fields: |_| {
                vec![
                    ("Filters", "onMessageAdded".into()),
                    ("Method", "GET".into()),
                    ("Filters", "onParticipantAdded".into()),
                ]
            },
            echo: |_| ("filters", json!(["onMessageAdded", "onParticipantAdded"])),
            witness: "/v1/Configuration/Webhooks".into(),
        },
    ]
}

#[tokio::test]
async fn every_create_route_reads_forms_and_multipart_and_refuses_other_bodies() {
    let app = spawn_app().await;
    let targets = targets(&app).await;
    let cases = [
        ("a form with a charset", Encoding::Form("application/x-www-form-urlencoded; charset=utf-8"), Expect::Accepted),
        ("an upper-case form type", Encoding::Form("APPLICATION/X-WWW-FORM-URLENCODED"), Expect::Accepted),
        ("a form without Content-Type", Encoding::NoContentType, Expect::Accepted),
        ("multipart text fields", Encoding::Multipart, Expect::Accepted),
        ("multipart with a file part", Encoding::MultipartWithFile, Expect::Refused(StatusCode::BAD_REQUEST, 20001)),
        (
            "JSON",
            Encoding::Raw("application/json", r#"{"Body":"hi","FriendlyName":"x","Identity":"x"}"#),
            Expect::Refused(StatusCode::UNSUPPORTED_MEDIA_TYPE, 19056),
        ),
        (
            "plain text",
            Encoding::Raw("text/plain", "Body=hi"),
            Expect::Refused(StatusCode::UNSUPPORTED_MEDIA_TYPE, 19056),
        ),
        ("an empty body typed JSON", Encoding::EmptyWith("application/json"), Expect::AsAnEmptyForm),
    ];
    for (n, (case, encoding, expect)) in cases.into_iter().enumerate() {
        for target in &targets {
            let context = format!("{case}, {}", target.name);
            // The account webhooks start each case without filters, so that a refused
            // update shows as a change of the witness.
            app.post("/v1/Configuration/Webhooks", &[("Filters", ""), ("Method", "POST")]).await;
            let before = app.get(&target.witness).await;
            let fields = (target.fields)(n);
            let form = || serde_urlencoded::to_string(&fields).expect("encode a form");
            let (content_type, body) = match encoding {
                Encoding::Form(content_type) => (Some(content_type.to_owned()), form()),
                Encoding::NoContentType => (None, form()),
                Encoding::Multipart => {
                    (Some(format!("multipart/form-data; boundary={BOUNDARY}")), multipart(&fields, false))
                }
                Encoding::MultipartWithFile => {
                    (Some(format!("multipart/form-data; boundary={BOUNDARY}")), multipart(&fields, true))
                }
                Encoding::Raw(content_type, body) => (Some(content_type.to_owned()), body.to_owned()),
                Encoding::EmptyWith(content_type) => (Some(content_type.to_owned()), String::new()),
            };

            let response = send(&app, &target.path, content_type, body).await;

            let status = response.status();
            let answer: Value = response.json().await.unwrap_or_else(|_| panic!("{context}: a JSON answer"));
            match expect {
                Expect::Accepted => {
                    assert!(status.is_success(), "{context}: {status} {answer}");
                    let (key, value) = (target.echo)(n);
                    assert_eq!(answer[key], value, "{context}: {answer}");
                }
                Expect::Refused(refused, code) => {
                    assert_eq!((status, &answer["code"]), (refused, &json!(code)), "{context}: {answer}");
                    assert_eq!(answer["status"], json!(refused.as_u16()), "{context}: {answer}");
                    let message = answer["message"].as_str().unwrap_or_default();
                    let names = if code == 19056 { "application/x-www-form-urlencoded" } else { "Attachment" };
                    assert!(message.contains(names), "{context}: the message names {names}: {answer}");
                    assert_eq!(app.get(&target.witness).await, before, "{context}: nothing changed");
                }
                Expect::AsAnEmptyForm => {
                    let empty = send(&app, &target.path, None, String::new()).await.status();
                    assert_eq!(status, empty, "{context}: answered as an empty form: {answer}");
                }
            }
        }
    }
}

#[tokio::test]
async fn multipart_fields_keep_their_order_and_malformed_multipart_is_a_twilio_400() {
    let app = spawn_app().await;
    let multipart_type = Some(format!("multipart/form-data; boundary={BOUNDARY}"));
    let fields = [
        ("Filters", "onMessageUpdated".to_owned()),
        ("Filters", "onMessageAdded".to_owned()),
        ("Filters", "onConversationAdded".to_owned()),
    ];

    let updated = send(&app, "/v1/Configuration/Webhooks", multipart_type.clone(), multipart(&fields, false)).await;

    let updated: Value = updated.json().await.expect("a JSON answer");
    assert_eq!(updated["filters"], json!(["onMessageUpdated", "onMessageAdded", "onConversationAdded"]));

    let refused = [
        ("no boundary", Some("multipart/form-data".to_owned()), "--x\r\n".to_owned()),
        ("a body that never ends", multipart_type, format!("--{BOUNDARY}\r\nContent-Disposition: form-data")),
    ];
    for (case, content_type, body) in refused {
        let response = send(&app, "/v1/Conversations", content_type, body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{case}");
        let answer: Value = response.json().await.expect("a JSON answer");
        assert_eq!(answer["code"], json!(20001), "{case}: {answer}");
    }
    let conversations = app.get("/v1/Conversations").await;
    assert_eq!(conversations["conversations"], json!([]), "nothing was created");
}

#[tokio::test]
async fn an_oversized_multipart_or_json_body_gets_the_413_and_creates_nothing() {
    let app = spawn_app_with(Config { max_body_bytes: 1024, ..Config::defaults() }).await;
    let big = "x".repeat(4096);
    let cases = [
        (
            "multipart",
            format!("multipart/form-data; boundary={BOUNDARY}"),
            multipart(&[("FriendlyName", big.clone())], false),
        ),
        ("JSON", "application/json".to_owned(), format!("{{\"FriendlyName\":\"{big}\"}}")),
    ];
    for (case, content_type, body) in cases {
        let response = send(&app, "/v1/Conversations", Some(content_type), body).await;

        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{case}");
        let answer: Value = response.json().await.expect("a JSON answer");
        assert_eq!(answer["code"], json!(20413), "{case}: {answer}");
    }
    assert_eq!(app.get("/v1/Conversations").await["conversations"], json!([]), "nothing was created");
}

#[tokio::test]
async fn the_journal_shows_a_multipart_bodys_parameters_like_a_forms() {
    let app = spawn_app().await;
    let fields = [("FriendlyName", "multi".to_owned()), ("Attributes", "{\"a\":1}".to_owned())];
    let multipart_type = Some(format!("multipart/form-data; boundary={BOUNDARY}"));

    send(&app, "/v1/Conversations", multipart_type, multipart(&fields, false)).await;
    send(&app, "/v1/Conversations", None, "FriendlyName=form&Attributes=%7B%7D".to_owned()).await;

    let journal = app.control(reqwest::Method::GET, "/_emulator/requests?method=POST", None).await;
    let journal: Value = journal.json().await.expect("a JSON answer");
    let params: Vec<&Value> = journal["requests"].as_array().expect("requests").iter().map(|r| &r["params"]).collect();
    assert_eq!(
        params,
        [
            &json!([["FriendlyName", "multi"], ["Attributes", "{\"a\":1}"]]),
            &json!([["FriendlyName", "form"], ["Attributes", "{}"]])
        ]
    );
}
