//! A connection's IO as hyper sees it: reads tell the connection's `Activity` that a
//! request has begun, and hyper's own answers to requests it refuses before the router
//! (bytes that are not HTTP, a bad `Content-Length`, a URI over 64 KiB, over 100 headers)
//! are replaced by Twilio's JSON error on their way out.
//!
//! Why rewrite bytes rather than let such requests reach the router: hyper cannot hand
//! them over, as it cannot parse them into a request at all, and it has no hook for its
//! answer. It answers them itself with a bare head (`400`, `414` or `431`,
//! `content-length: 0`) and closes the connection. The application never answers those
//! statuses with an empty body (every error it sends carries Twilio's JSON), so such a
//! head, written alone, can only be hyper's, and is replaced whole.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::Activity;
use crate::error::ApiError;

/// A connection's IO, watched and with hyper's bare error answers made Twilio-shaped.
pub(super) struct TwilioShaped<I> {
    inner: I,
    activity: Arc<Activity>,
    /// A replacement answer still being written, and how much of it is written.
    replacement: Option<(Vec<u8>, usize)>,
}

impl<I> TwilioShaped<I> {
    pub(super) fn new(inner: I, activity: Arc<Activity>) -> Self {
        Self { inner, activity, replacement: None }
    }
}

impl<I: AsyncWrite + Unpin> TwilioShaped<I> {
    /// Writes what is left of a replacement answer.
    fn write_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.replacement {
            if *written == bytes.len() {
                self.replacement = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `data` in place of the replacement it calls for, if it is hyper's own answer.
    fn replaced(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Option<Poll<io::Result<usize>>> {
        let answer = replacement_for(data)?;
        self.replacement = Some((answer, 0));
        // hyper has handed its bytes over; the replacement's own progress is driven from
        // here and by the flush that follows.
        Some(match self.write_replacement(cx) {
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            _ => Poll::Ready(Ok(data.len())),
        })
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for TwilioShaped<I> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            self.activity.bytes_arrived();
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for TwilioShaped<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.write_replacement(cx))?;
        if let Some(done) = this.replaced(cx, data) {
            return done;
        }
        Pin::new(&mut this.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        slices: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.write_replacement(cx))?;
        // hyper's own answer has no body: its head is the only slice with bytes.
        let mut filled = slices.iter().filter(|slice| !slice.is_empty());
        if let (Some(only), None) = (filled.next(), filled.next())
            && let Some(done) = this.replaced(cx, only)
        {
            return done;
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, slices)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.write_replacement(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.write_replacement(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The Twilio-shaped answer that replaces `data`, when `data` is hyper's own answer to a
/// request it could not parse: a whole head, alone, of status 400, 414 or 431 with
/// `content-length: 0`.
fn replacement_for(data: &[u8]) -> Option<Vec<u8>> {
    // hyper's heads are short; anything long is not one of them.
    if data.len() > 512 || !data.ends_with(b"\r\n\r\n") {
        return None;
    }
    let status = match data.get(..13)? {
        b"HTTP/1.1 400 " | b"HTTP/1.0 400 " => StatusCode::BAD_REQUEST,
        b"HTTP/1.1 414 " | b"HTTP/1.0 414 " => StatusCode::URI_TOO_LONG,
        b"HTTP/1.1 431 " | b"HTTP/1.0 431 " => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        _ => return None,
    };
    let empty = data.windows(21).any(|line| line.eq_ignore_ascii_case(b"\r\ncontent-length: 0\r\n"));
    if !empty {
        return None;
    }
    let error = ApiError::Unparsable(status);
    let body = serde_json::to_vec(&error.body()).ok()?;
    let mut answer = Vec::with_capacity(160 + body.len());
    let reason = status.canonical_reason().unwrap_or_default();
    answer.extend_from_slice(format!("HTTP/1.1 {} {reason}\r\n", status.as_u16()).as_bytes());
    answer.extend_from_slice(b"content-type: application/json\r\nconnection: close\r\n");
    answer.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    answer.extend_from_slice(&body);
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hyper_s_bare_refusals_are_replaced() {
        let cases: [(&[u8], Option<u16>); 6] = [
            (b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: x\r\n\r\n", Some(400)),
            (b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n", Some(414)),
            (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n", Some(431)),
            (b"HTTP/1.1 400 Bad Request\r\ncontent-length: 90\r\n\r\n", None),
            (b"HTTP/1.1 100 Continue\r\n\r\n", None),
            (b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}", None),
        ];
        for (data, expected) in cases {
            let answer = replacement_for(data);
            let status = answer.as_ref().map(|answer| {
                let text = String::from_utf8_lossy(answer);
                let json = text.split_once("\r\n\r\n").expect("a head and a body").1.to_owned();
                let body: serde_json::Value = serde_json::from_str(&json).expect("JSON");
                assert_eq!(body["more_info"].as_str().map(|s| s.starts_with("https://www.twilio.com/")), Some(true));
                u16::try_from(body["status"].as_u64().expect("a status")).expect("a u16")
            });
            assert_eq!(status, expected, "{}", String::from_utf8_lossy(data));
        }
    }
}
