//! Every operation of Twilio's two OpenAPI files (the copies Schemathesis runs over, in
//! `tests/schemathesis/`) is routed: each path and method the spec lists reaches a handler
//! of its own, on every URL form the spec lists. A missing route shows in the metrics as
//! `unmatched` (or answers 405); a handler's own 404 for a record that does not exist does
//! not, so the walk needs no records. What is not emulated is listed here, with why, and
//! must answer a Twilio-shaped 404.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

const SPECS: [&str; 2] =
    [include_str!("../schemathesis/twilio_conversations_v1.json"), include_str!("../schemathesis/twilio_chat_v2.json")];

/// Paths of the specs that the emulator does not serve (README, "What is not emulated").
const UNEMULATED: [&str; 4] = [
    // Chat v2 push credentials: Conversations' `/v1/Credentials` are emulated, Chat's copy is not.
    "/v2/Credentials",
    "/v2/Credentials/{Sid}",
    // Chat v2 channel webhooks.
    "/v2/Services/{ServiceSid}/Channels/{ChannelSid}/Webhooks",
    "/v2/Services/{ServiceSid}/Channels/{ChannelSid}/Webhooks/{Sid}",
];

/// How many requests the metrics count as reaching no route.
async fn unmatched(app: &TestApp) -> u64 {
    let metrics = app.control(Method::GET, "/_emulator/metrics", None).await.text().await.expect("metrics text");
    metrics
        .lines()
        .filter(|line| line.starts_with("twilio_emulator_requests_total{") && line.contains("route=\"unmatched\""))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// A value for a path parameter: a well-formed SID of the kind its pattern names (the
/// record need not exist), or a name where the spec allows any string.
fn sample(parameter: &Value) -> String {
    let pattern = parameter["schema"]["pattern"].as_str().unwrap_or_default();
    match pattern.strip_prefix('^').filter(|rest| rest.len() > 2 && rest.as_bytes()[2] == b'[') {
        Some(rest) => format!("{}{}", &rest[..2], "0".repeat(32)),
        None => "sample".to_owned(),
    }
}

#[tokio::test]
async fn every_path_and_method_of_both_specs_reaches_a_handler() {
    let app = spawn_app().await;
    let mut missing = Vec::new();
    let mut walked = 0;

    for spec in SPECS {
        let spec: Value = serde_json::from_str(spec).expect("a JSON spec");
        for (template, item) in spec["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
                if !matches!(method, Method::GET | Method::POST | Method::DELETE) {
                    continue;
                }
                let mut path = template.clone();
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    if parameter["in"] == "path" {
                        let name = parameter["name"].as_str().expect("parameter name");
                        path = path.replace(&format!("{{{name}}}"), &sample(parameter));
                    }
                }
                let before = unmatched(&app).await;
                let response = app.send(method.clone(), &path, &[]).await;
                let status = response.status();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                walked += 1;
                if UNEMULATED.contains(&template.as_str()) {
                    assert_eq!(
                        (status, &body["status"]),
                        (StatusCode::NOT_FOUND, &Value::from(404)),
                        "{method} {path}"
                    );
                    continue;
                }
                if !status.is_success() {
                    assert_eq!(
                        body["status"],
                        status.as_u16(),
                        "{method} {path} answers a Twilio-shaped error: {body}"
                    );
                }
                if status == StatusCode::METHOD_NOT_ALLOWED || unmatched(&app).await > before {
                    missing.push(format!("{method} {template}"));
                }
            }
        }
    }
    assert!(walked > 90, "the walk sent {walked} requests");
    assert_eq!(missing, Vec::<String>::new(), "operations of the specs without a route");
}
