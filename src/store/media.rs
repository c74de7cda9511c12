//! Uploaded media in the store (the Media Content Service): files kept per service until
//! attached to one message, and deleted with it.

use super::change::Change;
use super::model::Media;
use super::{Decision, ServiceScope, Store, StoreError, fresh};
use crate::sid::{AccountSid, ChatServiceSid, MediaSid};

/// A file to store: what `POST /v1/Services/{IS}/Media` received.
#[derive(Clone, Debug)]
pub struct Upload {
    pub content_type: String,
    pub filename: Option<String>,
    pub author: Option<String>,
    pub content: bytes::Bytes,
}

impl Store {
    /// Stores an upload in `service` and returns it with its new `ME…` SID.
    pub fn upload_media(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        upload: Upload,
    ) -> Result<Media, StoreError> {
        self.upload_media_within(account, service, upload, usize::MAX)
    }

    /// Like [`upload_media`](Self::upload_media), refused when the account's uploads
    /// (attached or not, in every service) would hold more than `quota` bytes together.
    pub fn upload_media_within(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        upload: Upload,
        quota: usize,
    ) -> Result<Media, StoreError> {
        self.write(account, |tenant, sids, now| {
            // The account's expired uploads go with this one: uploads are what makes media
            // grow, so an account that stops uploading holds no more than it did.
            let mut changes = Vec::new();
            let mut held = 0usize;
            for service in tenant.services().values() {
                for media in service.all_media() {
                    if media.is_expired(now) {
                        changes.push(Change::DeleteMedia { account, service: service.sid(), media: media.sid });
                    } else {
                        held = held.saturating_add(media.content.len());
                    }
                }
            }
            // Counted on each upload rather than kept as a running total: uploads are rare,
            // and a total would be one more index for every writer to keep.
            if held.saturating_add(upload.content.len()) > quota {
                return Err(StoreError::MediaQuotaExceeded);
            }
            let service = tenant.service(ServiceScope::Explicit(service))?;
            let sid = fresh(sids, MediaSid::from_bits, |sid| service.media(sid).is_some());
            let media = Media {
                sid,
                content_type: upload.content_type.into(),
                filename: upload.filename.map(Into::into),
                author: upload.author.map(Into::into),
                content: upload.content,
                attached_to: None,
                date_created: now,
            };
            changes.push(Change::PutMedia { account, service: service.sid(), media: media.clone() });
            Ok(Decision { changes, answer: media })
        })
    }

    /// An upload with its content (shared, not copied).
    pub fn fetch_media(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        sid: MediaSid,
    ) -> Result<Media, StoreError> {
        let now = self.clock.now();
        self.read(account, |tenant| {
            let service = tenant.service(ServiceScope::Explicit(service))?;
            service.media(&sid).filter(|media| !media.is_expired(now)).cloned().ok_or(StoreError::NotFound)
        })
    }
}
