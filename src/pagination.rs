//! Twilio v1 list paging at the edge: the `PageSize`/`Page`/`PageToken` query, page
//! tokens, page URLs and the `meta` envelope. Picking a page out of a collection is the
//! store's (`crate::store::selection`). See
//! <https://www.twilio.com/docs/usage/twilios-response#pagination>.
//!
//! Page tokens are cursors, not offsets: `PTA17` means "after key 17 in the order being
//! walked", `PTB17` "just before key 17". A page is therefore found in O(log n + page
//! size) however large the collection, and a walk that follows `next_page_url` sees every
//! record that existed throughout exactly once, whatever is created or deleted between
//! requests.

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::error::{ApiError, Expected, InvalidValue};
use crate::json::Json;
pub use crate::store::selection::{Cursor, Order, PageRequest, Selection};

/// Twilio's default page size.
pub const DEFAULT_PAGE_SIZE: usize = 50;

impl Order {
    /// Parses `asc`/`desc` in any letter case (the spec's examples use `DeSc`).
    pub fn parse(value: &str) -> Result<Self, ApiError> {
        if value.eq_ignore_ascii_case("asc") {
            Ok(Self::Asc)
        } else if value.eq_ignore_ascii_case("desc") {
            Ok(Self::Desc)
        } else {
            let (value, expected) = (value.to_owned(), Expected::OneOf("asc, desc"));
            Err(ApiError::invalid("Order parameter", InvalidValue::NotA { value, expected }))
        }
    }

    /// The canonical spelling echoed into page URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

impl Cursor {
    fn token(self) -> Option<String> {
        match self {
            Self::After(key) => Some(format!("PTA{key}")),
            Self::Before(key) => Some(format!("PTB{key}")),
            Self::Start | Self::Offset(_) => None,
        }
    }

    fn parse_token(token: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::invalid("PageToken", InvalidValue::Malformed(token.to_owned()));
        let rest = token.strip_prefix("PT").ok_or_else(invalid)?;
        let (kind, digits) = rest.split_at_checked(1).ok_or_else(invalid)?;
        let key: u64 = digits.parse().map_err(|_| invalid())?;
        match kind {
            "A" => Ok(Self::After(key)),
            "B" => Ok(Self::Before(key)),
            _ => Err(invalid()),
        }
    }
}

/// The raw paging parameters of a list request, before validation.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PageParams {
    pub page_size: Option<String>,
    pub page: Option<String>,
    pub page_token: Option<String>,
}

/// Filter parameters echoed into page URLs, before the paging ones (`Order=desc&…`).
pub type Filters = Vec<(&'static str, String)>;

/// The query of a list that can be walked either way (messages): `Order` plus paging.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderedPageParams {
    pub order: Option<String>,
    #[serde(flatten)]
    pub page: PageParams,
}

impl OrderedPageParams {
    /// The validated request, and the filters its page URLs echo: the order, only when the
    /// client chose one (as Twilio does).
    pub fn parse(&self, max_size: usize) -> Result<(PageRequest, Filters), ApiError> {
        let order = self.order.as_deref().map(Order::parse).transpose()?;
        let request = PageRequest::parse(&self.page, order.unwrap_or_default(), max_size)?;
        Ok((request, order.map(|order| ("Order", order.as_str().to_owned())).into_iter().collect()))
    }
}

impl PageRequest {
    /// Validates the paging parameters. A `PageSize` above `max_size` is clamped rather than
    /// rejected: the SDKs send `PageSize=limit` unclamped (`list(limit=200)`), and the real
    /// API serves those requests.
    pub fn parse(params: &PageParams, order: Order, max_size: usize) -> Result<Self, ApiError> {
        let size = match params.page_size.as_deref() {
            None => DEFAULT_PAGE_SIZE.min(max_size),
            Some(raw) => {
                let digits = raw.trim();
                let is_positive_integer = !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && digits.bytes().any(|b| b != b'0');
                if !is_positive_integer {
                    let (value, expected) = (raw.to_owned(), Expected::PositiveUpTo(max_size));
                    return Err(ApiError::invalid("PageSize", InvalidValue::NotA { value, expected }));
                }
                // Any positive integer is clamped, even one too large for a machine word.
                digits.parse::<usize>().map_or(max_size, |size| size.min(max_size))
            }
        };
        let number = match params.page.as_deref() {
            None => 0,
            Some(raw) => raw.trim().parse::<usize>().map_err(|_| {
                let (value, expected) = (raw.to_owned(), Expected::NonNegativeInteger);
                ApiError::invalid("Page", InvalidValue::NotA { value, expected })
            })?,
        };
        let cursor = match params.page_token.as_deref() {
            Some(token) => Cursor::parse_token(token)?,
            None if number > 0 => Cursor::Offset(number.saturating_mul(size)),
            None => Cursor::Start,
        };
        Ok(Self { order, size, number, cursor })
    }
}

/// Builds the absolute page URLs of a list: `{base}{path}?{filters}PageSize=…&Page=…`.
#[derive(Debug)]
pub struct PageLinks<'a> {
    /// Scheme, host and port the client reached us on, e.g. `http://127.0.0.1:8787`.
    pub base: &'a str,
    /// The list's path, e.g. `/v1/Conversations/CH…/Messages`.
    pub path: String,
    /// Filter parameters echoed before the paging ones, as Twilio does.
    pub filters: Filters,
}

impl PageLinks<'_> {
    fn url(&self, size: usize, page: usize, cursor: Option<Cursor>) -> String {
        // Written straight into one string (three per page): a form serializer with
        // `to_string`ed numbers and a final `format!` showed in a list page's profile
        // (BENCHMARKS.md, "page URLs written into one string").
        fn encode(text: &str) -> form_urlencoded::ByteSerialize<'_> {
            form_urlencoded::byte_serialize(text.as_bytes())
        }
        let mut url = String::with_capacity(self.base.len() + self.path.len() + 96);
        url.push_str(self.base);
        url.push_str(&self.path);
        url.push('?');
        for (name, value) in &self.filters {
            url.extend(encode(name));
            url.push('=');
            url.extend(encode(value));
            url.push('&');
        }
        let mut digits = itoa::Buffer::new();
        url.push_str("PageSize=");
        url.push_str(digits.format(size));
        url.push_str("&Page=");
        url.push_str(digits.format(page));
        if let Some(token) = cursor.and_then(Cursor::token) {
            url.push_str("&PageToken=");
            url.extend(encode(&token));
        }
        url
    }

    /// The `meta` object for `selection`, served in answer to `request`.
    pub fn meta<T>(&self, request: &PageRequest, selection: &Selection<T>, key: &'static str) -> Meta {
        let size = request.size;
        let this_cursor = match request.cursor {
            cursor @ (Cursor::After(_) | Cursor::Before(_)) => Some(cursor),
            Cursor::Start | Cursor::Offset(_) => None,
        };
        Meta {
            page: request.number,
            page_size: size,
            first_page_url: self.url(size, 0, None),
            previous_page_url: selection
                .previous
                .map(|cursor| self.url(size, request.number.saturating_sub(1), Some(cursor))),
            url: self.url(size, request.number, this_cursor),
            next_page_url: selection.next.map(|cursor| self.url(size, request.number.saturating_add(1), Some(cursor))),
            key,
        }
    }
}

/// The `meta` object of a v1 list. Every key is always present (null where absent):
/// twilio-java dereferences them unconditionally.
#[derive(Clone, Debug, Serialize)]
pub struct Meta {
    pub page: usize,
    pub page_size: usize,
    pub first_page_url: String,
    pub previous_page_url: Option<String>,
    pub url: String,
    pub next_page_url: Option<String>,
    pub key: &'static str,
}

impl Meta {
    /// Appends the same JSON as serde would (a test holds them together), through the
    /// writer that renders message pages: the URLs need no escaping, and serde's escaper
    /// checked them byte by byte on every page.
    pub fn write_json(&self, json: &mut Json) {
        json.raw("{\"page\":");
        json.number(self.page as u64);
        json.raw(",\"page_size\":");
        json.number(self.page_size as u64);
        json.raw(",\"first_page_url\":");
        json.string(&self.first_page_url);
        json.raw(",\"previous_page_url\":");
        json.opt_string(self.previous_page_url.as_deref());
        json.raw(",\"url\":");
        json.string(&self.url);
        json.raw(",\"next_page_url\":");
        json.opt_string(self.next_page_url.as_deref());
        json.raw(",\"key\":");
        json.string(self.key);
        json.raw("}");
    }
}

/// A list response: the records under `meta.key`, then `meta`.
#[derive(Debug)]
pub struct ListBody<T> {
    pub records: Vec<T>,
    pub meta: Meta,
}

impl<T: Serialize> Serialize for ListBody<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(self.meta.key, &self.records)?;
        map.serialize_entry("meta", &self.meta)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_writes_what_serde_writes() {
        let url =
            |page| format!("http://localhost:4747/v1/Conversations/CH1/Messages?Order=desc&PageSize=50&Page={page}");
        let with_neighbours = Meta {
            page: 1,
            page_size: 50,
            first_page_url: url(0),
            previous_page_url: Some(url(0) + "&PageToken=PTB1"),
            url: url(1),
            next_page_url: Some(url(2) + "&PageToken=PTA9"),
            key: "messages",
        };
        let alone = Meta { previous_page_url: None, next_page_url: None, page: 0, ..with_neighbours.clone() };
        for meta in [with_neighbours, alone] {
            let mut json = Json::default();
            meta.write_json(&mut json);
            assert_eq!(String::from_utf8(json.into_bytes()).unwrap(), serde_json::to_string(&meta).unwrap());
        }
    }

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        for cursor in [Cursor::After(0), Cursor::Before(u64::MAX)] {
            assert_eq!(Cursor::parse_token(&cursor.token().unwrap()), Ok(cursor));
        }
        for bad in ["", "PT", "PTA", "PTX5", "PTA-1", "XXA5", "PTA5x"] {
            assert!(Cursor::parse_token(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn page_size_is_clamped_and_validated() {
        let params = |size: &str| PageParams { page_size: Some(size.into()), ..PageParams::default() };
        assert_eq!(PageRequest::parse(&params("500"), Order::Asc, 100).unwrap().size, 100);
        assert_eq!(PageRequest::parse(&PageParams::default(), Order::Asc, 100).unwrap().size, 50);
        for bad in ["0", "00", "-1", "+5", "abc", "1.5", ""] {
            assert!(PageRequest::parse(&params(bad), Order::Asc, 100).is_err(), "{bad}");
        }
    }
}
