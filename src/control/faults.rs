//! Fault and latency injection: rules that make matching Twilio requests fail with a chosen
//! status and Twilio error code, or answer late, so that a client's retry and error paths
//! can be tested without a real outage.
//!
//! A rule matches on method, path pattern and account, then fires a limited number of times
//! (or forever) with a probability. Rules are consulted in the order they were created:
//! every matching rule that fires adds its latency, and the first one that fires with an
//! error answers the request, which then never reaches a handler, so a faulted request
//! changes nothing in the store. Later rules are not consulted (nor counted) for that
//! request.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use http::{Method, StatusCode};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use super::pattern::{PathPattern, PatternError};
use crate::sid::{AccountSid, InvalidSid};

/// At most this many rules exist at once: a runaway test loop gets a clear 400 rather than
/// slowing every request down.
const MAX_RULES: usize = 1000;

/// The longest latency a rule may add. Longer waits would outlast any client's timeout and
/// only tie up connections.
const MAX_LATENCY_MS: u64 = 60_000;

/// The longest `error.message` a rule may carry, in characters: far more than any
/// Twilio message, and with [`MAX_RULES`] a bound on what the rules hold (a hundred rules
/// of 10 MiB each held 1.1 GiB, issue 17).
const MAX_MESSAGE_CHARS: usize = 1024;

/// A fault rule's ID: `FR` and 32 hex digits, in creation order, so IDs are the same on
/// every run.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FaultId(u64);

impl fmt::Display for FaultId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FR{:032x}", self.0)
    }
}

impl fmt::Debug for FaultId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FaultId {
    /// Parses `FR` and 32 hex digits; `None` for anything else, including IDs too large to
    /// have been issued.
    pub fn parse(s: &str) -> Option<Self> {
        let hex =
            s.strip_prefix("FR").filter(|hex| hex.len() == 32 && hex.bytes().all(|byte| byte.is_ascii_hexdigit()))?;
        let bits = u128::from_str_radix(hex, 16).ok()?;
        u64::try_from(bits).ok().map(Self)
    }
}

impl Serialize for FaultId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The error a rule answers with: what a Twilio error response carries. The HTTP edge
/// turns it into the response, with Twilio's body and a `Retry-After` header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorAnswer {
    #[serde(serialize_with = "serialize_status")]
    pub status: StatusCode,
    /// The Twilio error code.
    pub code: u32,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

fn serialize_status<S: serde::Serializer>(status: &StatusCode, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u16(status.as_u16())
}

/// A validated rule: what it matches and what it does.
#[derive(Clone, Debug)]
pub struct RuleSpec {
    method: Option<Method>,
    path: PathPattern,
    account: Option<AccountSid>,
    error: Option<ErrorAnswer>,
    latency_ms: u64,
    times: Option<u64>,
    probability: f64,
    seed: Option<u64>,
}

/// A rule and its counters.
#[derive(Debug)]
struct Rule {
    id: FaultId,
    spec: RuleSpec,
    /// How many more times it may fire; `None` when unlimited.
    remaining: Option<u64>,
    /// Requests it matched, whether or not the probability draw let it fire.
    matched: u64,
    fired: u64,
    /// One generator per rule, so a seeded rule's sequence of draws depends only on the
    /// requests it matches, not on other rules.
    rng: StdRng,
}

impl Rule {
    fn matches(&self, method: &Method, path: &str, account: Option<AccountSid>) -> bool {
        self.spec.method.as_ref().is_none_or(|wanted| wanted == method)
            && self.spec.account.is_none_or(|wanted| account == Some(wanted))
            && self.spec.path.is_match(path)
    }

    /// Whether it has fired all the times it was given; it then matches nothing.
    fn is_expired(&self) -> bool {
        self.remaining == Some(0)
    }

    /// Counts a match and decides whether the rule fires for it.
    fn try_fire(&mut self) -> bool {
        self.matched += 1;
        let probability = self.spec.probability;
        // Certain outcomes skip the draw; `random::<f64>()` lies in [0, 1).
        let fires = probability >= 1.0 || (probability > 0.0 && self.rng.random::<f64>() < probability);
        if fires {
            self.fired += 1;
            self.remaining = self.remaining.map(|left| left - 1);
        }
        fires
    }

    fn view(&self) -> RuleView {
        RuleView {
            id: self.id,
            method: self.spec.method.as_ref().map(|method| method.as_str().to_owned()),
            path: self.spec.path.as_str().to_owned(),
            account: self.spec.account,
            error: self.spec.error.clone(),
            latency_ms: (self.spec.latency_ms > 0).then_some(self.spec.latency_ms),
            times: self.spec.times,
            probability: self.spec.probability,
            seed: self.spec.seed,
            remaining: self.remaining,
            matched: self.matched,
            fired: self.fired,
        }
    }
}

/// What the rules decided for one request.
#[derive(Debug, Default)]
pub struct Decision {
    /// The sum of the latencies of every rule that fired.
    pub latency: Duration,
    /// The answer to send instead of running the handler.
    pub error: Option<ErrorAnswer>,
    /// The rules that fired, in order.
    pub fired: Vec<FaultId>,
}

/// The fault rules of one emulator.
pub struct Faults {
    /// A `std` lock: every critical section is a short synchronous scan, never held across
    /// an `.await` (the middleware sleeps only after releasing it).
    rules: Mutex<RuleSet>,
    /// The number of rules, readable without the lock, so that requests skip it entirely
    /// when no rule exists (the usual case).
    len: AtomicUsize,
    /// Every firing since start-up; a counter that deleting rules never lowers.
    fired_total: AtomicU64,
}

#[derive(Debug, Default)]
struct RuleSet {
    rules: Vec<Rule>,
    next_id: u64,
}

impl Faults {
    /// No rules.
    pub fn new() -> Self {
        Self {
            rules: Mutex::new(RuleSet { rules: Vec::new(), next_id: 1 }),
            len: AtomicUsize::new(0),
            fired_total: AtomicU64::new(0),
        }
    }

    /// A poisoned lock only means a panic elsewhere; the counters it guards stay valid.
    fn lock(&self) -> MutexGuard<'_, RuleSet> {
        self.rules.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Consults the rules for a request (an empty decision when none fired).
    pub fn decide(&self, method: &Method, path: &str, account: Option<AccountSid>) -> Decision {
        // Acquire pairs with the Release in `add`: a rule created before this request was
        // sent is seen.
        if self.len.load(Ordering::Acquire) == 0 {
            return Decision::default();
        }
        let mut decision = Decision::default();
        let mut set = self.lock();
        for rule in set.rules.iter_mut() {
            if rule.is_expired() || !rule.matches(method, path, account) || !rule.try_fire() {
                continue;
            }
            decision.latency += Duration::from_millis(rule.spec.latency_ms);
            decision.fired.push(rule.id);
            if let Some(error) = &rule.spec.error {
                decision.error = Some(error.clone());
                break;
            }
        }
        drop(set);
        self.fired_total.fetch_add(decision.fired.len() as u64, Ordering::Relaxed);
        decision
    }

    /// How many times rules have fired since start-up.
    pub fn fired_total(&self) -> u64 {
        self.fired_total.load(Ordering::Relaxed)
    }

    /// How many rules exist, expired ones included.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Whether no rule exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a rule after the others and shows it, unless the table is full.
    pub fn add(&self, spec: RuleSpec) -> Result<RuleView, TooManyRules> {
        let mut set = self.lock();
        if set.rules.len() >= MAX_RULES {
            return Err(TooManyRules { max: MAX_RULES });
        }
        let id = FaultId(set.next_id);
        set.next_id += 1;
        let rng = spec.seed.map_or_else(rand::make_rng, StdRng::seed_from_u64);
        let rule = Rule { id, remaining: spec.times, spec, matched: 0, fired: 0, rng };
        let view = rule.view();
        set.rules.push(rule);
        self.len.store(set.rules.len(), Ordering::Release);
        Ok(view)
    }

    /// Every rule, oldest first, with its counters.
    pub fn views(&self) -> Vec<RuleView> {
        self.lock().rules.iter().map(Rule::view).collect()
    }

    /// One rule, if it exists.
    pub fn view(&self, id: FaultId) -> Option<RuleView> {
        self.lock().rules.iter().find(|rule| rule.id == id).map(Rule::view)
    }

    /// Removes one rule; whether it existed.
    pub fn remove(&self, id: FaultId) -> bool {
        let mut set = self.lock();
        let before = set.rules.len();
        set.rules.retain(|rule| rule.id != id);
        self.len.store(set.rules.len(), Ordering::Release);
        set.rules.len() < before
    }

    /// Removes every rule.
    pub fn clear(&self) {
        let mut set = self.lock();
        set.rules.clear();
        self.len.store(0, Ordering::Release);
    }
}

impl Default for Faults {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faults").field("rules", &self.len()).field("fired_total", &self.fired_total()).finish()
    }
}

/// The table holds [`MAX_RULES`] rules already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyRules {
    pub max: usize,
}

/// A rule as its author writes it, the JSON body of `POST /_emulator/faults`; checked into
/// a [`RuleSpec`]. Unknown fields are refused so that a typo (`"latency": 100`) is an error
/// rather than a rule that silently does nothing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    method: Option<String>,
    path: Option<String>,
    account: Option<String>,
    error: Option<NewError>,
    latency_ms: Option<u64>,
    times: Option<u64>,
    probability: Option<f64>,
    seed: Option<u64>,
}

/// The `error` of a [`NewRule`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewError {
    status: u16,
    code: Option<u32>,
    message: Option<String>,
    retry_after_seconds: Option<u64>,
}

/// Why a [`NewRule`] was refused, field by field; the HTTP edge words it as Twilio's 400.
#[derive(Debug, Clone, PartialEq)]
pub enum InvalidRule {
    /// Neither an `error` nor a `latency_ms`: the rule would do nothing.
    Empty,
    /// `method` is not an HTTP method.
    Method(String),
    /// `path` is not a pattern.
    Path(PatternError),
    /// `path` matches only the emulator's own endpoints, which are never faulted.
    ControlPath(String),
    /// `account` is not an Account SID.
    Account(InvalidSid),
    /// `error.status` is not an HTTP error status.
    Status(u16),
    /// `error.code` is 0.
    Code(u32),
    /// `latency_ms` is over `max`.
    Latency { latency_ms: u64, max: u64 },
    /// `times` is 0.
    ZeroTimes,
    /// `probability` is outside 0 to 1.
    Probability(f64),
    /// `error.message` is longer than `max` characters.
    MessageTooLong { max: usize },
}

impl TryFrom<NewRule> for RuleSpec {
    type Error = InvalidRule;

    fn try_from(new: NewRule) -> Result<Self, InvalidRule> {
        if new.error.is_none() && new.latency_ms.is_none() {
            return Err(InvalidRule::Empty);
        }
        let method = new
            .method
            .map(|method| {
                Method::from_bytes(method.to_ascii_uppercase().as_bytes()).map_err(|_| InvalidRule::Method(method))
            })
            .transpose()?;
        let path = new.path.as_deref().unwrap_or("/**").parse::<PathPattern>().map_err(InvalidRule::Path)?;
        if super::is_control_path(path.as_str()) {
            return Err(InvalidRule::ControlPath(path.to_string()));
        }
        let account =
            new.account.map(|account| account.parse::<AccountSid>()).transpose().map_err(InvalidRule::Account)?;
        let error = new.error.map(ErrorAnswer::try_from).transpose()?;
        let latency_ms = new.latency_ms.unwrap_or(0);
        if latency_ms > MAX_LATENCY_MS {
            return Err(InvalidRule::Latency { latency_ms, max: MAX_LATENCY_MS });
        }
        if new.times == Some(0) {
            return Err(InvalidRule::ZeroTimes);
        }
        let probability = new.probability.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&probability) {
            return Err(InvalidRule::Probability(probability));
        }
        Ok(Self { method, path, account, error, latency_ms, times: new.times, probability, seed: new.seed })
    }
}

impl TryFrom<NewError> for ErrorAnswer {
    type Error = InvalidRule;

    fn try_from(new: NewError) -> Result<Self, InvalidRule> {
        let status = StatusCode::from_u16(new.status)
            .ok()
            .filter(|status| status.is_client_error() || status.is_server_error())
            .ok_or(InvalidRule::Status(new.status))?;
        // Twilio's 20xxx codes mirror HTTP statuses (20404, 20429, 20500, 20503).
        let code = new.code.unwrap_or(20_000 + u32::from(status.as_u16()));
        if code == 0 {
            return Err(InvalidRule::Code(code));
        }
        if new.message.as_ref().is_some_and(|message| message.chars().count() > MAX_MESSAGE_CHARS) {
            return Err(InvalidRule::MessageTooLong { max: MAX_MESSAGE_CHARS });
        }
        let message = new.message.unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned());
        Ok(Self { status, code, message, retry_after_seconds: new.retry_after_seconds })
    }
}

/// A rule as the endpoints show it.
#[derive(Debug, Serialize)]
pub struct RuleView {
    pub id: FaultId,
    method: Option<String>,
    path: String,
    account: Option<AccountSid>,
    error: Option<ErrorAnswer>,
    latency_ms: Option<u64>,
    times: Option<u64>,
    probability: f64,
    seed: Option<u64>,
    remaining: Option<u64>,
    matched: u64,
    fired: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> Result<RuleSpec, InvalidRule> {
        RuleSpec::try_from(serde_json::from_value::<NewRule>(json).expect("well-formed rule"))
    }

    #[test]
    fn fault_ids_print_and_parse_back() {
        let id = FaultId(42);
        assert_eq!(id.to_string(), "FR0000000000000000000000000000002a");
        assert_eq!(FaultId::parse(&id.to_string()), Some(id));
        assert_eq!(FaultId::parse(&FaultId(0).to_string()), Some(FaultId(0)));
        let bad = [
            "FR1",
            "XX0000000000000000000000000000002a",
            "FRffffffffffffffffffffffffffffffff",
            "FR+000000000000000000000000000002a",
        ];
        for bad in bad {
            assert_eq!(FaultId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn error_code_and_message_default_from_the_status() {
        let rule = spec(serde_json::json!({ "error": { "status": 503 } })).expect("valid");
        let error = rule.error.expect("an error answer");
        assert_eq!((error.code, error.message.as_str()), (20503, "Service Unavailable"));
    }

    #[test]
    fn rules_fire_in_order_and_expire() {
        let faults = Faults::new();
        let latency = spec(serde_json::json!({ "latency_ms": 5, "times": 1 })).expect("valid");
        let error = spec(serde_json::json!({ "error": { "status": 500 }, "times": 2 })).expect("valid");
        faults.add(latency).expect("added");
        faults.add(error).expect("added");
        let account = None;

        let first = faults.decide(&Method::GET, "/v1/Services", account);
        assert_eq!(first.fired, [FaultId(1), FaultId(2)]);
        assert_eq!(first.latency, Duration::from_millis(5));
        assert!(first.error.is_some());
        let second = faults.decide(&Method::GET, "/v1/Services", account);
        assert_eq!((second.fired.as_slice(), second.latency), ([FaultId(2)].as_slice(), Duration::ZERO));
        assert!(faults.decide(&Method::GET, "/v1/Services", account).fired.is_empty());
        assert_eq!(faults.fired_total(), 3);
    }

    #[test]
    fn seeded_probability_is_reproducible() {
        let draws = |seed: u64| {
            let faults = Faults::new();
            let rule = serde_json::json!({ "latency_ms": 1, "probability": 0.5, "seed": seed });
            faults.add(spec(rule).expect("valid")).expect("added");
            (0..64).map(|_| !faults.decide(&Method::GET, "/v1/Services", None).fired.is_empty()).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        let fired = draws(7).into_iter().filter(|&fired| fired).count();
        assert!((1..64).contains(&fired), "p = 0.5 fired {fired} of 64 times");
    }
}
