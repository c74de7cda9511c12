"use strict";
// Drives the official `twilio` npm package's Roles, Credentials, Conversation With
// Participants, Service Bindings and service Notifications configuration against a
// running emulator.
//
// The base URL comes from the environment variable EMULATOR_URL; the SDK is pointed at it
// by the shared RequestClient (emulator.js). Roles and Conversation With Participants run
// on both URL forms:
//   default: client.conversations.v1.roles…, .conversationWithParticipants
//   service: client.conversations.v1.services(IS).roles…, .conversationWithParticipants
// Credentials are account-level; Bindings and Notifications exist on the service form only.

const { describe, test, before } = require("node:test");
const assert = require("node:assert/strict");

const { connect, createService, fetchDefaultServiceSid, assertRestError } = require("./emulator");

const DEFAULT_ROLE_NAMES = ["channel user", "service admin", "service user"];

const { accountSid: ACCOUNT_SID, client } = connect();
const v1 = client.conversations.v1;

for (const formName of ["default", "service"]) {
  describe(`roles and conversations with participants on the ${formName} form`, () => {
    let root;
    let conversations;
    let chatServiceSid;
    let prefix;

    before(async () => {
      if (formName === "default") {
        root = v1;
        conversations = v1.conversations;
        chatServiceSid = await fetchDefaultServiceSid(client);
        prefix = "/v1";
      } else {
        const service = await createService(client, ACCOUNT_SID, "node-roles-suite");
        root = v1.services(service.sid);
        conversations = root.conversations;
        chatServiceSid = service.sid;
        prefix = `/v1/Services/${service.sid}`;
      }
    });

    test("roles support every operation and list the defaults", async () => {
      const defaults = await root.roles.list();
      const names = defaults.map((role) => role.friendlyName);
      for (const name of DEFAULT_ROLE_NAMES) {
        assert.ok(names.includes(name), `${name} in ${names}`);
      }
      assert.ok(defaults.every((role) => role.chatServiceSid === chatServiceSid));

      const role = await root.roles.create({
        friendlyName: `node-${formName}-moderator`,
        type: "conversation",
        permission: ["sendMessage", "leaveConversation"],
      });
      assert.match(role.sid, /^RL[0-9a-f]{32}$/);
      assert.deepEqual(role.permissions, ["sendMessage", "leaveConversation"]);
      assert.ok(role.url.endsWith(`${prefix}/Roles/${role.sid}`), role.url);
      assert.equal((await root.roles(role.sid).fetch()).friendlyName, `node-${formName}-moderator`);
      assert.ok((await root.roles.list()).some((listed) => listed.sid === role.sid));

      const updated = await root.roles(role.sid).update({ permission: ["sendMessage"] });
      assert.deepEqual(updated.permissions, ["sendMessage"]);
      assert.equal(await root.roles(role.sid).remove(), true);
      await assertRestError(root.roles(role.sid).fetch(), 404, 20404);
    });

    test("a conversation is created with its participants", async () => {
      const created = await root.conversationWithParticipants.create({
        friendlyName: `node-${formName}-with-participants`,
        participant: [
          JSON.stringify({ identity: `node-${formName}-alice` }),
          JSON.stringify({ identity: `node-${formName}-bob`, attributes: '{"vip":true}' }),
        ],
      });
      assert.match(created.sid, /^CH[0-9a-f]{32}$/);
      assert.equal(created.chatServiceSid, chatServiceSid);

      const participants = await conversations(created.sid).participants.list();
      assert.deepEqual(participants.map((p) => p.identity).sort(), [`node-${formName}-alice`, `node-${formName}-bob`]);
      await assertRestError(root.conversationWithParticipants.create({ participant: ["identity=alice"] }), 400, 20001);
    });
  });
}

describe("credentials", () => {
  test("credentials keep their secret out of every answer", async () => {
    const created = await v1.credentials.create({ type: "fcm", friendlyName: "node-android", secret: "node-top-secret" });
    assert.match(created.sid, /^CR[0-9a-f]{32}$/);
    assert.equal(created.type, "fcm");

    const fetched = await v1.credentials(created.sid).fetch();
    assert.equal(fetched.friendlyName, "node-android");
    assert.ok(!JSON.stringify(fetched.toJSON()).includes("node-top-secret"));
    assert.ok((await v1.credentials.list()).some((listed) => listed.sid === created.sid));

    const updated = await v1.credentials(created.sid).update({ type: "fcm", friendlyName: "node-android prod" });
    assert.equal(updated.friendlyName, "node-android prod");
    assert.equal(await v1.credentials(created.sid).remove(), true);
    await assertRestError(v1.credentials(created.sid).fetch(), 404, 20404);
  });
});

describe("bindings and notifications", () => {
  let service;

  before(async () => {
    const created = await createService(client, ACCOUNT_SID, "node-notifications-suite");
    service = v1.services(created.sid);
  });

  test("a new service has no bindings", async () => {
    assert.deepEqual(await service.bindings.list(), []);
    await assertRestError(service.bindings("BS00000000000000000000000000000000").fetch(), 404, 20404);
  });

  test("the notification configuration keeps what an update leaves out", async () => {
    const defaults = await service.configuration.notifications().fetch();
    assert.equal(defaults.logEnabled, false);
    assert.equal(defaults.newMessage.enabled, false);

    const updated = await service.configuration
      .notifications()
      .update({ "newMessage.enabled": true, "newMessage.sound": "chime" });
    assert.equal(updated.newMessage.enabled, true);
    assert.equal(updated.newMessage.sound, "chime");
    assert.equal(updated.newMessage.template, defaults.newMessage.template);
    assert.deepEqual(updated.addedToConversation, defaults.addedToConversation);
    assert.deepEqual((await service.configuration.notifications().fetch()).newMessage, updated.newMessage);
  });
});
