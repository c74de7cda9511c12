//! A JSON writer for the hottest responses (messages and their pages).
//!
//! serde_json escapes every string it writes, byte by byte, and axum's `Json` feeds it
//! into a growing `BytesMut` in small slices; profiling a page of 50 messages showed those
//! two at half of all instructions. Most of a message is SIDs, timestamps and URLs, which
//! are ASCII without a character JSON must escape, so here they are copied as they are and
//! only user text (bodies, authors, attributes, names) goes through serde_json's escaper,
//! into one buffer that becomes the response body without a copy.

use std::fmt::Write as _;

use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A value whose text form is ASCII with nothing JSON must escape, written without checks.
pub trait Ascii {
    /// Appends the text form to `out`.
    fn write_ascii(&self, out: &mut Vec<u8>);
}

/// A JSON document being written.
#[derive(Debug, Default)]
pub struct Json {
    buf: Vec<u8>,
}

impl Json {
    /// An empty document with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { buf: Vec::with_capacity(capacity) }
    }

    /// Starts an object; close it with [`Object::end`].
    pub fn object(&mut self) -> Object<'_> {
        self.buf.push(b'{');
        Object { json: self, first: true }
    }

    /// Appends raw JSON punctuation or a pre-rendered fragment.
    pub fn raw(&mut self, fragment: &str) {
        self.buf.extend_from_slice(fragment.as_bytes());
    }

    /// Appends `value` rendered by serde (for small, rare parts).
    pub fn serde(&mut self, value: &impl Serialize) {
        // Writing into a Vec cannot fail, and our types always serialize.
        let _ = serde_json::to_writer(&mut self.buf, value);
    }

    /// The finished document.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// An object being written: keys in the order they are given.
#[derive(Debug)]
pub struct Object<'a> {
    json: &'a mut Json,
    first: bool,
}

impl Object<'_> {
    fn key(&mut self, key: &str) {
        if !self.first {
            self.json.buf.push(b',');
        }
        self.first = false;
        self.json.buf.push(b'"');
        self.json.buf.extend_from_slice(key.as_bytes());
        self.json.buf.extend_from_slice(b"\":");
    }

    /// `"key":"<ascii>"`.
    pub fn ascii(&mut self, key: &str, value: &impl Ascii) -> &mut Self {
        self.key(key);
        self.json.buf.push(b'"');
        value.write_ascii(&mut self.json.buf);
        self.json.buf.push(b'"');
        self
    }

    /// `"key":"<parts, concatenated>"`, for values pre-rendered as ASCII (see [`Ascii`]).
    pub fn ascii_parts(&mut self, key: &str, parts: &[&[u8]]) -> &mut Self {
        self.key(key);
        self.json.buf.push(b'"');
        for part in parts {
            self.json.buf.extend_from_slice(part);
        }
        self.json.buf.push(b'"');
        self
    }

    /// `"key":"<ascii>"` or `"key":null`.
    pub fn opt_ascii(&mut self, key: &str, value: Option<&impl Ascii>) -> &mut Self {
        match value {
            Some(value) => self.ascii(key, value),
            None => self.null(key),
        }
    }

    /// `"key":"<escaped text>"`.
    pub fn text(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        self.json.serde(&value);
        self
    }

    /// `"key":"<escaped text>"` or `"key":null`.
    pub fn opt_text(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        self.key(key);
        self.json.serde(&value);
        self
    }

    /// `"key":<number>`.
    pub fn number(&mut self, key: &str, value: u64) -> &mut Self {
        self.key(key);
        let _ = write!(Digits(&mut self.json.buf), "{value}");
        self
    }

    /// `"key":null`.
    pub fn null(&mut self, key: &str) -> &mut Self {
        self.key(key);
        self.json.raw("null");
        self
    }

    /// `"key":<value rendered by serde>`.
    pub fn serde(&mut self, key: &str, value: &impl Serialize) -> &mut Self {
        self.key(key);
        self.json.serde(value);
        self
    }

    /// `"key":` followed by whatever `write` appends (a nested object or array).
    pub fn nested(&mut self, key: &str, write: impl FnOnce(&mut Json)) -> &mut Self {
        self.key(key);
        write(self.json);
        self
    }

    /// Closes the object.
    pub fn end(&mut self) {
        self.json.buf.push(b'}');
    }
}

/// `fmt::Write` over the buffer, for numbers.
struct Digits<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Digits<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// A finished JSON body as a response (`Content-Type: application/json`).
#[derive(Debug)]
pub struct JsonBody(pub Vec<u8>);

impl IntoResponse for JsonBody {
    fn into_response(self) -> Response {
        ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Word(&'static str);

    impl Ascii for Word {
        fn write_ascii(&self, out: &mut Vec<u8>) {
            out.extend_from_slice(self.0.as_bytes());
        }
    }

    #[test]
    fn writes_valid_json_with_escaped_text() {
        let mut json = Json::default();
        json.object()
            .ascii("sid", &Word("IM1"))
            .text("body", "say \"hi\"\n\u{1}é")
            .opt_text("none", None)
            .number("index", 42)
            .opt_ascii("maybe", None::<&Word>)
            .nested("list", |json| json.raw("[]"))
            .end();
        let text = String::from_utf8(json.into_bytes()).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["body"], "say \"hi\"\n\u{1}é");
        assert_eq!(text, r#"{"sid":"IM1","body":"say \"hi\"\n\u0001é","none":null,"index":42,"maybe":null,"list":[]}"#);
    }
}
