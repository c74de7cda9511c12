//! The state file (`--state-file PATH`): a snapshot of the whole state at `PATH`, and a
//! log of the changes committed since, at `PATH.log`.
//!
//! The contract, each point a test in `tests/api/persistence.rs` or below:
//! - A commit is appended to the log, as one record, before it is applied or answered. A
//!   write that fails (disk full, any I/O error) is cut back off the log, and the commit
//!   is refused: memory is unchanged and the client gets a 5xx. If even the cut fails, the
//!   file takes no more writes until a restart recovers it.
//! - Every record carries a CRC-32 of its text and the sequence number of its first
//!   change. A torn last record (the process died while writing it: never acknowledged)
//!   is dropped with a warning; a damaged record anywhere else stops start-up with its
//!   number and byte offset, and nothing is written.
//! - The snapshot records the sequence number it holds everything up to, so replay skips
//!   what it already holds: a crash at any step of a compaction loses nothing.
//! - Compaction renames the log aside (`PATH.log.old`) under the store's lock, then writes
//!   the snapshot from a copy of the tables on a thread of its own (`PATH.compacting`,
//!   synced, renamed over `PATH`), and only then deletes the old log. A snapshot that fails
//!   never replaces a good one, and the writes it would have covered stay in the logs.
//! - One process per state file: `PATH.lock` is locked by the operating system for as long
//!   as the process runs.
//! - By default the log is not synced on every commit: what was written survives the
//!   process (a crash, `kill -9`), not the machine (power loss). [`SyncPolicy::Always`]
//!   syncs every commit before it is acknowledged.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

use super::bindings::{BindingDocument, binding_document, to_binding};
use super::change::Change;
use super::config_document::{
    AccountConfigurationDocument, AddressConfigurationDocument, ConversationWebhookDocument,
    ServiceConfigurationDocument, WebhookSettingsDocument, account_configuration_document,
    address_configuration_document, conversation_webhook_document, service_configuration_document,
    to_account_configuration, to_address_configuration, to_conversation_webhook, to_service_configuration,
    to_webhook_settings, webhook_settings_document,
};
use super::credentials::{CredentialDocument, credential_document, to_credential};
use super::default_service_sid;
use super::document::{
    self, ConversationDocument, ImportError, MediaDocument, MessageDocument, ParticipantDocument, ServiceDocument,
    StateDocument, date, parse_sid, to_conversation, to_media, to_message, to_participant, to_service,
};
use super::invites::{InviteDocument, invite_document, to_invite};
use super::notifications::NotificationConfiguration;
use super::participants::default_participant_role;
use super::role_document::{RoleDocument, role_document, to_role};
use super::tables::Tables;
use super::users::{UserDocument, to_user, user_document};
use crate::sid::{AccountSid, ChatServiceSid};
use crate::time::Timestamp;

/// Below this many logged changes, compaction is not worth its full rewrite.
pub const DEFAULT_COMPACT_AFTER: usize = 10_000;

/// The first line of a snapshot starts with this.
const SNAPSHOT_MAGIC: &str = "twilio-conversations-emulator state v1";

/// When the log is synced to the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Never on a commit: a commit survives the process dying, not the machine.
    #[default]
    Never,
    /// Every commit, before it is acknowledged: it survives power loss too.
    Always,
}

/// A step of compaction where the process can be made to die on purpose
/// (`--crash-during-compaction`), so that tests can check that a crash there loses nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashPoint {
    /// The log was set aside; no snapshot written yet.
    Rotated,
    /// The new snapshot is written and synced under its temporary name.
    SnapshotWritten,
    /// The new snapshot replaced the old one; the old log is still there.
    SnapshotRenamed,
    /// The old log is gone too.
    OldLogRemoved,
}

impl std::str::FromStr for CrashPoint {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "rotated" => Ok(Self::Rotated),
            "snapshot-written" => Ok(Self::SnapshotWritten),
            "snapshot-renamed" => Ok(Self::SnapshotRenamed),
            "old-log-removed" => Ok(Self::OldLogRemoved),
            _ => Err(format!("`{name}` is not one of rotated, snapshot-written, snapshot-renamed, old-log-removed")),
        }
    }
}

/// Dies, as a crash would (no destructors, no flush), if `at` is `here`.
fn crash_if(at: Option<CrashPoint>, here: CrashPoint) {
    if at == Some(here) {
        eprintln!("crashing on purpose during compaction: {here:?}");
        std::process::abort();
    }
}

/// One change as the log writes it: the document format's records, so that the log reads
/// like the state documents it replays into.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Logged {
    OpenAccount {
        account: String,
        at: String,
    },
    Reset {
        account: Option<String>,
    },
    PutService {
        account: String,
        service: ServiceDocument,
    },
    DeleteService {
        account: String,
        service: String,
    },
    PutConversation {
        account: String,
        service: String,
        conversation: ConversationDocument,
    },
    DeleteConversation {
        account: String,
        service: String,
        conversation: String,
    },
    PutMessage {
        account: String,
        service: String,
        conversation: String,
        message: MessageDocument,
    },
    DeleteMessage {
        account: String,
        service: String,
        conversation: String,
        message: String,
    },
    ReserveIndices {
        account: String,
        service: String,
        conversation: String,
        next_index: u64,
    },
    PutParticipant {
        account: String,
        service: String,
        conversation: String,
        participant: ParticipantDocument,
    },
    DeleteParticipant {
        account: String,
        service: String,
        conversation: String,
        participant: String,
    },
    PutMedia {
        account: String,
        service: String,
        media: MediaDocument,
    },
    DeleteMedia {
        account: String,
        service: String,
        media: String,
    },
    PutAccountWebhooks {
        account: String,
        webhooks: WebhookSettingsDocument,
    },
    PutServiceWebhooks {
        account: String,
        service: String,
        webhooks: WebhookSettingsDocument,
    },
    PutAccountConfiguration {
        account: String,
        configuration: AccountConfigurationDocument,
    },
    PutServiceConfiguration {
        account: String,
        service: String,
        configuration: ServiceConfigurationDocument,
    },
    PutConversationWebhook {
        account: String,
        service: String,
        conversation: String,
        webhook: ConversationWebhookDocument,
    },
    DeleteConversationWebhook {
        account: String,
        service: String,
        conversation: String,
        webhook: String,
    },
    PutAddressConfiguration {
        account: String,
        address: AddressConfigurationDocument,
    },
    DeleteAddressConfiguration {
        account: String,
        address: String,
    },
    PutRole {
        account: String,
        service: String,
        role: RoleDocument,
    },
    PutCredential {
        account: String,
        credential: CredentialDocument,
    },
    DeleteCredential {
        account: String,
        credential: String,
    },
    DeleteRole {
        account: String,
        service: String,
        role: String,
    },
    PutUser {
        account: String,
        service: String,
        user: UserDocument,
    },
    DeleteUser {
        account: String,
        service: String,
        user: String,
    },
    PutBinding {
        account: String,
        service: String,
        binding: BindingDocument,
    },
    DeleteBinding {
        account: String,
        service: String,
        binding: String,
    },
    PutServiceNotifications {
        account: String,
        service: String,
        notifications: Box<NotificationConfiguration>,
    },
    PutChatServiceSettings {
        account: String,
        service: String,
        settings: Box<super::ChatServiceSettings>,
    },
    PutInvite {
        account: String,
        service: String,
        conversation: String,
        invite: InviteDocument,
    },
    DeleteInvite {
        account: String,
        service: String,
        conversation: String,
        invite: String,
    },
}

/// A record of the log: one commit.
#[derive(Debug, Serialize, Deserialize)]
struct RecordBody {
    /// The sequence number of its first change; the others follow one by one.
    seq: u64,
    changes: Vec<Logged>,
}

/// A commit read back from the log.
#[derive(Debug)]
pub struct Record {
    pub seq: u64,
    pub changes: Vec<Logged>,
    pub place: Place,
}

/// Where a record is, for messages about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub path: PathBuf,
    /// 1-based, counted within its file.
    pub record: usize,
    pub offset: u64,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, record {} at byte {}", self.path.display(), self.record, self.offset)
    }
}

/// The snapshot read back.
#[derive(Debug)]
pub struct Snapshot {
    /// Every change up to this one is in `document`.
    pub seq: u64,
    pub document: StateDocument,
    /// A bare state document, as versions before checksums wrote it.
    pub legacy: bool,
}

/// What was saved, read back at start-up.
#[derive(Debug, Default)]
pub struct Saved {
    pub snapshot: Option<Snapshot>,
    /// Every record of the old log (if a compaction was interrupted) and the log, in order.
    pub records: Vec<Record>,
}

impl Saved {
    /// Whether an earlier version wrote the file, before checksums and sequence numbers (a
    /// bare JSON snapshot, one bare JSON change a line): it is read once as it was written
    /// then, and rewritten in today's format at start-up.
    pub fn is_legacy(&self) -> bool {
        self.snapshot.as_ref().is_some_and(|snapshot| snapshot.legacy)
    }
}

/// Why saved state could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot read or lock {path}: {error}")]
    Unreadable { path: PathBuf, error: io::Error },
    #[error("{path} is in use by another process (it holds {lock}); one process per state file")]
    Locked { path: PathBuf, lock: PathBuf },
    #[error("{path} is not a snapshot this version can read: {problem}")]
    DamagedSnapshot { path: PathBuf, problem: String },
    #[error("{place} is damaged: {problem}")]
    DamagedRecord { place: Place, problem: String },
}

/// The file names one state file uses, all derived from its own by adding a suffix, so
/// none can be the state file itself.
#[derive(Clone, Debug)]
struct Paths {
    snapshot: PathBuf,
    log: PathBuf,
    old_log: PathBuf,
    temporary: PathBuf,
    lock: PathBuf,
}

impl Paths {
    fn new(path: &Path) -> Self {
        let with = |suffix: &str| {
            let mut name: OsString = path.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        };
        Self {
            snapshot: path.to_owned(),
            log: with(".log"),
            old_log: with(".log.old"),
            temporary: with(".compacting"),
            lock: with(".lock"),
        }
    }
}

/// The open state file.
#[derive(Debug)]
pub struct StateFile {
    paths: Paths,
    /// Held (and locked) for as long as the file is open.
    _lock: File,
    log: File,
    /// The length of the log up to its last whole record: a failed write is cut back here.
    log_len: u64,
    /// Changes logged since the last compaction began.
    logged: usize,
    /// Records in the last snapshot: compaction waits until the log is about as long.
    snapshot_records: usize,
    compact_after: usize,
    policy: SyncPolicy,
    /// A failed write could not be cut back off the log: appending more would bury it.
    broken: bool,
    compaction: Option<JoinHandle<()>>,
    crash_at: Option<CrashPoint>,
}

impl StateFile {
    /// Locks the state file at `path` and reads what it holds, changing nothing.
    pub fn open(
        path: &Path,
        policy: SyncPolicy,
        compact_after: usize,
        crash_at: Option<CrashPoint>,
    ) -> Result<(Self, Saved), PersistError> {
        let paths = Paths::new(path);
        let unreadable = |path: &Path| {
            let path = path.to_owned();
            move |error| PersistError::Unreadable { path, error }
        };
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&paths.lock)
            .map_err(unreadable(&paths.lock))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(PersistError::Locked { path: path.to_owned(), lock: paths.lock });
            }
            Err(fs::TryLockError::Error(error)) => return Err(unreadable(&paths.lock)(error)),
        }
        let snapshot = match fs::read(&paths.snapshot) {
            Ok(bytes) if bytes.first() == Some(&b'{') => Some(read_legacy_snapshot(&paths.snapshot, &bytes)?),
            Ok(bytes) => Some(read_snapshot(&paths.snapshot, &bytes)?),
            Err(error) if error.kind() == io::ErrorKind::NotFound => None,
            Err(error) => return Err(unreadable(&paths.snapshot)(error)),
        };
        let mut records = Vec::new();
        let legacy = snapshot.as_ref().is_some_and(|snapshot| snapshot.legacy);
        for log in [&paths.old_log, &paths.log] {
            let bytes = match read_length(log) {
                Ok(bytes) => bytes,
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(unreadable(log)(error)),
            };
            if legacy {
                read_legacy_records(log, &bytes, &mut records)?;
            } else {
                read_records(log, &bytes, &mut records)?;
            }
        }
        let log = OpenOptions::new().create(true).append(true).open(&paths.log).map_err(unreadable(&paths.log))?;
        let file = Self {
            paths,
            _lock: lock,
            log,
            log_len: 0,
            logged: 0,
            snapshot_records: 0,
            compact_after,
            policy,
            broken: false,
            compaction: None,
            crash_at,
        };
        if legacy {
            tracing::warn!(path = %path.display(), "a state file of an earlier version: rewriting it in today's format");
        }
        Ok((file, Saved { snapshot, records }))
    }

    /// Makes `tables` (everything up to change `seq`) the snapshot and empties the logs,
    /// synchronously: what start-up does once it has read the file back.
    pub(super) fn rewrite(&mut self, seq: u64, tables: &Tables) -> io::Result<()> {
        let document = document::export(tables.tenants());
        self.snapshot_records = tables.record_count();
        write_snapshot(&self.paths, seq, &document, None)?;
        remove_if_present(&self.paths.old_log)?;
        self.log = OpenOptions::new().create(true).write(true).truncate(true).open(&self.paths.log)?;
        self.log = OpenOptions::new().append(true).open(&self.paths.log)?;
        self.log_len = 0;
        self.logged = 0;
        Ok(())
    }

    /// Appends one commit, whose first change is number `seq`, as one record. On error the
    /// log is cut back to where it was, so the commit left no trace.
    pub fn append(&mut self, seq: u64, changes: &[Change]) -> io::Result<()> {
        if self.broken {
            return Err(io::Error::other("an earlier failed write could not be undone; restart to recover"));
        }
        let body = RecordBody { seq, changes: changes.iter().map(logged).collect() };
        let text = serde_json::to_vec(&body).map_err(io::Error::other)?;
        let mut line = format!("{:08x} ", crc32fast::hash(&text)).into_bytes();
        line.extend_from_slice(&text);
        line.push(b'\n');
        let written = self.log.write_all(&line).and_then(|()| match self.policy {
            SyncPolicy::Always => self.log.sync_data(),
            SyncPolicy::Never => Ok(()),
        });
        match written {
            Ok(()) => {
                self.log_len += line.len() as u64;
                self.logged += changes.len();
                Ok(())
            }
            Err(error) => {
                if let Err(cut) = self.log.set_len(self.log_len) {
                    tracing::error!(%cut, "a failed write could not be cut off the state file's log");
                    self.broken = true;
                }
                Err(error)
            }
        }
    }

    /// Starts a compaction when the log has grown as long as the snapshot (amortised, each
    /// change is then written about twice) and none is running. `copy` is called under
    /// the store's lock for the tables as of change `seq`; the snapshot is written from
    /// the copy on a thread of its own, so the lock is held only for the copy.
    pub(super) fn compact_if_due(&mut self, seq: u64, copy: impl FnOnce() -> Tables) {
        if self.broken || self.logged < self.compact_after.max(self.snapshot_records) {
            return;
        }
        if let Some(running) = self.compaction.take() {
            if !running.is_finished() {
                self.compaction = Some(running);
                return;
            }
            let _ = running.join();
        }
        // The old log left by a compaction that failed still holds changes no snapshot
        // has: the new snapshot will, and the log goes on past it (replay skips what the
        // snapshot holds).
        if !self.paths.old_log.exists()
            && let Err(error) = self.rotate()
        {
            tracing::error!(%error, "the state file's log could not be set aside for compaction");
            return;
        }
        crash_if(self.crash_at, CrashPoint::Rotated);
        self.logged = 0;
        let tables = copy();
        self.snapshot_records = tables.record_count();
        let (paths, crash_at) = (self.paths.clone(), self.crash_at);
        let spawned = std::thread::Builder::new().name("state-file-compaction".into()).spawn(move || {
            let document = document::export(tables.tenants());
            drop(tables);
            let done = write_snapshot(&paths, seq, &document, crash_at).and_then(|()| {
                remove_if_present(&paths.old_log)?;
                crash_if(crash_at, CrashPoint::OldLogRemoved);
                Ok(())
            });
            if let Err(error) = done {
                tracing::error!(%error, "compaction failed; the previous snapshot and the logs still hold every change");
            }
        });
        match spawned {
            Ok(handle) => self.compaction = Some(handle),
            Err(error) => tracing::error!(%error, "no thread for compaction; it will be tried again later"),
        }
    }

    /// Waits for a running compaction to end (tests and shutdown).
    pub fn finish_compaction(&mut self) {
        if let Some(running) = self.compaction.take() {
            let _ = running.join();
        }
    }

    /// Moves the log aside as the old log and starts a new one.
    fn rotate(&mut self) -> io::Result<()> {
        fs::rename(&self.paths.log, &self.paths.old_log)?;
        match OpenOptions::new().create(true).append(true).open(&self.paths.log) {
            Ok(log) => {
                self.log = log;
                self.log_len = 0;
                Ok(())
            }
            Err(error) => {
                // Keep appending to the file as it was: put its name back, or stop taking
                // writes that a later compaction would delete with the old log.
                if fs::rename(&self.paths.old_log, &self.paths.log).is_err() {
                    self.broken = true;
                }
                Err(error)
            }
        }
    }
}

/// Writes `document` (everything up to change `seq`) as the snapshot: to the temporary
/// file, synced, then renamed over the snapshot, so a snapshot is either whole or absent.
fn write_snapshot(paths: &Paths, seq: u64, document: &StateDocument, crash_at: Option<CrashPoint>) -> io::Result<()> {
    let body = serde_json::to_vec(document).map_err(io::Error::other)?;
    let header = format!("{SNAPSHOT_MAGIC} seq={seq} crc={:08x}\n", snapshot_crc(seq, &body));
    let written = (|| {
        let mut file = File::create(&paths.temporary)?;
        file.write_all(header.as_bytes())?;
        file.write_all(&body)?;
        file.sync_all()?;
        drop(file);
        crash_if(crash_at, CrashPoint::SnapshotWritten);
        fs::rename(&paths.temporary, &paths.snapshot)?;
        sync_directory(&paths.snapshot)?;
        crash_if(crash_at, CrashPoint::SnapshotRenamed);
        Ok(())
    })();
    if written.is_err() {
        let _ = fs::remove_file(&paths.temporary);
    }
    written
}

/// Syncs the directory holding `path`, so that a rename in it survives power loss.
fn sync_directory(path: &Path) -> io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(directory)?.sync_all()
}

/// The file's contents, as long as it says it is: a device (a log linked to `/dev/full`
/// in a test, say) reads as empty instead of endlessly.
fn read_length(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let file = File::open(path)?;
    let length = file.metadata()?.len();
    let mut bytes = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    file.take(length).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// The checksum of a snapshot covers its sequence number and its body.
fn snapshot_crc(seq: u64, body: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(seq.to_string().as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hasher.finalize()
}

fn read_snapshot(path: &Path, bytes: &[u8]) -> Result<Snapshot, PersistError> {
    let damaged = |problem: &str| PersistError::DamagedSnapshot { path: path.to_owned(), problem: problem.to_owned() };
    let newline = bytes.iter().position(|b| *b == b'\n').ok_or_else(|| damaged("no header line"))?;
    let (header, body) = (&bytes[..newline], &bytes[newline + 1..]);
    let header = std::str::from_utf8(header).map_err(|_| damaged("the header is not text"))?;
    let fields = header.strip_prefix(SNAPSHOT_MAGIC).ok_or_else(|| damaged("the header is not a snapshot's"))?;
    let (seq, crc) = match fields.split_whitespace().collect::<Vec<_>>().as_slice() {
        [seq, crc] => (seq.strip_prefix("seq="), crc.strip_prefix("crc=")),
        _ => (None, None),
    };
    let seq: u64 = seq.and_then(|seq| seq.parse().ok()).ok_or_else(|| damaged("the header has no sequence number"))?;
    let crc =
        crc.and_then(|crc| u32::from_str_radix(crc, 16).ok()).ok_or_else(|| damaged("the header has no checksum"))?;
    if snapshot_crc(seq, body) != crc {
        return Err(damaged("its checksum does not match its contents"));
    }
    let document = serde_json::from_slice(body).map_err(|error| damaged(&error.to_string()))?;
    Ok(Snapshot { seq, document, legacy: false })
}

/// A snapshot as versions before checksums wrote it: a bare state document.
fn read_legacy_snapshot(path: &Path, bytes: &[u8]) -> Result<Snapshot, PersistError> {
    let document = serde_json::from_slice(bytes).map_err(|error| PersistError::DamagedSnapshot {
        path: path.to_owned(),
        problem: format!("it is neither a snapshot nor an earlier version's state document: {error}"),
    })?;
    Ok(Snapshot { seq: 0, document, legacy: true })
}

/// The log as versions before checksums wrote it: one change a line, numbered in order. A
/// torn last line is dropped, as then.
fn read_legacy_records(path: &Path, bytes: &[u8], records: &mut Vec<Record>) -> Result<(), PersistError> {
    let lines: Vec<&[u8]> = bytes.split(|byte| *byte == b'\n').collect();
    let mut offset = 0usize;
    for (number, line) in lines.iter().enumerate() {
        let place = Place { path: path.to_owned(), record: number + 1, offset: offset as u64 };
        offset += line.len() + 1;
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Logged>(line) {
            Ok(change) => {
                let seq = records.last().map_or(1, |last: &Record| last.seq + last.changes.len() as u64);
                records.push(Record { seq, changes: vec![change], place });
            }
            Err(_) if number + 1 == lines.len() => {
                tracing::warn!(%place, "dropping a torn last line of an earlier version's log");
            }
            Err(error) => return Err(PersistError::DamagedRecord { place, problem: error.to_string() }),
        }
    }
    Ok(())
}

/// Reads the records of one log file into `records`.
fn read_records(path: &Path, bytes: &[u8], records: &mut Vec<Record>) -> Result<(), PersistError> {
    let mut offset = 0usize;
    let mut number = 0usize;
    while offset < bytes.len() {
        number += 1;
        let place = Place { path: path.to_owned(), record: number, offset: offset as u64 };
        let damaged = |problem: &str| PersistError::DamagedRecord { place: place.clone(), problem: problem.to_owned() };
        let Some(length) = bytes[offset..].iter().position(|b| *b == b'\n') else {
            // The last record has no end: the process died while writing it, so it was
            // never acknowledged. Unless it is whole but for a damaged newline.
            let rest = &bytes[offset..];
            if rest.len() > 1 && parse_record(&rest[..rest.len() - 1]).is_ok() {
                return Err(damaged("its end of line is damaged"));
            }
            tracing::warn!(%place, "dropping a torn last record of the state file's log (never acknowledged)");
            break;
        };
        let line = &bytes[offset..offset + length];
        let body = parse_record(line).map_err(damaged)?;
        if let Some(previous) = records.last()
            && body.seq < previous.seq + previous.changes.len() as u64
        {
            return Err(damaged("its sequence number goes backwards"));
        }
        records.push(Record { seq: body.seq, changes: body.changes, place });
        offset += length + 1;
    }
    Ok(())
}

fn parse_record(line: &[u8]) -> Result<RecordBody, &'static str> {
    if line.len() < 9 || line[8] != b' ' {
        return Err("it does not start with a checksum");
    }
    let crc = std::str::from_utf8(&line[..8]).ok().and_then(|hex| u32::from_str_radix(hex, 16).ok());
    let text = &line[9..];
    if crc != Some(crc32fast::hash(text)) {
        return Err("its checksum does not match its contents");
    }
    serde_json::from_slice(text).map_err(|_| "it is not a logged commit")
}

// --- Changes to and from the log's records ----------------------------------------------

/// A change as the log writes it.
fn logged(change: &Change) -> Logged {
    let text = |sid: &dyn std::fmt::Display| sid.to_string();
    match change {
        Change::OpenAccount { account, at } => Logged::OpenAccount { account: text(account), at: at.to_string() },
        Change::Reset { account } => Logged::Reset { account: account.map(|sid| sid.to_string()) },
        Change::PutService { account, service } => {
            Logged::PutService { account: text(account), service: document::service_document(service) }
        }
        Change::DeleteService { account, service } => {
            Logged::DeleteService { account: text(account), service: text(service) }
        }
        Change::PutConversation { account, conversation } => Logged::PutConversation {
            account: text(account),
            service: text(&conversation.chat_service_sid),
            // The conversation's own fields only: its messages are logged as theirs.
            conversation: ConversationDocument { next_index: None, ..document::conversation_document(conversation, 0) },
        },
        Change::DeleteConversation { account, service, conversation } => Logged::DeleteConversation {
            account: text(account),
            service: text(service),
            conversation: text(conversation),
        },
        Change::PutMessage { account, service, message } => Logged::PutMessage {
            account: text(account),
            service: text(service),
            conversation: text(&message.conversation_sid),
            message: document::message_document(message),
        },
        Change::DeleteMessage { account, service, conversation, message } => Logged::DeleteMessage {
            account: text(account),
            service: text(service),
            conversation: text(conversation),
            message: text(message),
        },
        Change::ReserveIndices { account, service, conversation, next_index } => Logged::ReserveIndices {
            account: text(account),
            service: text(service),
            conversation: text(conversation),
            next_index: *next_index,
        },
        Change::PutParticipant { account, service, conversation, participant } => Logged::PutParticipant {
            account: text(account),
            service: text(service),
            conversation: text(conversation),
            participant: document::participant_document(participant),
        },
        Change::DeleteParticipant { account, service, conversation, participant } => Logged::DeleteParticipant {
            account: text(account),
            service: text(service),
            conversation: text(conversation),
            participant: text(participant),
        },
        Change::PutMedia { account, service, media } => {
            Logged::PutMedia { account: text(account), service: text(service), media: document::media_document(media) }
        }
        Change::DeleteMedia { account, service, media } => {
            Logged::DeleteMedia { account: text(account), service: text(service), media: text(media) }
        }
        Change::PutAccountWebhooks { account, settings } => {
            Logged::PutAccountWebhooks { account: text(account), webhooks: webhook_settings_document(settings) }
        }
        Change::PutServiceWebhooks { account, service, settings } => Logged::PutServiceWebhooks {
            account: text(account),
            service: text(service),
            webhooks: webhook_settings_document(settings),
        },
        Change::PutAccountConfiguration { account, configuration } => Logged::PutAccountConfiguration {
            account: text(account),
            configuration: account_configuration_document(configuration),
        },
        Change::PutServiceConfiguration { account, service, configuration } => Logged::PutServiceConfiguration {
            account: text(account),
            service: text(service),
            configuration: service_configuration_document(configuration),
        },
        Change::PutConversationWebhook { account, service, webhook } => Logged::PutConversationWebhook {
            account: text(account),
            service: text(service),
            conversation: text(&webhook.conversation_sid),
            webhook: conversation_webhook_document(webhook),
        },
        Change::DeleteConversationWebhook { account, service, conversation, webhook } => {
            Logged::DeleteConversationWebhook {
                account: text(account),
                service: text(service),
                conversation: text(conversation),
                webhook: text(webhook),
            }
        }
        Change::PutAddressConfiguration { account, address } => {
            Logged::PutAddressConfiguration { account: text(account), address: address_configuration_document(address) }
        }
        Change::DeleteAddressConfiguration { account, address } => {
            Logged::DeleteAddressConfiguration { account: text(account), address: text(address) }
        }
        Change::PutCredential { account, credential } => {
            Logged::PutCredential { account: text(account), credential: credential_document(credential) }
        }
        Change::DeleteCredential { account, credential } => {
            Logged::DeleteCredential { account: text(account), credential: text(credential) }
        }
        Change::PutRole { account, service, role } => {
            Logged::PutRole { account: text(account), service: text(service), role: role_document(role) }
        }
        Change::DeleteRole { account, service, role } => {
            Logged::DeleteRole { account: text(account), service: text(service), role: text(role) }
        }
        Change::PutUser { account, user } => {
            Logged::PutUser { account: text(account), service: text(&user.chat_service_sid), user: user_document(user) }
        }
        Change::DeleteUser { account, service, user } => {
            Logged::DeleteUser { account: text(account), service: text(service), user: text(user) }
        }
        Change::PutBinding { account, binding } => Logged::PutBinding {
            account: text(account),
            service: text(&binding.chat_service_sid),
            binding: binding_document(binding),
        },
        Change::DeleteBinding { account, service, binding } => {
            Logged::DeleteBinding { account: text(account), service: text(service), binding: text(binding) }
        }
        Change::PutInvite { account, service, invite } => Logged::PutInvite {
            account: text(account),
            service: text(service),
            conversation: text(&invite.conversation_sid),
            invite: invite_document(invite),
        },
        Change::DeleteInvite { account, service, conversation, invite } => Logged::DeleteInvite {
            account: text(account),
            service: text(service),
            conversation: text(conversation),
            invite: text(invite),
        },
        Change::PutServiceNotifications { account, service, notifications } => Logged::PutServiceNotifications {
            account: text(account),
            service: text(service),
            notifications: Box::new(notifications.clone()),
        },
        Change::PutChatServiceSettings { account, service, settings } => Logged::PutChatServiceSettings {
            account: text(account),
            service: text(service),
            settings: Box::new(settings.clone()),
        },
    }
}

/// A logged change as the store applies it. `now` only fills what a hand-edited record
/// leaves out: the store logs every field.
pub(super) fn typed(logged: Logged, now: Timestamp) -> Result<Change, ImportError> {
    Ok(match logged {
        Logged::OpenAccount { account, at } => {
            Change::OpenAccount { account: parse_sid(&account, "account")?, at: date(&Some(at), "at")?.unwrap_or(now) }
        }
        Logged::Reset { account } => {
            Change::Reset { account: account.as_deref().map(|raw| parse_sid(raw, "account")).transpose()? }
        }
        Logged::PutService { account, service } => {
            let account: AccountSid = parse_sid(&account, "account")?;
            let is_default = service.sid.as_deref() == Some(default_service_sid(account).to_string().as_str());
            Change::PutService { account, service: to_service(service, is_default, now, "service")? }
        }
        Logged::DeleteService { account, service } => {
            Change::DeleteService { account: parse_sid(&account, "account")?, service: parse_sid(&service, "service")? }
        }
        Logged::PutConversation { account, service, conversation } => Change::PutConversation {
            account: parse_sid(&account, "account")?,
            conversation: to_conversation(conversation, parse_sid(&service, "service")?, now, "conversation")?,
        },
        Logged::DeleteConversation { account, service, conversation } => Change::DeleteConversation {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            conversation: parse_sid(&conversation, "conversation")?,
        },
        Logged::PutMessage { account, service, conversation, message } => Change::PutMessage {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            message: to_message(message, parse_sid(&conversation, "conversation")?, now, "message")?,
        },
        Logged::DeleteMessage { account, service, conversation, message } => Change::DeleteMessage {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            conversation: parse_sid(&conversation, "conversation")?,
            message: parse_sid(&message, "message")?,
        },
        Logged::ReserveIndices { account, service, conversation, next_index } => Change::ReserveIndices {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            conversation: parse_sid(&conversation, "conversation")?,
            next_index,
        },
        Logged::PutParticipant { account, service, conversation, participant } => {
            let service: ChatServiceSid = parse_sid(&service, "service")?;
            Change::PutParticipant {
                account: parse_sid(&account, "account")?,
                service,
                conversation: parse_sid(&conversation, "conversation")?,
                participant: to_participant(participant, default_participant_role(service), now, "participant")?,
            }
        }
        Logged::DeleteParticipant { account, service, conversation, participant } => Change::DeleteParticipant {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            conversation: parse_sid(&conversation, "conversation")?,
            participant: parse_sid(&participant, "participant")?,
        },
        Logged::PutMedia { account, service, media } => Change::PutMedia {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            media: to_media(media, now, "media")?,
        },
        Logged::DeleteMedia { account, service, media } => Change::DeleteMedia {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            media: parse_sid(&media, "media")?,
        },
        Logged::PutAccountWebhooks { account, webhooks } => Change::PutAccountWebhooks {
            account: parse_sid(&account, "account")?,
            settings: to_webhook_settings(webhooks, "webhooks")?,
        },
        Logged::PutServiceWebhooks { account, service, webhooks } => Change::PutServiceWebhooks {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            settings: to_webhook_settings(webhooks, "webhooks")?,
        },
        Logged::PutAccountConfiguration { account, configuration } => Change::PutAccountConfiguration {
            account: parse_sid(&account, "account")?,
            configuration: to_account_configuration(configuration, "configuration")?,
        },
        Logged::PutServiceConfiguration { account, service, configuration } => Change::PutServiceConfiguration {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            configuration: to_service_configuration(configuration, "configuration")?,
        },
        Logged::PutConversationWebhook { account, service, conversation, webhook } => Change::PutConversationWebhook {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            webhook: to_conversation_webhook(webhook, parse_sid(&conversation, "conversation")?, now, "webhook")?,
        },
        Logged::DeleteConversationWebhook { account, service, conversation, webhook } => {
            Change::DeleteConversationWebhook {
                account: parse_sid(&account, "account")?,
                service: parse_sid(&service, "service")?,
                conversation: parse_sid(&conversation, "conversation")?,
                webhook: parse_sid(&webhook, "webhook")?,
            }
        }
        Logged::PutAddressConfiguration { account, address } => Change::PutAddressConfiguration {
            account: parse_sid(&account, "account")?,
            address: to_address_configuration(address, now, "address")?,
        },
        Logged::DeleteAddressConfiguration { account, address } => Change::DeleteAddressConfiguration {
            account: parse_sid(&account, "account")?,
            address: parse_sid(&address, "address")?,
        },
        Logged::PutCredential { account, credential } => {
            let credential = to_credential(credential, None, now, "credential")?;
            Change::PutCredential { account: parse_sid(&account, "account")?, credential }
        }
        Logged::DeleteCredential { account, credential } => Change::DeleteCredential {
            account: parse_sid(&account, "account")?,
            credential: parse_sid(&credential, "credential")?,
        },
        Logged::PutRole { account, service, role } => Change::PutRole {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            role: to_role(role, now, "role")?,
        },
        Logged::DeleteRole { account, service, role } => Change::DeleteRole {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            role: parse_sid(&role, "role")?,
        },
        Logged::PutUser { account, service, user } => Change::PutUser {
            account: parse_sid(&account, "account")?,
            user: to_user(user, parse_sid(&service, "service")?, now, "user")?,
        },
        Logged::DeleteUser { account, service, user } => Change::DeleteUser {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            user: parse_sid(&user, "user")?,
        },
        Logged::PutBinding { account, service, binding } => Change::PutBinding {
            account: parse_sid(&account, "account")?,
            binding: to_binding(binding, parse_sid(&service, "service")?, None, now, "binding")?,
        },
        Logged::DeleteBinding { account, service, binding } => Change::DeleteBinding {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            binding: parse_sid(&binding, "binding")?,
        },
        Logged::PutInvite { account, service, conversation, invite } => {
            let service = parse_sid(&service, "service")?;
            let conversation = parse_sid(&conversation, "conversation")?;
            Change::PutInvite {
                account: parse_sid(&account, "account")?,
                service,
                invite: to_invite(invite, conversation, default_participant_role(service), now, "invite")?,
            }
        }
        Logged::DeleteInvite { account, service, conversation, invite } => Change::DeleteInvite {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            conversation: parse_sid(&conversation, "conversation")?,
            invite: parse_sid(&invite, "invite")?,
        },
        Logged::PutServiceNotifications { account, service, notifications } => Change::PutServiceNotifications {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            notifications: *notifications,
        },
        Logged::PutChatServiceSettings { account, service, settings } => Change::PutChatServiceSettings {
            account: parse_sid(&account, "account")?,
            service: parse_sid(&service, "service")?,
            settings: *settings,
        },
    })
}
