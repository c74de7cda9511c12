//! Proxy mode (`routes::proxy`): the emulator as an HTTPS proxy for Twilio's hosts. A
//! client with the emulator as its proxy and the emulator's CA as its only root reaches
//! the API at `https://conversations.twilio.com`, as an unmodified SDK does with
//! `HTTPS_PROXY` ([`TestApp::through_proxy`]); any other host is refused.

use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use twilio_conversations_emulator::Config;

use crate::helpers::{
    TestApp, assert_twilio_error, binary_command, client_builder, sid_of, spawn_app, spawn_app_with, spawn_binary_with,
};

const CONVERSATIONS: &str = "https://conversations.twilio.com";

#[tokio::test]
async fn messages_through_the_proxy_on_both_url_forms_carry_the_twilio_host_in_url_and_links() {
    let app = spawn_app().await;
    let twilio = app.through_proxy("conversations.twilio.com").await;

    for form in twilio.forms().await {
        let conversation = twilio.conversation(&form).await;
        let created = twilio.message(&form, &conversation, "through the proxy").await;
        let fetched = twilio.get(&format!("{}/{}", form.messages(&conversation), sid_of(&created))).await;
        let direct = app.get(&format!("{}/{}", form.messages(&conversation), sid_of(&created))).await;

        let url = format!("{CONVERSATIONS}{}/{}", form.messages(&conversation), sid_of(&created));
        assert_eq!(created["url"], url, "{}", form.name());
        assert_eq!(fetched["url"], url, "{}", form.name());
        assert_eq!(fetched["body"], "through the proxy", "{}", form.name());
        let links = fetched["links"].as_object().expect("links");
        assert!(!links.is_empty(), "{}", form.name());
        for (name, link) in links {
            assert!(link.as_str().is_some_and(|link| link.starts_with(&url)), "{} links.{name}: {link}", form.name());
        }
        // The same record, asked for directly, links to the emulator itself.
        assert_eq!(direct["url"], format!("{}{}/{}", app.base, form.messages(&conversation), sid_of(&created)));
    }
}

#[tokio::test]
async fn paging_through_the_proxy_follows_next_page_urls_on_the_twilio_host() {
    let app = spawn_app().await;
    let twilio = app.through_proxy("conversations.twilio.com").await;

    for form in twilio.forms().await {
        let conversation = twilio.conversation(&form).await;
        for body in ["one", "two", "three", "four", "five"] {
            twilio.message(&form, &conversation, body).await;
        }
        let first = format!("{}?PageSize=2", form.messages(&conversation));
        let page = twilio.get(&first).await;
        let walked = twilio.walk(&first, "messages", async || {}).await;

        let next = page["meta"]["next_page_url"].as_str().expect("a next page");
        assert!(next.starts_with(&format!("{CONVERSATIONS}{}?", form.messages(&conversation))), "{next}");
        let bodies: Vec<&Value> = walked.iter().map(|message| &message["body"]).collect();
        assert_eq!(bodies, ["one", "two", "three", "four", "five"], "{}", form.name());
    }
}

#[tokio::test]
async fn each_emulated_host_is_served_through_the_proxy_with_its_own_name_in_links() {
    let app = spawn_app().await;

    for (host, path) in [
        ("conversations.twilio.com", "/v1/Conversations"),
        ("chat.twilio.com", "/v2/Services"),
        ("mcs.us1.twilio.com", "/v1/Services"),
    ] {
        let twilio = app.through_proxy(host).await;
        let page = twilio.get(path).await;

        assert_eq!(page["meta"]["url"], format!("https://{host}{path}?PageSize=50&Page=0"), "{host}");
    }
}

#[tokio::test]
async fn chat_v2_through_the_proxy_carries_the_chat_host() {
    let app = spawn_app().await;
    let chat = app.through_proxy("chat.twilio.com").await;

    let service = sid_of(&chat.post("/v2/Services", &[("FriendlyName", "proxied")]).await);
    let channel = chat.post(&format!("/v2/Services/{service}/Channels"), &[("FriendlyName", "general")]).await;

    let url = format!("https://chat.twilio.com/v2/Services/{service}/Channels/{}", sid_of(&channel));
    assert_eq!(channel["url"], url);
    assert_eq!(chat.get_url(&url).await["sid"], channel["sid"]);
}

/// Sends `request` as it is to the server and returns the status line and the body.
async fn raw(app: &TestApp, request: &str) -> (String, Value) {
    let mut stream = TcpStream::connect(app.base.trim_start_matches("http://")).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read the answer");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.lines().next().unwrap_or("").to_owned();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_proxy_request_for_any_other_host_or_port_is_refused_naming_the_emulated_hosts() {
    let app = spawn_app().await;

    for (case, request_line, target) in [
        ("another host", "CONNECT example.com:443 HTTP/1.1", "example.com:443"),
        ("another Twilio host", "CONNECT api.twilio.com:443 HTTP/1.1", "api.twilio.com:443"),
        ("another port", "CONNECT conversations.twilio.com:8443 HTTP/1.1", "conversations.twilio.com:8443"),
        ("plain HTTP elsewhere", "GET http://example.com/v1/Conversations HTTP/1.1", "example.com"),
    ] {
        let host = target.split(':').next().unwrap_or(target);
        let request = format!("{request_line}\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let (status, body) = raw(&app, &request).await;

        assert!(status.starts_with("HTTP/1.1 403"), "{case}: {status}");
        assert_eq!((body["code"].as_u64(), body["status"].as_u64()), (Some(20403), Some(403)), "{case}: {body}");
        let message = body["message"].as_str().unwrap_or("");
        for named in ["conversations.twilio.com", "chat.twilio.com", "mcs.us1.twilio.com", target] {
            assert!(message.contains(named), "{case}: {message} should name {named}");
        }
    }
}

#[tokio::test]
async fn plain_http_in_absolute_form_to_a_twilio_host_is_answered_with_links_on_that_host() {
    let app = spawn_app().await;
    let client = client_builder()
        .proxy(reqwest::Proxy::http(&app.base).expect("the server as a proxy"))
        .build()
        .expect("a client");

    let response = client
        .get("http://conversations.twilio.com/v1/Conversations")
        .basic_auth(app.account, Some("token"))
        .send()
        .await
        .expect("request");

    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.expect("JSON");
    assert_eq!(page["meta"]["url"], "http://conversations.twilio.com/v1/Conversations?PageSize=50&Page=0");
}

#[tokio::test]
async fn the_ca_certificate_is_served_behind_the_control_token() {
    let app = spawn_app_with(Config { control_token: Some("secret".into()), ..Config::defaults() }).await;
    let url = format!("{}/_emulator/ca.pem", app.base);

    let refused = app.client.get(&url).send().await.expect("request");
    let served = app.client.get(&url).bearer_auth("secret").send().await.expect("request");

    assert_twilio_error(refused, StatusCode::UNAUTHORIZED, 20003).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "application/x-pem-file");
    let pem = served.text().await.expect("text");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----") && pem.trim_end().ends_with("-----END CERTIFICATE-----"));
}

/// A fresh directory under the build's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "proxy-{name}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// A suffix no other test run uses: the time in nanoseconds.
fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos())
}

#[tokio::test]
async fn the_binary_keeps_its_ca_in_the_data_directory_across_restarts_and_its_banner_says_where() {
    let dir = scratch("data");
    let data_dir = dir.to_str().expect("a UTF-8 path");
    let certificate = dir.join("ca/cert.pem");

    let first = spawn_binary_with(&["--data-dir", data_dir]);
    let served_first = first.control(Method::GET, "/_emulator/ca.pem", None).await.text().await.expect("text");
    let banner = first.stop().stdout;
    let second = spawn_binary_with(&["--data-dir", data_dir]);
    let served_second = second.control(Method::GET, "/_emulator/ca.pem", None).await.text().await.expect("text");

    assert_eq!(served_first, std::fs::read_to_string(&certificate).expect("the CA certificate file"));
    assert_eq!(served_first, served_second, "a restart reuses the CA");
    assert!(banner.contains(&certificate.display().to_string()), "the start-up banner names the CA file:\n{banner}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_data_directory_that_cannot_be_used_stops_the_start_with_the_reason() {
    let dir = scratch("unusable");
    let file = dir.join("not-a-directory");
    std::fs::write(&file, "").expect("create a file");

    let output = binary_command(&["--data-dir", file.to_str().expect("a UTF-8 path")]).output().expect("run");

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--data-dir") && stderr.contains("not-a-directory"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}
