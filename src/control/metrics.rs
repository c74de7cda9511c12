//! Metrics in the Prometheus text format (version 0.0.4,
//! <https://prometheus.io/docs/instrumenting/exposition_formats/>): Twilio API requests by
//! method, route template and status, with a latency histogram, plus gauges for the
//! store, the journal and the fault rules.
//!
//! Requests are counted with atomics. The series map sits behind a read-write lock that
//! every request takes only for reading, once its series exists, so concurrent requests
//! never wait for each other and a lookup allocates nothing (the route is looked up by
//! `&str`). The write lock is taken once per new (route, method, status), and the number of
//! series stays bounded: routes are the router's templates (or `unmatched`), unusual
//! methods share `OTHER`, and statuses are three digits.

use std::fmt::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use http::{Method, StatusCode};

// Keys are route templates and fixed labels, never client text: the fast hasher is safe.
use crate::store::HashMap;

/// The `route` of requests that matched no route (the API's 404s).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The upper bounds of the latency histogram's buckets, in microseconds: from half a
/// millisecond (an in-memory answer) to ten seconds (an injected latency).
const BUCKET_BOUNDS_US: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000,
    10_000_000,
];

/// The counters of one (route, method, status).
#[derive(Debug, Default)]
struct Series {
    /// Requests per latency bucket, not cumulative; the last slot is `+Inf`. Their sum is
    /// the request count, so the count can never disagree with the histogram.
    buckets: [AtomicU64; BUCKET_BOUNDS_US.len() + 1],
    duration_sum_us: AtomicU64,
}

impl Series {
    fn observe(&self, duration: Duration) {
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        let bucket = BUCKET_BOUNDS_US.iter().position(|&bound| micros <= bound).unwrap_or(BUCKET_BOUNDS_US.len());
        // Relaxed: each counter is independent, and a scrape needs no ordering between them.
        if let Some(counter) = self.buckets.get(bucket) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        self.duration_sum_us.fetch_add(micros, Ordering::Relaxed);
    }
}

/// A series' values read at scrape time.
struct Snapshot {
    route: String,
    method: &'static str,
    status: u16,
    buckets: [u64; BUCKET_BOUNDS_US.len() + 1],
    duration_sum_us: u64,
}

impl Snapshot {
    /// `method="…",route="…",status="…"`.
    fn labels(&self) -> String {
        format!("method=\"{}\",route=\"{}\",status=\"{}\"", self.method, escape(&self.route), self.status)
    }
}

type SeriesByRoute = HashMap<Box<str>, HashMap<(&'static str, u16), Series>>;

/// The request counters of one emulator.
#[derive(Default)]
pub struct Metrics {
    series: RwLock<SeriesByRoute>,
}

impl Metrics {
    /// Counts one answered Twilio API request. `route` is the matched route template,
    /// `None` when no route matched.
    pub fn record(&self, method: &Method, route: Option<&str>, status: StatusCode, duration: Duration) {
        let route = route.unwrap_or(UNMATCHED_ROUTE);
        let key = (method_label(method), status.as_u16());
        {
            // The lock only guards the map's shape; a poisoned one is still consistent.
            let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(series) = series.get(route).and_then(|by_key| by_key.get(&key)) {
                series.observe(duration);
                return;
            }
        }
        let mut series = self.series.write().unwrap_or_else(PoisonError::into_inner);
        // Another request may have created the series between the two locks; `entry`
        // covers that.
        series.entry(route.into()).or_default().entry(key).or_default().observe(duration);
    }

    /// The series and `gauges` in the Prometheus text format.
    pub fn render(&self, gauges: &Gauges) -> Result<String, fmt::Error> {
        let mut out = String::with_capacity(4096);
        write_metrics(&mut out, &self.snapshots(), gauges)?;
        Ok(out)
    }

    /// Every series, sorted so that scrapes are stable and diffable.
    fn snapshots(&self) -> Vec<Snapshot> {
        let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
        let mut snapshots: Vec<Snapshot> = series
            .iter()
            .flat_map(|(route, by_key)| {
                by_key.iter().map(|(&(method, status), series)| Snapshot {
                    route: route.to_string(),
                    method,
                    status,
                    buckets: std::array::from_fn(|i| {
                        series.buckets.get(i).map_or(0, |bucket| bucket.load(Ordering::Relaxed))
                    }),
                    duration_sum_us: series.duration_sum_us.load(Ordering::Relaxed),
                })
            })
            .collect();
        drop(series);
        snapshots.sort_by(|a, b| (&a.route, a.method, a.status).cmp(&(&b.route, b.method, b.status)));
        snapshots
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let routes = self.series.read().map_or(0, |series| series.len());
        f.debug_struct("Metrics").field("routes", &routes).finish()
    }
}

/// The label for a method: the standard ones by name, anything else as `OTHER`, so that
/// a client inventing methods cannot create unbounded series.
fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => "OTHER",
    }
}

/// Escapes a label value as the text format requires.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The values of the gauges, read when scraped.
#[derive(Debug)]
pub struct Gauges {
    pub accounts: usize,
    pub services: usize,
    pub conversations: usize,
    pub messages: usize,
    pub journal_entries: usize,
    pub fault_rules: usize,
    pub faults_fired: u64,
    pub uptime_seconds: f64,
}

fn write_metrics(out: &mut String, series: &[Snapshot], values: &Gauges) -> fmt::Result {
    writeln!(out, "# HELP twilio_emulator_requests_total Twilio API requests answered.")?;
    writeln!(out, "# TYPE twilio_emulator_requests_total counter")?;
    for s in series {
        let labels = s.labels();
        writeln!(out, "twilio_emulator_requests_total{{{labels}}} {}", s.buckets.iter().sum::<u64>())?;
    }

    let histogram = "twilio_emulator_request_duration_seconds";
    writeln!(out, "# HELP {histogram} Time from a request's arrival to its response head.")?;
    writeln!(out, "# TYPE {histogram} histogram")?;
    for s in series {
        let labels = s.labels();
        let mut cumulative = 0;
        for (bound, count) in BUCKET_BOUNDS_US.iter().zip(&s.buckets) {
            cumulative += count;
            let le = *bound as f64 / 1e6;
            writeln!(out, "{histogram}_bucket{{{labels},le=\"{le}\"}} {cumulative}")?;
        }
        let total: u64 = s.buckets.iter().sum();
        writeln!(out, "{histogram}_bucket{{{labels},le=\"+Inf\"}} {total}")?;
        writeln!(out, "{histogram}_sum{{{labels}}} {}", s.duration_sum_us as f64 / 1e6)?;
        writeln!(out, "{histogram}_count{{{labels}}} {total}")?;
    }

    let gauges = [
        ("store_accounts", "Accounts in the store.", values.accounts.to_string()),
        ("store_services", "Conversation services in the store.", values.services.to_string()),
        ("store_conversations", "Conversations in the store.", values.conversations.to_string()),
        ("store_messages", "Messages in the store.", values.messages.to_string()),
        ("journal_entries", "Requests held by the request journal.", values.journal_entries.to_string()),
        ("fault_rules", "Fault rules defined, expired ones included.", values.fault_rules.to_string()),
        ("uptime_seconds", "Seconds since the emulator started.", values.uptime_seconds.to_string()),
    ];
    for (name, help, value) in gauges.iter() {
        writeln!(out, "# HELP twilio_emulator_{name} {help}")?;
        writeln!(out, "# TYPE twilio_emulator_{name} gauge")?;
        writeln!(out, "twilio_emulator_{name} {value}")?;
    }
    writeln!(out, "# HELP twilio_emulator_faults_fired_total Times fault rules fired.")?;
    writeln!(out, "# TYPE twilio_emulator_faults_fired_total counter")?;
    writeln!(out, "twilio_emulator_faults_fired_total {}", values.faults_fired)?;
    writeln!(out, "# HELP twilio_emulator_build_info The emulator's version.")?;
    writeln!(out, "# TYPE twilio_emulator_build_info gauge")?;
    writeln!(out, "twilio_emulator_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_per_route_method_and_status() {
        let metrics = Metrics::default();
        let route = Some("/v1/Conversations");
        metrics.record(&Method::POST, route, StatusCode::CREATED, Duration::from_micros(100));
        metrics.record(&Method::POST, route, StatusCode::CREATED, Duration::from_secs(60));
        metrics.record(&Method::GET, None, StatusCode::NOT_FOUND, Duration::ZERO);
        let custom = Method::from_bytes(b"BREW").expect("a method");
        metrics.record(&custom, None, StatusCode::NOT_FOUND, Duration::ZERO);

        let snapshots = metrics.snapshots();
        let keys: Vec<_> = snapshots.iter().map(|s| (s.route.as_str(), s.method, s.status)).collect();
        assert_eq!(keys, [("/v1/Conversations", "POST", 201), ("unmatched", "GET", 404), ("unmatched", "OTHER", 404)]);
        let created = &snapshots[0];
        assert_eq!(created.buckets[0], 1, "100 µs falls in the first bucket");
        assert_eq!(created.buckets[BUCKET_BOUNDS_US.len()], 1, "a minute falls in +Inf");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
