//! The Conversation Service resource and the account's default service.

use reqwest::{Method, StatusCode};

use crate::helpers::{Form, assert_twilio_error, json_ok, sid_of, spawn_app};

#[tokio::test]
async fn services_can_be_created_fetched_listed_and_deleted() {
    let app = spawn_app().await;
    let response = app.send(Method::POST, "/v1/Services", &[("FriendlyName", "Tests")]).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let service = json_ok(response).await;
    let sid = sid_of(&service);
    assert!(sid.starts_with("IS") && sid.len() == 34);
    assert_eq!(service["url"], format!("{}/v1/Services/{sid}", app.base));
    assert_eq!(service["links"]["conversations"], format!("{}/v1/Services/{sid}/Conversations", app.base));
    assert_eq!(app.get(&format!("/v1/Services/{sid}")).await, service);

    let listed = app.get("/v1/Services").await;
    assert_eq!(listed["services"].as_array().map(Vec::len), Some(2), "the default service and this one");
    assert_eq!(listed["services"][1], service);

    let form = Form::Service(sid.clone());
    let conversation = app.conversation(&form).await;
    assert_eq!(app.send(Method::DELETE, &format!("/v1/Services/{sid}"), &[]).await.status(), StatusCode::NO_CONTENT);
    assert_twilio_error(app.send(Method::GET, &format!("/v1/Services/{sid}"), &[]).await, StatusCode::NOT_FOUND, 20404)
        .await;
    assert_twilio_error(app.send(Method::GET, &form.messages(&conversation), &[]).await, StatusCode::NOT_FOUND, 20404)
        .await;
}

#[tokio::test]
async fn a_service_needs_a_friendly_name_and_the_default_one_cannot_be_deleted() {
    let app = spawn_app().await;
    assert_twilio_error(app.send(Method::POST, "/v1/Services", &[]).await, StatusCode::BAD_REQUEST, 20001).await;
    let default = app.default_service().await;
    let response = app.send(Method::DELETE, &format!("/v1/Services/{default}"), &[]).await;
    assert_twilio_error(response, StatusCode::BAD_REQUEST, 20001).await;
    assert_eq!(app.get(&format!("/v1/Services/{default}")).await["sid"], default.as_str());
}

#[tokio::test]
async fn the_health_endpoint_answers_without_credentials() {
    let app = spawn_app().await;
    let health: serde_json::Value = app
        .client
        .get(format!("{}/_emulator/health", app.base))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("JSON");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn services_and_configuration_have_the_documented_keys() {
    let app = spawn_app().await;
    let keys = |v: &serde_json::Value| v.as_object().expect("object").keys().cloned().collect::<Vec<_>>();
    let documented = |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("fixture");

    let service = app.post("/v1/Services", &[("FriendlyName", "Shapes")]).await;
    let service_fixture = documented(include_str!("../../fixtures/service_fetch_fetch.json"));
    assert_eq!(keys(&service), keys(&service_fixture));
    assert_eq!(keys(&service["links"]), keys(&service_fixture["links"]));

    let configuration = app.get("/v1/Configuration").await;
    let configuration_fixture = documented(include_str!("../../fixtures/configuration_fetch_fetch.json"));
    assert_eq!(keys(&configuration), keys(&configuration_fixture));
    assert_eq!(keys(&configuration["links"]), keys(&configuration_fixture["links"]));
}
