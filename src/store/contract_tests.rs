//! The store's contract, tested through its public operations: the change feed, the
//! proposal seam, accounts opened only by writes that succeed, damage to the state file
//! detected, and (as a property) export, import and replay agreeing on every state.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::model::{ConversationFields, MessageFields, ParticipantFields, StoredMessage};
use super::selection::{Cursor, Order, PageRequest, Selection};
use super::*;
use crate::sid::MessageSid;

fn store() -> Store {
    Store::new(Clock::fixed(Timestamp::from_unix_seconds(1_700_000_000)), SidGenerator::seeded(7))
}

fn account(n: u128) -> AccountSid {
    AccountSid::from_bits(n)
}

fn conversation(store: &Store, account: AccountSid) -> ConversationRef {
    let created = store.create_conversation(account, ServiceScope::Default, ConversationFields::default()).unwrap();
    ConversationRef::Sid(created.conversation.sid)
}

fn body(text: &str) -> MessageFields {
    MessageFields { body: Some(text.to_owned()), ..MessageFields::default() }
}

/// A state file path of the test's own; its files are removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("store-contract-{}-{name}.json", std::process::id()));
        let temp = Self(path);
        temp.remove();
        temp
    }

    fn with(&self, suffix: &str) -> PathBuf {
        PathBuf::from(format!("{}{suffix}", self.0.display()))
    }

    fn remove(&self) {
        for suffix in ["", ".log", ".log.old", ".lock", ".compacting"] {
            let _ = std::fs::remove_file(self.with(suffix));
        }
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        self.remove();
    }
}

fn open(path: &Path, compact_after: usize) -> Result<Store, StateFileError> {
    let store = store();
    store.open_state_file(path, Durability { compact_after, ..Durability::default() })?;
    Ok(store)
}

#[test]
fn subscribers_see_every_commit_in_order_with_the_record_it_replaced() {
    let store = store();
    let mut feed = store.subscribe();
    let reference = conversation(&store, account(1));
    let created = store.create_message(account(1), ServiceScope::Default, &reference, body("one")).unwrap();
    store.update_message(account(1), ServiceScope::Default, &reference, created.value.sid, body("two")).unwrap();

    let seen: Vec<CommittedRef> = std::iter::from_fn(|| feed.try_next().ok()).collect();

    let kinds: Vec<&str> = seen
        .iter()
        .map(|committed| match &committed.change {
            Change::OpenAccount { .. } => "open",
            Change::PutConversation { .. } => "conversation",
            Change::PutMessage { .. } => "message",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["open", "conversation", "message", "message"]);
    assert!(seen.windows(2).all(|pair| pair[0].seq + 1 == pair[1].seq), "one number per change, in order");
    let Prior::Message(before) = &seen[3].before else { panic!("an update carries the message it replaced") };
    assert_eq!(before.body(), Some("one"));
    let Change::PutMessage { message: after, .. } = &seen[3].change else { unreachable!() };
    assert_eq!(after.body(), Some("two"));
}

#[test]
fn a_subscriber_that_falls_behind_is_told_how_many_changes_it_missed() {
    let store = store();
    let mut feed = store.subscribe();
    let reference = conversation(&store, account(1));
    let writes = DEFAULT_FEED_CAPACITY + 10;
    for n in 0..writes {
        store.create_message(account(1), ServiceScope::Default, &reference, body(&n.to_string())).unwrap();
    }

    let missed = feed.try_next();

    // Two changes opened the account and its conversation before the messages.
    assert_eq!(missed.unwrap_err(), FeedError::Missed((writes + 2 - DEFAULT_FEED_CAPACITY) as u64));
    assert!(feed.try_next().is_ok(), "then the oldest change still held");
}

#[test]
fn a_proposal_changes_nothing_until_committed_and_is_refused_once_overtaken() {
    let store = store();
    let reference = conversation(&store, account(1));
    let list = |store: &Store| {
        let page = PageRequest { order: Order::Asc, size: 50, number: 0, cursor: Cursor::Start };
        store
            .list_messages(account(1), ServiceScope::Default, &reference, &page, |page| page.value.items.len())
            .unwrap()
    };

    let proposal = store.propose_message(account(1), ServiceScope::Default, &reference, body("vetoed")).unwrap();
    assert_eq!(proposal.changes().len(), 1);
    drop(proposal);
    assert_eq!(list(&store), 0, "an abandoned proposal leaves no trace");

    let proposal = store.propose_message(account(1), ServiceScope::Default, &reference, body("kept")).unwrap();
    let committed = store.commit(proposal).unwrap();
    assert_eq!((committed.value.body(), list(&store)), (Some("kept"), 1));

    let overtaken = store.propose_message(account(1), ServiceScope::Default, &reference, body("late")).unwrap();
    store.create_message(account(1), ServiceScope::Default, &reference, body("first")).unwrap();
    assert_eq!(store.commit(overtaken).unwrap_err(), StoreError::Conflict);
    assert_eq!(list(&store), 2);
}

#[test]
fn a_write_that_fails_opens_no_account() {
    let store = store();
    let missing = ConversationRef::UniqueName("nowhere".into());

    let refused = store.create_message(account(5), ServiceScope::Default, &missing, body("x"));

    assert_eq!(refused.unwrap_err(), StoreError::ConversationNotFound);
    assert!(store.export(None).accounts.is_empty(), "the 404 left the account out of the export");
    assert_eq!(store.stats().accounts, 0);
}

/// Every single-bit flip of a state file either stops start-up or changes nothing: the
/// checksums leave no flip that loads silently with changed data.
#[test]
fn every_bit_flip_in_the_state_file_is_detected_or_harmless() {
    let original = TempPath::new("flips");
    {
        let store = open(&original.0, usize::MAX).unwrap();
        let reference = conversation(&store, account(1));
        store.create_message(account(1), ServiceScope::Default, &reference, body("in the snapshot")).unwrap();
    }
    // Reopening moves the first writes into the snapshot; these stay in the log.
    let expected = {
        let store = open(&original.0, usize::MAX).unwrap();
        let reference = ConversationRef::Sid(
            store.export(None).accounts[0].services[0].conversations[0].sid.as_deref().unwrap().parse().unwrap(),
        );
        let message = store.create_message(account(1), ServiceScope::Default, &reference, body("in the log")).unwrap();
        store.update_message(account(1), ServiceScope::Default, &reference, message.value.sid, body("edited")).unwrap();
        store.export(None)
    };
    let snapshot = std::fs::read(&original.0).unwrap();
    let log = std::fs::read(original.with(".log")).unwrap();
    assert!(!log.is_empty());

    let copy = TempPath::new("flipped");
    let mut silent = Vec::new();
    for (file, bytes) in [("snapshot", &snapshot), ("log", &log)] {
        // Every bit of the log; every bit of the snapshot's first 600 bytes and a stride
        // through the rest (it is the same checksum over more text).
        let bits = (0..bytes.len() * 8).filter(|bit| file == "log" || *bit < 4800 || bit % 61 == 0);
        for bit in bits {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let (snapshot, log) = if file == "snapshot" { (&flipped, &log) } else { (&snapshot, &flipped) };
            std::fs::write(&copy.0, snapshot).unwrap();
            std::fs::write(copy.with(".log"), log).unwrap();
            if let Ok(store) = open(&copy.0, usize::MAX)
                && store.export(None) != expected
            {
                silent.push(format!("{file} bit {bit}"));
            }
            copy.remove();
        }
    }
    assert!(silent.is_empty(), "flips that loaded with changed data: {silent:?}");
}

/// One request a client could make, with indices into what exists (taken modulo).
#[derive(Clone, Debug)]
enum Op {
    CreateConversation(Option<u8>),
    RenameConversation(u8, u8),
    DeleteConversation(u8),
    CreateMessage(u8, String),
    UpdateMessage(u8, u8, String),
    DeleteMessage(u8, u8),
    AddSmsParticipant(u8, u8),
    MarkDelivered(u8, u8),
    UploadAndAttach(u8, Vec<u8>),
    CreateService,
    ResetAccount,
    AddWebhook(u8, bool),
    DeleteWebhook(u8, u8),
    SetAccountWebhooks(u8),
    SetDefaultService(u8),
    AddAddress(u8, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => proptest::option::of(0u8..4).prop_map(Op::CreateConversation),
        1 => (any::<u8>(), 0u8..4).prop_map(|(c, n)| Op::RenameConversation(c, n)),
        1 => any::<u8>().prop_map(Op::DeleteConversation),
        6 => (any::<u8>(), "[a-z\"\\\\é ]{0,12}").prop_map(|(c, b)| Op::CreateMessage(c, b)),
        2 => (any::<u8>(), any::<u8>(), "[a-z]{0,8}").prop_map(|(c, m, b)| Op::UpdateMessage(c, m, b)),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(c, m)| Op::DeleteMessage(c, m)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(c, n)| Op::AddSmsParticipant(c, n)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(c, m)| Op::MarkDelivered(c, m)),
        1 => (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..16)).prop_map(|(c, bytes)| Op::UploadAndAttach(c, bytes)),
        1 => Just(Op::CreateService),
        1 => Just(Op::ResetAccount),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(c, studio)| Op::AddWebhook(c, studio)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(c, w)| Op::DeleteWebhook(c, w)),
        1 => any::<u8>().prop_map(Op::SetAccountWebhooks),
        1 => any::<u8>().prop_map(Op::SetDefaultService),
        1 => (0u8..4, any::<bool>()).prop_map(|(n, whatsapp)| Op::AddAddress(n, whatsapp)),
    ]
}

/// Runs `op` as the API would; refusals are part of the sequence, like a client's 4xx.
fn run(store: &Store, op: &Op) {
    let account = account(1);
    let scope = ServiceScope::Default;
    let conversations = |store: &Store| -> Vec<ConversationSid> {
        let page = PageRequest { order: Order::Asc, size: 100, number: 0, cursor: Cursor::Start };
        let listed = store.list_conversations(account, scope, &Default::default(), &page).unwrap();
        listed.items.iter().map(|c| c.conversation.sid).collect()
    };
    let pick = |n: u8| {
        let all = conversations(store);
        (!all.is_empty()).then(|| ConversationRef::Sid(all[n as usize % all.len()]))
    };
    let message = |c: u8, m: u8| {
        let reference = pick(c)?;
        let page = PageRequest { order: Order::Asc, size: 100, number: 0, cursor: Cursor::Start };
        let sids: Vec<MessageSid> = store
            .list_messages(account, scope, &reference, &page, |page| page.value.items.iter().map(|m| m.sid).collect())
            .ok()?;
        (!sids.is_empty()).then(|| (reference, sids[m as usize % sids.len()]))
    };
    let name = |n: u8| Some(format!("name-{n}"));
    let _ = match op {
        Op::CreateConversation(n) => {
            let fields = ConversationFields { unique_name: n.and_then(name), ..Default::default() };
            store.create_conversation(account, scope, fields).map(drop)
        }
        Op::RenameConversation(c, n) => match pick(*c) {
            Some(reference) => {
                let fields = ConversationFields { unique_name: name(*n), ..Default::default() };
                store.update_conversation(account, scope, &reference, fields).map(drop)
            }
            None => Ok(()),
        },
        Op::DeleteConversation(c) => pick(*c).map_or(Ok(()), |r| store.delete_conversation(account, scope, &r)),
        Op::CreateMessage(c, text) => {
            pick(*c).map_or(Ok(()), |r| store.create_message(account, scope, &r, body(text)).map(drop))
        }
        Op::UpdateMessage(c, m, text) => message(*c, *m)
            .map_or(Ok(()), |(r, sid)| store.update_message(account, scope, &r, sid, body(text)).map(drop)),
        Op::DeleteMessage(c, m) => {
            message(*c, *m).map_or(Ok(()), |(r, sid)| store.delete_message(account, scope, &r, sid))
        }
        Op::AddSmsParticipant(c, n) => pick(*c).map_or(Ok(()), |r| {
            let fields = ParticipantFields {
                address: Some(format!("+1555000{n:04}")),
                proxy_address: Some("+15017122661".into()),
                ..Default::default()
            };
            store.create_participant(account, scope, &r, fields).map(drop)
        }),
        Op::MarkDelivered(c, m) => message(*c, *m).map_or(Ok(()), |(r, sid)| {
            let ConversationRef::Sid(_) = r else { return Ok(()) };
            let update = ReceiptUpdate {
                conversation: r,
                message: sid,
                receipt: None,
                status: model::DeliveryStatus::Delivered,
                error_code: 0,
            };
            store.update_receipts(account, update).map(drop)
        }),
        Op::UploadAndAttach(c, bytes) => pick(*c).map_or(Ok(()), |r| {
            let service = default_service_sid(account);
            let upload = Upload {
                content_type: "image/png".into(),
                filename: None,
                author: None,
                content: bytes.clone().into(),
            };
            let media = store.upload_media(account, service, upload)?;
            let fields = MessageFields { media_sid: Some(media.sid), ..MessageFields::default() };
            store.create_message(account, scope, &r, fields).map(drop)
        }),
        Op::CreateService => store.create_service(account, "another".into()).map(drop),
        Op::ResetAccount => store.reset(Some(account), None),
        Op::AddWebhook(c, studio) => pick(*c).map_or(Ok(()), |r| {
            use webhook_model::{ScopedConfiguration, ScopedTarget, WebhookEvent};
            let (target, configuration) = if *studio {
                (
                    ScopedTarget::Studio,
                    ScopedConfiguration { flow_sid: Some(crate::sid::FlowSid::from_bits(1)), ..Default::default() },
                )
            } else {
                let filters = Some(vec![WebhookEvent::MessageAdded]);
                (
                    ScopedTarget::Webhook,
                    ScopedConfiguration { url: Some("https://h.example".into()), filters, ..Default::default() },
                )
            };
            store.create_conversation_webhook(account, scope, &r, target, configuration, Some(1)).map(drop)
        }),
        Op::DeleteWebhook(c, w) => pick(*c).map_or(Ok(()), |r| {
            let page = PageRequest { order: Order::Asc, size: 5, number: 0, cursor: Cursor::Start };
            let listed = store.list_conversation_webhooks(account, scope, &r, &page)?;
            match listed.value.items.get(*w as usize % listed.value.items.len().max(1)) {
                Some(webhook) => store.delete_conversation_webhook(account, scope, &r, webhook.sid),
                None => Ok(()),
            }
        }),
        Op::SetAccountWebhooks(n) => {
            let update = webhook_model::WebhookSettingsUpdate {
                post_webhook_url: Some((n % 2 == 0).then(|| format!("https://{n}.example").into())),
                filters: Some(Some(vec![webhook_model::WebhookEvent::ALL[*n as usize % 23]])),
                ..Default::default()
            };
            store.update_account_webhooks(account, update).map(drop)
        }
        Op::SetDefaultService(n) => {
            let page = PageRequest { order: Order::Asc, size: 100, number: 0, cursor: Cursor::Start };
            let services = store.list_services(account, &page).items;
            let chosen = services[*n as usize % services.len()].sid;
            store.update_account_configuration(account, |c| c.default_chat_service_sid = Some(chosen)).map(drop)
        }
        Op::AddAddress(n, whatsapp) => {
            let kind = if *whatsapp { webhook_model::AddressType::Whatsapp } else { webhook_model::AddressType::Sms };
            let new = NewAddressConfiguration {
                kind,
                address: format!("+1555{n}").into(),
                address_country: None,
                fields: Default::default(),
            };
            store.create_address_configuration(account, new).map(drop)
        }
    };
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any sequence of requests leaves a state whose export imports to the same export, and
    /// whose state file (compacted along the way) replays to the same state.
    #[test]
    fn export_import_and_replay_agree_on_every_state(ops in proptest::collection::vec(op(), 1..60)) {
        let path = TempPath::new("property");
        let live = open(&path.0, 8).unwrap();
        for op in &ops {
            run(&live, op);
        }
        live.finish_compaction();
        let exported = live.export(None);
        drop(live);

        let imported = store();
        imported.import(exported.clone(), ImportMode::Replace).unwrap();
        prop_assert_eq!(&imported.export(None), &exported);

        let replayed = open(&path.0, 8).unwrap();
        prop_assert_eq!(&replayed.export(None), &exported);
    }
}

/// A write to the messages of one of three conversations, with indices into what exists
/// (taken modulo), as clients interleave them.
#[derive(Clone, Debug)]
enum MessageOp {
    Create(u8),
    Update(u8, u8),
    Delete(u8, u8),
}

fn message_op() -> impl Strategy<Value = MessageOp> {
    prop_oneof![
        4 => any::<u8>().prop_map(MessageOp::Create),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(c, m)| MessageOp::Update(c, m)),
        3 => (any::<u8>(), any::<u8>()).prop_map(|(c, m)| MessageOp::Delete(c, m)),
    ]
}

/// One step while a client walks the first conversation's messages page by page: a write
/// by someone else, or the next page.
#[derive(Clone, Debug)]
enum Step {
    Write(MessageOp),
    NextPage,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![3 => message_op().prop_map(Step::Write), 2 => Just(Step::NextPage)]
}

/// Three conversations of one account, with every message index each has ever handed out.
struct Messages {
    store: Store,
    conversations: Vec<ConversationRef>,
    /// Per conversation, every index ever given, in the order given.
    indices: Vec<Vec<u64>>,
}

impl Messages {
    fn new() -> Self {
        let store = store();
        let conversations: Vec<ConversationRef> = (0..3).map(|_| conversation(&store, account(1))).collect();
        Self { store, indices: vec![Vec::new(); conversations.len()], conversations }
    }

    /// The SIDs of a conversation's messages, by index.
    fn sids(&self, c: usize) -> Vec<MessageSid> {
        let page = PageRequest { order: Order::Asc, size: usize::MAX, number: 0, cursor: Cursor::Start };
        let list = |page: Located<Selection<&StoredMessage>>| page.value.items.iter().map(|m| m.sid).collect();
        self.store.list_messages(account(1), ServiceScope::Default, &self.conversations[c], &page, list).unwrap()
    }

    /// Carries out `op`, checking that a new message's index is above every index the
    /// conversation ever gave, deleted messages' included; returns the SID it deleted.
    fn run(&mut self, op: &MessageOp) -> Option<MessageSid> {
        let (account, scope) = (account(1), ServiceScope::Default);
        let pick = |c: u8| c as usize % self.conversations.len();
        match *op {
            MessageOp::Create(c) => {
                let c = pick(c);
                let created = self.store.create_message(account, scope, &self.conversations[c], body("new")).unwrap();
                let index = created.value.index;
                let given = &mut self.indices[c];
                assert!(given.last().is_none_or(|last| index > *last), "index {index} after {given:?}");
                given.push(index);
                None
            }
            MessageOp::Update(c, m) => {
                let c = pick(c);
                let sids = self.sids(c);
                let sid = *sids.get(m as usize % sids.len().max(1))?;
                let before = self.store.fetch_message(account, scope, &self.conversations[c], sid).unwrap();
                let after =
                    self.store.update_message(account, scope, &self.conversations[c], sid, body("edited")).unwrap();
                assert_eq!(after.value.index, before.value.index, "an update keeps the index");
                None
            }
            MessageOp::Delete(c, m) => {
                let c = pick(c);
                let sids = self.sids(c);
                let sid = *sids.get(m as usize % sids.len().max(1))?;
                self.store.delete_message(account, scope, &self.conversations[c], sid).unwrap();
                Some(sid)
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Under any interleaving of creates, updates and deletes: message indices only grow
    /// and are never given twice; a client that walks a conversation's pages by their
    /// tokens while others write sees every message that existed throughout exactly once,
    /// and nothing twice; and the final state exports to a document that imports to it.
    #[test]
    fn indices_grow_page_walks_see_every_lasting_message_once_and_export_imports(
        before in proptest::collection::vec(message_op(), 0..40),
        during in proptest::collection::vec(step(), 0..60),
        size in 1usize..5,
        descending in any::<bool>(),
    ) {
        let mut messages = Messages::new();
        for op in &before {
            messages.run(op);
        }
        let walked = &messages.conversations[0].clone();
        let at_start: Vec<MessageSid> = messages.sids(0);
        let order = if descending { Order::Desc } else { Order::Asc };
        let mut cursor = Some(Cursor::Start);
        let mut seen: Vec<MessageSid> = Vec::new();
        let mut deleted: Vec<MessageSid> = Vec::new();
        let next_page = |messages: &Messages, cursor: &mut Option<Cursor>, seen: &mut Vec<MessageSid>| {
            let Some(at) = *cursor else { return };
            let page = PageRequest { order, size, number: 0, cursor: at };
            let (items, next) = messages
                .store
                .list_messages(account(1), ServiceScope::Default, walked, &page, |page| {
                    (page.value.items.iter().map(|m| m.sid).collect::<Vec<_>>(), page.value.next)
                })
                .unwrap();
            assert!(items.len() <= size, "a page of {size} held {items:?}");
            seen.extend(items);
            *cursor = next;
        };
        for step in &during {
            match step {
                Step::Write(op) => deleted.extend(messages.run(op)),
                Step::NextPage => next_page(&messages, &mut cursor, &mut seen),
            }
        }
        while cursor.is_some() {
            next_page(&messages, &mut cursor, &mut seen);
        }

        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(unique.len(), seen.len(), "a message was seen twice: {:?}", seen);
        for sid in at_start.iter().filter(|sid| !deleted.contains(sid)) {
            prop_assert!(seen.contains(sid), "{} existed throughout but was not seen", sid);
        }

        let exported = messages.store.export(None);
        let imported = store();
        imported.import(exported.clone(), ImportMode::Replace).unwrap();
        prop_assert_eq!(imported.export(None), exported);
    }
}
