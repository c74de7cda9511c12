//! Timestamps as Twilio prints them (`2015-12-16T22:18:37Z`: UTC, whole seconds) and the
//! clock that stamps new resources.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};

/// A point in time with one-second precision, stored as seconds since the Unix epoch.
///
/// Twilio's REST JSON never carries fractional seconds, and twilio-python parses dates with
/// a strict `%Y-%m-%dT%H:%M:%SZ`, so anything else would reach Python users as a string.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(i64);

/// Why a date parameter could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an RFC 3339 date-time")]
pub struct InvalidTimestamp(pub String);

impl Timestamp {
    /// The Unix time in seconds.
    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// A timestamp from Unix seconds.
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        Self(seconds)
    }

    /// Parses an RFC 3339 date-time as the SDKs send it: `Z` or a numeric offset, with or
    /// without fractional seconds. Offsets are converted to UTC (twilio-go sends local time
    /// with an offset) and fractions are dropped, as Twilio "ignores any milliseconds".
    pub fn parse_rfc3339(value: &str) -> Result<Self, InvalidTimestamp> {
        DateTime::parse_from_rfc3339(value.trim())
            .map(|parsed| Self(parsed.timestamp()))
            .map_err(|_| InvalidTimestamp(value.to_owned()))
    }

    /// Parses the start of a date range (`StartDate`): a plain date means its midnight.
    pub fn parse_range_start(value: &str) -> Result<Self, InvalidTimestamp> {
        match Self::parse_plain_date(value) {
            Some(midnight) => Ok(midnight),
            None => Self::parse_rfc3339(value),
        }
    }

    /// Parses the exclusive end of a date range (`EndDate`): a plain date includes that
    /// whole day, a date-time includes that second.
    pub fn parse_range_end(value: &str) -> Result<Self, InvalidTimestamp> {
        const DAY: i64 = 86_400;
        match Self::parse_plain_date(value) {
            Some(midnight) => Ok(Self(midnight.0 + DAY)),
            None => Self::parse_rfc3339(value).map(|at| Self(at.0 + 1)),
        }
    }

    fn parse_plain_date(value: &str) -> Option<Self> {
        let date = chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok()?;
        date.and_hms_opt(0, 0, 0)
            .map(|midnight| Self(midnight.and_utc().timestamp()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DateTime::<Utc>::from_timestamp(self.0, 0) {
            Some(datetime) => f.write_str(&datetime.to_rfc3339_opts(SecondsFormat::Secs, true)),
            // Out of chrono's range (only reachable through absurd user input): print the
            // raw number rather than failing the response.
            None => write!(f, "{}", self.0),
        }
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Where "now" comes from. The system clock by default; tests and the control plane can
/// pin it so that dates are deterministic.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    fixed: Option<Timestamp>,
}

impl Clock {
    /// The real wall clock.
    pub fn system() -> Self {
        Self { fixed: None }
    }

    /// A clock that always reads `at`.
    pub fn fixed(at: Timestamp) -> Self {
        Self { fixed: Some(at) }
    }

    /// The current time, truncated to whole seconds.
    pub fn now(&self) -> Timestamp {
        self.fixed
            .unwrap_or_else(|| Timestamp(Utc::now().timestamp()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_twilio_format() {
        let ts = Timestamp::parse_rfc3339("2015-12-16T22:18:37Z").unwrap();
        assert_eq!(ts.to_string(), "2015-12-16T22:18:37Z");
    }

    #[test]
    fn converts_offsets_and_drops_fractions() {
        let ts = Timestamp::parse_rfc3339("2024-01-02T05:04:05.999+02:00").unwrap();
        assert_eq!(ts.to_string(), "2024-01-02T03:04:05Z");
    }

    #[test]
    fn rejects_non_dates() {
        for bad in ["yesterday", "2024-13-01T00:00:00Z", "2024-01-01", ""] {
            assert!(
                Timestamp::parse_rfc3339(bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn date_ranges_accept_plain_dates_and_include_the_end_day() {
        assert_eq!(
            Timestamp::parse_range_start("2024-01-31")
                .unwrap()
                .to_string(),
            "2024-01-31T00:00:00Z"
        );
        assert_eq!(
            Timestamp::parse_range_end("2024-01-31")
                .unwrap()
                .to_string(),
            "2024-02-01T00:00:00Z"
        );
        assert_eq!(
            Timestamp::parse_range_end("2024-01-31T10:00:00Z")
                .unwrap()
                .to_string(),
            "2024-01-31T10:00:01Z"
        );
    }
}
