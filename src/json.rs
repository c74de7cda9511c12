//! A JSON writer for the hottest responses (messages and their pages).
//!
//! serde_json escapes every string it writes, byte by byte, and axum's `Json` feeds it
//! into a growing `BytesMut` in small slices; profiling a page of 50 messages showed those
//! two as most of its cost (BENCHMARKS.md has the figures). Here a response is written as a sequence of literal
//! fragments (a key with its punctuation, `,"date_updated":`), pre-rendered ASCII values
//! (SIDs, timestamps, URLs: nothing to escape) and escaped user text, into one buffer that
//! becomes the response body without a copy. The caller spells out the document, so the
//! writer has no notion of objects or commas. A fragment holds at most one key: fusing the
//! literals of neighbouring keys saves a few writes per message, but then adding a field
//! means editing literals that span keys. The message writer keeps a serde
//! representation (`routes::messages::MessageWire`) that its tests compare byte for byte.

use axum::body::Body;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A value whose text form is ASCII with nothing JSON must escape, written without checks.
pub trait Ascii {
    /// Appends the text form to `out`.
    fn write_ascii(&self, out: &mut Vec<u8>);

    /// Appends the text form in quotes: a JSON string. Values of a fixed width (SIDs,
    /// timestamps) write it with [`quoted`] as one copy, since every write into the buffer
    /// costs a capacity check and a length update, and a page writes thousands.
    fn write_quoted(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        self.write_ascii(out);
        out.push(b'"');
    }
}

/// `ascii` between quotes, on the stack: `QUOTED` must be `N + 2`.
pub fn quoted<const N: usize, const QUOTED: usize>(ascii: &[u8; N]) -> [u8; QUOTED] {
    const { assert!(QUOTED == N + 2, "a quoted value is two bytes longer") };
    let mut out = [b'"'; QUOTED];
    out[1..=N].copy_from_slice(ascii);
    out
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

    /// Appends raw JSON: punctuation, keys, or a pre-rendered fragment.
    // Inlined so that a literal fragment is copied with its length known at compile time.
    #[inline(always)]
    pub fn raw(&mut self, fragment: &str) {
        self.buf.extend_from_slice(fragment.as_bytes());
    }

    /// Appends pre-rendered ASCII that needs no escaping (see [`Ascii`]), unquoted.
    // Inlined so that a fixed-width fragment is copied with its length known.
    #[inline(always)]
    pub fn ascii_bytes(&mut self, ascii: &[u8]) {
        self.buf.extend_from_slice(ascii);
    }

    /// Appends `"<value>"`.
    #[inline]
    pub fn ascii(&mut self, value: &(impl Ascii + ?Sized)) {
        value.write_quoted(&mut self.buf);
    }

    /// Appends `"<value>"`, or `null`.
    #[inline]
    pub fn opt_ascii(&mut self, value: Option<&(impl Ascii + ?Sized)>) {
        match value {
            Some(value) => self.ascii(value),
            None => self.raw("null"),
        }
    }

    /// Appends `text` as a JSON string, escaped exactly as serde_json escapes it.
    #[inline]
    pub fn string(&mut self, text: &str) {
        self.checked_string(text, needs_escaping(text.as_bytes()));
    }

    /// [`Self::string`] for text whose need of escapes was decided before, with
    /// [`needs_escaping`] (stored text is checked once, when stored, not on every read).
    #[inline]
    pub fn checked_string(&mut self, text: &str, needs_escaping: bool) {
        if needs_escaping {
            self.serde(&text);
        } else {
            self.buf.reserve(text.len() + 2);
            self.buf.push(b'"');
            self.buf.extend_from_slice(text.as_bytes());
            self.buf.push(b'"');
        }
    }

    /// Appends `text` as a JSON string, or `null`.
    #[inline]
    pub fn opt_string(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.string(text),
            None => self.raw("null"),
        }
    }

    /// Appends a number.
    pub fn number(&mut self, value: u64) {
        self.buf.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    /// How many bytes are written so far: where the next value starts, for [`Self::repeat`].
    pub fn position(&self) -> usize {
        self.buf.len()
    }

    /// Appends again what was written at `range` (a value written earlier).
    pub fn repeat(&mut self, range: std::ops::Range<usize>) {
        self.buf.extend_from_within(range);
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

/// Whether a string holds a byte JSON escapes: a quote, a backslash or a control
/// character. Every message's body, author and attributes go through here, and the answer
/// is almost always "no". Long strings are checked sixteen bytes at a time without an early
/// exit inside a block, which the compiler turns into a few vector compares; the last block
/// overlaps the one before it rather than being padded. Short ones (an author, `{}`) go
/// byte by byte.
pub fn needs_escaping(bytes: &[u8]) -> bool {
    fn escaped(byte: u8) -> bool {
        byte < 0x20 || byte == b'"' || byte == b'\\'
    }
    fn any_escaped(block: &[u8; 16]) -> bool {
        block.iter().fold(false, |found, &byte| found | escaped(byte))
    }
    let Some(last) = bytes.last_chunk::<16>() else {
        return bytes.iter().any(|&byte| escaped(byte));
    };
    bytes.chunks_exact(16).any(|block| block.try_into().is_ok_and(any_escaped)) || any_escaped(last)
}

/// A finished JSON body as a response (`Content-Type: application/json`).
#[derive(Debug)]
pub struct JsonBody(pub Vec<u8>);

impl IntoResponse for JsonBody {
    // Built directly: the generic tuple and `Vec` conversions cost more than the rest of
    // a small response's rendering (BENCHMARKS.md).
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.0));
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
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
        json.raw("{\"sid\":");
        json.ascii(&Word("IM1"));
        json.raw(",\"body\":");
        json.string("say \"hi\"\n\u{1}é\\");
        json.raw(",\"plain\":");
        json.string("héllo wörld, no escapes / at all");
        json.raw(",\"none\":");
        json.opt_string(None);
        json.raw(",\"index\":");
        json.number(42);
        json.raw(",\"zero\":");
        json.number(0);
        json.raw(",\"max\":");
        json.number(u64::MAX);
        json.raw("}");
        let text = String::from_utf8(json.into_bytes()).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["body"], "say \"hi\"\n\u{1}é\\");
        assert_eq!(
            text,
            r#"{"sid":"IM1","body":"say \"hi\"\n\u0001é\\","plain":"héllo wörld, no escapes / at all","none":null,"index":42,"zero":0,"max":18446744073709551615}"#
        );
    }

    #[test]
    fn an_escaped_byte_is_found_at_every_position_of_every_length() {
        for length in 0..50 {
            let plain = vec![b'a'; length];
            assert!(!needs_escaping(&plain), "{length} plain bytes");
            for at in 0..length {
                for special in [b'"', b'\\', b'\n', 0x1f] {
                    let mut text = plain.clone();
                    text[at] = special;
                    assert!(needs_escaping(&text), "{special:#x} at {at} of {length}");
                }
            }
        }
    }

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        let long = "a long line of text, longer than one word of eight bytes: ";
        let cases =
            ["", "plain", "tab\there", "quote\"", "back\\slash", "\u{7f}del", "\u{1f}", "emoji 🎉", "</script>"];
        for case in cases {
            for text in
                [case.to_owned(), format!("{long}{case}"), format!("{case}{long}"), format!("{long}{case}{long}")]
            {
                let mut json = Json::default();
                json.string(&text);
                assert_eq!(json.into_bytes(), serde_json::to_vec(&text).unwrap(), "{text:?}");
            }
        }
    }
}
