"use strict";
// Drives the official `twilio` npm package's Participants, Delivery Receipts, media
// messages, content templates and error mapping against a running emulator.
//
// The base URL comes from the environment variable EMULATOR_URL. The SDK is pointed at
// it by the shared RequestClient (emulator.js) that rewrites https://conversations.twilio.com
// (and https://chat.twilio.com, for the Chat v2 view of media messages) to that URL;
// everything else is the SDK's own code.
//
// What the SDKs cannot do, as on Twilio, goes over plain HTTP (global fetch):
//   - uploading media: POST {EMULATOR_URL}/v1/Services/{IS}/Media (raw bytes);
//   - moving delivery receipts along: POST {EMULATOR_URL}/_emulator/receipts;
//   - injecting faults: POST {EMULATOR_URL}/_emulator/faults, each rule limited to this
//     suite's account and deleted by its id afterwards (other suites share the server).
//
// Every test runs on both URL forms:
//   default: client.conversations.v1.conversations(CH)…
//   service: client.conversations.v1.services(IS).conversations(CH)…

const { describe, test, before } = require("node:test");
const assert = require("node:assert/strict");

const {
  twilio,
  BASE_URL,
  EMULATOR_URL,
  PROXY,
  LocalRequestClient,
  connect,
  createService,
  fetchDefaultServiceSid,
  assertRestError,
  sids,
} = require("./emulator");

const MISSING_PARTICIPANT = "MB" + "0".repeat(32);
const MISSING_RECEIPT = "DY" + "0".repeat(32);
const MISSING_MEDIA = "ME" + "0".repeat(32);
const CONTENT_SID = "HX" + "0123456789abcdef".repeat(2);

const SMS_ADDRESS = "+15550000001";
const SMS_ADDRESS_2 = "+15550000002";
const PROXY_ADDRESS = "+15017122661";
const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  Buffer.from("not really a jpeg".repeat(10)),
  Buffer.from([0xff, 0xd9]),
]);

const { accountSid: ACCOUNT_SID, httpClient, client } = connect();
const BASIC_AUTH = "Basic " + Buffer.from(`${ACCOUNT_SID}:any-token`).toString("base64");
const v1 = client.conversations.v1;

const delivery = (total, counts = {}) => ({
  total,
  sent: "none",
  delivered: "none",
  read: "none",
  failed: "none",
  undelivered: "none",
  ...counts,
});

const addSms = (participants, address = SMS_ADDRESS) =>
  participants.create({ "messagingBinding.address": address, "messagingBinding.proxyAddress": PROXY_ADDRESS });

// Plain-HTTP helpers: what the SDK has no method for.

async function control(method, path, body) {
  const response = await fetch(`${EMULATOR_URL}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, json: text ? JSON.parse(text) : null };
}

async function moveReceipts(conversationSid, messageSid, status, extra = {}) {
  const change = { account_sid: ACCOUNT_SID, conversation_sid: conversationSid, message_sid: messageSid, status, ...extra };
  const response = await control("POST", "/_emulator/receipts", change);
  assert.equal(response.status, 200, response.text);
  return response.json;
}

async function uploadMedia(service, { content = JPEG, filename = "car.jpg", contentType = "image/jpeg" } = {}) {
  const response = await fetch(`${EMULATOR_URL}/v1/Services/${service}/Media?Filename=${encodeURIComponent(filename)}`, {
    method: "POST",
    headers: { Authorization: BASIC_AUTH, "Content-Type": contentType },
    body: content,
  });
  const text = await response.text();
  assert.equal(response.status, 201, text);
  const media = JSON.parse(text);
  assert.match(media.sid, /^ME[0-9a-f]{32}$/);
  return media;
}

/** Runs `body` with a fault rule in place, then deletes that rule (and only it). */
async function withFault(rule, body) {
  const created = await control("POST", "/_emulator/faults", rule);
  assert.equal(created.status, 201, created.text);
  const id = created.json.id;
  const view = async () => {
    const response = await control("GET", `/_emulator/faults/${id}`);
    assert.equal(response.status, 200, response.text);
    return response.json;
  };
  try {
    await body(view);
  } finally {
    const deleted = await control("DELETE", `/_emulator/faults/${id}`);
    assert.equal(deleted.status, 204, deleted.text);
  }
}

let serviceSid;
let defaultServiceSid;

before(async () => {
  serviceSid = (await createService(client, ACCOUNT_SID, "node-participants-suite")).sid;
  defaultServiceSid = await fetchDefaultServiceSid(client);
});

for (const formName of ["default", "service"]) {
  describe(`participants, receipts and media on the ${formName} form`, () => {
    const root = () => (formName === "default" ? v1 : v1.services(serviceSid));
    const prefix = () => (formName === "default" ? "/v1" : `/v1/Services/${serviceSid}`);
    const chatServiceSid = () => (formName === "default" ? defaultServiceSid : serviceSid);
    const conversations = (sid) => (sid === undefined ? root().conversations : root().conversations(sid));
    const otherServiceSid = () => (formName === "default" ? serviceSid : defaultServiceSid);
    const messagesPattern = () =>
      formName === "default" ? "/v1/Conversations/*/Messages" : "/v1/Services/*/Conversations/*/Messages";
    const participantsPattern = () =>
      formName === "default" ? "/v1/Conversations/*/Participants" : "/v1/Services/*/Conversations/*/Participants";

    async function newConversation() {
      const conversation = await conversations().create({ friendlyName: `node ${formName}` });
      assert.match(conversation.sid, /^CH[0-9a-f]{32}$/);
      assert.equal(conversation.chatServiceSid, chatServiceSid());
      const sid = conversation.sid;
      return { conversationSid: sid, participants: conversations(sid).participants, messages: conversations(sid).messages };
    }

    // 1. participants

    test("a chat participant can be fetched by SID and by identity", async () => {
      const { conversationSid, participants } = await newConversation();
      const alice = await participants.create({ identity: "alice", attributes: JSON.stringify({ role: "agent" }) });

      assert.match(alice.sid, /^MB[0-9a-f]{32}$/);
      assert.equal(alice.identity, "alice");
      assert.deepEqual(JSON.parse(alice.attributes), { role: "agent" });
      assert.equal(alice.messagingBinding, null);
      assert.match(alice.roleSid, /^RL[0-9a-f]{32}$/);
      assert.equal(alice.accountSid, ACCOUNT_SID);
      assert.equal(alice.conversationSid, conversationSid);
      assert.equal(alice.lastReadMessageIndex, null);
      assert.ok(alice.dateCreated instanceof Date);
      assert.equal(alice.url, `${BASE_URL}${prefix()}/Conversations/${conversationSid}/Participants/${alice.sid}`);
      if (formName === "service") {
        assert.equal(alice.chatServiceSid, serviceSid);
      }

      for (const fetched of [await participants(alice.sid).fetch(), await participants("alice").fetch()]) {
        assert.equal(fetched.sid, alice.sid);
        assert.equal(fetched.identity, "alice");
        assert.equal(fetched.attributes, alice.attributes);
        assert.equal(fetched.dateCreated.getTime(), alice.dateCreated.getTime());
        assert.equal(fetched.url, alice.url);
      }

      const bob = await participants.create({ identity: "bob" });
      assert.equal(bob.attributes, "{}");
      assert.deepEqual(sids(await participants.list()), [alice.sid, bob.sid]);
      assert.deepEqual((await participants.list({ pageSize: 1 })).map((p) => p.identity), ["alice", "bob"]);

      // Identities shaped like e-mail addresses work in the path too.
      const carol = await participants.create({ identity: "carol@example.com" });
      assert.equal((await participants("carol@example.com").fetch()).sid, carol.sid);
    });

    test("an SMS participant has a messaging binding", async () => {
      const { participants } = await newConversation();
      const sms = await addSms(participants);
      assert.match(sms.sid, /^MB[0-9a-f]{32}$/);
      assert.equal(sms.identity, null);
      assert.deepEqual(sms.messagingBinding, { type: "sms", address: SMS_ADDRESS, proxy_address: PROXY_ADDRESS });
      assert.deepEqual((await participants(sms.sid).fetch()).messagingBinding, sms.messagingBinding);
      assert.deepEqual(sids(await participants.list()), [sms.sid]);
    });

    test("a participant is updated by SID or by identity", async () => {
      const { participants } = await newConversation();
      const alice = await participants.create({ identity: "alice" });

      const updated = await participants(alice.sid).update({ attributes: '{"vip":true}', lastReadMessageIndex: 4 });
      assert.equal(updated.sid, alice.sid);
      assert.deepEqual(JSON.parse(updated.attributes), { vip: true });
      assert.equal(updated.lastReadMessageIndex, 4);
      assert.equal(updated.dateCreated.getTime(), alice.dateCreated.getTime());

      const again = await participants("alice").update({ lastReadMessageIndex: 7 });
      assert.equal(again.sid, alice.sid);
      assert.equal(again.lastReadMessageIndex, 7);
      assert.deepEqual(JSON.parse(again.attributes), { vip: true });

      const fetched = await participants("alice").fetch();
      assert.deepEqual([fetched.lastReadMessageIndex, JSON.parse(fetched.attributes)], [7, { vip: true }]);
    });

    test("a participant is removed by SID or by identity", async () => {
      const { participants } = await newConversation();
      const alice = await participants.create({ identity: "alice" });
      const bob = await participants.create({ identity: "bob" });
      const sms = await addSms(participants);

      assert.equal(await participants(alice.sid).remove(), true);
      assert.equal(await participants("bob").remove(), true);
      assert.deepEqual(sids(await participants.list()), [sms.sid]);

      for (const gone of [alice.sid, "alice", bob.sid, "bob"]) {
        await assertRestError(participants(gone).fetch(), 404, 20404);
      }
      await assertRestError(participants(alice.sid).remove(), 404, 20404);

      // The identity is free again.
      const back = await participants.create({ identity: "alice" });
      assert.ok(![alice.sid, bob.sid].includes(back.sid));
    });

    test("duplicate participants are 409s", async () => {
      const { participants } = await newConversation();
      await participants.create({ identity: "alice" });
      await assertRestError(participants.create({ identity: "alice" }), 409, 50433);

      await addSms(participants);
      await assertRestError(addSms(participants), 409, 50416);

      // Same address through another proxy number is another participant.
      const other = await participants.create({
        "messagingBinding.address": SMS_ADDRESS,
        "messagingBinding.proxyAddress": "+15017122662",
      });
      assert.equal(other.messagingBinding.proxy_address, "+15017122662");
      assert.equal((await participants.list()).length, 3);
    });

    test("an unknown participant is a 404", async () => {
      const { participants } = await newConversation();
      for (const missing of [MISSING_PARTICIPANT, "nobody"]) {
        await assertRestError(participants(missing).fetch(), 404, 20404);
        await assertRestError(participants(missing).update({ attributes: "{}" }), 404, 20404);
        await assertRestError(participants(missing).remove(), 404, 20404);
      }
    });

    // 2. messages and their author participant

    test("a message's participantSid follows its author", async () => {
      const { participants, messages } = await newConversation();
      const alice = await participants.create({ identity: "alice" });
      const sms = await addSms(participants);

      const byAlice = await messages.create({ author: "alice", body: "hi" });
      assert.equal(byAlice.participantSid, alice.sid);
      assert.equal((await messages(byAlice.sid).fetch()).participantSid, alice.sid);

      assert.equal((await messages.create({ author: SMS_ADDRESS, body: "from the phone" })).participantSid, sms.sid);
      assert.equal((await messages.create({ body: "system speaking" })).participantSid, null);
      assert.equal((await messages.create({ author: "stranger", body: "who?" })).participantSid, null);

      // Re-resolved when the author changes.
      assert.equal((await messages(byAlice.sid).update({ author: SMS_ADDRESS })).participantSid, sms.sid);
      assert.equal((await messages(byAlice.sid).update({ author: "stranger" })).participantSid, null);
      assert.equal((await messages(byAlice.sid).update({ author: "alice" })).participantSid, alice.sid);
      assert.deepEqual((await messages.list()).map((m) => m.participantSid), [alice.sid, sms.sid, null, null]);
    });

    test("chat-only messages have no delivery", async () => {
      const { participants, messages } = await newConversation();
      await participants.create({ identity: "alice" });
      await participants.create({ identity: "bob" });
      const message = await messages.create({ author: "alice", body: "chat only" });
      assert.equal(message.delivery, null);
      assert.equal((await messages(message.sid).fetch()).delivery, null);
      assert.deepEqual(await messages(message.sid).deliveryReceipts.list(), []);
    });

    // 3. delivery receipts

    test("each SMS participant gets a receipt, sent at first", async () => {
      const { conversationSid, participants, messages } = await newConversation();
      await participants.create({ identity: "alice" });
      const first = await addSms(participants, SMS_ADDRESS);
      const second = await addSms(participants, SMS_ADDRESS_2);

      const message = await messages.create({ author: "alice", body: "to the phones" });
      assert.deepEqual(message.delivery, delivery(2, { sent: "all" }));

      const receipts = await messages(message.sid).deliveryReceipts.list();
      assert.deepEqual(receipts.map((r) => r.participantSid), [first.sid, second.sid]);
      for (const receipt of receipts) {
        assert.match(receipt.sid, /^DY[0-9a-f]{32}$/);
        assert.match(receipt.channelMessageSid, /^SM[0-9a-f]{32}$/);
        assert.equal(receipt.status, "sent");
        assert.equal(receipt.errorCode, 0);
        assert.equal(receipt.messageSid, message.sid);
        assert.equal(receipt.conversationSid, conversationSid);
        assert.equal(receipt.accountSid, ACCOUNT_SID);
        assert.ok(receipt.dateCreated instanceof Date);
        assert.equal(
          receipt.url,
          `${BASE_URL}${prefix()}/Conversations/${conversationSid}/Messages/${message.sid}/Receipts/${receipt.sid}`,
        );
        if (formName === "service") {
          assert.equal(receipt.chatServiceSid, serviceSid);
        }

        const fetched = await messages(message.sid).deliveryReceipts(receipt.sid).fetch();
        for (const field of ["sid", "participantSid", "channelMessageSid", "status", "errorCode", "url"]) {
          assert.equal(fetched[field], receipt[field], field);
        }
        assert.equal(fetched.dateCreated.getTime(), receipt.dateCreated.getTime());
      }

      assert.deepEqual(sids(await messages(message.sid).deliveryReceipts.list({ pageSize: 1 })), sids(receipts));

      // A message from one phone goes to the other one only.
      const fromPhone = await messages.create({ author: SMS_ADDRESS, body: "reply" });
      assert.deepEqual(fromPhone.delivery, delivery(1, { sent: "all" }));
      const replies = await messages(fromPhone.sid).deliveryReceipts.list();
      assert.deepEqual(replies.map((r) => r.participantSid), [second.sid]);

      await assertRestError(messages(message.sid).deliveryReceipts(MISSING_RECEIPT).fetch(), 404, 20404);
    });

    test("moving receipts changes delivery and status", async () => {
      const { conversationSid, participants, messages } = await newConversation();
      await addSms(participants, SMS_ADDRESS);
      await addSms(participants, SMS_ADDRESS_2);
      const message = await messages.create({ body: "track me" });
      const [first, second] = await messages(message.sid).deliveryReceipts.list();

      await moveReceipts(conversationSid, message.sid, "delivered", { receipt_sid: first.sid });
      assert.deepEqual((await messages(message.sid).fetch()).delivery, delivery(2, { sent: "all", delivered: "some" }));
      assert.equal((await messages(message.sid).deliveryReceipts(first.sid).fetch()).status, "delivered");
      assert.equal((await messages(message.sid).deliveryReceipts(second.sid).fetch()).status, "sent");

      await moveReceipts(conversationSid, message.sid, "read");
      const allRead = delivery(2, { sent: "all", delivered: "all", read: "all" });
      assert.deepEqual((await messages(message.sid).fetch()).delivery, allRead);
      assert.deepEqual((await messages.list())[0].delivery, allRead);
      assert.deepEqual((await messages(message.sid).deliveryReceipts.list()).map((r) => r.status), ["read", "read"]);

      // Failures carry Twilio's error code.
      const failing = await messages.create({ body: "will fail" });
      const [doomed, lost] = await messages(failing.sid).deliveryReceipts.list();
      await moveReceipts(conversationSid, failing.sid, "failed", { receipt_sid: doomed.sid, error_code: 30008 });
      await moveReceipts(conversationSid, failing.sid, "undelivered", { receipt_sid: lost.sid, error_code: 30005 });
      const failed = (await messages(failing.sid).fetch()).delivery;
      assert.equal(failed.total, 2);
      assert.deepEqual([failed.failed, failed.undelivered, failed.read], ["some", "some", "none"]);
      const failedReceipt = await messages(failing.sid).deliveryReceipts(doomed.sid).fetch();
      assert.deepEqual([failedReceipt.status, failedReceipt.errorCode], ["failed", 30008]);
      const lostReceipt = await messages(failing.sid).deliveryReceipts(lost.sid).fetch();
      assert.deepEqual([lostReceipt.status, lostReceipt.errorCode], ["undelivered", 30005]);

      // A receipt does not go backwards: read → delivered is refused.
      const backwards = await control("POST", "/_emulator/receipts", {
        account_sid: ACCOUNT_SID,
        conversation_sid: conversationSid,
        message_sid: message.sid,
        status: "delivered",
      });
      assert.equal(backwards.status, 400, backwards.text);
      assert.equal((await messages(message.sid).fetch()).delivery.read, "all");
    });

    // 4. media

    test("a media message carries its upload", async () => {
      const { conversationSid, messages } = await newConversation();
      const service = chatServiceSid();
      const media = await uploadMedia(service);
      assert.equal(media.service_sid, service);
      assert.deepEqual([media.size, media.content_type, media.filename], [JPEG.length, "image/jpeg", "car.jpg"]);

      const message = await messages.create({ author: "alice", mediaSid: media.sid });
      assert.equal(message.body, null);
      assert.deepEqual(message.media, [
        { sid: media.sid, size: JPEG.length, content_type: "image/jpeg", filename: "car.jpg" },
      ]);
      const fetched = await messages(message.sid).fetch();
      assert.deepEqual([fetched.media, fetched.body], [message.media, null]);
      assert.deepEqual((await messages.list()).map((m) => m.media), [message.media]);

      // The upload now names its message, and its bytes are still there.
      const metadata = await fetch(`${EMULATOR_URL}/v1/Services/${service}/Media/${media.sid}`, {
        headers: { Authorization: BASIC_AUTH },
      });
      assert.equal(metadata.status, 200);
      const described = await metadata.json();
      assert.deepEqual([described.message_sid, described.channel_sid], [message.sid, conversationSid]);
      const content = await fetch(`${EMULATOR_URL}/v1/Services/${service}/Media/${media.sid}/Content`, {
        headers: { Authorization: BASIC_AUTH },
      });
      assert.equal(content.status, 200);
      assert.equal(content.headers.get("content-type"), "image/jpeg");
      assert.deepEqual(Buffer.from(await content.arrayBuffer()), JPEG);

      // Chat v2 sees the same message as a media message, with one media object.
      const chat = await client.chat.v2.services(service).channels(conversationSid).messages(message.sid).fetch();
      assert.equal(chat.type, "media");
      assert.equal(typeof chat.media, "object");
      assert.ok(!Array.isArray(chat.media), JSON.stringify(chat.media));
      assert.equal(chat.media.sid, media.sid);
      assert.equal(chat.media.content_type, "image/jpeg");

      // An upload goes with one message only.
      await assertRestError(messages.create({ mediaSid: media.sid }), 400, 50508);
      assert.equal((await messages.list()).length, 1);
    });

    test("media errors", async () => {
      const { messages } = await newConversation();
      await assertRestError(messages.create({ mediaSid: "MEnot-a-sid" }), 400, 50510);
      await assertRestError(messages.create({ mediaSid: MISSING_MEDIA }), 400, 50507);

      // Media uploaded to another service is not found from this one.
      const elsewhere = await uploadMedia(otherServiceSid());
      await assertRestError(messages.create({ mediaSid: elsewhere.sid }), 400, 50507);

      // None of the failures took an index or the upload.
      const ok = await uploadMedia(chatServiceSid(), {
        content: Buffer.from("GIF89a"),
        filename: "x.gif",
        contentType: "image/gif",
      });
      const message = await messages.create({ mediaSid: ok.sid });
      assert.equal(message.index, 0);
      assert.equal(message.media[0].filename, "x.gif");

      // The body of a media message cannot be set afterwards.
      await assertRestError(messages(message.sid).update({ body: "caption" }), 400, 50509);
      assert.deepEqual((await messages(message.sid).update({ attributes: '{"seen":true}' })).media, message.media);
    });

    // 5. content templates

    test("a content template message", async () => {
      const { messages } = await newConversation();
      const message = await messages.create({
        contentSid: CONTENT_SID,
        contentVariables: JSON.stringify({ 1: "John" }),
        body: "ignored",
      });
      assert.equal(message.contentSid, CONTENT_SID);
      assert.equal(message.body, null);
      assert.equal(message.media, null);
      const fetched = await messages(message.sid).fetch();
      assert.deepEqual([fetched.contentSid, fetched.body], [CONTENT_SID, null]);

      const plain = await messages.create({ body: "plain" });
      assert.equal(plain.contentSid, null);

      await assertRestError(messages.create({ contentSid: CONTENT_SID, contentVariables: "{not json" }), 400, 21656);
      assert.deepEqual(sids(await messages.list()), [message.sid, plain.sid]);
    });

    // 6. faults: the SDK surfaces the emulator's Twilio error

    test("an injected 429 surfaces as a RestException", async () => {
      const { messages } = await newConversation();
      const rule = {
        method: "POST",
        path: messagesPattern(),
        account: ACCOUNT_SID,
        error: { status: 429, code: 20429, message: "Too Many Requests", retry_after_seconds: 1 },
        times: 1,
      };
      await withFault(rule, async (view) => {
        await assert.rejects(messages.create({ body: "throttled" }), (error) => {
          assert.ok(error instanceof twilio.RestException, `expected a RestException, got ${error}`);
          assert.equal(error.status, 429);
          assert.equal(error.code, 20429);
          assert.equal(error.message, "Too Many Requests");
          assert.equal(error.moreInfo, "https://www.twilio.com/docs/errors/20429");
          return true;
        });
        assert.equal(httpClient.lastResponse.statusCode, 429);
        assert.equal(String(httpClient.lastResponse.headers["retry-after"]), "1");

        const created = await messages.create({ body: "accepted" });
        assert.equal(created.index, 0);
        assert.deepEqual(sids(await messages.list()), [created.sid]);
        const rule = await view();
        assert.deepEqual([rule.fired, rule.remaining], [1, 0]);
      });
    });

    test("with autoRetry the SDK retries an injected 429 and creates one message", async () => {
      const { conversationSid } = await newConversation();
      const options = { autoRetry: true, maxRetries: 3 };
      const retrying = PROXY ? new twilio.RequestClient(options) : new LocalRequestClient(BASE_URL, options);
      const retryClient = twilio(ACCOUNT_SID, "any-token", { httpClient: retrying });
      const retryRoot = formName === "default" ? retryClient.conversations.v1 : retryClient.conversations.v1.services(serviceSid);
      const messages = retryRoot.conversations(conversationSid).messages;
      const rule = {
        method: "POST",
        path: messagesPattern(),
        account: ACCOUNT_SID,
        error: { status: 429, code: 20429, message: "Too Many Requests" },
        times: 2,
      };
      await withFault(rule, async (view) => {
        const created = await messages.create({ body: "eventually" });
        assert.equal(created.index, 0);
        assert.equal(created.body, "eventually");
        assert.deepEqual(sids(await messages.list()), [created.sid]);
        const rule = await view();
        assert.deepEqual([rule.matched, rule.fired, rule.remaining], [2, 2, 0]);
      });
    });

    test("an injected 503 on participant create changes nothing", async () => {
      const { participants } = await newConversation();
      const rule = { method: "POST", path: participantsPattern(), account: ACCOUNT_SID, error: { status: 503 }, times: 1 };
      await withFault(rule, async () => {
        await assertRestError(participants.create({ identity: "alice" }), 503, 20503);
        // The faulted request never reached the store: the identity is still free.
        const alice = await participants.create({ identity: "alice" });
        assert.deepEqual(sids(await participants.list()), [alice.sid]);
      });
    });
  });
}
