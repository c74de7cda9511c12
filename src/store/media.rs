//! Uploaded media in the store (the Media Content Service): files kept per service until
//! attached to one message, and deleted with it.

use super::*;

/// A file to store: what `POST /v1/Services/{IS}/Media` received.
#[derive(Clone, Debug)]
pub struct Upload {
    pub content_type: String,
    pub filename: Option<String>,
    pub author: Option<String>,
    pub content: axum::body::Bytes,
}

impl Store {
    /// Stores an upload in `service` and returns it with its new `ME…` SID.
    pub fn upload_media(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        upload: Upload,
    ) -> Result<Media, StoreError> {
        self.write(
            account,
            |tenant, sids, now| {
                let service = tenant.service_mut(ServiceScope::Explicit(service))?;
                let sid = fresh(sids, MediaSid::from_bits, |sid| service.media.contains_key(sid));
                let media = Media {
                    sid,
                    content_type: upload.content_type.into(),
                    filename: upload.filename.map(Into::into),
                    author: upload.author.map(Into::into),
                    content: upload.content,
                    attached_to: None,
                    date_created: now,
                };
                service.media.insert(sid, media.clone());
                Ok(media)
            },
            |media| Change::PutMedia {
                account: account.to_string(),
                service: service.to_string(),
                media: document::media_document(media),
            },
        )
    }

    /// An upload with its content (shared, not copied).
    pub fn fetch_media(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        sid: MediaSid,
    ) -> Result<Media, StoreError> {
        self.read(account, |tenant| {
            let service = tenant.service(ServiceScope::Explicit(service))?;
            service.media.get(&sid).cloned().ok_or(StoreError::NotFound)
        })
    }
}
