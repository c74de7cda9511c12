//! The state file (`--state-file PATH`): a snapshot of the whole state at `PATH` and an
//! append-only log of changes since it at `PATH.log`, one JSON line per change.
//!
//! Every change is appended, under the store's lock and before the request is answered,
//! with one `write` of a whole line. The operating system keeps what was written when the
//! process dies, so a crash or a `kill -9` loses at most the request in flight, whose line
//! may be cut short: a torn last line is dropped on restart, a torn line anywhere else is
//! corruption. The snapshot is rewritten by writing `PATH.tmp`, syncing it and renaming it
//! over `PATH`, so there is never a half-written snapshot. A file that cannot be read back
//! stops start-up and is left untouched.

use super::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::document::{
    ConversationDocument, ImportError, MediaDocument, MessageDocument, ParticipantDocument, ServiceDocument,
    StateDocument, to_conversation, to_media, to_message, to_participant, to_service,
};
use super::participants::default_participant_role;
use super::{ConversationData, ServiceData, Tenant};
use crate::sid::{AccountSid, ConversationSid, MessageSid};
use crate::time::Timestamp;

/// Below this many log lines, compaction is not worth its full rewrite.
const MIN_LOG_LINES_BEFORE_COMPACTION: usize = 10_000;

/// One change to the state, as logged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    PutService {
        account: String,
        service: ServiceDocument,
    },
    DeleteService {
        account: String,
        service: String,
    },
    /// A conversation's own fields, created or updated; its messages are untouched.
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
    /// A message, created or updated.
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
    /// A participant, added or updated.
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
    /// An upload, with its content.
    PutMedia {
        account: String,
        service: String,
        media: MediaDocument,
    },
    /// Everything, or one account, wiped.
    Reset {
        account: Option<String>,
    },
}

/// Why saved state could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot read {path}: {error}")]
    Unreadable { path: PathBuf, error: io::Error },
    #[error("{path} is not a state document: {error}")]
    CorruptSnapshot { path: PathBuf, error: serde_json::Error },
    #[error("{path}, line {line}, is not a logged change: {error}")]
    CorruptLog { path: PathBuf, line: usize, error: serde_json::Error },
}

/// What was saved, read back at start-up.
#[derive(Debug, Default)]
pub struct Saved {
    pub snapshot: Option<StateDocument>,
    pub changes: Vec<Change>,
}

/// The open state file.
#[derive(Debug)]
pub struct StateFile {
    snapshot_path: PathBuf,
    log_path: PathBuf,
    log: File,
    log_lines: usize,
    /// Records in the last snapshot: compaction waits until the log is about as long.
    snapshot_records: usize,
}

impl StateFile {
    /// Reads what is saved at `path` (nothing, for a new file) without changing anything.
    pub fn read(path: &Path) -> Result<Saved, PersistError> {
        let snapshot = match fs::read(path) {
            Ok(bytes) => Some(
                serde_json::from_slice(&bytes)
                    .map_err(|error| PersistError::CorruptSnapshot { path: path.to_owned(), error })?,
            ),
            Err(error) if error.kind() == io::ErrorKind::NotFound => None,
            Err(error) => return Err(PersistError::Unreadable { path: path.to_owned(), error }),
        };
        let log_path = log_path(path);
        let text = match fs::read(&log_path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(error) => return Err(PersistError::Unreadable { path: log_path, error }),
        };
        let mut changes = Vec::new();
        let lines: Vec<&[u8]> = text.split(|byte| *byte == b'\n').filter(|line| !line.is_empty()).collect();
        let complete = text.ends_with(b"\n");
        for (number, line) in lines.iter().enumerate() {
            match serde_json::from_slice(line) {
                Ok(change) => changes.push(change),
                // The last line of a log that does not end in a newline was being written
                // when the process died: that request was never answered.
                Err(_) if number + 1 == lines.len() && !complete => break,
                Err(error) => return Err(PersistError::CorruptLog { path: log_path, line: number + 1, error }),
            }
        }
        Ok(Saved { snapshot, changes })
    }

    /// Makes `document` the snapshot at `path`, empties the log, and opens it for appending.
    pub fn create(path: &Path, document: &StateDocument) -> io::Result<Self> {
        let log_path = log_path(path);
        let mut file = Self {
            snapshot_path: path.to_owned(),
            log: OpenOptions::new().create(true).append(true).open(&log_path)?,
            log_path,
            log_lines: 0,
            snapshot_records: 0,
        };
        file.compact(document)?;
        Ok(file)
    }

    /// Appends one change, as one line in one write.
    pub fn append(&mut self, change: &Change) -> io::Result<()> {
        let mut line = serde_json::to_vec(change).map_err(io::Error::other)?;
        line.push(b'\n');
        self.log.write_all(&line)?;
        self.log_lines += 1;
        Ok(())
    }

    /// Whether the log has grown enough that rewriting the snapshot pays for itself:
    /// amortised, each change is then written about twice.
    pub fn wants_compaction(&self) -> bool {
        self.log_lines >= MIN_LOG_LINES_BEFORE_COMPACTION.max(self.snapshot_records)
    }

    /// Writes `document` as the new snapshot and empties the log.
    pub fn compact(&mut self, document: &StateDocument) -> io::Result<()> {
        let temporary = self.snapshot_path.with_extension("tmp");
        {
            let mut file = File::create(&temporary)?;
            serde_json::to_writer(io::BufWriter::new(&mut file), document).map_err(io::Error::other)?;
            file.sync_all()?;
        }
        fs::rename(&temporary, &self.snapshot_path)?;
        // Only once the new snapshot is in place is the log it contains emptied.
        self.log = OpenOptions::new().create(true).write(true).truncate(true).open(&self.log_path)?;
        self.log = OpenOptions::new().append(true).open(&self.log_path)?;
        self.log_lines = 0;
        self.snapshot_records = records(document);
        Ok(())
    }
}

/// Applies one logged change to `tenants`, as the store applied it when it was logged.
pub(super) fn replay(
    tenants: &mut HashMap<AccountSid, Tenant>,
    change: Change,
    now: Timestamp,
) -> Result<(), ImportError> {
    match change {
        Change::Reset { account: None } => tenants.clear(),
        Change::Reset { account: Some(account) } => {
            tenants.remove(&sid::<AccountSid>(&account)?);
        }
        Change::PutService { account, service } => {
            let account: AccountSid = sid(&account)?;
            let tenant = tenants.entry(account).or_insert_with(|| Tenant::new(account, now));
            let is_default = service.sid.as_deref() == Some(tenant.default_service.to_string().as_str());
            let service = to_service(service, is_default, now, "service")?;
            match tenant.services.get_mut(&service.sid) {
                Some(existing) => existing.service = service,
                None => {
                    tenant.services.push(service.sid, ServiceData::new(service));
                }
            }
        }
        Change::DeleteService { account, service } => {
            if let Some(tenant) = tenants.get_mut(&sid(&account)?) {
                tenant.services.remove(&sid(&service)?);
            }
        }
        Change::PutConversation { account, service, conversation } => {
            let service = service_mut(tenants, &account, &service, now)?;
            let conversation = to_conversation(conversation, service.service.sid, now, "conversation")?;
            let sid = conversation.sid;
            if let Some(name) = &conversation.unique_name {
                service.unique_names.insert(Arc::clone(name), sid);
            }
            match service.conversations.get_mut(&sid) {
                Some(existing) => {
                    let old = std::mem::replace(&mut existing.conversation, conversation);
                    if let Some(old_name) = old.unique_name
                        && existing.conversation.unique_name.as_ref() != Some(&old_name)
                    {
                        service.unique_names.remove(&old_name);
                    }
                }
                None => {
                    service.conversations.push(sid, ConversationData::new(conversation));
                }
            }
        }
        Change::DeleteConversation { account, service, conversation } => {
            service_mut(tenants, &account, &service, now)?.remove_conversation(sid(&conversation)?);
        }
        Change::PutMessage { account, service, conversation, message } => {
            let data = conversation_mut(tenants, &account, &service, &conversation, now)?;
            let conversation_sid = data.conversation.sid;
            let next_index = data.messages.next_index();
            let message = to_message(message, conversation_sid, now, "message")?;
            let (message_sid, media) = (message.sid, message.media().map(|media| media.sid));
            let service_data = service_mut(tenants, &account, &service, now)?;
            match service_data.messages.get(&message_sid) {
                Some(stored) if stored.conversation_sid != conversation_sid || stored.index != message.index => {
                    return Err(missing("message", format!("{message_sid} is stored elsewhere")));
                }
                None if message.index < next_index => {
                    return Err(missing("message", format!("index {} was already used", message.index)));
                }
                _ => service_data
                    .put_message(message)
                    .map_err(|_| missing("conversation", format!("{conversation} does not exist")))?,
            }
            // A message with media is what attached it: the upload's side is not logged.
            if let Some(upload) =
                media.and_then(|sid| service_mut(tenants, &account, &service, now).ok()?.media.get_mut(&sid))
            {
                upload.attached_to = Some((conversation_sid, message_sid));
            }
        }
        Change::DeleteMessage { account, service, conversation, message } => {
            let message_sid: MessageSid = sid(&message)?;
            let conversation_sid: ConversationSid = sid(&conversation)?;
            let service = service_mut(tenants, &account, &service, now)?;
            if service.messages.get(&message_sid).is_some_and(|m| m.conversation_sid == conversation_sid)
                && let Some(media) = service.remove_message(message_sid).as_deref().and_then(|message| message.media())
            {
                service.media.remove(&media.sid);
            }
        }
        Change::PutParticipant { account, service, conversation, participant } => {
            let role = default_participant_role(sid(&service)?);
            let participants = &mut conversation_mut(tenants, &account, &service, &conversation, now)?.participants;
            let participant = to_participant(participant, role, now, "participant")?;
            match participants.get_mut(&participant.sid) {
                Some(slot) => *slot = participant,
                None => {
                    participants.push(participant.sid, participant);
                }
            }
        }
        Change::DeleteParticipant { account, service, conversation, participant } => {
            let participants = &mut conversation_mut(tenants, &account, &service, &conversation, now)?.participants;
            participants.remove(&sid(&participant)?);
        }
        Change::PutMedia { account, service, media } => {
            let media = to_media(media, now, "media")?;
            service_mut(tenants, &account, &service, now)?.media.insert(media.sid, media);
        }
    }
    Ok(())
}

fn service_mut<'a>(
    tenants: &'a mut HashMap<AccountSid, Tenant>,
    account: &str,
    service: &str,
    now: Timestamp,
) -> Result<&'a mut ServiceData, ImportError> {
    let account: AccountSid = sid(account)?;
    let tenant = tenants.entry(account).or_insert_with(|| Tenant::new(account, now));
    tenant.services.get_mut(&sid(service)?).ok_or_else(|| missing("service", format!("{service} does not exist")))
}

fn conversation_mut<'a>(
    tenants: &'a mut HashMap<AccountSid, Tenant>,
    account: &str,
    service: &str,
    conversation: &str,
    now: Timestamp,
) -> Result<&'a mut ConversationData, ImportError> {
    let service = service_mut(tenants, account, service, now)?;
    service
        .conversations
        .get_mut(&sid(conversation)?)
        .ok_or_else(|| missing("conversation", format!("{conversation} does not exist")))
}

fn sid<T: std::str::FromStr>(raw: &str) -> Result<T, ImportError> {
    raw.parse().map_err(|_| missing("sid", format!("`{raw}` is not a SID of the right kind")))
}

fn missing(location: &str, problem: String) -> ImportError {
    ImportError { location: location.to_owned(), problem }
}

fn log_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".log");
    PathBuf::from(name)
}

/// How many services, conversations and messages a document holds.
fn records(document: &StateDocument) -> usize {
    document
        .accounts
        .iter()
        .flat_map(|account| &account.services)
        .map(|service| 1 + service.conversations.iter().map(|c| 1 + c.messages.len()).sum::<usize>())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("emulator-persist-{}-{name}.json", std::process::id()))
    }

    fn reset(account: &str) -> Change {
        Change::Reset { account: Some(account.to_owned()) }
    }

    #[test]
    fn changes_survive_a_reopen_and_a_torn_last_line_is_dropped() {
        let path = temp("torn");
        let mut file = StateFile::create(&path, &StateDocument::default()).unwrap();
        file.append(&reset("a")).unwrap();
        file.append(&reset("b")).unwrap();
        drop(file);
        OpenOptions::new().append(true).open(log_path(&path)).unwrap().write_all(b"{\"op\":\"res").unwrap();

        let saved = StateFile::read(&path).unwrap();

        assert_eq!(saved.snapshot, Some(StateDocument::default()));
        assert_eq!(saved.changes, [reset("a"), reset("b")]);
        let _ = fs::remove_file(&path);
        let _ = fs::remove_file(log_path(&path));
    }

    #[test]
    fn a_corrupt_line_in_the_middle_is_an_error() {
        let path = temp("corrupt");
        fs::write(log_path(&path), "garbage\n{\"op\":\"reset\",\"account\":null}\n").unwrap();
        let error = StateFile::read(&path).unwrap_err();
        assert!(matches!(error, PersistError::CorruptLog { line: 1, .. }), "{error}");
        let _ = fs::remove_file(log_path(&path));
    }

    #[test]
    fn compaction_replaces_the_snapshot_and_empties_the_log() {
        let path = temp("compact");
        let mut file = StateFile::create(&path, &StateDocument::default()).unwrap();
        file.append(&reset("a")).unwrap();
        let document = StateDocument { accounts: Vec::new() };
        file.compact(&document).unwrap();
        let saved = StateFile::read(&path).unwrap();
        assert_eq!((saved.snapshot, saved.changes.len()), (Some(document), 0));
        assert!(!path.with_extension("tmp").exists());
        let _ = fs::remove_file(&path);
        let _ = fs::remove_file(log_path(&path));
    }
}
