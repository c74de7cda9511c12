"use strict";
// Drives the official `twilio` npm package's Users, User Conversations and Participant
// Conversations against a running emulator.
//
// The base URL comes from the environment variable EMULATOR_URL; the SDK is pointed at it
// by the shared RequestClient (emulator.js). Every test runs on both URL forms:
//   default: client.conversations.v1.users…, .participantConversations
//   service: client.conversations.v1.services(IS).users…, .participantConversations

const { describe, test, before } = require("node:test");
const assert = require("node:assert/strict");

const { connect, createService, fetchDefaultServiceSid, assertRestError } = require("./emulator");

const SMS_ADDRESS = "+15550000201";
const PROXY_ADDRESS = "+15017122661";

const { accountSid: ACCOUNT_SID, client } = connect();
const v1 = client.conversations.v1;

for (const formName of ["default", "service"]) {
  describe(`users on the ${formName} form`, () => {
    let root;
    let chatServiceSid;
    let prefix;

    before(async () => {
      if (formName === "default") {
        root = v1;
        chatServiceSid = await fetchDefaultServiceSid(client);
        prefix = "/v1";
      } else {
        const service = await createService(client, ACCOUNT_SID, "node-users-suite");
        root = v1.services(service.sid);
        chatServiceSid = service.sid;
        prefix = `/v1/Services/${service.sid}`;
      }
    });

    test("users support every operation", async () => {
      const identity = `node-${formName}-alice`;
      const user = await root.users.create({ identity, friendlyName: "Alice", attributes: '{"a":1}' });
      assert.match(user.sid, /^US[0-9a-f]{32}$/);
      assert.equal(user.chatServiceSid, chatServiceSid);
      assert.match(user.roleSid, /^RL[0-9a-f]{32}$/);
      assert.equal(user.isOnline, null);
      assert.equal(user.isNotifiable, null);
      assert.ok(user.url.endsWith(`${prefix}/Users/${user.sid}`), user.url);
      assert.equal(user.links.user_conversations, `${user.url}/Conversations`);

      assert.equal((await root.users(user.sid).fetch()).identity, identity);
      assert.equal((await root.users(identity).fetch()).sid, user.sid);
      assert.ok((await root.users.list()).some((listed) => listed.sid === user.sid));
      const updated = await root.users(user.sid).update({ friendlyName: "Alice A." });
      assert.equal(updated.friendlyName, "Alice A.");
      assert.equal(updated.attributes, '{"a":1}');

      await assertRestError(root.users.create({ identity }), 409, 50201);
      assert.equal(await root.users(user.sid).remove(), true);
      await assertRestError(root.users(user.sid).fetch(), 404, 20404);
    });

    test("user conversations and participant conversations follow the participants", async () => {
      const identity = `node-${formName}-bea`;
      const user = await root.users.create({ identity });
      const conversation = await root.conversations.create({ friendlyName: "node users" });
      const participant = await root.conversations(conversation.sid).participants.create({ identity });
      for (const body of ["one", "two"]) {
        await root.conversations(conversation.sid).messages.create({ body });
      }
      const sms = await root.conversations(conversation.sid).participants.create({
        "messagingBinding.address": SMS_ADDRESS,
        "messagingBinding.proxyAddress": PROXY_ADDRESS,
      });

      const listed = await root.users(user.sid).userConversations.list();
      assert.deepEqual(
        listed.map((seen) => seen.conversationSid),
        [conversation.sid],
      );
      assert.equal(listed[0].participantSid, participant.sid);
      assert.equal(listed[0].unreadMessagesCount, 2);
      assert.equal(listed[0].notificationLevel, "default");
      const updated = await root
        .users(identity)
        .userConversations(conversation.sid)
        .update({ notificationLevel: "muted", lastReadMessageIndex: 0 });
      assert.equal(updated.notificationLevel, "muted");
      assert.equal(updated.unreadMessagesCount, 1);

      const byIdentity = await root.participantConversations.list({ identity });
      assert.deepEqual(
        byIdentity.map((found) => [found.conversationSid, found.participantUserSid]),
        [[conversation.sid, user.sid]],
      );
      const byAddress = await root.participantConversations.list({ address: SMS_ADDRESS });
      assert.deepEqual(
        byAddress.map((found) => found.participantSid),
        [sms.sid],
      );
      assert.equal(byAddress[0].participantMessagingBinding.address, SMS_ADDRESS);

      assert.equal(await root.users(user.sid).userConversations(conversation.sid).remove(), true);
      assert.deepEqual(await root.users(user.sid).userConversations.list(), []);
      await assertRestError(root.users(user.sid).userConversations(conversation.sid).fetch(), 404, 20404);
    });
  });
}
