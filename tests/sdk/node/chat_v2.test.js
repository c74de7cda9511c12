"use strict";
// Drives the official `twilio` npm package's Programmable Chat v2 client against a
// running emulator.
//
// The base URL comes from the environment variable EMULATOR_URL. The SDK is pointed at
// it by the shared RequestClient (emulator.js) that rewrites both https://chat.twilio.com
// and https://conversations.twilio.com to that URL; everything else is the SDK's own code.
//
// Chat v2 and Conversations v1 share one store: a channel is a conversation (same CH
// SID) and a chat message is a conversation message (same IM SID, same index sequence).
// Most tests run on both the account's default Conversation Service and a service
// created through Conversations v1:
//   client.chat.v2.services(IS).channels(CH).messages

const { describe, test, before } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");

const { CHAT_BASE_URL, EMULATOR_URL, connect, createService, fetchDefaultServiceSid, assertRestError, sids } = require("./emulator");

const MISSING_CHANNEL = "CH" + "0".repeat(32);
const MISSING_MESSAGE = "IM" + "0".repeat(32);
const MISSING_SERVICE = "IS" + "0".repeat(32);

const { accountSid: ACCOUNT_SID, httpClient, client } = connect();
const v1 = client.conversations.v1;
const v2 = client.chat.v2;

const unique = (prefix) => `${prefix}-${crypto.randomBytes(5).toString("hex")}`;
const channelUrl = (serviceSid, channelSid) => `${CHAT_BASE_URL}/v2/Services/${serviceSid}/Channels/${channelSid}`;

async function createMany(messages, count) {
  const created = [];
  for (let i = 0; i < count; i++) {
    created.push(await messages.create({ from: `user${i}`, body: `message ${i}` }));
  }
  return created;
}

const MESSAGE_FIELDS = [
  "sid", "accountSid", "serviceSid", "to", "channelSid", "attributes", "dateCreated", "dateUpdated",
  "lastUpdatedBy", "wasEdited", "from", "body", "index", "type", "media", "url",
];
const CHANNEL_FIELDS = [
  "sid", "accountSid", "serviceSid", "friendlyName", "uniqueName", "attributes", "type", "dateCreated",
  "dateUpdated", "createdBy", "membersCount", "messagesCount", "url", "links",
];

function assertSame(actual, expected, fields) {
  for (const field of fields) {
    assert.deepEqual(actual[field], expected[field], field);
  }
}

let defaultServiceSid;
let createdServiceSid;

before(async () => {
  defaultServiceSid = await fetchDefaultServiceSid(client);
  createdServiceSid = (await createService(client, ACCOUNT_SID, "node-chat-suite")).sid;
});

for (const serviceName of ["default", "created"]) {
  describe(`chat v2 on the ${serviceName} service`, () => {
    const serviceSid = () => (serviceName === "default" ? defaultServiceSid : createdServiceSid);
    const chat = () => v2.services(serviceSid());
    const conversations = () => v1.services(serviceSid()).conversations;

    async function newChannel() {
      const channel = await chat().channels.create({ friendlyName: "node chat", uniqueName: unique("node-chat") });
      assert.match(channel.sid, /^CH[0-9a-f]{32}$/);
      return { channel, messages: chat().channels(channel.sid).messages };
    }

    // 1. channels

    test("channel create echoes fields", async () => {
      const uniqueName = unique("node-create");
      const before = Date.now() - 5000;
      const created = await chat().channels.create({
        friendlyName: "General",
        uniqueName,
        attributes: JSON.stringify({ topic: "news" }),
      });
      const after = Date.now() + 5000;

      assert.match(created.sid, /^CH[0-9a-f]{32}$/);
      assert.equal(created.accountSid, ACCOUNT_SID);
      assert.equal(created.serviceSid, serviceSid());
      assert.equal(created.friendlyName, "General");
      assert.equal(created.uniqueName, uniqueName);
      assert.deepEqual(JSON.parse(created.attributes), { topic: "news" });
      assert.equal(created.type, "public");
      assert.equal(created.createdBy, "system");
      assert.equal(created.membersCount, 0);
      assert.equal(created.messagesCount, 0);
      assert.ok(created.dateCreated instanceof Date, `dateCreated is ${created.dateCreated}`);
      assert.ok(created.dateCreated.getTime() >= before && created.dateCreated.getTime() <= after);
      assert.ok(created.dateUpdated instanceof Date);
      const url = channelUrl(serviceSid(), created.sid);
      assert.equal(created.url, url);
      assert.equal(created.links.messages, `${url}/Messages`);
      assert.equal(created.links.members, `${url}/Members`);
    });

    test("channel create defaults and explicit fields", async () => {
      const bare = await chat().channels.create();
      assert.equal(bare.friendlyName, null);
      assert.equal(bare.uniqueName, null);
      assert.equal(bare.attributes, "{}");
      assert.equal(bare.type, "public");
      assert.equal(bare.createdBy, "system");

      const at = new Date(Date.UTC(2020, 0, 2, 3, 4, 5));
      const privateChannel = await chat().channels.create({ type: "private", createdBy: "alice", dateCreated: at });
      assert.equal(privateChannel.type, "private");
      assert.equal(privateChannel.createdBy, "alice");
      assert.equal(privateChannel.dateCreated.getTime(), at.getTime());
    });

    test("channel fetch by SID and by unique name", async () => {
      const { channel } = await newChannel();
      assertSame(await chat().channels(channel.sid).fetch(), channel, CHANNEL_FIELDS);
      const byName = await chat().channels(channel.uniqueName).fetch();
      assert.equal(byName.sid, channel.sid);
      assertSame(byName, channel, CHANNEL_FIELDS);
    });

    test("channel update", async () => {
      const { channel } = await newChannel();
      const updated = await chat().channels(channel.sid).update({
        friendlyName: "Renamed",
        attributes: '{"v":2}',
        createdBy: "bob",
      });
      assert.equal(updated.sid, channel.sid);
      assert.equal(updated.friendlyName, "Renamed");
      assert.deepEqual(JSON.parse(updated.attributes), { v: 2 });
      assert.equal(updated.createdBy, "bob");
      assert.equal(updated.uniqueName, channel.uniqueName);
      assert.equal(updated.type, "public");
      assert.equal(updated.dateCreated.getTime(), channel.dateCreated.getTime());
      assert.ok(updated.dateUpdated.getTime() >= channel.dateCreated.getTime());

      const newName = unique("node-renamed");
      const renamed = await chat().channels(channel.uniqueName).update({ uniqueName: newName });
      assert.equal(renamed.sid, channel.sid);
      assert.equal(renamed.uniqueName, newName);
      assert.equal(renamed.friendlyName, "Renamed");
      assert.equal((await chat().channels(newName).fetch()).sid, channel.sid);
      await assertRestError(chat().channels(channel.uniqueName).fetch(), 404, 50300);
    });

    test("channel remove", async () => {
      const doomed = await chat().channels.create({ uniqueName: unique("node-doomed") });
      await chat().channels(doomed.sid).messages.create({ body: "goes with it" });
      assert.equal(await chat().channels(doomed.sid).remove(), true);

      await assertRestError(chat().channels(doomed.sid).fetch(), 404, 50300);
      await assertRestError(chat().channels(doomed.sid).remove(), 404, 50300);
      await assertRestError(chat().channels(doomed.sid).messages.list(), 404, 50300);
      // Gone from Conversations too (which uses its own 20404).
      await assertRestError(conversations()(doomed.sid).fetch(), 404, 20404);

      const named = await chat().channels.create({ uniqueName: unique("node-doomed-named") });
      assert.equal(await chat().channels(named.uniqueName).remove(), true);
      assert.ok(!sids(await chat().channels.list()).includes(named.sid));
    });

    // 2. messages

    test("message create echoes fields", async () => {
      const { channel, messages } = await newChannel();
      const before = Date.now() - 5000;
      const first = await messages.create({ from: "alice", body: "hello there", attributes: JSON.stringify({ k: [1, 2] }) });
      const after = Date.now() + 5000;

      assert.match(first.sid, /^IM[0-9a-f]{32}$/);
      assert.equal(first.accountSid, ACCOUNT_SID);
      assert.equal(first.serviceSid, serviceSid());
      assert.equal(first.channelSid, channel.sid);
      assert.equal(first.to, channel.sid);
      assert.equal(first.from, "alice");
      assert.equal(first.body, "hello there");
      assert.deepEqual(JSON.parse(first.attributes), { k: [1, 2] });
      assert.equal(first.index, 0);
      assert.equal(first.type, "text");
      assert.equal(first.media, null);
      assert.equal(first.wasEdited, false);
      assert.equal(first.lastUpdatedBy, null);
      assert.ok(first.dateCreated instanceof Date, `dateCreated is ${first.dateCreated}`);
      assert.ok(first.dateCreated.getTime() >= before && first.dateCreated.getTime() <= after);
      assert.ok(first.dateUpdated instanceof Date);
      assert.equal(first.url, `${channelUrl(serviceSid(), channel.sid)}/Messages/${first.sid}`);

      const second = await messages.create({ body: "second" });
      assert.equal(second.index, 1);
      assert.notEqual(second.sid, first.sid);
    });

    test("message create defaults", async () => {
      const { messages } = await newChannel();
      const message = await messages.create();
      assert.equal(message.from, "system");
      assert.equal(message.body, "");
      assert.equal(message.attributes, "{}");
      assert.equal(message.lastUpdatedBy, null);
      assert.equal(message.wasEdited, false);
      assert.equal(message.index, 0);

      const at = new Date(Date.UTC(2019, 4, 6, 7, 8, 9));
      const dated = await messages.create({ body: "backfilled", dateCreated: at, lastUpdatedBy: "importer" });
      assert.equal(dated.dateCreated.getTime(), at.getTime());
      assert.equal(dated.lastUpdatedBy, "importer");
      assert.equal(dated.index, 1);
    });

    test("message fetch returns what create returned", async () => {
      const { messages } = await newChannel();
      const created = await messages.create({ from: "bob", body: "fetch me", attributes: '{"n":1}' });
      assertSame(await messages(created.sid).fetch(), created, MESSAGE_FIELDS);
    });

    test("messages_count follows the channel", async () => {
      const { channel, messages } = await newChannel();
      await createMany(messages, 3);
      assert.equal((await chat().channels(channel.sid).fetch()).messagesCount, 3);
    });

    test("message list pages in order", async () => {
      const { channel, messages } = await newChannel();
      const created = await createMany(messages, 7);

      const before = httpClient.requests.length;
      const listed = await messages.list({ pageSize: 3 });
      const pages = httpClient.requests.slice(before);

      assert.deepEqual(sids(listed), sids(created));
      assert.deepEqual(listed.map((m) => m.index), [0, 1, 2, 3, 4, 5, 6]);
      assert.deepEqual(listed.map((m) => m.body), created.map((_, i) => `message ${i}`));
      assert.deepEqual(listed.map((m) => m.from), created.map((_, i) => `user${i}`));
      // Three pages of 3, 3 and 1: the second and third come from the emulator's next_page_url.
      assert.equal(pages.length, 3, JSON.stringify(pages));
      for (const { method, uri } of pages.slice(1)) {
        assert.equal(method, "get");
        assert.ok(uri.startsWith(`${CHAT_BASE_URL}/v2/Services/`), uri);
        assert.ok(uri.includes(`/Channels/${channel.sid}/Messages`), uri);
      }

      const page = await messages.page({ pageSize: 3 });
      assert.deepEqual(sids(page.instances), sids(created.slice(0, 3)));
      assert.ok(page.nextPageUrl.startsWith(CHAT_BASE_URL + "/"), page.nextPageUrl);
      const last = await (await page.nextPage()).nextPage();
      assert.deepEqual(sids(last.instances), [created[6].sid]);
      assert.equal(last.nextPage(), undefined);
    });

    test("message list in desc order and with a limit", async () => {
      const { messages } = await newChannel();
      const created = sids(await createMany(messages, 5));

      const descending = await messages.list({ order: "desc" });
      assert.deepEqual(sids(descending), [...created].reverse());
      assert.deepEqual(descending.map((m) => m.index), [4, 3, 2, 1, 0]);
      assert.deepEqual(sids(await messages.list({ order: "desc", pageSize: 2 })), [...created].reverse());
      assert.deepEqual(sids(await messages.list({ order: "asc", pageSize: 2 })), created);
      assert.deepEqual(sids(await messages.list({ limit: 2 })), created.slice(0, 2));
    });

    test("a message page size above 100 is clamped", async () => {
      const { messages } = await newChannel();
      const created = sids(await createMany(messages, 101));
      const page = await messages.page({ pageSize: 500 });
      assert.equal(page.instances.length, 100);
      assert.ok(page.nextPageUrl);
      assert.deepEqual(sids((await page.nextPage()).instances), [created[100]]);
    });

    test("message update", async () => {
      const { messages } = await newChannel();
      await messages.create({ body: "zeroth" });
      const original = await messages.create({ from: "carol", body: "before", attributes: '{"v":1}' });
      assert.deepEqual([original.index, original.wasEdited], [1, false]);

      const updated = await messages(original.sid).update({ body: "after", attributes: '{"v":2}', lastUpdatedBy: "dave" });
      assert.equal(updated.sid, original.sid);
      assert.equal(updated.body, "after");
      assert.deepEqual(JSON.parse(updated.attributes), { v: 2 });
      assert.equal(updated.wasEdited, true);
      assert.equal(updated.lastUpdatedBy, "dave");
      assert.equal(updated.from, "carol");
      assert.equal(updated.index, 1);
      assert.equal(updated.dateCreated.getTime(), original.dateCreated.getTime());
      assert.ok(updated.dateUpdated.getTime() >= original.dateCreated.getTime());

      assertSame(await messages(original.sid).fetch(), updated, MESSAGE_FIELDS);

      const reauthored = await messages(original.sid).update({ from: "erin" });
      assert.deepEqual([reauthored.from, reauthored.body, reauthored.lastUpdatedBy], ["erin", "after", "dave"]);
      assert.equal(reauthored.wasEdited, true);
    });

    test("message remove", async () => {
      const { messages } = await newChannel();
      const keep = await messages.create({ body: "keep" });
      const doomed = await messages.create({ body: "doomed" });

      assert.equal(await messages(doomed.sid).remove(), true);
      await assertRestError(messages(doomed.sid).fetch(), 404, 20404);
      await assertRestError(messages(doomed.sid).remove(), 404, 20404);
      assert.deepEqual(sids(await messages.list()), [keep.sid]);
      // Indices are not reused after a delete.
      assert.equal((await messages.create({ body: "next" })).index, 2);
    });

    test("messages on a channel addressed by unique name", async () => {
      const { channel } = await newChannel();
      const byName = chat().channels(channel.uniqueName).messages;
      const message = await byName.create({ from: "frank", body: "via unique name" });
      assert.equal(message.channelSid, channel.sid);
      assert.equal(message.to, channel.sid);
      assert.equal(message.index, 0);

      assert.equal((await byName(message.sid).fetch()).body, "via unique name");
      assert.equal((await byName(message.sid).update({ body: "edited by name" })).wasEdited, true);
      assert.deepEqual(sids(await chat().channels(channel.sid).messages.list()), [message.sid]);
      assert.deepEqual((await byName.list()).map((m) => m.body), ["edited by name"]);
      assert.equal(await byName(message.sid).remove(), true);
      assert.deepEqual(await byName.list(), []);
    });

    // 3. one store: Chat and Conversations see the same channels and messages

    test("a Conversations message appears in Chat", async () => {
      const { channel, messages } = await newChannel();
      const conversation = conversations()(channel.sid);
      const chatFirst = await messages.create({ from: "alice", body: "from chat" });
      const viaConversations = await conversation.messages.create({ author: "bob", body: "from conversations" });
      assert.equal(viaConversations.index, 1);

      const listed = await messages.list();
      assert.deepEqual(sids(listed), [chatFirst.sid, viaConversations.sid]);
      assert.deepEqual(listed.map((m) => m.index), [0, 1]);
      assert.equal(listed[1].from, "bob");
      assert.equal(listed[1].body, "from conversations");
      assert.equal(listed[1].channelSid, channel.sid);
      assert.equal(listed[1].wasEdited, false);
      assert.equal((await messages(viaConversations.sid).fetch()).from, "bob");

      assert.equal((await messages.create({ body: "third" })).index, 2);
      assert.equal((await chat().channels(channel.sid).fetch()).messagesCount, 3);
    });

    test("a Chat message appears in Conversations", async () => {
      const { channel, messages } = await newChannel();
      const conversation = conversations()(channel.sid);
      const sent = await messages.create({ from: "carol", body: "hello conversations", attributes: '{"x":1}' });
      const second = await messages.create({ from: "dave", body: "again" });

      const listed = await conversation.messages.list();
      assert.deepEqual(sids(listed), [sent.sid, second.sid]);
      assert.deepEqual(listed.map((m) => m.author), ["carol", "dave"]);
      assert.deepEqual(listed.map((m) => m.index), [0, 1]);
      const fetched = await conversation.messages(sent.sid).fetch();
      assert.equal(fetched.author, "carol");
      assert.equal(fetched.body, "hello conversations");
      assert.deepEqual(JSON.parse(fetched.attributes), { x: 1 });
      assert.equal(fetched.conversationSid, channel.sid);
      assert.equal(fetched.dateCreated.getTime(), sent.dateCreated.getTime());

      // An edit made in Conversations shows in Chat as an edit.
      await conversation.messages(sent.sid).update({ body: "edited in conversations" });
      const seen = await messages(sent.sid).fetch();
      assert.equal(seen.body, "edited in conversations");
      assert.equal(seen.wasEdited, true);

      // A delete made in Chat is gone from Conversations.
      assert.equal(await messages(second.sid).remove(), true);
      assert.deepEqual(sids(await conversation.messages.list()), [sent.sid]);

      const same = await conversation.fetch();
      assert.equal(same.chatServiceSid, serviceSid());
      assert.equal(same.uniqueName, channel.uniqueName);
    });

    test("members are the channel's chat participants", async () => {
      const { channel } = await newChannel();
      const members = chat().channels(channel.sid).members;
      const created = await members.create({ identity: "node-member", attributes: '{"team":"b"}' });
      assert.match(created.sid, /^MB[0-9a-f]{32}$/);
      assert.equal(created.channelSid, channel.sid);
      await conversations()(channel.sid).participants.create({
        "messagingBinding.address": "+15550005555",
        "messagingBinding.proxyAddress": "+15550006666",
      });

      assert.deepEqual((await members.list()).map((m) => m.identity), ["node-member"]);
      assert.equal((await members("node-member").fetch()).sid, created.sid);
      assert.equal((await members(created.sid).update({ lastConsumedMessageIndex: 2 })).lastConsumedMessageIndex, 2);
      assert.equal((await chat().channels(channel.sid).fetch()).membersCount, 1);
      await assertRestError(members.create({ identity: "node-member" }), 409, 50404);
      assert.equal(await members(created.sid).remove(), true);
      assert.deepEqual(await members.list(), []);
    });

    test("a conversation is a private channel", async () => {
      const uniqueName = unique("node-conv");
      const conversation = await conversations().create({
        friendlyName: "from conversations",
        uniqueName,
        attributes: '{"c":true}',
      });

      const channel = await chat().channels(conversation.sid).fetch();
      assert.equal(channel.sid, conversation.sid);
      assert.equal(channel.type, "private");
      assert.equal(channel.serviceSid, serviceSid());
      assert.equal(channel.friendlyName, "from conversations");
      assert.equal(channel.uniqueName, uniqueName);
      assert.deepEqual(JSON.parse(channel.attributes), { c: true });
      assert.equal(channel.createdBy, "system");
      assert.equal(channel.messagesCount, 0);
      assert.equal(channel.dateCreated.getTime(), conversation.dateCreated.getTime());
      assert.equal(channel.url, channelUrl(serviceSid(), conversation.sid));

      assert.equal((await chat().channels(uniqueName).fetch()).sid, conversation.sid);
      assert.ok(sids(await chat().channels.list({ type: ["private"] })).includes(conversation.sid));
      assert.ok(!sids(await chat().channels.list({ type: ["public"] })).includes(conversation.sid));
    });

    test("a Chat channel is a conversation", async () => {
      const { channel } = await newChannel();
      const conversation = await conversations()(channel.sid).fetch();
      assert.equal(conversation.sid, channel.sid);
      assert.equal(conversation.friendlyName, channel.friendlyName);
      assert.equal(conversation.uniqueName, channel.uniqueName);
      assert.equal(conversation.chatServiceSid, serviceSid());
      assert.equal((await conversations()(channel.uniqueName).fetch()).sid, channel.sid);
    });

    // 4. errors

    test("an unknown channel is a 404 with code 50300", async () => {
      const missing = chat().channels(MISSING_CHANNEL);
      await assertRestError(missing.fetch(), 404, 50300);
      await assertRestError(missing.update({ friendlyName: "nope" }), 404, 50300);
      await assertRestError(missing.remove(), 404, 50300);
      await assertRestError(missing.messages.create({ body: "into the void" }), 404, 50300);
      await assertRestError(missing.messages.list(), 404, 50300);
      await assertRestError(chat().channels(unique("no-such-name")).messages.create({ body: "nope" }), 404, 50300);
    });

    test("an unknown message is a 404 with code 20404", async () => {
      const { messages } = await newChannel();
      await assertRestError(messages(MISSING_MESSAGE).fetch(), 404, 20404);
      await assertRestError(messages(MISSING_MESSAGE).update({ body: "nope" }), 404, 20404);
      await assertRestError(messages(MISSING_MESSAGE).remove(), 404, 20404);
    });

    test("a duplicate unique name is a 409 with code 50307", async () => {
      const { channel } = await newChannel();
      await assertRestError(chat().channels.create({ uniqueName: channel.uniqueName }), 409, 50307);

      const other = await chat().channels.create({ uniqueName: unique("node-other") });
      await assertRestError(chat().channels(other.sid).update({ uniqueName: channel.uniqueName }), 409, 50307);
      assert.equal((await chat().channels(other.sid).fetch()).uniqueName, other.uniqueName);

      // A conversation's unique name is taken for channels too.
      const taken = unique("node-conv-name");
      await conversations().create({ uniqueName: taken });
      await assertRestError(chat().channels.create({ uniqueName: taken }), 409, 50307);
    });

    test("invalid attributes are a 400 with code 50304", async () => {
      const { channel, messages } = await newChannel();
      await assertRestError(messages.create({ body: "bad", attributes: "{not json" }), 400, 50304);

      const good = await messages.create({ body: "good" });
      assert.equal(good.index, 0); // the failed create took no index
      await assertRestError(messages(good.sid).update({ attributes: "[unterminated" }), 400, 50304);
      assert.equal((await messages(good.sid).fetch()).attributes, "{}");

      await assertRestError(chat().channels.create({ attributes: "{nope" }), 400, 50304);
      await assertRestError(chat().channels(channel.sid).update({ attributes: "{nope" }), 400, 50304);
    });
  });
}

test("channel list pages in creation order and filters by type", async () => {
  // A service of its own, so that the list holds exactly these channels.
  const service = (await v1.services.create({ friendlyName: "node chat list" })).sid;
  const chat = v2.services(service);
  assert.deepEqual(await chat.channels.list(), []);

  const created = [];
  for (let i = 0; i < 5; i++) {
    created.push(await chat.channels.create({ uniqueName: `list-${i}`, friendlyName: `channel ${i}` }));
  }
  const privateChannel = await chat.channels.create({ uniqueName: "list-private", type: "private" });

  const before = httpClient.requests.length;
  const listed = await chat.channels.list({ pageSize: 2 });
  const pages = httpClient.requests.slice(before);
  assert.deepEqual(sids(listed), [...sids(created), privateChannel.sid]);
  assert.deepEqual(listed.map((c) => c.uniqueName), ["list-0", "list-1", "list-2", "list-3", "list-4", "list-private"]);
  assert.ok(listed.every((c) => c.serviceSid === service));
  // Pages of 2, 2 and 2: the later ones come from the emulator's next_page_url.
  assert.equal(pages.length, 3, JSON.stringify(pages));
  for (const { method, uri } of pages.slice(1)) {
    assert.equal(method, "get");
    assert.ok(uri.startsWith(`${CHAT_BASE_URL}/v2/Services/${service}/Channels`), uri);
  }

  assert.deepEqual(sids(await chat.channels.list({ type: ["private"] })), [privateChannel.sid]);
  assert.deepEqual(sids(await chat.channels.list({ type: ["public"] })), sids(created));
  assert.deepEqual(sids(await chat.channels.list({ limit: 3 })), sids(created.slice(0, 3)));
});

test("the default form sees the default service's channels", async () => {
  // /v1/Conversations/… is the default service's: its conversations are that service's channels.
  const conversation = await v1.conversations.create({ friendlyName: "default form" });
  const chat = v2.services(defaultServiceSid);
  const channel = await chat.channels(conversation.sid).fetch();
  assert.equal(channel.type, "private");
  assert.equal(channel.serviceSid, defaultServiceSid);

  const sent = await chat.channels(conversation.sid).messages.create({ from: "gina", body: "to the default form" });
  const seen = await v1.conversations(conversation.sid).messages(sent.sid).fetch();
  assert.deepEqual([seen.author, seen.body, seen.index], ["gina", "to the default form", 0]);
  const reply = await v1.conversations(conversation.sid).messages.create({ author: "hal", body: "reply" });
  assert.equal(reply.index, 1);
  const listed = await chat.channels(conversation.sid).messages.list();
  assert.deepEqual(listed.map((m) => [m.from, m.index]), [["gina", 0], ["hal", 1]]);

  // A channel of another service is not on the default form.
  const other = await v2.services(createdServiceSid).channels.create();
  await assertRestError(v1.conversations(other.sid).fetch(), 404, 20404);
});

test("a channel of another service is a 404 with code 50300", async () => {
  const channel = await v2.services(defaultServiceSid).channels.create({ uniqueName: unique("node-other") });
  const elsewhere = v2.services(createdServiceSid);
  await assertRestError(elsewhere.channels(channel.sid).fetch(), 404, 50300);
  await assertRestError(elsewhere.channels(channel.uniqueName).messages.create({ body: "wrong service" }), 404, 50300);
});

test("an unknown service is a 404 with code 20404", async () => {
  const chat = v2.services(MISSING_SERVICE);
  await assertRestError(chat.channels.create({ friendlyName: "nowhere" }), 404, 20404);
  await assertRestError(chat.channels.list(), 404, 20404);
  await assertRestError(chat.channels(MISSING_CHANNEL).messages.create({ body: "nowhere" }), 404, 20404);
});

// --- Users and Roles: the service's Conversations users and roles, in Chat's shape ---

for (const [name, serviceSid] of [["default", () => defaultServiceSid], ["created", () => createdServiceSid]]) {
  test(`chat users support every operation (${name} service)`, async () => {
    const chat = v2.services(serviceSid());
    const identity = unique("node-chat-user");
    const channel = await chat.channels.create();
    await chat.channels(channel.sid).members.create({ identity });

    const created = await chat.users.create({ identity, friendlyName: "Ada", attributes: '{"a":1}' });
    const fetched = await chat.users(identity).fetch();
    const viaConversations = await v1.services(serviceSid()).users(created.sid).fetch();
    const updated = await chat.users(created.sid).update({ friendlyName: "Countess" });
    const listed = sids(await chat.users.list());
    const userChannels = await chat.users(created.sid).userChannels.list();

    assert.ok(created.sid.startsWith("US"));
    assert.equal(created.serviceSid, serviceSid());
    assert.equal(created.isOnline, null);
    assert.equal(created.joinedChannelsCount, 1, "the identity was a member before the user existed");
    assert.equal(fetched.sid, created.sid);
    assert.equal(viaConversations.friendlyName, "Ada", "the same record through Conversations");
    assert.equal(updated.friendlyName, "Countess");
    assert.ok(listed.includes(created.sid));
    assert.deepEqual(userChannels.map((c) => [c.channelSid, c.status]), [[channel.sid, "joined"]]);
    const muted = await chat.users(created.sid).userChannels(channel.sid).update({ notificationLevel: "muted" });
    assert.equal(muted.notificationLevel, "muted");

    assert.equal(await chat.users(created.sid).remove(), true);
    await assertRestError(chat.users(created.sid).fetch(), 404, 50200);
    await chat.users.create({ identity });
    await assertRestError(chat.users.create({ identity }), 409, 50201);
  });

  test(`chat roles are the conversations roles in chat's names (${name} service)`, async () => {
    const chat = v2.services(serviceSid());
    const defaults = await chat.roles.list();
    const created = await chat.roles.create({
      friendlyName: unique("node-role"),
      type: "channel",
      permission: ["removeMember", "sendMessage"],
    });
    const viaConversations = await v1.services(serviceSid()).roles(created.sid).fetch();
    const updated = await chat.roles(created.sid).update({ permission: ["destroyChannel"] });

    assert.deepEqual(defaults.slice(0, 3).map((role) => role.type), ["deployment", "deployment", "channel"]);
    assert.equal(created.type, "channel");
    assert.deepEqual(created.permissions, ["removeMember", "sendMessage"]);
    assert.equal(viaConversations.type, "conversation");
    assert.deepEqual(viaConversations.permissions, ["removeParticipant", "sendMessage"]);
    assert.deepEqual(updated.permissions, ["destroyChannel"]);

    assert.equal(await chat.roles(created.sid).remove(), true);
    await assertRestError(chat.roles(created.sid).fetch(), 404, 50100);
    await assertRestError(chat.roles.create({ friendlyName: "bad", type: "service", permission: ["sendMessage"] }), 400, 50105);
  });
}

/** A new service of the account with two push bindings, imported through the control
 * plane: only client SDKs register bindings on Twilio, so the REST API cannot. */
async function seedBindings() {
  const serviceSid = "IS" + crypto.randomBytes(16).toString("hex");
  const document = {
    accounts: [{
      account_sid: ACCOUNT_SID,
      services: [{
        sid: serviceSid,
        friendly_name: "node push",
        bindings: [
          { binding_type: "apn", endpoint: "ada-phone", identity: "ada" },
          { binding_type: "fcm", endpoint: "bo-phone", identity: "bo" },
        ],
      }],
    }],
  };
  const response = await fetch(`${EMULATOR_URL}/_emulator/state`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(document),
  });
  assert.equal(response.status, 200, await response.text());
  return serviceSid;
}

test("chat bindings and a user's bindings are the service's push bindings", async () => {
  const chat = v2.services(await seedBindings());

  assert.deepEqual((await chat.bindings.list()).map((b) => b.identity).sort(), ["ada", "bo"]);
  const apn = await chat.bindings.list({ bindingType: ["apn"] });
  assert.deepEqual(apn.map((b) => b.identity), ["ada"]);
  const fetched = await chat.bindings(apn[0].sid).fetch();
  assert.equal(fetched.endpoint, "ada-phone");
  assert.match(fetched.links.user, /\/Users\/ada$/);
  const user = await chat.users.create({ identity: "ada" });
  const userBindings = chat.users(user.sid).userBindings;
  assert.deepEqual(sids(await userBindings.list()), [apn[0].sid]);
  assert.equal((await userBindings(apn[0].sid).fetch()).userSid, user.sid);

  assert.equal(await userBindings(apn[0].sid).remove(), true);
  assert.deepEqual((await chat.bindings.list({ identity: ["ada", "bo"] })).map((b) => b.identity), ["bo"]);
  await assertRestError(chat.bindings(apn[0].sid).fetch(), 404, 20404);
});

test("invites are created, listed by identity, fetched and deleted", async () => {
  const chat = v2.services(await fetchDefaultServiceSid(client));
  const channel = await chat.channels.create({ friendlyName: "node invites" });
  const invites = chat.channels(channel.sid).invites;
  const created = await invites.create({ identity: "ada" });
  const other = await invites.create({ identity: "bo" });

  assert.match(created.sid, /^IN[0-9a-f]{32}$/);
  assert.equal(created.channelSid, channel.sid);
  assert.equal(created.createdBy, null);
  assert.match(created.roleSid, /^RL[0-9a-f]{32}$/);
  assert.equal((await invites(created.sid).fetch()).identity, "ada");
  assert.deepEqual(sids(await invites.list()), [created.sid, other.sid]);
  assert.deepEqual(sids(await invites.list({ identity: ["bo"] })), [other.sid]);
  await assertRestError(invites.create({ identity: "ada" }), 409, 20001);

  assert.equal(await invites(created.sid).remove(), true);
  assert.deepEqual(sids(await invites.list()), [other.sid]);
});

test("chat service notifications are the service's notification configuration", async () => {
  const service = await createService(client, ACCOUNT_SID, "node notifications");
  const updated = await v2.services(service.sid).update({
    "notifications.newMessage.enabled": true,
    "notifications.invitedToChannel.template": "join ${CHANNEL}",
  });

  assert.equal(updated.notifications.new_message.enabled, true);
  assert.equal(updated.notifications.invited_to_channel.template, "join ${CHANNEL}");
  const conversations = await v1.services(service.sid).configuration.notifications().fetch();
  assert.equal(conversations.newMessage.enabled, true);
});
