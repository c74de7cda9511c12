//! The scenarios of issue 6, in the order they run:
//!
//! 1. start-up: spawn to the first answered request, timed repeatedly;
//! 2. a small store (one conversation of 1,000 messages): fetch, list, update, create,
//!    delete and a mixed workload, each beside the static baseline and beside the same
//!    store in the default configuration (a request log line per request, to a file);
//! 3. one conversation of 1,000,000 messages, filled through the API: resident memory per
//!    message, a list page in the middle of it against the same page at 1,000, and reset;
//! 4. 1,000,000 messages over 10,000 conversations: fetch against fetch on a small store;
//! 5. import of 1,000,000 messages.
//!
//! Each store lives in a fresh emulator process, so one scenario's data never weighs on
//! another's figures. Every throughput figure is a ratio to a baseline server answering the
//! same requests with the emulator's own bytes, measured in turns with it; the large stores
//! are compared with a small one the same way, all three servers taking turns.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::{StatusCode, Uri};

use crate::baseline::Bodies;
use crate::http::{self, Connection, Plan, Planned, RunOptions, RunStats, Target, first_sid};
use crate::process::{self, ServerProcess};
use crate::report::{Report, Row, Throughput, Verdict, thousands};
use crate::settings::Settings;

/// The author of every benchmark message.
const AUTHOR: &str = "bench-user";
/// A message body: one line of chat.
const BODY: &str = "A benchmark message of sixty-four bytes, about one line of chat.";
/// The body an update writes: the same length, so every fetch answer keeps its size.
const EDITED_BODY: &str = "The same message, edited: sixty-four bytes long, like the first.";
const _: () = assert!(BODY.len() == EDITED_BODY.len());

/// What a message stores of what the client sent: the memory target is stated per byte of it.
const PAYLOAD_BYTES: usize = AUTHOR.len() + BODY.len();

/// The issue's targets.
const FETCH_MIN_RATIO: f64 = 0.85;
/// An open inspector page costs fetch and create at most 5 %.
const INSPECTOR_MIN_RATIO: f64 = 0.95;
const WRITE_MIN_RATIO: f64 = 0.7;
const LIST_MIN_RATIO: f64 = 0.7;
const LARGE_LIST_MAX_SLOWDOWN: f64 = 1.3;
/// "Fetch time independent of store size": within 10 %, about the spread between runs.
const LARGE_FETCH_MAX_SLOWDOWN: f64 = 1.1;
const START_UP_MAX: Duration = Duration::from_millis(50);
const RESET_MAX: Duration = Duration::from_millis(100);
/// Resident bytes per message: twice the payload plus this.
const MEMORY_OVERHEAD_BYTES: usize = 300;

/// Page size of every list scenario: the SDKs' default.
const PAGE_SIZE: usize = 50;
/// The default configuration (a log line per request) as a share of the quiet one.
const DEFAULT_LOG_MIN_RATIO: f64 = 0.95;
/// Creates with `--state-file`, as a share of creates in memory.
const DURABLE_CREATE_MIN_RATIO: f64 = 0.5;
/// Creates with a post-event webhook to a local receiver, and to one that never answers,
/// as a share of the same creates with no webhook configured.
const WEBHOOK_CREATE_MIN_RATIO: f64 = 0.8;
/// The slowest fetches (p99) while the state file compacts a store of 300,000 messages.
const COMPACTION_FETCH_P99_MAX: Duration = Duration::from_millis(50);

/// Runs every scenario, adding rows to `report` as they finish.
pub async fn run_all(settings: &Settings, report: &mut Report) -> Result<(), String> {
    let large = thousands(settings.large_store as f64);
    if settings.runs("start-up") {
        eprintln!("start-up ({} times)", settings.start_ups);
        start_up(settings, report)?;
    }
    // `log` names the same scenarios: the default configuration is measured beside the
    // quiet one in every small-store scenario.
    if settings.runs("small") || settings.runs("log") {
        eprintln!("small store ({} messages), quiet and in the default configuration", settings.small_store);
        small_store(settings, report).await?;
    }
    if settings.runs("large") {
        eprintln!("one conversation of {large} messages");
        large_conversation(settings, report).await?;
    }
    if settings.runs("spread") {
        let count = thousands(settings.conversations as f64);
        eprintln!("{large} messages over {count} conversations");
        spread_store(settings, report).await?;
    }
    if settings.runs("import") {
        eprintln!("import of {large} messages");
        import(settings, report).await?;
    }
    if settings.runs("durable") {
        eprintln!("--state-file: creates, and fetches during a compaction");
        durable(settings, report).await?;
    }
    if settings.runs("webhooks") {
        eprintln!("webhooks: creates with a post-event to a local receiver, and to one that never answers");
        webhooks(settings, report).await?;
    }
    if settings.runs("inspector") {
        eprintln!("inspector: fetch and create with a live page connected, against none");
        inspector(settings, report).await?;
    }
    if settings.runs("soak") {
        eprintln!("soak: {} s of mixed load, a reset every {} s", settings.soak_seconds, settings.soak_reset_seconds);
        soak(settings, report).await?;
    }
    Ok(())
}

// --- Start-up -----------------------------------------------------------------------

fn start_up(settings: &Settings, report: &mut Report) -> Result<(), String> {
    let mut answered = Vec::with_capacity(settings.start_ups);
    let mut listening = Vec::with_capacity(settings.start_ups);
    for _ in 0..settings.start_ups {
        let measured = process::measure_start_up()?;
        answered.push(measured.to_first_answer);
        listening.push(measured.to_listening);
    }
    answered.sort_unstable();
    listening.sort_unstable();
    let median = answered[answered.len() / 2];
    let mut row = Row::new("start-up to first answer (empty store)");
    row.measured = format!("{} median", millis(median));
    row.target = format!("< {}", millis(START_UP_MAX));
    row.verdict = Verdict::judge(median < START_UP_MAX);
    row.notes = format!(
        "{} start-ups: fastest {}, slowest {}; `listening on` printed after {} (median)",
        answered.len(),
        millis(answered[0]),
        millis(answered[answered.len() - 1]),
        millis(listening[listening.len() / 2])
    );
    report.push(row);
    Ok(())
}

// --- The small store ----------------------------------------------------------------

/// How a store's emulator logs.
#[derive(Clone, Copy)]
enum Logging<'a> {
    /// `--log-level warn`: no request log.
    Quiet,
    /// The default configuration: an `info` line per request (at `level`, `info` unless
    /// `BENCH_LOG_LEVEL` says otherwise), to this file (as a terminal, `docker logs` or a
    /// CI log would take it).
    ToFile { path: &'a std::path::Path, level: &'a str },
}

/// A fresh emulator holding one conversation of `small_store` messages.
struct SmallStore {
    /// Keeps the process alive as long as the store is used.
    emulator: ServerProcess,
    target: Arc<Target>,
    conversation: String,
    /// Its messages, in a fixed shuffled order.
    messages: Arc<Vec<Uri>>,
}

impl SmallStore {
    async fn start(settings: &Settings, logging: Logging<'_>) -> Result<Self, String> {
        let emulator = match logging {
            Logging::Quiet => ServerProcess::emulator()?,
            Logging::ToFile { path, level } => {
                let log = std::fs::File::create(path).map_err(|e| format!("create {}: {e}", path.display()))?;
                ServerProcess::emulator_at(level, &[], log.into())?
            }
        };
        let target = Target::new(&emulator);
        let mut setup = Connection::open(&target).await?;
        let conversation = create_conversation(&mut setup).await?;
        let filled = fill(settings, &target, std::slice::from_ref(&conversation), settings.small_store, 1).await?;
        let messages = shuffled(filled.captured.iter().map(|(_, sid)| message_uri(&conversation, sid)).collect());
        Ok(Self { emulator, target, conversation, messages: Arc::new(messages) })
    }

    /// Fetches of its messages, in rotation.
    fn fetch_plan(&self) -> Plan {
        rotating_fetch(Arc::clone(&self.messages))
    }

    /// The page of 50 in the middle of its conversation.
    fn middle_page(&self, settings: &Settings) -> Uri {
        middle_page_uri(&self.conversation, settings.small_store / 2)
    }
}

/// The small-store scenarios' requests to one store: its conversation to read and update,
/// and another for creates and deletes, so the first keeps its size.
struct SmallPlans {
    scratch: String,
    list_first: Uri,
    fetch: Plan,
    list: Plan,
    update: Plan,
    create: Plan,
    mixed: Plan,
}

impl SmallPlans {
    async fn prepare(store: &SmallStore) -> Result<Self, String> {
        let mut setup = Connection::open(&store.target).await?;
        let scratch = create_conversation(&mut setup).await?;
        let list_first = uri(format!("{}?PageSize={PAGE_SIZE}", messages_path(&store.conversation)));
        let messages = Arc::clone(&store.messages);
        let list = fixed_get(list_first.clone());
        let update: Plan = {
            let messages = Arc::clone(&messages);
            Arc::new(move |n| update_request(messages[n % messages.len()].clone()))
        };
        let create: Plan = {
            let scratch_messages = uri(messages_path(&scratch));
            Arc::new(move |_| create_request(scratch_messages.clone()))
        };
        // 70 % fetch, 20 % create, 10 % list, interleaved in every ten requests.
        let mixed: Plan = {
            let (conversation_messages, list_first) = (uri(messages_path(&store.conversation)), list_first.clone());
            Arc::new(move |n| match n % 10 {
                0..=6 => Planned::get(messages[n % messages.len()].clone()),
                7 | 8 => create_request(conversation_messages.clone()),
                _ => Planned::get(list_first.clone()),
            })
        };
        Ok(Self { scratch, list_first, fetch: store.fetch_plan(), list, update, create, mixed })
    }

    /// Deletes of exactly the messages `created` made, each once, in the numbering create
    /// used.
    fn delete(&self, settings: &Settings, created: &RunStats) -> Result<Plan, String> {
        let created: Arc<Vec<Uri>> =
            Arc::new(created.captured.iter().map(|(_, sid)| message_uri(&self.scratch, sid)).collect());
        let needed = Size::Message.warmup(settings) + settings.rounds * Size::Message.requests(settings);
        if created.len() < needed {
            return Err(format!("create kept {} SIDs, delete needs {needed}", created.len()));
        }
        Ok(Arc::new(move |n| Planned::delete(created[n].clone())))
    }
}

/// The three servers of the small-store scenarios, measured in turns: the emulator as the
/// other scenarios run it (`--log-level warn`), the emulator in its default configuration
/// (a request log to a file), and the static baseline.
struct SmallTrio<'a> {
    quiet: &'a Arc<Target>,
    default: &'a Arc<Target>,
    baseline: &'a Arc<Target>,
}

impl SmallTrio<'_> {
    /// Runs one scenario on the three (the baseline gets the quiet store's requests) and
    /// reports two rows: the quiet emulator against the baseline, judged by `minimum`, and
    /// the default configuration against the quiet one, judged by
    /// [`DEFAULT_LOG_MIN_RATIO`]. Returns the quiet and default runs.
    async fn measure(
        &self,
        settings: &Settings,
        report: &mut Report,
        (scenario, size, minimum): (&str, Size, Option<f64>),
        (quiet_plan, default_plan): (&Plan, &Plan),
        keep_sids: bool,
    ) -> Result<(RunStats, RunStats), String> {
        let contenders = [
            Contender::new(self.quiet, quiet_plan, keep_sids),
            Contender::new(self.default, default_plan, keep_sids),
            Contender::new(self.baseline, quiet_plan, false),
        ];
        let [quiet, default, baseline] = compare(settings, size, contenders).await?;
        let row = throughput_row(scenario, settings, &quiet, &baseline);
        report.push(match minimum {
            Some(minimum) => row.at_least(minimum),
            None => row,
        });
        let mut row = throughput_row(format!("{scenario}, default log"), settings, &default, &quiet)
            .at_least(DEFAULT_LOG_MIN_RATIO);
        row.measured = format!("{:.2} of --log-level warn", ratio(&default, &quiet));
        row.notes = format!(
            "the default configuration (an info line per request, to a file) beside the quiet emulator in the \
             same rounds; {:.2} of the static baseline (quiet: {:.2}); server CPU per request {:.1} / {:.1} µs, \
             {:.2} µs of it the log's writer thread (its writes into the page cache)",
            ratio(&default, &baseline),
            ratio(&quiet, &baseline),
            default.server_cpu_us(),
            quiet.server_cpu_us(),
            default.log_writer_cpu_us(),
        );
        report.push(row);
        Ok((quiet, default))
    }
}

async fn small_store(settings: &Settings, report: &mut Report) -> Result<(), String> {
    // Its rows compare the default configuration with the quiet one, at 5 %.
    let settings = &settings.for_close_comparison();
    // Arrange: the same store twice, quiet and in the default configuration.
    let log_directory = TempDir::new("log")?;
    let log_path = settings.log_file.clone().unwrap_or_else(|| log_directory.0.join("emulator.log"));
    let quiet_store = SmallStore::start(settings, Logging::Quiet).await?;
    let logging = Logging::ToFile { path: &log_path, level: &settings.log_level };
    let mut default_store = SmallStore::start(settings, logging).await?;
    let (quiet, default) = (SmallPlans::prepare(&quiet_store).await?, SmallPlans::prepare(&default_store).await?);

    // The baseline serves the emulator's own answers to the requests the scenarios send.
    let mut setup = Connection::open(&quiet_store.target).await?;
    let bodies = Bodies {
        fetch: Some(capture(&mut setup, &Planned::get(quiet_store.messages[0].clone())).await?),
        list: Some(capture(&mut setup, &Planned::get(quiet.list_first.clone())).await?),
        create: Some(capture(&mut setup, &create_request(uri(messages_path(&quiet.scratch)))).await?),
        update: Some(capture(&mut setup, &update_request(quiet_store.messages[0].clone())).await?),
    };
    drop(setup);
    let baseline = start_baseline(&bodies)?;
    let baseline_target = Target::new(&baseline);
    let trio = SmallTrio { quiet: &quiet_store.target, default: &default_store.target, baseline: &baseline_target };
    let small = settings.small_store;

    let fetch = format!("fetch one message ({small} in store)");
    let scenario = (fetch.as_str(), Size::Message, Some(FETCH_MIN_RATIO));
    trio.measure(settings, report, scenario, (&quiet.fetch, &default.fetch), false).await?;
    let list = format!("list first page of {PAGE_SIZE} ({small} in conversation)");
    let scenario = (list.as_str(), Size::Page, Some(LIST_MIN_RATIO));
    trio.measure(settings, report, scenario, (&quiet.list, &default.list), false).await?;
    let scenario = ("update a message", Size::Message, Some(WRITE_MIN_RATIO));
    trio.measure(settings, report, scenario, (&quiet.update, &default.update), false).await?;
    let scenario = ("create a message", Size::Message, Some(WRITE_MIN_RATIO));
    let (quiet_created, default_created) =
        trio.measure(settings, report, scenario, (&quiet.create, &default.create), true).await?;
    let (quiet_delete, default_delete) =
        (quiet.delete(settings, &quiet_created)?, default.delete(settings, &default_created)?);
    let scenario = ("delete a message", Size::Message, None);
    trio.measure(settings, report, scenario, (&quiet_delete, &default_delete), false).await?;
    let scenario = ("mixed: 70% fetch, 20% create, 10% list", Size::Mixed, None);
    trio.measure(settings, report, scenario, (&quiet.mixed, &default.mixed), false).await?;

    // Every request the default configuration answered has its line, once its log is
    // flushed at shutdown.
    default_store.emulator.terminate();
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let dropped: Vec<&str> = log.lines().filter(|line| line.contains("were dropped")).collect();
    let mut row = Row::new("request log lines written by the default configuration");
    row.measured = thousands(log.lines().count() as f64);
    row.target = "(none set)".into();
    row.notes = match dropped.is_empty() {
        true => "every request's line, set-up included, written by the time it exited (SIGTERM)".into(),
        false => format!("lines dropped: {}", dropped.join("; ")),
    };
    report.push(row);
    report.push(file_write_row(log_directory.0.as_path())?);
    Ok(())
}

/// What this machine's kernel takes to append to a file in `directory` (the one the log
/// goes to unless `BENCH_LOG_FILE` says otherwise), per byte, against overwriting pages
/// already in the page cache: the default configuration's writer thread pays the first for
/// every line. On a virtual machine whose host takes back the memory the guest leaves
/// free, each new page of the page cache is also a fault on the host, and appending costs
/// an order of magnitude more than on the same machine with its memory already backed
/// (BENCHMARKS.md, "The request log").
fn file_write_row(directory: &std::path::Path) -> Result<Row, String> {
    use std::io::Write;
    use std::os::unix::fs::FileExt;
    const CHUNK: usize = 256 * 1024;
    const TOTAL: usize = 256 * 1024 * 1024;
    const OVERWRITTEN: usize = 16 * 1024 * 1024;
    let path = directory.join("append-cost");
    let mut file = std::fs::File::create(&path).map_err(|e| format!("create {}: {e}", path.display()))?;
    let chunk = vec![b'x'; CHUNK];
    let io = |e: std::io::Error| format!("write {}: {e}", path.display());
    let started = process::thread_cpu_time()?;
    for _ in 0..TOTAL / CHUNK {
        file.write_all(&chunk).map_err(io)?;
    }
    let appending = process::thread_cpu_time()?.saturating_sub(started);
    let started = process::thread_cpu_time()?;
    for n in 0..TOTAL / CHUNK {
        file.write_all_at(&chunk, ((n * CHUNK) % OVERWRITTEN) as u64).map_err(io)?;
    }
    let overwriting = process::thread_cpu_time()?.saturating_sub(started);
    drop(file);
    let _ = std::fs::remove_file(&path);
    let per_byte = |cpu: Duration| cpu.as_secs_f64() * 1e9 / TOTAL as f64;
    let mut row = Row::new("appending to a file in the bench's temporary directory, CPU per byte");
    row.measured = format!("{:.2} ns", per_byte(appending));
    row.target = "(none set)".into();
    row.notes = format!(
        "the kernel's time to append 256 MiB in 256 KiB writes (new page-cache pages); overwriting 16 MiB \
         already cached: {:.3} ns a byte. A request log line is about 250 bytes",
        per_byte(overwriting)
    );
    Ok(row)
}

// --- One large conversation ---------------------------------------------------------

async fn large_conversation(settings: &Settings, report: &mut Report) -> Result<(), String> {
    let emulator = ServerProcess::emulator()?;
    let target = Target::new(&emulator);
    let mut setup = Connection::open(&target).await?;
    let conversation = create_conversation(&mut setup).await?;
    let (large, small) = (settings.large_store, settings.small_store);

    let before = emulator.resident_bytes()?;
    let filled = fill(settings, &target, std::slice::from_ref(&conversation), large, 0).await?;
    let after = emulator.resident_bytes()?;
    report.push(fill_row(format!("fill: create {} in one conversation", thousands(large as f64)), settings, &filled));

    let per_message = after.saturating_sub(before) as f64 / large as f64;
    let allowed = 2 * PAYLOAD_BYTES + MEMORY_OVERHEAD_BYTES;
    let mut row = Row::new(format!("resident memory per message ({} stored)", thousands(large as f64)));
    row.measured = format!("{per_message:.0} B/message");
    row.target = format!("<= {allowed} B (2 x {PAYLOAD_BYTES} B payload + {MEMORY_OVERHEAD_BYTES})");
    row.verdict = Verdict::judge(per_message <= allowed as f64);
    row.notes = format!(
        "VmRSS {:.1} MiB before the fill, {:.1} MiB after; payload = Author + Body bytes",
        mebibytes(before),
        mebibytes(after)
    );
    report.push(row);

    // The same page request, in the middle of this conversation and of a small one, with
    // the static baseline: the three take turns.
    let store = SmallStore::start(settings, Logging::Quiet).await?;
    let list_large = middle_page_uri(&conversation, large / 2);
    let bodies =
        Bodies { list: Some(capture(&mut setup, &Planned::get(list_large.clone())).await?), ..Bodies::default() };
    let baseline = start_baseline(&bodies)?;
    let baseline_target = Target::new(&baseline);
    let large_plan = fixed_get(list_large);
    let small_plan = fixed_get(store.middle_page(settings));
    let contenders = [
        Contender::new(&target, &large_plan, false),
        Contender::new(&store.target, &small_plan, false),
        Contender::new(&baseline_target, &large_plan, false),
    ];
    let [at_large, at_small, baseline_stats] = compare(settings, Size::Page, contenders).await?;
    let mut row = throughput_row(
        format!("list page of {PAGE_SIZE} mid-conversation ({} in it)", thousands(large as f64)),
        settings,
        &at_large,
        &baseline_stats,
    );
    size_comparison(&mut row, &at_large, &at_small, small, LARGE_LIST_MAX_SLOWDOWN);
    report.push(row);

    reset(&mut setup, &emulator, report, large).await
}

async fn reset(
    connection: &mut Connection,
    emulator: &ServerProcess,
    report: &mut Report,
    stored: usize,
) -> Result<(), String> {
    let request = Planned::post(uri("/_emulator/reset".into()), Bytes::new(), StatusCode::OK);
    let mut row = Row::new(format!("reset a store of {}", thousands(stored as f64)));
    row.target = format!("< {}", millis(RESET_MAX));
    let sent = Instant::now();
    let (status, body) = connection.send(&request).await?;
    let elapsed = sent.elapsed();
    match status {
        StatusCode::NOT_FOUND => {
            row.verdict = Verdict::NotAvailable;
            row.measured = "not available".into();
            row.notes = "POST /_emulator/reset answers 404 in this build".into();
        }
        StatusCode::OK | StatusCode::NO_CONTENT => {
            // What a test suite waits for: the answer, and a first request on the empty
            // store (a conversation's list, now gone).
            let gone = Planned {
                expect: StatusCode::NOT_FOUND,
                ..Planned::get(uri(messages_path("CH00000000000000000000000000000000")))
            };
            connection.expect(&gone).await?;
            let usable = sent.elapsed();
            row.measured = millis(elapsed);
            row.verdict = Verdict::judge(elapsed < RESET_MAX);
            row.notes = format!(
                "answered after {}, next request answered after {}; VmRSS right after: {:.1} MiB",
                millis(elapsed),
                millis(usable),
                mebibytes(emulator.resident_bytes()?)
            );
        }
        other => {
            return Err(format!("POST /_emulator/reset answered {other}: {}", String::from_utf8_lossy(&body)));
        }
    }
    report.push(row);
    Ok(())
}

// --- Messages spread over many conversations ----------------------------------------

async fn spread_store(settings: &Settings, report: &mut Report) -> Result<(), String> {
    let emulator = ServerProcess::emulator()?;
    let target = Target::new(&emulator);
    let (large, count) = (settings.large_store, settings.conversations);

    let create_conversations: Plan =
        Arc::new(|_| Planned::post(uri("/v1/Conversations".into()), Bytes::new(), StatusCode::CREATED));
    let options = RunOptions { connections: settings.fill_connections, capture_every: 1, deadline: settings.deadline };
    let made = http::run(&target, &create_conversations, 0..count, options).await?;
    let conversations: Vec<String> = made.captured.into_iter().map(|(_, sid)| sid).collect();

    // Keep about 10,000 message SIDs to fetch, from every conversation: message n goes to
    // conversation n mod count, so a capture stride coprime with count visits them all.
    let mut stride = (large / 10_000).max(1);
    while gcd(stride, count) != 1 {
        stride += 1;
    }
    let filled = fill(settings, &target, &conversations, large, stride).await?;
    report.push(fill_row(
        format!("fill: create {} over {} conversations", thousands(large as f64), thousands(count as f64)),
        settings,
        &filled,
    ));

    let messages = Arc::new(shuffled(
        filled.captured.iter().map(|(n, sid)| message_uri(&conversations[n % count], sid)).collect(),
    ));
    let sampled = messages.len();
    let mut setup = Connection::open(&target).await?;
    let bodies =
        Bodies { fetch: Some(capture(&mut setup, &Planned::get(messages[0].clone())).await?), ..Bodies::default() };
    let baseline = start_baseline(&bodies)?;
    let baseline_target = Target::new(&baseline);
    let store = SmallStore::start(settings, Logging::Quiet).await?;
    let large_plan = rotating_fetch(messages);
    let small_plan = store.fetch_plan();
    let contenders = [
        Contender::new(&target, &large_plan, false),
        Contender::new(&store.target, &small_plan, false),
        Contender::new(&baseline_target, &large_plan, false),
    ];
    let [at_large, at_small, baseline_stats] = compare(settings, Size::Message, contenders).await?;
    let mut row = throughput_row(
        format!("fetch, {} in store over {} conversations", thousands(large as f64), thousands(count as f64)),
        settings,
        &at_large,
        &baseline_stats,
    );
    size_comparison(&mut row, &at_large, &at_small, settings.small_store, LARGE_FETCH_MAX_SLOWDOWN);
    row.notes = format!("fetches rotate over {sampled} messages sampled from every conversation; {}", row.notes);
    report.push(row);
    Ok(())
}

/// Judges a large store's time per request against a small store's, measured in turns.
fn size_comparison(row: &mut Row, at_large: &RunStats, at_small: &RunStats, small: usize, maximum: f64) {
    let slowdown = at_small.requests_per_second() / at_large.requests_per_second();
    row.measured = format!("{slowdown:.2}x the time at {small}");
    row.target = format!("<= {maximum}x");
    row.verdict = Verdict::judge(slowdown <= maximum);
    row.notes = format!(
        "side by side with {small} in store: {} req/s there; server CPU per request {:.1} µs here, {:.1} µs there",
        thousands(at_small.requests_per_second()),
        at_large.server_cpu_us(),
        at_small.server_cpu_us()
    );
}

// --- Import -------------------------------------------------------------------------

/// A state document for `POST /_emulator/state`, and a request that must answer 200 once
/// it is imported.
struct ImportDocument {
    body: Bytes,
    content_type: &'static str,
    check: Uri,
}

/// The unique name of the imported conversation, by which the check addresses it.
const IMPORTED: &str = "bench-import";

/// The `POST /_emulator/state` document holding `messages` messages in one conversation of
/// the account's default service, in the format of `src/store/document.rs` (StateDocument:
/// every field but `account_sid` optional; SIDs, indices and dates are generated on
/// import). Built as text: serializing a million structs would only add time before the
/// clock starts. Should the format change, this is the one place to follow it; `None`
/// reports the scenario as not available.
fn import_document(messages: usize) -> Option<ImportDocument> {
    let message = format!(r#"{{"author":"{AUTHOR}","body":"{BODY}"}}"#);
    let mut body = String::with_capacity(messages * (message.len() + 1) + 200);
    body.push_str(r#"{"accounts":[{"account_sid":""#);
    body.push_str(http::ACCOUNT);
    body.push_str(r#"","conversations":[{"unique_name":""#);
    body.push_str(IMPORTED);
    body.push_str(r#"","messages":["#);
    for n in 0..messages {
        if n > 0 {
            body.push(',');
        }
        body.push_str(&message);
    }
    body.push_str("]}]}]}");
    Some(ImportDocument {
        body: body.into(),
        content_type: "application/json",
        check: middle_page_uri(IMPORTED, messages / 2),
    })
}

async fn import(settings: &Settings, report: &mut Report) -> Result<(), String> {
    let emulator = ServerProcess::emulator()?;
    let target = Target::new(&emulator);
    let mut connection = Connection::open(&target).await?;
    let large = settings.large_store;
    let mut row = Row::new(format!("import {} messages", thousands(large as f64)));
    row.target = "(none set)".into();
    let endpoint = uri("/_emulator/state".into());

    let Some(document) = import_document(large) else {
        // Ask only whether the endpoint exists: an empty document.
        let probe = Planned::post(endpoint, Bytes::new(), StatusCode::OK);
        let (status, _) = connection.send(&probe).await?;
        row.verdict = Verdict::NotAvailable;
        row.measured = "not available".into();
        row.notes = if status == StatusCode::NOT_FOUND {
            "POST /_emulator/state answers 404 in this build".into()
        } else {
            format!(
                "POST /_emulator/state exists (an empty body got {status}), but the benchmark \
                 has no document for it: see import_document in benches/load/scenarios.rs"
            )
        };
        report.push(row);
        return Ok(());
    };

    let request = Planned {
        content_type: document.content_type,
        ..Planned::post(endpoint, document.body.clone(), StatusCode::OK)
    };
    // A message to fetch, over a connection of its own, for as long as the import runs:
    // the slowest fetch is how long the import kept the store from readers.
    let mut probe = Connection::open(&target).await?;
    let probed = create_conversation(&mut probe).await?;
    let created = capture(&mut probe, &create_request(uri(messages_path(&probed)))).await?;
    let sid =
        serde_json::from_str::<serde_json::Value>(&created).ok().and_then(|m| m["sid"].as_str().map(str::to_owned));
    let fetch = Planned::get(message_uri(&probed, &sid.ok_or("the probe's message has no SID")?));
    let importing = std::sync::atomic::AtomicBool::new(true);
    let sent = Instant::now();
    let import = async {
        let answer = connection.send(&request).await;
        importing.store(false, std::sync::atomic::Ordering::Relaxed);
        answer
    };
    let probing = async {
        let (mut slowest, mut fetches) = (Duration::ZERO, 0usize);
        while importing.load(std::sync::atomic::Ordering::Relaxed) {
            let started = Instant::now();
            probe.expect(&fetch).await?;
            slowest = slowest.max(started.elapsed());
            fetches += 1;
        }
        Ok::<_, String>((slowest, fetches))
    };
    let (answer, probed) = tokio::join!(import, probing);
    let ((status, body), (slowest, fetches)) = (answer?, probed?);
    let elapsed = sent.elapsed();
    if status == StatusCode::NOT_FOUND {
        row.verdict = Verdict::NotAvailable;
        row.measured = "not available".into();
        row.notes = "POST /_emulator/state answers 404 in this build".into();
    } else if status.is_success() {
        // The summary counts what was imported, and the imported messages can be listed.
        let summary: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("import summary is not JSON ({e})"))?;
        if summary["messages"] != large {
            return Err(format!("imported {large} messages, the summary says {summary}"));
        }
        connection.expect(&Planned::get(document.check)).await?;
        row.measured = millis(elapsed);
        row.notes = format!(
            "document of {:.1} MiB; VmRSS after: {:.1} MiB; slowest of {fetches} fetches during it: {}",
            mebibytes(document.body.len() as u64),
            mebibytes(emulator.resident_bytes()?),
            millis(slowest)
        );
    } else {
        return Err(format!(
            "POST /_emulator/state answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ));
    }
    report.push(row);
    Ok(())
}

// --- The state file -------------------------------------------------------------------

/// A fresh directory under the system's temporary one, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Result<Self, String> {
        let path = std::env::temp_dir().join(format!("bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).map_err(|e| format!("create {}: {e}", path.display()))?;
        Ok(Self(path))
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn durable(settings: &Settings, report: &mut Report) -> Result<(), String> {
    let directory = TempDir::new("durable")?;

    // Creates: the same requests to a durable emulator and to one in memory, in turns.
    let (state, synced_state) = (directory.file("creates.json"), directory.file("synced.json"));
    let on_disk = ServerProcess::emulator_with(&["--state-file", &state])?;
    let synced = ServerProcess::emulator_with(&["--state-file", &synced_state, "--state-sync", "always"])?;
    let in_memory = ServerProcess::emulator()?;
    let targets = [Target::new(&on_disk), Target::new(&synced), Target::new(&in_memory)];
    let mut plans = Vec::new();
    for target in &targets {
        let messages = uri(messages_path(&create_conversation(&mut Connection::open(target).await?).await?));
        plans.push(Arc::new(move |_| create_request(messages.clone())) as Plan);
    }
    let [disk, memory] = compare(
        settings,
        Size::Message,
        [Contender::new(&targets[0], &plans[0], false), Contender::new(&targets[2], &plans[2], false)],
    )
    .await?;
    // A sync per write runs at the disk's pace, a few hundred a second: a fiftieth of the
    // requests, once, is enough to know it.
    let options = RunOptions { connections: settings.connections, capture_every: 0, deadline: settings.deadline };
    let synced_stats = http::run(&targets[1], &plans[1], 0..(settings.requests / 50).max(100), options).await?;
    let mut row = throughput_row("create a message, --state-file (vs in memory)", settings, &disk, &memory)
        .at_least(DURABLE_CREATE_MIN_RATIO);
    row.notes = "ratio to the same creates in memory, not to the static baseline; default --state-sync never".into();
    report.push(row);
    let mut row =
        throughput_row("create a message, --state-sync always (vs in memory)", settings, &synced_stats, &memory);
    row.notes = "an fdatasync per write, under the store's lock; no target: it is the disk's speed".into();
    report.push(row);
    drop((on_disk, synced, in_memory));

    // Fetches while a store of 300,000 messages (30 % of the large store) compacts: the
    // store fills to just under the compaction threshold, then a few creates cross it
    // while the fetches run.
    let size = (settings.large_store * 3 / 10).max(1_000);
    let state = directory.file("compacting.json");
    let threshold = size.to_string();
    let emulator = ServerProcess::emulator_with(&["--state-file", &state, "--state-compact-after", &threshold])?;
    let target = Target::new(&emulator);
    let conversation = create_conversation(&mut Connection::open(&target).await?).await?;
    let filled = fill(settings, &target, std::slice::from_ref(&conversation), size - 500, 97).await?;
    let fetches =
        rotating_fetch(Arc::new(filled.captured.iter().map(|(_, sid)| message_uri(&conversation, sid)).collect()));
    let snapshot_before = std::fs::metadata(&state).map(|m| m.len()).unwrap_or(0);
    let options = RunOptions { connections: settings.connections, capture_every: 0, deadline: settings.deadline };
    let crossing = fill(settings, &target, std::slice::from_ref(&conversation), 1_000, 0);
    let (fetched, crossed) = tokio::join!(http::run(&target, &fetches, 0..settings.requests * 2, options), crossing);
    let (fetched, _) = (fetched?, crossed?);
    // The snapshot is written on a thread of its own: wait for it to land.
    let deadline = std::time::Instant::now() + settings.deadline;
    while std::fs::metadata(&state).map(|m| m.len()).unwrap_or(0) <= snapshot_before {
        if std::time::Instant::now() > deadline {
            return Err("the store never compacted".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let p99 = Duration::from_micros(fetched.latency_us(0.99) as u64);
    let mut row = Row::new(format!("fetch p99 while {} messages compact", thousands(size as f64)));
    row.connections = Some(settings.connections);
    row.emulator = Some(Throughput::from(&fetched));
    row.measured = format!("{} p99", millis(p99));
    row.target = format!("< {}", millis(COMPACTION_FETCH_P99_MAX));
    row.verdict = Verdict::judge(p99 < COMPACTION_FETCH_P99_MAX);
    row.notes = format!(
        "p50 {:.0} µs; snapshot {:.1} MiB",
        fetched.latency_us(0.5),
        mebibytes(std::fs::metadata(&state).map(|m| m.len()).unwrap_or(0))
    );
    report.push(row);
    Ok(())
}

// --- Webhooks ---------------------------------------------------------------------------

// --- Soak -------------------------------------------------------------------------------

/// Resident memory right after each reset, as a share of it after the first: the issue's
/// bound, so that a long-running emulator that tests reset between them stays put.
const SOAK_RSS_MAX_GROWTH: f64 = 1.2;
/// Conversations made after each reset, and messages made in them before the mixed load.
const SOAK_CONVERSATIONS: usize = 16;
const SOAK_MESSAGES: usize = 2_000;
/// Messages made for each slice of mixed load, each deleted once during it.
const SOAK_DOOMED: usize = 200;

/// Mixed load for `soak_seconds` (creates with a webhook to a loopback receiver, fetches,
/// list pages, updates and deletes), resetting the store every `soak_reset_seconds`: no
/// request may fail (every answer has the status its plan expects, and every webhook
/// arrives), and resident memory after each reset stays within
/// [`SOAK_RSS_MAX_GROWTH`] of what it was after the first.
async fn soak(settings: &Settings, report: &mut Report) -> Result<(), String> {
    let receiver = Receiver::start(true)?;
    let emulator = ServerProcess::emulator()?;
    let target = Target::new(&emulator);
    let end = Instant::now() + Duration::from_secs(settings.soak_seconds);
    let options = RunOptions { connections: settings.connections, capture_every: 0, deadline: settings.deadline };
    let (mut requests, mut sent_webhooks, mut resets) = (0usize, 0usize, 0usize);
    let (mut after_reset, mut before_reset) = (Vec::new(), Vec::new());
    while Instant::now() < end {
        let cycle_end = (Instant::now() + Duration::from_secs(settings.soak_reset_seconds)).min(end);
        configure_webhook(&target, &receiver.url).await?;
        let mut setup = Connection::open(&target).await?;
        let mut conversations = Vec::with_capacity(SOAK_CONVERSATIONS);
        for _ in 0..SOAK_CONVERSATIONS {
            conversations.push(create_conversation(&mut setup).await?);
        }
        let paths: Arc<Vec<Uri>> = Arc::new(conversations.iter().map(|c| uri(messages_path(c))).collect());
        let kept = sids_of(fill(settings, &target, &conversations, SOAK_MESSAGES, 1).await?, &conversations);
        let kept = Arc::new(kept);
        requests += SOAK_CONVERSATIONS + SOAK_MESSAGES;
        while Instant::now() < cycle_end {
            // Messages that this slice deletes, each once.
            let doomed =
                Arc::new(sids_of(fill(settings, &target, &conversations, SOAK_DOOMED, 1).await?, &conversations));
            let (paths, kept) = (Arc::clone(&paths), Arc::clone(&kept));
            let plan: Plan = Arc::new(move |n| {
                let message = &kept[n % kept.len()];
                match n % 10 {
                    0 | 1 => create_request(paths[n % paths.len()].clone()).with_webhooks(),
                    2..=4 => Planned::get(message.clone()),
                    5 => Planned::get(uri(format!("{}?PageSize={PAGE_SIZE}", paths[n % paths.len()].path()))),
                    6 | 7 => update_request(message.clone()),
                    8 => Planned::delete(doomed[n / 10].clone()),
                    _ => Planned::get(uri(format!("{}?Order=desc&PageSize=5", paths[n % paths.len()].path()))),
                }
            });
            let count = SOAK_DOOMED * 10;
            http::run(&target, &plan, 0..count, options).await?;
            requests += SOAK_DOOMED + count;
            // Two creates in every ten ask for webhooks; the fills do not.
            sent_webhooks += count / 5;
        }
        // Every webhook of the cycle delivered (none dropped), then the reset.
        let dropped = drained(settings, &target).await?;
        if dropped > 0 {
            return Err(format!("soak: {dropped} webhooks were dropped"));
        }
        before_reset.push(emulator.resident_bytes()?);
        setup.expect(&Planned::post(uri("/_emulator/reset".into()), Bytes::new(), StatusCode::NO_CONTENT)).await?;
        after_reset.push(settled_resident_bytes(&emulator).await?);
        resets += 1;
        requests += 1;
    }
    let delivered = receiver.received();
    if delivered != sent_webhooks {
        return Err(format!("soak: {delivered} of {sent_webhooks} webhooks arrived"));
    }
    let first = after_reset.first().copied().unwrap_or(0).max(1) as f64;
    let highest = after_reset.iter().copied().max().unwrap_or(0) as f64;
    let growth = highest / first;
    let mut row = Row::new(format!(
        "soak: {} s of mixed load, reset every {} s",
        settings.soak_seconds, settings.soak_reset_seconds
    ));
    row.connections = Some(settings.connections);
    row.measured = format!("RSS after resets ≤ {:.2} × the first", growth);
    row.target = format!("0 errors, ≤ {SOAK_RSS_MAX_GROWTH} ×");
    row.verdict = Verdict::judge(growth <= SOAK_RSS_MAX_GROWTH);
    let list = |bytes: &[u64]| bytes.iter().map(|b| format!("{:.0}", mebibytes(*b))).collect::<Vec<_>>().join(" ");
    row.notes = format!(
        "{} requests, {delivered} webhooks delivered, {resets} resets, 0 errors; VmRSS MiB before each reset: {}; after: {}",
        thousands(requests as f64),
        list(&before_reset),
        list(&after_reset),
    );
    report.push(row);
    Ok(())
}

/// The emulator's resident memory once a reset has let go of the old store: the lowest of
/// readings over two idle seconds. A reset answers before the old store is freed (on a
/// thread of its own), and the workers return the freed pages when they next go idle; the
/// resident size stays flat while the store is being freed, so "until it stops falling"
/// stopped too early.
async fn settled_resident_bytes(emulator: &ServerProcess) -> Result<u64, String> {
    let mut lowest = emulator.resident_bytes()?;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        lowest = lowest.min(emulator.resident_bytes()?);
    }
    Ok(lowest)
}

/// The message URIs of a fill's answers (captured from every one), in request order.
fn sids_of(filled: RunStats, conversations: &[String]) -> Vec<Uri> {
    let mut captured = filled.captured;
    captured.sort_unstable_by_key(|(n, _)| *n);
    captured.into_iter().map(|(n, sid)| message_uri(&conversations[n % conversations.len()], &sid)).collect()
}

/// A webhook receiver on its own thread and runtime, so that it takes none of the load
/// generator's time: it counts what it gets and answers `200` at once, or (`answers`
/// false) reads each request and never answers.
struct Receiver {
    url: String,
    received: Arc<std::sync::atomic::AtomicUsize>,
    /// When the latest request arrived.
    last: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

impl Receiver {
    fn start(answers: bool) -> Result<Self, String> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind a receiver: {e}"))?;
        listener.set_nonblocking(true).map_err(|e| format!("receiver socket: {e}"))?;
        let url = format!("http://{}/hook", listener.local_addr().map_err(|e| e.to_string())?);
        let received = Arc::new(AtomicUsize::new(0));
        let last = Arc::new(std::sync::Mutex::new(None));
        let (count, stamp) = (Arc::clone(&received), Arc::clone(&last));
        std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let app = axum::Router::new().fallback(move || {
                    let (count, stamp) = (Arc::clone(&count), Arc::clone(&stamp));
                    async move {
                        count.fetch_add(1, Ordering::Relaxed);
                        *stamp.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                            Some(std::time::Instant::now());
                        if !answers {
                            std::future::pending::<()>().await;
                        }
                        StatusCode::OK
                    }
                });
                let _ = axum::serve(listener, app).await;
            });
        });
        Ok(Self { url, received, last })
    }

    fn received(&self) -> usize {
        self.received.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Points an emulator's account-level post-event webhook (`onMessageAdded`) at `url`.
async fn configure_webhook(target: &Arc<Target>, url: &str) -> Result<(), String> {
    let body: Bytes = form_urlencoded::Serializer::new(String::new())
        .append_pair("PostWebhookUrl", url)
        .append_pair("Method", "POST")
        .append_pair("Filters", "onMessageAdded")
        .finish()
        .into();
    let request = Planned::post(uri("/v1/Configuration/Webhooks".into()), body, StatusCode::OK);
    Connection::open(target).await?.expect(&request).await.map(drop)
}

/// Creates spread over one conversation per connection, as an app's traffic spreads over
/// its conversations: each conversation's webhooks go out one at a time, in order, so
/// one conversation's deliveries are bounded by the receiver's round trip (measured
/// separately below).
async fn spread_creates(target: &Arc<Target>, conversations: usize) -> Result<Plan, String> {
    let mut connection = Connection::open(target).await?;
    let mut paths = Vec::with_capacity(conversations);
    for _ in 0..conversations {
        paths.push(uri(messages_path(&create_conversation(&mut connection).await?)));
    }
    Ok(Arc::new(move |n| create_request(paths[n % paths.len()].clone()).with_webhooks()))
}

/// Waits until the emulator behind `target` has no webhook waiting; how many it dropped
/// since it started.
async fn drained(settings: &Settings, target: &Arc<Target>) -> Result<u64, String> {
    // A filter no delivery matches: the answer is only the counts.
    let status = Planned::get(uri("/_emulator/webhooks/deliveries?event=none".into()));
    let mut connection = Connection::open(target).await?;
    let deadline = std::time::Instant::now() + settings.deadline;
    loop {
        let body = connection.expect(&status).await?;
        let counts: serde_json::Value = serde_json::from_slice(&body).map_err(|e| format!("delivery counts: {e}"))?;
        if counts["pending"] == 0 {
            return Ok(counts["dropped"].as_u64().unwrap_or(0));
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("webhooks still waiting after {:?}: {counts}", settings.deadline));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sends `count` requests of `plan` (from request number `first`) once no webhook is
/// waiting, and waits for them to be delivered: the deliveries per second, from the first
/// request to the last delivery, and the creates per second.
async fn delivery_rate(
    settings: &Settings,
    target: &Arc<Target>,
    plan: &Plan,
    receiver: &Receiver,
    first: usize,
    count: usize,
) -> Result<(f64, f64), String> {
    let dropped_before = drained(settings, target).await?;
    let before = receiver.received();
    let options = RunOptions { connections: settings.connections, capture_every: 0, deadline: settings.deadline };
    let started = std::time::Instant::now();
    let burst = http::run(target, plan, first..first + count, options).await?;
    let dropped = drained(settings, target).await? - dropped_before;
    let delivered = receiver.received() - before;
    if delivered as u64 + dropped != count as u64 {
        return Err(format!("{delivered} of {count} webhooks arrived and {dropped} were dropped"));
    }
    let last = receiver.last.lock().map_err(|_| "receiver lock")?.unwrap_or_else(std::time::Instant::now);
    Ok((delivered as f64 / last.duration_since(started).as_secs_f64(), burst.requests_per_second()))
}

async fn webhooks(settings: &Settings, report: &mut Report) -> Result<(), String> {
    let (answering, silent) = (Receiver::start(true)?, Receiver::start(false)?);
    let hooked = ServerProcess::emulator()?;
    let stuck = ServerProcess::emulator()?;
    let plain = ServerProcess::emulator()?;
    let targets = [Target::new(&hooked), Target::new(&stuck), Target::new(&plain)];
    configure_webhook(&targets[0], &answering.url).await?;
    configure_webhook(&targets[1], &silent.url).await?;
    // Every emulator gets the same requests, the header included: only the receiver
    // differs (none configured on the third).
    let conversations = settings.connections;
    let mut plans = Vec::new();
    for target in &targets {
        plans.push(spread_creates(target, conversations).await?);
    }
    let contenders = || [0, 1, 2].map(|i| Contender::new(&targets[i], &plans[i], false));

    // How fast a create answers: one connection, so each create waits only for its own
    // answer, while the webhooks go out on the other core.
    let one_connection = Settings { connections: 1, requests: (settings.requests / 5).max(10), ..settings.clone() };
    let [with_hook, with_dead, without] = compare(&one_connection, Size::Message, contenders()).await?;
    for (name, stats) in [
        ("create answer time, post-event webhook to a local receiver (vs none)", &with_hook),
        ("create answer time, webhook receiver never answers (vs none)", &with_dead),
    ] {
        let mut row = throughput_row(name, &one_connection, stats, &without).at_least(WEBHOOK_CREATE_MIN_RATIO);
        row.notes = format!(
            "one connection: the ratio of answers per second is the inverse ratio of answer times; p50 {:.0} µs against {:.0} µs with no webhook",
            stats.latency_us(0.5),
            without.latency_us(0.5)
        );
        report.push(row);
    }

    // What a delivery costs when the emulator is saturated: the CPU it takes is CPU the
    // creates do not get.
    let [with_hook, with_dead, without] = compare(settings, Size::Message, contenders()).await?;
    for (name, stats, note) in [
        (
            "create throughput, post-event webhook to a local receiver (vs none)",
            &with_hook,
            "every create also sends an HTTP request",
        ),
        (
            "create throughput, webhook receiver never answers (vs none)",
            &with_dead,
            "queues fill, then drop past 10,000 waiting",
        ),
    ] {
        let mut row = throughput_row(name, settings, stats, &without);
        row.notes = format!(
            "saturated, over {conversations} conversations; emulator CPU per create {:.1} µs against {:.1} µs with no webhook; {note}",
            stats.server_cpu_us(),
            without.server_cpu_us()
        );
        report.push(row);
    }

    // Deliveries per second, over the conversations and into one.
    let count = settings.requests;
    let first = 2 * settings.warmup + settings.rounds * (settings.requests + one_connection.requests);
    let (spread_rate, spread_creates_rate) =
        delivery_rate(settings, &targets[0], &plans[0], &answering, first, count).await?;
    let one = {
        let mut connection = Connection::open(&targets[0]).await?;
        uri(messages_path(&create_conversation(&mut connection).await?))
    };
    let single: Plan = Arc::new(move |_| create_request(one.clone()).with_webhooks());
    let (single_rate, single_creates_rate) =
        delivery_rate(settings, &targets[0], &single, &answering, 0, count).await?;
    for (name, rate, creates, note) in [
        (
            format!("webhook deliveries over {conversations} conversations"),
            spread_rate,
            spread_creates_rate,
            "queues send in parallel",
        ),
        (
            "webhook deliveries into one conversation".to_owned(),
            single_rate,
            single_creates_rate,
            "one queue: sent one at a time, in order",
        ),
    ] {
        let mut row = Row::new(name);
        row.connections = Some(settings.connections);
        row.measured = format!("{rate:.0}/s");
        row.target = "(none set)".into();
        row.notes = format!(
            "{count} creates answered at {creates:.0}/s; {note}; timed from the first create to the last delivery"
        );
        report.push(row);
    }
    Ok(())
}

// --- Measuring side by side ---------------------------------------------------------

/// The kinds of request count, by the size of their answers.
#[derive(Clone, Copy)]
enum Size {
    /// One message, about 800 bytes.
    Message,
    /// A page of 50, about 40 KB.
    Page,
    /// The mixed workload: one page in ten requests.
    Mixed,
}

impl Size {
    fn requests(self, settings: &Settings) -> usize {
        match self {
            Self::Message => settings.requests,
            Self::Page => settings.list_requests,
            Self::Mixed => settings.requests / 2,
        }
    }

    fn warmup(self, settings: &Settings) -> usize {
        match self {
            Self::Message | Self::Mixed => settings.warmup,
            Self::Page => settings.list_warmup,
        }
    }
}

/// A server in a comparison, with the requests it gets.
struct Contender<'a> {
    target: &'a Arc<Target>,
    plan: Plan,
    /// Keep the SIDs of its answers (warm-up included).
    keep_sids: bool,
}

impl<'a> Contender<'a> {
    fn new(target: &'a Arc<Target>, plan: &Plan, keep_sids: bool) -> Self {
        Self { target, plan: Arc::clone(plan), keep_sids }
    }
}

/// Measures several servers in turns: a warm-up each, then `rounds` rounds in which each
/// runs once, the order rotating so that none always runs first. A slow spell of the
/// machine then falls on all of them alike. Request numbers continue across warm-up and
/// rounds, so a plan that consumes records (delete) never repeats one.
async fn compare<const N: usize>(
    settings: &Settings,
    size: Size,
    contenders: [Contender<'_>; N],
) -> Result<[RunStats; N], String> {
    let options = |keep_sids: bool| RunOptions {
        connections: settings.connections,
        capture_every: usize::from(keep_sids),
        deadline: settings.deadline,
    };
    let (warmup, per_round) = (size.warmup(settings), size.requests(settings));
    let mut stats: [RunStats; N] = std::array::from_fn(|_| RunStats::empty());
    for (contender, stats) in contenders.iter().zip(&mut stats) {
        let warm = http::run(contender.target, &contender.plan, 0..warmup, options(contender.keep_sids)).await?;
        stats.captured = warm.captured;
    }
    for round in 0..settings.rounds {
        let start = warmup + round * per_round;
        for turn in 0..N {
            let index = (round + turn) % N;
            let contender = &contenders[index];
            let run =
                http::run(contender.target, &contender.plan, start..start + per_round, options(contender.keep_sids))
                    .await?;
            stats[index].absorb(run);
        }
    }
    Ok(stats)
}

fn ratio(emulator: &RunStats, baseline: &RunStats) -> f64 {
    emulator.requests_per_second() / baseline.requests_per_second()
}

fn throughput_row(scenario: impl Into<String>, settings: &Settings, emulator: &RunStats, baseline: &RunStats) -> Row {
    let ratio = ratio(emulator, baseline);
    let mut row = Row::new(scenario);
    row.connections = Some(settings.connections);
    row.emulator = Some(Throughput::from(emulator));
    row.baseline = Some(Throughput::from(baseline));
    row.ratio = Some(ratio);
    row.measured = format!("{ratio:.2} of baseline");
    row.target = "(none set)".into();
    row
}

impl Row {
    /// Judges the throughput ratio against a minimum.
    fn at_least(mut self, minimum: f64) -> Self {
        let ratio = self.ratio.expect("a throughput row");
        self.target = format!(">= {minimum}");
        self.verdict = Verdict::judge(ratio >= minimum);
        self
    }
}

fn fill_row(scenario: String, settings: &Settings, filled: &RunStats) -> Row {
    let mut row = Row::new(scenario);
    row.connections = Some(settings.fill_connections);
    row.emulator = Some(Throughput::from(filled));
    row.measured = format!("{:.1} s", filled.elapsed.as_secs_f64());
    row.target = "(none set)".into();
    row
}

// --- Requests -----------------------------------------------------------------------

/// Creates `count` messages round-robin over `conversations`, keeping the SID of every
/// `capture_every`-th (0: none).
async fn fill(
    settings: &Settings,
    target: &Arc<Target>,
    conversations: &[String],
    count: usize,
    capture_every: usize,
) -> Result<RunStats, String> {
    let paths: Vec<Uri> = conversations.iter().map(|c| uri(messages_path(c))).collect();
    let plan: Plan = Arc::new(move |n| create_request(paths[n % paths.len()].clone()));
    let options = RunOptions { connections: settings.fill_connections, capture_every, deadline: settings.deadline };
    http::run(target, &plan, 0..count, options).await
}

async fn create_conversation(connection: &mut Connection) -> Result<String, String> {
    let request = Planned::post(uri("/v1/Conversations".into()), Bytes::new(), StatusCode::CREATED);
    let body = connection.expect(&request).await?;
    first_sid(&body).ok_or_else(|| "a conversation without a sid".to_owned())
}

/// Sends `request` and returns its answer's text, for the baseline to serve.
async fn capture(connection: &mut Connection, request: &Planned) -> Result<String, String> {
    let body = connection.expect(request).await?;
    String::from_utf8(body.to_vec()).map_err(|e| format!("{}: not UTF-8: {e}", request.uri))
}

fn start_baseline(bodies: &Bodies) -> Result<ServerProcess, String> {
    ServerProcess::baseline(&serde_json::to_vec(bodies).expect("bodies serialize"))
}

/// Fetches of `messages`, in rotation.
fn rotating_fetch(messages: Arc<Vec<Uri>>) -> Plan {
    Arc::new(move |n| Planned::get(messages[n % messages.len()].clone()))
}

/// The same GET every time.
fn fixed_get(path: Uri) -> Plan {
    Arc::new(move |_| Planned::get(path.clone()))
}

fn create_request(messages: Uri) -> Planned {
    Planned::post(messages, form(BODY), StatusCode::CREATED)
}

fn update_request(message: Uri) -> Planned {
    Planned::post(message, form(EDITED_BODY), StatusCode::OK)
}

fn form(body: &str) -> Bytes {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("Author", AUTHOR)
        .append_pair("Body", body)
        .finish()
        .into()
}

fn messages_path(conversation: &str) -> String {
    format!("/v1/Conversations/{conversation}/Messages")
}

fn message_uri(conversation: &str, sid: &str) -> Uri {
    uri(format!("{}/{sid}", messages_path(conversation)))
}

/// The page that starts at message index `middle`, asked for as the SDKs ask for the
/// pages after the first: through the `PageToken` of the previous page's `next_page_url`.
fn middle_page_uri(conversation: &str, middle: usize) -> Uri {
    let middle = middle.max(1);
    uri(format!(
        "{}?PageSize={PAGE_SIZE}&Page={}&PageToken=PTA{}",
        messages_path(conversation),
        middle / PAGE_SIZE,
        middle - 1
    ))
}

fn uri(path: String) -> Uri {
    Uri::try_from(path).expect("benchmark paths are valid URIs")
}

/// A fixed permutation (xorshift-driven Fisher–Yates), so that consecutive fetches do not
/// walk the store in creation order, and every run visits it in the same order.
fn shuffled<T>(mut items: Vec<T>) -> Vec<T> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
    items
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1_000.0)
}

fn mebibytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

// --- The inspector --------------------------------------------------------------------

/// A live inspector page as the emulator sees it: a client of `/_emulator/events` that
/// reads every event as it comes. It runs on a thread of its own, as a browser is a
/// process of its own, so that reading the stream takes none of the load generator's time.
struct LivePage {
    stop: Arc<std::sync::atomic::AtomicBool>,
    /// How many `change` events it read.
    changes: Arc<std::sync::atomic::AtomicUsize>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl LivePage {
    fn open(server: &ServerProcess) -> Result<Self, String> {
        use std::io::{Read, Write};
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let mut stream =
            std::net::TcpStream::connect(server.addr).map_err(|e| format!("connect the live page: {e}"))?;
        let request =
            format!("GET /_emulator/events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n", server.addr);
        stream.write_all(request.as_bytes()).map_err(|e| format!("open the live stream: {e}"))?;
        // A read times out now and then, so that the thread sees `stop`.
        stream.set_read_timeout(Some(Duration::from_millis(100))).map_err(|e| e.to_string())?;
        let (stop, changes) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let (stopped, counted) = (Arc::clone(&stop), Arc::clone(&changes));
        let reader = std::thread::spawn(move || {
            let mut buffer = vec![0u8; 64 * 1024];
            // A marker split across two reads is counted once: the tail is kept.
            let mut tail: Vec<u8> = Vec::new();
            const MARKER: &[u8] = b"event: change";
            while !stopped.load(Ordering::Relaxed) {
                match stream.read(&mut buffer) {
                    Ok(0) => return,
                    Ok(read) => {
                        tail.extend_from_slice(&buffer[..read]);
                        // A vectorised search: comparing a window at every byte took CPU
                        // from the servers measured beside it (BENCHMARKS.md, "The
                        // inspector").
                        let found = memchr::memmem::find_iter(&tail, MARKER).count();
                        counted.fetch_add(found, Ordering::Relaxed);
                        let keep = tail.len().min(MARKER.len() - 1);
                        tail.drain(..tail.len() - keep);
                    }
                    Err(error)
                        if matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                    Err(_) => return,
                }
            }
        });
        Ok(Self { stop, changes, reader: Some(reader) })
    }

    fn changes(&self) -> usize {
        self.changes.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for LivePage {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Two small stores, one with a live inspector page connected: fetch and create on both,
/// in the same interleaved rounds.
async fn inspector(settings: &Settings, report: &mut Report) -> Result<(), String> {
    let settings = &settings.for_close_comparison();
    let watched = SmallStore::start(settings, Logging::Quiet).await?;
    let unwatched = SmallStore::start(settings, Logging::Quiet).await?;
    let page = LivePage::open(&watched.emulator)?;
    let stores = [&watched, &unwatched];

    // Each store gets its own plan (its own SIDs), in the same interleaved rounds.
    let side_by_side = |plans: [Plan; 2]| async move {
        let contenders = [0, 1].map(|i| Contender::new(&stores[i].target, &plans[i], false));
        compare(settings, Size::Message, contenders).await
    };
    let [with_page, without] = side_by_side(stores.map(SmallStore::fetch_plan)).await?;
    let mut row = throughput_row("fetch, a live inspector page connected (vs none)", settings, &with_page, &without)
        .at_least(INSPECTOR_MIN_RATIO);
    row.notes = format!(
        "emulator CPU per fetch {:.1} µs against {:.1} µs; reads commit nothing, so the page gets no event",
        with_page.server_cpu_us(),
        without.server_cpu_us()
    );
    report.push(row);

    // Counted from before the set-up: the watched store's scratch conversation is one change
    // event too, which may reach the page (the live stream gathers changes for a few
    // milliseconds) after the set-up has returned.
    let before = page.changes();
    let mut creates: Vec<Plan> = Vec::new();
    for store in stores {
        let mut connection = Connection::open(&store.target).await?;
        let scratch = uri(messages_path(&create_conversation(&mut connection).await?));
        creates.push(Arc::new(move |_| create_request(scratch.clone())));
    }
    let [with_page, without] = side_by_side([Arc::clone(&creates[0]), Arc::clone(&creates[1])]).await?;
    let created = Size::Message.warmup(settings) + settings.rounds * Size::Message.requests(settings);
    let expected = created + 1;
    // The page has every event once its stream has caught up.
    let deadline = std::time::Instant::now() + settings.deadline;
    while page.changes() - before < expected && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let received = page.changes() - before;
    if received != expected {
        return Err(format!("the live page got {received} change events for {created} creates and a conversation"));
    }
    let mut row = throughput_row("create, a live inspector page connected (vs none)", settings, &with_page, &without)
        .at_least(INSPECTOR_MIN_RATIO);
    row.notes = format!(
        "emulator CPU per create {:.1} µs against {:.1} µs; the page got all {received} change events",
        with_page.server_cpu_us(),
        without.server_cpu_us()
    );
    report.push(row);
    Ok(())
}
