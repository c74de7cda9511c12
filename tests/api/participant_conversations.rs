//! Participant Conversations on both URL forms (`/v1/ParticipantConversations` and
//! `/v1/Services/{IS}/ParticipantConversations`): by identity, by address, paging, and the
//! refusal of a request with neither.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Form, assert_twilio_error_for, sid_of, spawn_app};

/// The list on `form`.
fn participant_conversations(form: &Form) -> String {
    match form {
        Form::Default => "/v1/ParticipantConversations".to_owned(),
        Form::Service(sid) => format!("/v1/Services/{sid}/ParticipantConversations"),
    }
}

/// The keys of Twilio's participant conversation object, in the spec's order.
const KEYS: [&str; 16] = [
    "account_sid",
    "chat_service_sid",
    "participant_sid",
    "participant_user_sid",
    "participant_identity",
    "participant_messaging_binding",
    "conversation_sid",
    "conversation_unique_name",
    "conversation_friendly_name",
    "conversation_attributes",
    "conversation_date_created",
    "conversation_date_updated",
    "conversation_created_by",
    "conversation_state",
    "conversation_timers",
    "links",
];

#[tokio::test]
async fn participant_conversations_are_found_by_identity_or_address_on_both_forms() {
    let app = spawn_app().await;
    for form in app.forms().await {
        let case = form.name();
        let users = match &form {
            Form::Default => "/v1/Users".to_owned(),
            Form::Service(sid) => format!("/v1/Services/{sid}/Users"),
        };
        let user = app.post(&users, &[("Identity", "erin")]).await;
        let mut sids = Vec::new();
        for _ in 0..3 {
            sids.push(app.conversation(&form).await);
        }
        let participants = |conversation: &str| format!("{}/{conversation}/Participants", form.conversations());
        let chat = app.post(&participants(&sids[0]), &[("Identity", "erin")]).await;
        app.post(&participants(&sids[2]), &[("Identity", "erin")]).await;
        let sms = app
            .post(
                &participants(&sids[1]),
                &[("MessagingBinding.Address", "+15550001111"), ("MessagingBinding.ProxyAddress", "+15550002222")],
            )
            .await;

        let by_identity = app.get(&format!("{}?Identity=erin", participant_conversations(&form))).await;

        assert_eq!(by_identity["meta"]["key"], "conversations", "{case}");
        let found = by_identity["conversations"].as_array().expect("conversations");
        let found_sids: Vec<&str> = found.iter().filter_map(|c| c["conversation_sid"].as_str()).collect();
        assert_eq!(found_sids, [sids[0].as_str(), sids[2].as_str()], "{case}");
        let keys: Vec<&str> = found[0].as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(keys, KEYS, "{case}");
        assert_eq!(
            (&found[0]["participant_sid"], &found[0]["participant_user_sid"], &found[0]["participant_identity"]),
            (&chat["sid"], &user["sid"], &json!("erin")),
            "{case}"
        );
        assert_eq!(found[0]["participant_messaging_binding"], Value::Null, "{case}");
        let conversation_url = format!("{}{}/{}", app.base, form.conversations(), sids[0]);
        assert_eq!(
            found[0]["links"],
            json!({
                "participant": format!("{conversation_url}/Participants/{}", sid_of(&chat)),
                "conversation": conversation_url,
            }),
            "{case}"
        );

        let by_address = app.get(&format!("{}?Address=%2B15550001111", participant_conversations(&form))).await;
        let found = by_address["conversations"].as_array().expect("conversations");
        assert_eq!(found.len(), 1, "{case}");
        assert_eq!((&found[0]["participant_sid"], &found[0]["participant_user_sid"]), (&sms["sid"], &Value::Null));
        assert_eq!(
            found[0]["participant_messaging_binding"],
            json!({ "address": "+15550001111", "proxy_address": "+15550002222", "type": "sms", "level": null, "name": null, "projected_address": null }),
            "{case}"
        );

        let first = app.get(&format!("{}?Identity=erin&PageSize=1", participant_conversations(&form))).await;
        let next = first["meta"]["next_page_url"].as_str().expect("a second page");
        assert!(next.contains("Identity=erin"), "{case}: the filter is echoed in {next}");
        let second = app.get_url(next).await;
        assert_eq!(second["conversations"][0]["conversation_sid"], sids[2].as_str(), "{case}");

        for (bad, query) in [("neither", ""), ("both", "?Identity=erin&Address=%2B1")] {
            let response = app.send(Method::GET, &format!("{}{query}", participant_conversations(&form)), &[]).await;
            assert_twilio_error_for(&format!("{case}: {bad}"), response, StatusCode::BAD_REQUEST, 20001).await;
        }
    }
}
