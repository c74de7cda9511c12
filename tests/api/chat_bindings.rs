//! Chat v2 Bindings, `/v2/Services/{IS}/Bindings[/{BS}]` and a user's
//! `/v2/Services/{IS}/Users/{US}/Bindings[/{BS}]`: the Conversations service's bindings
//! (from state documents), in Chat's representation.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::bindings::{APN, FCM, SERVICE, seeded};
use crate::helpers::{assert_twilio_error_for, sid_of};

fn sids(list: &Value) -> Vec<String> {
    list["bindings"].as_array().expect("bindings").iter().map(sid_of).collect()
}

#[tokio::test]
async fn chat_bindings_are_the_services_bindings_in_chats_shape() {
    let app = seeded().await;
    let bindings = format!("/v2/Services/{SERVICE}/Bindings");

    let apn = app.get(&format!("{bindings}/{APN}")).await;
    let all = app.get(&bindings).await;
    let by_type = app.get(&format!("{bindings}?BindingType=fcm&BindingType=apn")).await;
    let alices = app.get(&format!("{bindings}?Identity=alice&PageSize=1")).await;
    let link = app.get(&format!("/v2/Services/{SERVICE}")).await["links"]["bindings"].as_str().map(str::to_owned);

    let keys: Vec<&str> = apn.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "sid",
            "account_sid",
            "service_sid",
            "date_created",
            "date_updated",
            "endpoint",
            "identity",
            "binding_type",
            "credential_sid",
            "message_types",
            "url",
            "links"
        ]
    );
    assert_eq!(apn["service_sid"], SERVICE);
    assert_eq!(apn["url"], format!("{}{bindings}/{APN}", app.base));
    assert_eq!(apn["links"]["user"], format!("{}/v2/Services/{SERVICE}/Users/alice", app.base));
    assert_eq!(sids(&all).len(), 3);
    assert_eq!((&all["meta"]["key"], &all["meta"]["page_size"]), (&Value::from("bindings"), &Value::from(50)));
    assert_eq!(sids(&by_type), [APN, FCM]);
    assert_eq!(sids(&alices), [APN]);
    assert!(alices["meta"]["next_page_url"].is_string(), "alice has a second binding");
    assert_eq!(app.get_url(&link.expect("the service links its bindings")).await, all);

    let deleted = app.send(Method::DELETE, &format!("{bindings}/{APN}"), &[]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let v1 = app.get(&format!("/v1/Services/{SERVICE}/Bindings")).await;
    assert_eq!(sids(&v1).len(), 2, "a Chat delete deletes the Conversations binding");
}

#[tokio::test]
async fn a_users_bindings_are_those_with_its_identity() {
    let app = seeded().await;
    let user = app.post(&format!("/v2/Services/{SERVICE}/Users"), &[("Identity", "alice")]).await;
    let user_sid = sid_of(&user);
    let bindings = format!("/v2/Services/{SERVICE}/Users/{user_sid}/Bindings");

    let all = app.get(&bindings).await;
    let by_identity = app.get(&format!("/v2/Services/{SERVICE}/Users/alice/Bindings")).await;
    let apns = app.get(&format!("{bindings}?BindingType=apn")).await;
    let apn = app.get(&format!("{bindings}/{APN}")).await;
    let bobs = app.send(Method::GET, &format!("{bindings}/{FCM}"), &[]).await;
    let linked = app.get_url(user["links"]["user_bindings"].as_str().expect("user_bindings link")).await;

    assert_eq!(sids(&all).len(), 2, "alice's two bindings, not bob's");
    assert_eq!(sids(&by_identity), sids(&all));
    assert_eq!(sids(&apns), [APN]);
    assert_eq!(apn["user_sid"], user_sid.as_str());
    assert_eq!(apn["url"], format!("{}{bindings}/{APN}", app.base));
    assert_eq!(linked, all);
    assert_twilio_error_for("another user's binding", bobs, StatusCode::NOT_FOUND, 20404).await;
    let unknown_user = app.send(Method::GET, &format!("/v2/Services/{SERVICE}/Users/nobody/Bindings"), &[]).await;
    assert_twilio_error_for("an unknown user", unknown_user, StatusCode::NOT_FOUND, 50200).await;

    let deleted = app.send(Method::DELETE, &format!("{bindings}/{APN}"), &[]).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(sids(&app.get(&bindings).await).len(), 1);
}
