//! The Delivery Receipt resource, on both URL forms:
//! `…/Conversations/{CH}/Messages/{IM}/Receipts[/{DY}]`. A receipt exists for each SMS or
//! WhatsApp participant a message was sent to; `/_emulator/receipts` moves it along.
//! <https://www.twilio.com/docs/conversations/api/receipt-resource>

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::error::ApiError;
use crate::extract::{ApiCall, MessagePath, ReceiptPath, TwilioQuery};
use crate::pagination::{ListBody, Order, PageLinks, PageParams, PageRequest};
use crate::sid::{
    AccountSid, ChannelMessageSid, ChatServiceSid, ConversationSid, MessageSid, ParticipantSid, ReceiptSid,
};
use crate::state::AppState;
use crate::store::model::{DeliveryStatus, Receipt};
use crate::store::{Located, ServiceScope};
use crate::time::Timestamp;
use crate::urls::{ConversationUrl, Href};

/// Twilio's maximum `PageSize` for receipts.
pub const MAX_PAGE_SIZE: usize = 50;

/// Adds the receipt routes under `receipts` (`…/Messages/{IM}/Receipts`).
pub fn mount(router: Router<AppState>, receipts: &str) -> Router<AppState> {
    router.route(receipts, get(list)).route(&format!("{receipts}/{{ReceiptSid}}"), get(fetch))
}

/// Fetch a receipt: <https://www.twilio.com/docs/conversations/api/receipt-resource#fetch-a-conversationmessagereceipt-resource>
async fn fetch(
    ApiCall { state, account, base }: ApiCall,
    path: ReceiptPath,
) -> Result<Json<ReceiptResource>, ApiError> {
    let scope = path.message.scope;
    let message = path.message.sid;
    let located = state.store.fetch_receipt(account, scope.service, &scope.conversation, message, path.sid)?;
    Ok(Json(ReceiptResource::new(account, base, scope.service, message, located)))
}

/// List a message's receipts: <https://www.twilio.com/docs/conversations/api/receipt-resource#read-multiple-conversationmessagereceipt-resources>
async fn list(
    ApiCall { state, account, base }: ApiCall,
    path: MessagePath,
    TwilioQuery(params): TwilioQuery<PageParams>,
) -> Result<Json<ListBody<ReceiptResource>>, ApiError> {
    let request = PageRequest::parse(&params, Order::Asc, MAX_PAGE_SIZE)?;
    let scope = path.scope;
    let located = state.store.list_receipts(account, scope.service, &scope.conversation, path.sid, &request)?;
    let url = ConversationUrl::on_form(base, scope.service, located.chat_service_sid, located.conversation_sid);
    let links = PageLinks {
        base: &url.base,
        path: format!("{}/Messages/{}/Receipts", url.path(), path.sid),
        filters: Vec::new(),
    };
    let meta = links.meta(&request, &located.value, "delivery_receipts");
    let records = located
        .value
        .items
        .into_iter()
        .map(|receipt| ReceiptResource { account_sid: account, url: url.clone(), message: path.sid, receipt })
        .collect();
    Ok(Json(ListBody { records, meta }))
}

/// A receipt as Twilio renders it on the request's URL form.
#[derive(Debug)]
pub struct ReceiptResource {
    account_sid: AccountSid,
    url: ConversationUrl,
    message: MessageSid,
    receipt: Receipt,
}

impl ReceiptResource {
    fn new(
        account_sid: AccountSid,
        base: Arc<str>,
        scope: ServiceScope,
        message: MessageSid,
        located: Located<Receipt>,
    ) -> Self {
        let url = ConversationUrl::on_form(base, scope, located.chat_service_sid, located.conversation_sid);
        Self { account_sid, url, message, receipt: located.value }
    }
}

/// The wire shape, in the key order of Twilio's examples.
#[derive(Serialize)]
struct ReceiptWire<'a> {
    sid: ReceiptSid,
    account_sid: AccountSid,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat_service_sid: Option<ChatServiceSid>,
    conversation_sid: ConversationSid,
    message_sid: MessageSid,
    channel_message_sid: ChannelMessageSid,
    status: DeliveryStatus,
    error_code: u32,
    participant_sid: ParticipantSid,
    date_created: Timestamp,
    date_updated: Timestamp,
    url: Href<'a>,
}

impl Serialize for ReceiptResource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let receipt = &self.receipt;
        ReceiptWire {
            sid: receipt.sid,
            account_sid: self.account_sid,
            chat_service_sid: self.url.shown_service(),
            conversation_sid: self.url.conversation,
            message_sid: self.message,
            channel_message_sid: receipt.channel_message_sid,
            status: receipt.status,
            error_code: receipt.error_code,
            participant_sid: receipt.participant_sid,
            date_created: receipt.date_created,
            date_updated: receipt.date_updated,
            url: self.url.receipt(self.message, receipt.sid),
        }
        .serialize(serializer)
    }
}
