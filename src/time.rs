//! Timestamps as Twilio prints them (`2015-12-16T22:18:37Z`: UTC, whole seconds) and the
//! clock that stamps new resources.

use std::cell::RefCell;
use std::fmt;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

use crate::memo::{Memo, remembered};

/// A point in time with one-second precision, stored as seconds since the Unix epoch,
/// always within years 0001 to 9999 in UTC.
///
/// Twilio's REST JSON never carries fractional seconds, and twilio-python parses dates with
/// a strict `%Y-%m-%dT%H:%M:%SZ`, so anything else would reach Python users as a string.
/// That format has four digits of year and no sign: an instant outside those years could
/// be stored but not printed so that a client reads it back, so none is ever made.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(i64);

/// Why a date parameter could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTimestamp {
    /// Not an RFC 3339 date-time (nor, where one is taken, a plain date).
    #[error("`{0}` is not an RFC 3339 date-time")]
    Malformed(String),
    /// A date-time that is valid but falls outside years 0001 to 9999 in UTC (once its
    /// offset is applied, `0001-01-01T00:00:00+01:00` is in year 0).
    #[error("`{0}` is outside years 0001 to 9999 (UTC)")]
    OutOfRange(String),
}

impl Timestamp {
    /// The first instant Twilio's format can print: 0001-01-01T00:00:00Z.
    pub const MIN: Self = Self(-62_135_596_800);
    /// The last: 9999-12-31T23:59:59Z.
    pub const MAX: Self = Self(253_402_300_799);

    /// The Unix time in seconds.
    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// A timestamp from Unix seconds, or `None` outside [`Self::MIN`]..=[`Self::MAX`].
    pub const fn checked_from_unix_seconds(seconds: i64) -> Option<Self> {
        if seconds < Self::MIN.0 || seconds > Self::MAX.0 { None } else { Some(Self(seconds)) }
    }

    /// A timestamp from Unix seconds, held to [`Self::MIN`]..=[`Self::MAX`].
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        match Self::checked_from_unix_seconds(seconds) {
            Some(at) => at,
            None if seconds < 0 => Self::MIN,
            None => Self::MAX,
        }
    }

    /// `seconds` later (earlier when negative), or `None` outside the printable years.
    pub fn checked_add(self, seconds: i64) -> Option<Self> {
        self.0.checked_add(seconds).and_then(Self::checked_from_unix_seconds)
    }

    /// Parses an RFC 3339 date-time as the SDKs send it: `Z` or a numeric offset, with or
    /// without fractional seconds. Offsets are converted to UTC (twilio-go sends local time
    /// with an offset) and fractions are dropped, as Twilio "ignores any milliseconds".
    /// Instants outside years 0001 to 9999 in UTC are refused here, at the edge, because
    /// they could not be printed back (see [`Timestamp`]).
    pub fn parse_rfc3339(value: &str) -> Result<Self, InvalidTimestamp> {
        let parsed =
            DateTime::parse_from_rfc3339(value.trim()).map_err(|_| InvalidTimestamp::Malformed(value.to_owned()))?;
        Self::checked_from_unix_seconds(parsed.timestamp())
            .ok_or_else(|| InvalidTimestamp::OutOfRange(value.to_owned()))
    }

    /// Parses the start of a date range (`StartDate`): a plain date means its midnight.
    pub fn parse_range_start(value: &str) -> Result<Self, InvalidTimestamp> {
        match Self::parse_plain_date(value)? {
            Some(midnight) => Ok(midnight),
            None => Self::parse_rfc3339(value),
        }
    }

    /// Parses the end of a date range (`EndDate`) into the first instant after it: a plain
    /// date includes that whole day, a date-time includes that second. `None` when that
    /// instant is past [`Self::MAX`]: then no timestamp is after the range, so it has no end.
    pub fn parse_range_end(value: &str) -> Result<Option<Self>, InvalidTimestamp> {
        const DAY: i64 = 86_400;
        Ok(match Self::parse_plain_date(value)? {
            Some(midnight) => midnight.checked_add(DAY),
            None => Self::parse_rfc3339(value)?.checked_add(1),
        })
    }

    /// A plain `YYYY-MM-DD` date's midnight; `None` for anything else, and an error for a
    /// date outside the printable years.
    fn parse_plain_date(value: &str) -> Result<Option<Self>, InvalidTimestamp> {
        let Ok(date) = chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d") else {
            return Ok(None);
        };
        let midnight = date.and_hms_opt(0, 0, 0).map(|midnight| midnight.and_utc().timestamp());
        match midnight.and_then(Self::checked_from_unix_seconds) {
            Some(midnight) => Ok(Some(midnight)),
            None => Err(InvalidTimestamp::OutOfRange(value.to_owned())),
        }
    }
}

impl Timestamp {
    /// `YYYY-MM-DDTHH:MM:SSZ` as 20 ASCII bytes. Written by hand because this runs twice
    /// per message served: no allocation, no format-string interpretation.
    pub(crate) fn to_ascii(self) -> [u8; 20] {
        let days = self.0.div_euclid(86_400);
        let seconds_of_day = self.0.rem_euclid(86_400);
        let date = remembered(&LAST_DATE, &days, || date_ascii(days));
        let mut out = *b"0000-00-00T00:00:00Z";
        out[..10].copy_from_slice(&date);
        put_pair(&mut out, 11, seconds_of_day / 3600);
        put_pair(&mut out, 14, seconds_of_day / 60 % 60);
        put_pair(&mut out, 17, seconds_of_day % 60);
        out
    }
}

thread_local! {
    /// The last day this thread rendered, with its `YYYY-MM-DD`. The timestamps of a page
    /// of messages almost always fall on one day, and the calendar arithmetic is most of
    /// the cost of rendering one.
    static LAST_DATE: Memo<i64, [u8; 10]> = const { RefCell::new(None) };
}

/// `YYYY-MM-DD` of the day `days` after 1970-01-01, for the days of a [`Timestamp`] (years
/// 0001 to 9999, so four digits).
fn date_ascii(days: i64) -> [u8; 10] {
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
    let mut out = *b"0000-00-00";
    put_pair(&mut out, 0, year / 100);
    put_pair(&mut out, 2, year % 100);
    put_pair(&mut out, 5, month);
    put_pair(&mut out, 8, day);
    out
}

/// Writes `value` (0 to 99) as two digits at `at`, by table: a page of 50 messages renders
/// 100 timestamps. Anything else (never passed) is held to that range rather than panic.
fn put_pair(out: &mut [u8], at: usize, value: i64) {
    let pair = usize::try_from(value.clamp(0, 99)).unwrap_or_default() * 2;
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
        // The buffer holds only ASCII digits and separators.
        f.write_str(std::str::from_utf8(&self.to_ascii()).map_err(|_| fmt::Error)?)
    }
}

impl crate::json::Ascii for Timestamp {
    fn write_ascii(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_ascii());
    }

    fn write_quoted(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&crate::json::quoted::<20, 22>(&self.to_ascii()));
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Reads an ISO 8601 duration as Twilio's timers take it (`PT5M`, `P1D`, `P1DT12H`,
/// `P2W`) into seconds. Years and months are refused, since their length depends on the
/// date they start from; so are fractions, signs, and durations too long to add to a
/// timestamp. `None` when it is not such a duration.
pub fn parse_duration_seconds(value: &str) -> Option<i64> {
    let rest = value.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return None,
        None => (rest, None),
    };
    if date.is_empty() && time.is_none() {
        return None;
    }
    let mut total: i64 = 0;
    for (part, units) in
        [(date, &[('W', 604_800), ('D', 86_400)][..]), (time.unwrap_or(""), &[('H', 3_600), ('M', 60), ('S', 1)][..])]
    {
        let mut digits = String::new();
        let mut next_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            // Each unit at most once, in order, each after its digits.
            let position = units[next_unit..].iter().position(|(unit, _)| *unit == c)? + next_unit;
            let count: i64 = digits.parse().ok()?;
            total = total.checked_add(count.checked_mul(units[position].1)?)?;
            digits.clear();
            next_unit = position + 1;
        }
        if !digits.is_empty() {
            return None;
        }
    }
    // Longer than the printable years could never run out: refused rather than clamped.
    (total <= Timestamp::MAX.0 - Timestamp::MIN.0).then_some(total)
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

/// A clock setting refused because "now" would leave the years a [`Timestamp`] can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the clock would leave years 0001 to 9999 (UTC)")]
pub struct ClockOutOfRange;

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

    /// The current time, truncated to whole seconds. A running clock's offset was checked
    /// when set, but the system clock moves on: "now" is held to the printable years
    /// rather than ever leaving them.
    pub fn now(&self) -> Timestamp {
        match self.mode() {
            ClockMode::Frozen { at } => at,
            ClockMode::Running { offset_seconds } => {
                Timestamp::from_unix_seconds(Utc::now().timestamp().saturating_add(offset_seconds))
            }
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

    /// Lets the clock run, `offset_seconds` ahead of (or behind) the system clock; refused
    /// when that would put "now" outside the printable years.
    pub fn run_with_offset(&self, offset_seconds: i64) -> Result<(), ClockOutOfRange> {
        Utc::now()
            .timestamp()
            .checked_add(offset_seconds)
            .and_then(Timestamp::checked_from_unix_seconds)
            .ok_or(ClockOutOfRange)?;
        self.run(offset_seconds);
        Ok(())
    }

    /// Back to the system clock.
    pub fn reset(&self) {
        self.run(0);
    }

    fn run(&self, offset_seconds: i64) {
        self.setting.offset.store(offset_seconds, Ordering::Release);
        self.setting.frozen.store(NOT_FROZEN, Ordering::Release);
    }

    /// Moves the clock forward by `seconds` (back, when negative), frozen or running;
    /// refused when that would put "now" outside the printable years.
    pub fn advance(&self, seconds: i64) -> Result<(), ClockOutOfRange> {
        match self.mode() {
            ClockMode::Frozen { at } => {
                self.freeze(at.checked_add(seconds).ok_or(ClockOutOfRange)?);
                Ok(())
            }
            ClockMode::Running { offset_seconds } => {
                self.run_with_offset(offset_seconds.checked_add(seconds).ok_or(ClockOutOfRange)?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_twilio_timers_take_them() {
        let cases = [
            ("PT5M", Some(300)),
            ("P1D", Some(86_400)),
            ("P1DT12H", Some(129_600)),
            ("PT1H30M15S", Some(5_415)),
            ("P2W", Some(1_209_600)),
            ("PT0S", Some(0)),
            ("P1Y", None),
            ("P1M", None),
            ("PT", None),
            ("P", None),
            ("5M", None),
            ("PT1.5S", None),
            ("PT5M1H", None),
            ("PT-5M", None),
            ("P99999999999999999999D", None),
            ("P999999999999D", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_duration_seconds(input), expected, "{input}");
        }
    }

    #[test]
    fn the_fast_formatter_agrees_with_chrono() {
        let samples =
            [0, 1, 59, 86_399, 86_400, 951_782_400, 1_700_000_000, 4_102_444_799, 253_402_300_799, -1, -86_401];
        let samples = samples.into_iter().chain([Timestamp::MIN.0, Timestamp::MIN.0 + 86_399, Timestamp::MAX.0]);
        let spread = (0..2_000).map(|i| i * 12_345_679 - 10_000_000_000);
        for seconds in samples.chain(spread) {
            let expected =
                DateTime::<Utc>::from_timestamp(seconds, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
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
        shared.advance(5).expect("a step within the printable years");
        assert_eq!(clock.now(), Timestamp(1_005));
        clock.run_with_offset(3_600).expect("an hour ahead is fine");
        let ahead = clock.now().unix_seconds() - Utc::now().timestamp();
        assert!((3_599..=3_601).contains(&ahead), "{ahead}");
        assert_eq!(clock.mode(), ClockMode::Running { offset_seconds: 3_600 });
    }

    #[test]
    fn instants_outside_years_0001_to_9999_in_utc_are_refused_when_parsed() {
        // Arrange: both ends, reached with and without an offset.
        let refused = [
            "0000-01-01T00:00:00+01:00",
            "0000-12-31T23:59:59Z",
            "0001-01-01T00:59:59+01:00",
            "9999-12-31T23:59:59-01:00",
            "9999-12-31T23:00:00-01:00",
        ];
        let accepted = [
            ("0001-01-01T00:00:00Z", Timestamp::MIN),
            ("0001-01-01T01:00:00+01:00", Timestamp::MIN),
            ("9999-12-31T23:59:59Z", Timestamp::MAX),
            ("9999-12-31T22:59:59-01:00", Timestamp::MAX),
        ];
        // Act and assert.
        for raw in refused {
            assert_eq!(Timestamp::parse_rfc3339(raw), Err(InvalidTimestamp::OutOfRange(raw.to_owned())), "{raw}");
            assert!(Timestamp::parse_range_start(raw).is_err(), "{raw}");
        }
        for (raw, expected) in accepted {
            assert_eq!(Timestamp::parse_rfc3339(raw), Ok(expected), "{raw}");
        }
        assert_eq!(Timestamp::MIN.to_string(), "0001-01-01T00:00:00Z");
        assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T23:59:59Z");
        assert_eq!(Timestamp::parse_range_start("0000-12-31"), Err(InvalidTimestamp::OutOfRange("0000-12-31".into())));
        assert_eq!(Timestamp::parse_range_start("0001-01-01"), Ok(Timestamp::MIN));
    }

    #[test]
    fn a_range_ending_after_the_last_printable_instant_has_no_end() {
        assert_eq!(Timestamp::parse_range_end("9999-12-31"), Ok(None));
        assert_eq!(Timestamp::parse_range_end("9999-12-31T23:59:59Z"), Ok(None));
        assert_eq!(Timestamp::parse_range_end("9999-12-31T23:59:58Z"), Ok(Some(Timestamp::MAX)));
        assert_eq!(Timestamp::parse_range_end("9999-12-30"), Ok(Some(Timestamp(Timestamp::MAX.0 - 86_399))));
    }

    #[test]
    fn arithmetic_on_timestamps_stays_within_the_printable_years() {
        assert_eq!(Timestamp::MAX.checked_add(1), None);
        assert_eq!(Timestamp::MIN.checked_add(-1), None);
        assert_eq!(Timestamp::MAX.checked_add(i64::MAX), None);
        assert_eq!(Timestamp::MIN.checked_add(i64::MIN), None);
        assert_eq!(Timestamp::MIN.checked_add(1), Some(Timestamp(Timestamp::MIN.0 + 1)));
        assert_eq!(Timestamp::from_unix_seconds(i64::MAX), Timestamp::MAX);
        assert_eq!(Timestamp::from_unix_seconds(i64::MIN), Timestamp::MIN);
        assert_eq!(Timestamp::checked_from_unix_seconds(Timestamp::MAX.0 + 1), None);
    }

    #[test]
    fn clock_settings_that_would_leave_the_printable_years_are_refused_and_change_nothing() {
        // A frozen clock at either end cannot step past it.
        let clock = Clock::fixed(Timestamp::MAX);
        assert_eq!(clock.advance(1), Err(ClockOutOfRange));
        assert_eq!(clock.advance(i64::MAX), Err(ClockOutOfRange));
        assert_eq!(clock.now(), Timestamp::MAX);
        clock.freeze(Timestamp::MIN);
        assert_eq!(clock.advance(-1), Err(ClockOutOfRange));
        assert_eq!(clock.advance(i64::MIN), Err(ClockOutOfRange));
        assert_eq!(clock.mode(), ClockMode::Frozen { at: Timestamp::MIN });
        // A running clock refuses offsets that take it out, and steps that overflow.
        let clock = Clock::system();
        for offset in [i64::MAX, i64::MIN, Timestamp::MAX.0, -Timestamp::MAX.0] {
            assert_eq!(clock.run_with_offset(offset), Err(ClockOutOfRange), "{offset}");
        }
        assert_eq!(clock.mode(), ClockMode::Running { offset_seconds: 0 });
        let to_the_end = Timestamp::MAX.0 - Utc::now().timestamp() - 60;
        clock.run_with_offset(to_the_end).expect("a minute before the end is printable");
        assert_eq!(clock.advance(120), Err(ClockOutOfRange));
        assert_eq!(clock.advance(i64::MAX), Err(ClockOutOfRange));
        assert_eq!(clock.mode(), ClockMode::Running { offset_seconds: to_the_end });
        assert!(clock.now() <= Timestamp::MAX);
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
        assert_eq!(Timestamp::parse_range_end("2024-01-31").unwrap().unwrap().to_string(), "2024-02-01T00:00:00Z");
        assert_eq!(
            Timestamp::parse_range_end("2024-01-31T10:00:00Z").unwrap().unwrap().to_string(),
            "2024-01-31T10:00:01Z"
        );
    }
}
