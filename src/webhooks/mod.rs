//! Conversations webhooks, sent as Twilio sends them
//! (<https://www.twilio.com/docs/conversations/conversations-webhooks>).
//!
//! Post-events come from the store's webhook tap (every committed change whose origin
//! fires webhooks, in commit order, none missed): the dispatcher renders each change's
//! events ([`event`]), finds the targets that want them (the service's settings when it
//! has any, else the account's, plus the conversation's own webhooks), and queues one
//! delivery per target in a lane per conversation and URL, which sends them one at a
//! time. So a receiver sees a conversation's events in commit order, a slow or dead
//! receiver holds up only its own lane, and nothing waits for the API response that
//! caused them.
//!
//! Pre-events are sent by the handler itself, before anything is stored
//! ([`Webhooks::pre_event`]): the answer may modify or reject the action.
//!
//! Each request is signed ([`sign`]) with the account's auth token: the configured one
//! with `--accounts`, otherwise the one the account's most recent request authenticated
//! with ([`crate::auth::Credentials::signing_token`]).

pub mod deliver;
pub mod event;
pub mod log;
mod sign;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::{mpsc, oneshot};

use crate::auth::Credentials;
use crate::sid::{AccountSid, ChatServiceSid, ConversationSid, WebhookSid};
use crate::store::webhook_model::{
    AccountWebhookTarget, ConversationWebhook, HttpMethod, ScopedTarget, WebhookEvent, WebhookLevel, WebhookTargets,
};
use crate::store::{Store, Tapped, WebhookTap};
use crate::time::Clock;
use deliver::{Answer, Failure, HttpClient, SentRequest};
use event::Event;
use log::{Delivery, DeliveryLog, Level, Outcome};

/// Twilio's limit: "Conversations webhooks have a maximum timeout of 5 seconds."
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Deliveries waiting in one lane (one conversation's events to one URL) beyond which its
/// new ones are dropped, so that a receiver that never answers cannot make memory grow
/// without bound (at the 5 s timeout, a lane needs 14 hours to send this many).
const LANE_MAX_WAITING: usize = 10_000;
/// Deliveries waiting in all lanes beyond which new ones are dropped.
const MAX_PENDING: usize = 100_000;

/// How webhooks are sent.
#[derive(Clone, Copy, Debug)]
pub struct WebhookSettings {
    /// How long a receiver has to answer, for pre- and post-events alike.
    pub timeout: Duration,
    /// How many times a post-event is sent again after a time-out, a connection failure or
    /// a 429, 502, 503 or 504 (Twilio's Chat default is 0).
    pub retries: u32,
    /// How many deliveries the log keeps.
    pub log_capacity: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self { timeout: DEFAULT_TIMEOUT, retries: 0, log_capacity: log::DEFAULT_CAPACITY }
    }
}

/// The webhook sender: a cheap handle, shared by the handlers (pre-events), the
/// dispatcher (post-events) and the control plane (the log).
#[derive(Clone, Debug)]
pub struct Webhooks(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    store: Store,
    clock: Clock,
    credentials: Arc<Credentials>,
    client: HttpClient,
    settings: WebhookSettings,
    log: DeliveryLog,
    lanes: Mutex<HashMap<LaneKey, Lane>>,
    pending: AtomicUsize,
    /// Deliveries dropped because too many were waiting, since the start.
    dropped: AtomicUsize,
    /// The deliveries of each correlated action, each answered with its log id once done.
    correlated: Mutex<HashMap<u64, Vec<oneshot::Receiver<u64>>>>,
    next_correlation: AtomicU64,
}

/// Deliveries to one URL about one conversation (or one service, for events outside any
/// conversation) go out one at a time, in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct LaneKey {
    account: AccountSid,
    scope: u128,
    url: Arc<str>,
}

/// A lane's queue, while its sender runs.
#[derive(Debug)]
struct Lane {
    sender: mpsc::UnboundedSender<Job>,
    /// Jobs queued and not yet done.
    waiting: Arc<AtomicUsize>,
    /// Jobs dropped since the lane started.
    dropped: u64,
}

/// One post-event to one target.
#[derive(Debug)]
struct Job {
    event: Arc<Event>,
    url: Arc<str>,
    method: HttpMethod,
    level: Level,
    webhook_sid: Option<WebhookSid>,
    /// Told the log id of the last attempt, for a correlated action.
    done: Option<oneshot::Sender<u64>>,
}

/// What a pre-event's answer asks for: fields to change before the action is stored.
/// Twilio's keys are snake_case; `attributes` is a JSON string (an object is taken too).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Modification {
    pub body: Option<String>,
    pub author: Option<String>,
    pub attributes: Option<serde_json::Value>,
    pub friendly_name: Option<String>,
}

impl Modification {
    /// `attributes` as the JSON text the store keeps.
    pub fn attributes_text(&self) -> Option<String> {
        self.attributes.as_ref().map(|value| match value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    }
}

/// How a pre-event ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreOutcome {
    /// Go ahead, with these changes (none when the answer was empty, not JSON, or late).
    Proceed(Modification),
    /// The receiver answered this 4xx or 5xx status: the action is refused.
    Rejected(u16),
}

impl Webhooks {
    pub fn new(store: Store, clock: Clock, credentials: Arc<Credentials>, settings: WebhookSettings) -> Self {
        Self(Arc::new(Shared {
            store,
            clock,
            credentials,
            client: deliver::client(),
            settings,
            log: DeliveryLog::new(settings.log_capacity),
            lanes: Mutex::default(),
            pending: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            correlated: Mutex::default(),
            next_correlation: AtomicU64::new(1),
        }))
    }

    /// Starts sending post-events: spawns the dispatcher on the current runtime. Only the
    /// first call for a store does anything (the store hands its tap out once).
    pub fn start(&self) {
        if let Some(tap) = self.0.store.webhook_tap() {
            tokio::spawn(self.clone().dispatch(tap));
        }
    }

    pub fn log(&self) -> &DeliveryLog {
        &self.0.log
    }

    /// The targets for events of `service` (and `conversation`).
    fn targets(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        conversation: Option<ConversationSid>,
    ) -> WebhookTargets {
        self.0.store.webhook_targets(account, service, conversation)
    }

    fn signing_token(&self, account: AccountSid) -> String {
        self.0.credentials.signing_token(account).map(|token| token.to_string()).unwrap_or_default()
    }

    async fn dispatch(self, mut tap: WebhookTap) {
        while let Some(tapped) = tap.recv().await {
            let committed = match tapped {
                Tapped::Committed(committed) => committed,
                Tapped::Barrier(reached) => {
                    let _ = reached.send(());
                    continue;
                }
            };
            let events = event::post_events(&committed, self.0.clock.now());
            let mut targets: Option<((ChatServiceSid, Option<ConversationSid>), WebhookTargets)> = None;
            for event in events {
                let key = (event.service, event.conversation);
                let targets = match &targets {
                    Some((cached, found)) if *cached == key => found.clone(),
                    _ => {
                        let found = self.targets(event.account, event.service, event.conversation);
                        targets = Some((key, found.clone()));
                        found
                    }
                };
                self.route(Arc::new(event), &targets);
            }
        }
    }

    /// Queues `event` for every target that wants it.
    fn route(&self, event: Arc<Event>, targets: &WebhookTargets) {
        let kind = event.kind;
        if let Some(level) = targets.level
            && targets.settings.wants(kind)
            && let Some(url) = &targets.settings.post_webhook_url
        {
            let level = match level {
                WebhookLevel::Account => Level::Account,
                WebhookLevel::Service(_) => Level::Service,
            };
            if targets.settings.target == Some(AccountWebhookTarget::Flex) {
                self.record_unsent(
                    &event,
                    level,
                    None,
                    Outcome::NotExecutable,
                    "the target is Flex, which the emulator does not run",
                );
            } else {
                let method = targets.settings.method.unwrap_or_default();
                let done = self.follow(&event);
                self.enqueue(Job {
                    event: Arc::clone(&event),
                    url: Arc::clone(url),
                    method,
                    level,
                    webhook_sid: None,
                    done,
                });
            }
        }
        for webhook in &targets.scoped {
            let wanted = match webhook.target {
                ScopedTarget::Webhook => webhook.filters.contains(&kind),
                ScopedTarget::Trigger => {
                    kind == WebhookEvent::MessageAdded && triggered(&webhook.triggers, event.body.as_deref())
                }
                ScopedTarget::Studio => kind == WebhookEvent::MessageAdded,
            };
            if !wanted {
                continue;
            }
            match (&webhook.url, webhook.target) {
                (Some(url), ScopedTarget::Webhook | ScopedTarget::Trigger) => self.enqueue(Job {
                    event: Arc::clone(&event),
                    url: Arc::clone(url),
                    method: webhook.method,
                    level: Level::Conversation,
                    webhook_sid: Some(webhook.sid),
                    done: self.follow(&event),
                }),
                _ => self.record_unsent(
                    &event,
                    Level::Conversation,
                    Some(webhook.sid),
                    Outcome::NotExecutable,
                    "the target is a Studio Flow, which the emulator does not run",
                ),
            }
        }
    }

    /// A sender for the log id of one of `event`'s deliveries, when its action is
    /// correlated.
    fn follow(&self, event: &Event) -> Option<oneshot::Sender<u64>> {
        let correlation = event.correlation?;
        let (done, receiver) = oneshot::channel();
        self.0.correlated.lock().unwrap_or_else(PoisonError::into_inner).entry(correlation).or_default().push(receiver);
        Some(done)
    }

    /// A new correlation id, for an action that will report what it caused.
    pub fn correlation(&self) -> u64 {
        self.0.next_correlation.fetch_add(1, Ordering::Relaxed)
    }

    /// The log ids of every delivery the action `correlation` caused, once each is done
    /// (its last attempt logged), oldest first. Waits at most as long as the deliveries
    /// can take; what is still under way then is left out.
    pub async fn caused(&self, correlation: u64) -> Vec<u64> {
        let settings = self.0.settings;
        let limit = settings.timeout * (settings.retries + 1) + Duration::from_secs(1);
        let collect = async {
            if let Some(barrier) = self.0.store.webhook_barrier() {
                let _ = barrier.await;
            }
            let receivers = self
                .0
                .correlated
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&correlation)
                .unwrap_or_default();
            let mut ids = Vec::new();
            for receiver in receivers {
                if let Ok(id) = receiver.await {
                    ids.push(id);
                }
            }
            ids
        };
        let mut ids = tokio::time::timeout(limit, collect).await.unwrap_or_default();
        ids.sort_unstable();
        ids
    }

    fn record_unsent(&self, event: &Event, level: Level, webhook_sid: Option<WebhookSid>, outcome: Outcome, why: &str) {
        let done = self.follow(event);
        let id = self
            .0
            .log
            .record(Delivery { error: Some(why.to_owned()), ..delivery_of(event, level, webhook_sid, outcome) });
        if let Some(done) = done {
            let _ = done.send(id);
        }
    }

    /// Puts `job` at the end of its lane, starting the lane's sender if it is idle. A lane
    /// that holds [`LANE_MAX_WAITING`] deliveries already (its receiver is slower than the
    /// events, or dead), or a dispatcher with [`MAX_PENDING`] in all, drops the job: memory
    /// stays bounded and other lanes go on. Drops are counted in the log at the 1st, 2nd,
    /// 4th, 8th… of a lane, not one entry each, which would push every other out.
    fn enqueue(&self, job: Job) {
        let key = LaneKey {
            account: job.event.account,
            scope: job.event.conversation.map_or(job.event.service.bits(), ConversationSid::bits),
            url: Arc::clone(&job.url),
        };
        let mut lanes = self.0.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(lane) = lanes.get_mut(&key) {
            if lane.waiting.load(Ordering::Relaxed) >= LANE_MAX_WAITING
                || self.0.pending.load(Ordering::Relaxed) >= MAX_PENDING
            {
                lane.dropped += 1;
                let dropped = lane.dropped;
                drop(lanes);
                self.0.dropped.fetch_add(1, Ordering::Relaxed);
                if dropped.is_power_of_two() {
                    tracing::warn!(url = %job.url, dropped, "too many webhooks are waiting in one queue; new ones are dropped");
                    let why = format!("{dropped} deliveries dropped so far: too many were waiting in this queue");
                    self.record_unsent(&job.event, job.level, job.webhook_sid, Outcome::Dropped, &why);
                }
                return;
            }
            self.0.pending.fetch_add(1, Ordering::Relaxed);
            lane.waiting.fetch_add(1, Ordering::Relaxed);
            // The lane's sender leaves the map before it stops, under this lock, so a
            // lane in the map is always running.
            let _ = lane.sender.send(job);
            return;
        }
        self.0.pending.fetch_add(1, Ordering::Relaxed);
        let (sender, jobs) = mpsc::unbounded_channel();
        let waiting = Arc::new(AtomicUsize::new(1));
        let _ = sender.send(job);
        lanes.insert(key.clone(), Lane { sender, waiting: Arc::clone(&waiting), dropped: 0 });
        tokio::spawn(self.clone().run_lane(key, jobs, waiting));
    }

    /// Sends a lane's jobs one at a time, then leaves the map once it is empty.
    async fn run_lane(self, key: LaneKey, mut jobs: mpsc::UnboundedReceiver<Job>, waiting: Arc<AtomicUsize>) {
        loop {
            let job = match jobs.try_recv() {
                Ok(job) => job,
                Err(_) => {
                    let mut lanes = self.0.lanes.lock().unwrap_or_else(PoisonError::into_inner);
                    // Checked again under the lock, which `enqueue` sends under.
                    match jobs.try_recv() {
                        Ok(job) => job,
                        Err(_) => {
                            lanes.remove(&key);
                            return;
                        }
                    }
                }
            };
            let id = self.deliver(&job).await;
            waiting.fetch_sub(1, Ordering::Relaxed);
            self.0.pending.fetch_sub(1, Ordering::Relaxed);
            if let Some(done) = job.done {
                let _ = done.send(id);
            }
        }
    }

    /// Every attempt at one post-event, with retries as [`WebhookSettings::retries`] says;
    /// the log id of the last.
    async fn deliver(&self, job: &Job) -> u64 {
        let idempotency = idempotency_token();
        let token = self.signing_token(job.event.account);
        let mut last = 0;
        for attempt in 0..=self.0.settings.retries {
            let request = deliver::build(&job.url, job.method, &job.event.params, attempt, &token, &idempotency);
            let (outcome, elapsed) = deliver::send(&self.0.client, &request, self.0.settings.timeout).await;
            let retry = match &outcome {
                Ok(answer) => matches!(answer.status, 429 | 502 | 503 | 504),
                Err(_) => true,
            };
            last =
                self.record_attempt(&job.event, job.level, job.webhook_sid, attempt, request, outcome, elapsed, None);
            if !retry {
                break;
            }
        }
        last
    }

    #[expect(clippy::too_many_arguments, reason = "one log entry's parts, each from a different place")]
    fn record_attempt(
        &self,
        event: &Event,
        level: Level,
        webhook_sid: Option<WebhookSid>,
        retry_count: u32,
        request: SentRequest,
        outcome: Result<Answer, Failure>,
        elapsed: Duration,
        redelivery_of: Option<u64>,
    ) -> u64 {
        let (result, response, error) = match outcome {
            Ok(answer) if (200..300).contains(&answer.status) => (Outcome::Delivered, Some(answer), None),
            Ok(answer) => (Outcome::Refused, Some(answer), None),
            Err(failure) => (Outcome::Failed, None, Some(failure.to_string())),
        };
        self.0.log.record(Delivery {
            retry_count,
            request: Some(request),
            response,
            error,
            duration_ms: elapsed.as_secs_f64() * 1000.0,
            redelivery_of,
            ..delivery_of(event, level, webhook_sid, result)
        })
    }

    /// Sends a pre-event, if the settings in force want it, and waits for the answer:
    /// `fill` builds the event only then. No settings, no filter, a Flex target, a time-out
    /// or an unreachable receiver all proceed unmodified, as Twilio publishes "unmodified
    /// after a timeout".
    pub async fn pre_event(
        &self,
        account: AccountSid,
        service: ChatServiceSid,
        conversation: Option<ConversationSid>,
        kind: WebhookEvent,
        fill: impl FnOnce() -> Event,
    ) -> PreOutcome {
        let targets = self.targets(account, service, conversation);
        let settings = &targets.settings;
        let (Some(level), Some(url)) = (targets.level, settings.pre_webhook_url.clone()) else {
            return PreOutcome::Proceed(Modification::default());
        };
        if !settings.wants(kind) || settings.target == Some(AccountWebhookTarget::Flex) {
            return PreOutcome::Proceed(Modification::default());
        }
        let level = match level {
            WebhookLevel::Account => Level::Account,
            WebhookLevel::Service(_) => Level::Service,
        };
        let event = fill();
        let method = settings.method.unwrap_or_default();
        let token = self.signing_token(account);
        let request = deliver::build(&url, method, &event.params, 0, &token, &idempotency_token());
        let (outcome, elapsed) = deliver::send(&self.0.client, &request, self.0.settings.timeout).await;
        let answer = match &outcome {
            Ok(answer) if answer.status >= 400 => PreOutcome::Rejected(answer.status),
            Ok(answer) => PreOutcome::Proceed(serde_json::from_str(&answer.body).unwrap_or_default()),
            Err(_) => PreOutcome::Proceed(Modification::default()),
        };
        let done = self.follow(&event);
        let id = self.record_attempt(&event, level, None, 0, request, outcome, elapsed, None);
        if let Some(done) = done {
            let _ = done.send(id);
        }
        answer
    }

    /// Sends a logged delivery again, as it was (same body, signature and idempotency
    /// token), and logs the new attempt. `None` when the log no longer holds it or it was
    /// never sent.
    pub async fn redeliver(&self, id: u64) -> Option<Arc<Delivery>> {
        let original = self.0.log.get(id)?;
        let request = original.request.clone()?;
        let (outcome, elapsed) = deliver::send(&self.0.client, &request, self.0.settings.timeout).await;
        let event = Event {
            kind: WebhookEvent::parse(original.event_type)?,
            account: original.account_sid,
            service: original.chat_service_sid,
            conversation: original.conversation_sid,
            body: None,
            params: event::Params::default(),
            correlation: None,
        };
        let id = self.record_attempt(
            &event,
            original.level,
            original.webhook_sid,
            original.retry_count,
            request,
            outcome,
            elapsed,
            Some(original.id),
        );
        self.0.log.get(id)
    }

    /// Sends a conversation webhook just created with `ReplayAfter` the conversation's
    /// messages from that index on, as `onMessageAdded`, before any later event (they share
    /// its queue). A `webhook` target gets them if its filters hold `onMessageAdded`, a
    /// `trigger` those its keywords match; a Studio Flow logs them as not executable.
    pub fn replay(&self, account: AccountSid, service: ChatServiceSid, webhook: &ConversationWebhook) {
        let Some(from) = webhook.replay_after else {
            return;
        };
        let Ok(messages) = self.0.store.messages_from(account, service, webhook.conversation_sid, from) else {
            return;
        };
        let origin = crate::store::Origin::api_with_webhooks();
        let targets = WebhookTargets { level: None, settings: Default::default(), scoped: vec![webhook.clone()] };
        for message in messages {
            let mut replayed = event::event(
                WebhookEvent::MessageAdded,
                account,
                service,
                Some(webhook.conversation_sid),
                &origin,
                |p| {
                    event::message_params(p, account, &message, true);
                },
            );
            replayed.body = message.body().map(Arc::from);
            self.route(Arc::new(replayed), &targets);
        }
    }

    /// Deliveries dropped since the start because too many were waiting.
    pub fn dropped(&self) -> usize {
        self.0.dropped.load(Ordering::Relaxed)
    }

    /// Deliveries still waiting in lanes (for metrics and tests).
    pub fn pending(&self) -> usize {
        self.0.pending.load(Ordering::Relaxed)
    }
}

/// Whether `body` holds one of `triggers`: a case-insensitive substring match (the
/// README's fidelity notes).
fn triggered(triggers: &[Arc<str>], body: Option<&str>) -> bool {
    let Some(body) = body else {
        return false;
    };
    let body = body.to_lowercase();
    triggers.iter().any(|trigger| body.contains(&trigger.to_lowercase()))
}

/// A fresh `I-Twilio-Idempotency-Token`: a UUID-shaped random value, as Twilio sends.
fn idempotency_token() -> String {
    let bits: u128 = rand::random();
    let hex = format!("{bits:032x}");
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// A log entry for `event` ending in `outcome`, with nothing sent yet: what every entry
/// starts from.
fn delivery_of(event: &Event, level: Level, webhook_sid: Option<WebhookSid>, outcome: Outcome) -> Delivery {
    Delivery {
        id: 0,
        account_sid: event.account,
        chat_service_sid: event.service,
        conversation_sid: event.conversation,
        event_type: event.kind.name(),
        phase: if event.kind.is_pre() { "pre" } else { "post" },
        level,
        webhook_sid,
        retry_count: 0,
        outcome,
        request: None,
        response: None,
        error: None,
        duration_ms: 0.0,
        date_created: now_text(),
        redelivery_of: None,
    }
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
