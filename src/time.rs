//! Timestamps as Twilio prints them (`2015-12-16T22:18:37Z`: UTC, whole seconds) and the
//! clock that stamps new resources.

use std::cell::RefCell;
use std::fmt;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};

use crate::memo::{Memo, remembered};

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
        date.and_hms_opt(0, 0, 0).map(|midnight| Self(midnight.and_utc().timestamp()))
    }
}

impl Timestamp {
    /// `YYYY-MM-DDTHH:MM:SSZ` as 20 ASCII bytes, for years 0 to 9999; `None` outside them.
    /// Written by hand because this runs twice per message served: no allocation, no
    /// format-string interpretation.
    fn to_ascii(self) -> Option<[u8; 20]> {
        let days = self.0.div_euclid(86_400);
        let seconds_of_day = self.0.rem_euclid(86_400);
        let date = remembered(&LAST_DATE, &days, || date_ascii(days))?;
        let mut out = *b"0000-00-00T00:00:00Z";
        out[..10].copy_from_slice(&date);
        put_pair(&mut out, 11, seconds_of_day / 3600);
        put_pair(&mut out, 14, seconds_of_day / 60 % 60);
        put_pair(&mut out, 17, seconds_of_day % 60);
        Some(out)
    }
}

thread_local! {
    /// The last day this thread rendered, with its `YYYY-MM-DD`. The timestamps of a page
    /// of messages almost always fall on one day, and the calendar arithmetic is most of
    /// the cost of rendering one.
    static LAST_DATE: Memo<i64, Option<[u8; 10]>> = const { RefCell::new(None) };
}

/// `YYYY-MM-DD` of the day `days` after 1970-01-01, for years 0 to 9999.
fn date_ascii(days: i64) -> Option<[u8; 10]> {
    // Civil-from-days (Howard Hinnant's algorithm), valid for the whole i64 day range.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let mut out = *b"0000-00-00";
    put_pair(&mut out, 0, year / 100);
    put_pair(&mut out, 2, year % 100);
    put_pair(&mut out, 5, month);
    put_pair(&mut out, 8, day);
    Some(out)
}

/// Writes `value` (0 to 99) as two digits at `at`, by table: a page of 50 messages renders
/// 100 timestamps.
fn put_pair(out: &mut [u8], at: usize, value: i64) {
    let pair = usize::try_from(value).unwrap_or_default() * 2;
    out[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
}

/// "00" to "99", concatenated.
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_ascii() {
            // The buffer holds only ASCII digits and separators.
            Some(ascii) => f.write_str(std::str::from_utf8(&ascii).map_err(|_| fmt::Error)?),
            // Years beyond 9999 (only reachable through absurd input): chrono prints them.
            None => match DateTime::<Utc>::from_timestamp(self.0, 0) {
                Some(datetime) => f.write_str(&datetime.to_rfc3339_opts(SecondsFormat::Secs, true)),
                None => write!(f, "{}", self.0),
            },
        }
    }
}

impl crate::json::Ascii for Timestamp {
    fn write_ascii(&self, out: &mut Vec<u8>) {
        match self.to_ascii() {
            Some(ascii) => out.extend_from_slice(&ascii),
            // Digits, signs and separators only, whatever the year.
            None => out.extend_from_slice(self.to_string().as_bytes()),
        }
    }

    fn write_quoted(&self, out: &mut Vec<u8>) {
        match self.to_ascii() {
            Some(ascii) => out.extend_from_slice(&crate::json::quoted::<20, 22>(&ascii)),
            None => {
                out.push(b'"');
                self.write_ascii(out);
                out.push(b'"');
            }
        }
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Where "now" comes from: the system clock, shifted by an offset or frozen at an instant
/// when a test asks for it (`/_emulator/clock`). Clones share one setting.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    setting: Arc<ClockSetting>,
}

#[derive(Debug, Default)]
struct ClockSetting {
    /// Seconds added to the system time.
    offset: AtomicI64,
    /// The frozen instant, or [`NOT_FROZEN`].
    frozen: AtomicI64,
}

/// Marks an unfrozen clock; no timestamp Twilio can print is this far in the past.
const NOT_FROZEN: i64 = i64::MIN;

/// What a clock currently does, for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// System time plus `offset_seconds`.
    Running { offset_seconds: i64 },
    /// Always this instant, until advanced.
    Frozen { at: Timestamp },
}

impl Clock {
    /// The real wall clock.
    pub fn system() -> Self {
        let setting = ClockSetting { offset: AtomicI64::new(0), frozen: AtomicI64::new(NOT_FROZEN) };
        Self { setting: Arc::new(setting) }
    }

    /// A clock that reads `at` until changed.
    pub fn fixed(at: Timestamp) -> Self {
        let clock = Self::system();
        clock.freeze(at);
        clock
    }

    /// The current time, truncated to whole seconds.
    pub fn now(&self) -> Timestamp {
        match self.mode() {
            ClockMode::Frozen { at } => at,
            ClockMode::Running { offset_seconds } => Timestamp(Utc::now().timestamp().saturating_add(offset_seconds)),
        }
    }

    /// What the clock does now.
    pub fn mode(&self) -> ClockMode {
        match self.setting.frozen.load(Ordering::Acquire) {
            NOT_FROZEN => ClockMode::Running { offset_seconds: self.setting.offset.load(Ordering::Acquire) },
            at => ClockMode::Frozen { at: Timestamp(at) },
        }
    }

    /// Stops the clock at `at`.
    pub fn freeze(&self, at: Timestamp) {
        self.setting.frozen.store(at.0.max(NOT_FROZEN + 1), Ordering::Release);
    }

    /// Lets the clock run, `offset_seconds` ahead of (or behind) the system clock.
    pub fn run_with_offset(&self, offset_seconds: i64) {
        self.setting.offset.store(offset_seconds, Ordering::Release);
        self.setting.frozen.store(NOT_FROZEN, Ordering::Release);
    }

    /// Moves the clock forward by `seconds`, frozen or running.
    pub fn advance(&self, seconds: i64) {
        match self.mode() {
            ClockMode::Frozen { at } => self.freeze(Timestamp(at.0.saturating_add(seconds))),
            ClockMode::Running { offset_seconds } => self.run_with_offset(offset_seconds.saturating_add(seconds)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_formatter_agrees_with_chrono() {
        let samples =
            [0, 1, 59, 86_399, 86_400, 951_782_400, 1_700_000_000, 4_102_444_799, 253_402_300_799, -1, -86_401];
        let spread = (0..2_000).map(|i| i * 12_345_679 - 10_000_000_000);
        for seconds in samples.into_iter().chain(spread) {
            let expected =
                DateTime::<Utc>::from_timestamp(seconds, 0).unwrap().to_rfc3339_opts(SecondsFormat::Secs, true);
            assert_eq!(Timestamp(seconds).to_string(), expected, "{seconds}");
        }
    }

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
    fn clocks_freeze_offset_and_advance() {
        let clock = Clock::fixed(Timestamp(1_000));
        let shared = clock.clone();
        shared.advance(5);
        assert_eq!(clock.now(), Timestamp(1_005));
        clock.run_with_offset(3_600);
        let ahead = clock.now().unix_seconds() - Utc::now().timestamp();
        assert!((3_599..=3_601).contains(&ahead), "{ahead}");
        assert_eq!(clock.mode(), ClockMode::Running { offset_seconds: 3_600 });
    }

    #[test]
    fn rejects_non_dates() {
        for bad in ["yesterday", "2024-13-01T00:00:00Z", "2024-01-01", ""] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn date_ranges_accept_plain_dates_and_include_the_end_day() {
        assert_eq!(Timestamp::parse_range_start("2024-01-31").unwrap().to_string(), "2024-01-31T00:00:00Z");
        assert_eq!(Timestamp::parse_range_end("2024-01-31").unwrap().to_string(), "2024-02-01T00:00:00Z");
        assert_eq!(Timestamp::parse_range_end("2024-01-31T10:00:00Z").unwrap().to_string(), "2024-01-31T10:00:01Z");
    }
}
