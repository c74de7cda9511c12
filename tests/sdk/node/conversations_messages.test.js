"use strict";
// Drives the official `twilio` npm package against a running emulator.
//
// The base URL comes from the environment variable EMULATOR_URL (for example
// http://127.0.0.1:40123). The SDK is pointed at it by the shared RequestClient
// (emulator.js) that rewrites https://conversations.twilio.com to that URL; everything
// else is the SDK's own code: request encoding, paging (it follows the emulator's
// next_page_url), deserialization and error mapping.
//
// Every Messages test runs on both URL forms:
//   default: client.conversations.v1.conversations(CH).messages
//   service: client.conversations.v1.services(IS).conversations(CH).messages

const { describe, test, before } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");

const { BASE_URL, connect, createService, fetchDefaultServiceSid, assertRestError, sids } = require("./emulator");

const MISSING_MESSAGE = "IM" + "0".repeat(32);
const MISSING_CONVERSATION = "CH" + "0".repeat(32);
const MISSING_SERVICE = "IS" + "0".repeat(32);

const { accountSid: ACCOUNT_SID, httpClient, client } = connect();
const v1 = client.conversations.v1;

async function createMany(messages, count) {
  const created = [];
  for (let i = 0; i < count; i++) {
    created.push(await messages.create({ body: `message ${i}` }));
  }
  return created;
}

const MESSAGE_FIELDS = [
  "sid", "accountSid", "conversationSid", "index", "author", "body", "attributes", "participantSid",
  "media", "delivery", "contentSid", "dateCreated", "dateUpdated", "url", "links",
];

let serviceSid;
let defaultServiceSid;

before(async () => {
  const service = await createService(client, ACCOUNT_SID, "node-sdk-suite");
  assert.equal(service.friendlyName, "node-sdk-suite");
  assert.ok(service.dateCreated instanceof Date);
  serviceSid = service.sid;
  defaultServiceSid = await fetchDefaultServiceSid(client);
});

for (const formName of ["default", "service"]) {
  describe(`messages on the ${formName} form`, () => {
    const root = () => (formName === "default" ? v1 : v1.services(serviceSid));
    const prefix = () => (formName === "default" ? "/v1" : `/v1/Services/${serviceSid}`);
    const conversations = (sid) => (sid === undefined ? root().conversations : root().conversations(sid));

    async function newConversation() {
      const conversation = await conversations().create({ friendlyName: `node ${formName}` });
      assert.match(conversation.sid, /^CH[0-9a-f]{32}$/);
      assert.equal(conversation.chatServiceSid, formName === "default" ? defaultServiceSid : serviceSid);
      return conversation.sid;
    }

    async function newMessages() {
      const conversationSid = await newConversation();
      return { conversationSid, messages: conversations(conversationSid).messages };
    }

    // 1. create

    test("create echoes fields and parses dates", async () => {
      const { conversationSid, messages } = await newMessages();
      const sentAt = new Date(Date.UTC(2021, 2, 4, 5, 6, 7));
      const attributes = JSON.stringify({ importance: "high", tags: ["a", "b"] });
      const first = await messages.create({ author: "alice", body: "hello there", attributes, dateCreated: sentAt });

      assert.match(first.sid, /^IM[0-9a-f]{32}$/);
      assert.equal(first.index, 0);
      assert.equal(first.author, "alice");
      assert.equal(first.body, "hello there");
      assert.deepEqual(JSON.parse(first.attributes), { importance: "high", tags: ["a", "b"] });
      assert.equal(first.accountSid, ACCOUNT_SID);
      assert.equal(first.conversationSid, conversationSid);
      assert.ok(first.dateCreated instanceof Date, `dateCreated is ${first.dateCreated}`);
      assert.equal(first.dateCreated.getTime(), sentAt.getTime());
      assert.ok(first.dateUpdated instanceof Date, `dateUpdated is ${first.dateUpdated}`);
      assert.equal(first.participantSid, null);
      assert.equal(first.media, null);
      assert.equal(first.url, `${BASE_URL}${prefix()}/Conversations/${conversationSid}/Messages/${first.sid}`);
      assert.equal(typeof first.links, "object");
      assert.ok(Object.keys(first.links).length > 0);
      if (formName === "service") {
        assert.equal(first.chatServiceSid, serviceSid);
      }

      const second = await messages.create({ body: "second" });
      const third = await messages.create({ body: "third" });
      assert.deepEqual([second.index, third.index], [1, 2]);
      assert.equal(new Set([first.sid, second.sid, third.sid]).size, 3);
    });

    test("create defaults author to system and attributes to {}", async () => {
      const { messages } = await newMessages();
      const before = Date.now() - 5000;
      const message = await messages.create({ body: "no author given" });
      const after = Date.now() + 5000;

      assert.equal(message.author, "system");
      assert.equal(message.attributes, "{}");
      assert.equal(message.participantSid, null);
      assert.ok(message.dateCreated instanceof Date);
      assert.ok(message.dateCreated.getTime() >= before && message.dateCreated.getTime() <= after,
        `dateCreated ${message.dateCreated.toISOString()} is not now`);
      assert.equal(message.index, 0);
    });

    // 2. fetch

    test("fetch returns what create returned", async () => {
      const { messages } = await newMessages();
      const sentAt = new Date(Date.UTC(2022, 11, 31, 23, 59, 58));
      const created = await messages.create({ author: "bob", body: "fetch me", attributes: '{"n":1}', dateCreated: sentAt });
      const fetched = await messages(created.sid).fetch();
      for (const field of MESSAGE_FIELDS) {
        assert.deepEqual(fetched[field], created[field], field);
      }
      assert.equal(fetched.dateCreated.getTime(), sentAt.getTime());
    });

    // 3. list and paging

    test("list follows next_page_url across pages", async () => {
      const { conversationSid, messages } = await newMessages();
      const created = await createMany(messages, 7);

      const before = httpClient.requests.length;
      const listed = await messages.list({ pageSize: 3 });
      const pageRequests = httpClient.requests.slice(before);

      assert.deepEqual(sids(listed), sids(created));
      assert.deepEqual(listed.map((m) => m.index), [0, 1, 2, 3, 4, 5, 6]);
      assert.deepEqual(listed.map((m) => m.body), created.map((_, i) => `message ${i}`));
      // Three pages of 3, 3 and 1: the second and third come from the emulator's next_page_url.
      assert.equal(pageRequests.length, 3, JSON.stringify(pageRequests));
      for (const { method, uri } of pageRequests.slice(1)) {
        assert.equal(method, "get");
        assert.ok(uri.startsWith(BASE_URL + "/"), uri);
        assert.ok(uri.includes(`${conversationSid}/Messages`), uri);
      }
    });

    test("list honours limit and order", async () => {
      const { messages } = await newMessages();
      const created = sids(await createMany(messages, 7));

      assert.deepEqual(sids(await messages.list({ limit: 5 })), created.slice(0, 5));

      const descending = await messages.list({ order: "desc" });
      assert.deepEqual(sids(descending), [...created].reverse());
      assert.deepEqual(descending.map((m) => m.index), [6, 5, 4, 3, 2, 1, 0]);

      assert.deepEqual(sids(await messages.list({ order: "desc", pageSize: 2 })), [...created].reverse());

      const seen = [];
      await messages.each({ pageSize: 3, limit: 4 }, (message) => seen.push(message.sid));
      assert.deepEqual(seen, created.slice(0, 4));
    });

    test("a page's nextPageUrl points at the emulator", async () => {
      const { messages } = await newMessages();
      const created = sids(await createMany(messages, 5));

      const page = await messages.page({ pageSize: 2 });
      assert.deepEqual(sids(page.instances), created.slice(0, 2));
      assert.ok(page.nextPageUrl, "first page has a nextPageUrl");
      assert.ok(page.nextPageUrl.startsWith(BASE_URL + "/"), page.nextPageUrl);

      const second = await page.nextPage();
      assert.deepEqual(sids(second.instances), created.slice(2, 4));
      const third = await second.nextPage();
      assert.deepEqual(sids(third.instances), created.slice(4));
      assert.equal(third.nextPageUrl, undefined);
      assert.equal(third.nextPage(), undefined);
    });

    test("a page size above 100 is clamped, not rejected", async () => {
      const { messages } = await newMessages();
      const created = sids(await createMany(messages, 101));

      const page = await messages.page({ pageSize: 200 });
      assert.equal(page.instances.length, 100);
      assert.ok(page.nextPageUrl);

      const before = httpClient.requests.length;
      assert.deepEqual(sids(await messages.list({ limit: 200 })), created);
      assert.equal(httpClient.requests.length - before, 2);
    });

    test("an empty conversation lists nothing", async () => {
      const { messages } = await newMessages();
      assert.deepEqual(await messages.list(), []);
      assert.deepEqual(await messages.list({ limit: 200 }), []);
    });

    // 4. update

    test("update changes fields but not the index", async () => {
      const { messages } = await newMessages();
      await messages.create({ body: "zeroth" });
      const original = await messages.create({ author: "carol", body: "before", attributes: '{"v":1}' });
      assert.equal(original.index, 1);

      const updated = await messages(original.sid).update({ body: "after", attributes: '{"v":2}', author: "dave" });
      assert.equal(updated.sid, original.sid);
      assert.equal(updated.body, "after");
      assert.deepEqual(JSON.parse(updated.attributes), { v: 2 });
      assert.equal(updated.author, "dave");
      assert.equal(updated.index, 1);
      assert.equal(updated.dateCreated.getTime(), original.dateCreated.getTime());
      assert.ok(updated.dateUpdated instanceof Date);
      assert.ok(updated.dateUpdated.getTime() >= original.dateCreated.getTime());

      const refetched = await messages(original.sid).fetch();
      assert.equal(refetched.body, "after");
      assert.deepEqual(JSON.parse(refetched.attributes), { v: 2 });
      assert.equal(refetched.author, "dave");
      assert.equal(refetched.index, 1);

      // An update that names one field leaves the others alone.
      const bodyOnly = await messages(original.sid).update({ body: "again" });
      assert.deepEqual([bodyOnly.body, bodyOnly.author, JSON.parse(bodyOnly.attributes)], ["again", "dave", { v: 2 }]);
    });

    // 5. delete

    test("remove resolves true and the message is gone", async () => {
      const { messages } = await newMessages();
      const keep = await messages.create({ body: "keep" });
      const doomed = await messages.create({ body: "doomed" });

      assert.equal(await messages(doomed.sid).remove(), true);
      await assertRestError(messages(doomed.sid).fetch(), 404, 20404);
      assert.deepEqual(sids(await messages.list()), [keep.sid]);
      await assertRestError(messages(doomed.sid).remove(), 404, 20404);

      // Indices are not reused after a delete.
      assert.equal((await messages.create({ body: "next" })).index, 2);
    });

    // 6. errors

    test("an unknown message is a 404", async () => {
      const { messages } = await newMessages();
      await assertRestError(messages(MISSING_MESSAGE).fetch(), 404, 20404);
      await assertRestError(messages(MISSING_MESSAGE).update({ body: "nope" }), 404, 20404);
      await assertRestError(messages(MISSING_MESSAGE).remove(), 404, 20404);
    });

    test("an unknown conversation is a 404", async () => {
      const missing = conversations(MISSING_CONVERSATION).messages;
      await assertRestError(missing.create({ body: "into the void" }), 404, 20404);
      await assertRestError(missing.list(), 404, 20404);
      await assertRestError(conversations(MISSING_CONVERSATION).fetch(), 404, 20404);
    });

    test("invalid attributes are a 400 with code 50304", async () => {
      const { messages } = await newMessages();
      await assertRestError(messages.create({ body: "bad", attributes: "{not json" }), 400, 50304);

      const good = await messages.create({ body: "good" });
      await assertRestError(messages(good.sid).update({ attributes: "[unterminated" }), 400, 50304);
      assert.equal((await messages(good.sid).fetch()).attributes, "{}");
      // The failed create did not take an index.
      assert.equal(good.index, 0);
    });

    // 7. conversations addressed by unique_name

    test("a conversation can be addressed by its unique_name", async () => {
      const uniqueName = `node-${formName}-${crypto.randomBytes(4).toString("hex")}`;
      const conversation = await conversations().create({ uniqueName, friendlyName: "named" });
      assert.equal(conversation.uniqueName, uniqueName);

      const fetched = await conversations(uniqueName).fetch();
      assert.equal(fetched.sid, conversation.sid);
      assert.equal(fetched.uniqueName, uniqueName);
      assert.equal(fetched.friendlyName, "named");

      const byName = conversations(uniqueName).messages;
      const message = await byName.create({ author: "erin", body: "via unique name" });
      assert.equal(message.conversationSid, conversation.sid);
      assert.equal(message.index, 0);

      assert.equal((await byName(message.sid).fetch()).body, "via unique name");
      assert.deepEqual(sids(await conversations(conversation.sid).messages.list()), [message.sid]);
      assert.deepEqual(sids(await byName.list()), [message.sid]);
    });
  });
}

test("an unknown service is a 404", async () => {
  const conversation = await v1.conversations.create();
  const messages = v1.services(MISSING_SERVICE).conversations(conversation.sid).messages;
  await assertRestError(messages.create({ body: "wrong service" }), 404, 20404);
});
