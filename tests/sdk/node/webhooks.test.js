"use strict";
// Drives webhooks with the official `twilio` npm package: configured through the SDK's
// Configuration and Conversation Webhook resources, triggered by SDK writes with
// `xTwilioWebhookEnabled`, received by a local http server, and every delivery checked
// with the SDK's own `twilio.validateRequest` and its Express middleware
// (`twilio.webhook()`, given an Express-shaped request: Express itself is not needed).
//
// The emulator signs with the auth token the account's latest request used, so the
// token the SDK client was built with validates its webhooks, with no setting.

const { describe, test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const querystring = require("node:querystring");

const { twilio, EMULATOR_URL, connect, createService } = require("./emulator");

const TOKEN = "any-token"; // the token emulator.js's client authenticates with

/** A local receiver that records every request and answers 200 with `body`. */
function startReceiver() {
  const waiting = [];
  const received = [];
  let body = "";
  const server = http.createServer((request, response) => {
    let raw = "";
    request.on("data", (chunk) => (raw += chunk));
    request.on("end", () => {
      const delivery = { method: request.method, path: request.url, headers: request.headers, raw };
      const resolve = waiting.shift();
      if (resolve) resolve(delivery);
      else received.push(delivery);
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end(body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const base = `http://127.0.0.1:${server.address().port}`;
      resolve({
        base,
        answerWith: (text) => (body = text),
        next: () =>
          received.length
            ? Promise.resolve(received.shift())
            : new Promise((resolve, reject) => {
                waiting.push(resolve);
                setTimeout(() => reject(new Error("no webhook within 10 s")), 10000).unref();
              }),
        close: () => new Promise((resolve) => server.close(resolve)),
      });
    });
  });
}

/** The delivery's parameters, after both of the SDK's validators accepted it. */
function validated(receiver, delivery) {
  const url = receiver.base + delivery.path;
  const params = delivery.method === "POST" ? querystring.parse(delivery.raw) : {};
  const signature = delivery.headers["x-twilio-signature"];
  assert.ok(twilio.validateRequest(TOKEN, signature, url, params), `validateRequest refused ${url}`);

  // The Express middleware, on an Express-shaped request.
  let verdict = null;
  const request = {
    protocol: "http",
    headers: delivery.headers,
    originalUrl: delivery.path,
    body: params,
    header: (name) => delivery.headers[name.toLowerCase()],
  };
  const response = {
    type() { return this; },
    status(code) { verdict = code; return this; },
    send() { return this; },
  };
  twilio.webhook(TOKEN)(request, response, () => (verdict = "next"));
  assert.equal(verdict, "next", "twilio.webhook() let the request through");

  return delivery.method === "POST" ? params : querystring.parse(delivery.path.split("?")[1] || "");
}

describe("webhooks through the Node SDK", () => {
  const { accountSid, client } = connect();
  let serviceSid;
  let receiver;

  before(async () => {
    serviceSid = (await createService(client, accountSid, "node-webhooks-suite")).sid;
    receiver = await startReceiver();
  });
  after(() => receiver.close());

  for (const form of ["default", "service"]) {
    test(`post-events configured through the SDK validate on the ${form} form`, async () => {
      const v1 = client.conversations.v1;
      const scope = form === "default" ? v1 : v1.services(serviceSid);
      const settings = {
        method: "POST",
        filters: ["onConversationAdded", "onParticipantAdded", "onMessageAdded", "onMessageRemoved"],
        postWebhookUrl: `${receiver.base}/node?form=${form}`,
      };
      if (form === "default") await v1.configuration.webhooks().update(settings);
      else await v1.services(serviceSid).configuration.webhooks().update(settings);

      const conversation = await scope.conversations.create({ friendlyName: "node", xTwilioWebhookEnabled: "true" });
      const participant = await scope
        .conversations(conversation.sid)
        .participants.create({ identity: "node-user", xTwilioWebhookEnabled: "true" });
      const message = await scope
        .conversations(conversation.sid)
        .messages.create({ author: "node-user", body: "from node", xTwilioWebhookEnabled: "true" });
      await scope.conversations(conversation.sid).messages(message.sid).remove({ xTwilioWebhookEnabled: "true" });

      const events = [];
      for (let i = 0; i < 4; i++) events.push(validated(receiver, await receiver.next()));
      assert.deepEqual(
        events.map((event) => event.EventType),
        ["onConversationAdded", "onParticipantAdded", "onMessageAdded", "onMessageRemoved"],
      );
      assert.equal(events[3].MessageSid, message.sid);
      assert.equal(events[2].Body, "from node");
      assert.equal(events[2].ParticipantSid, participant.sid);
      assert.equal(events[2].ConversationSid, conversation.sid);

      if (form === "default") await v1.configuration.webhooks().update({ postWebhookUrl: "" });
      else await v1.services(serviceSid).configuration.webhooks().update({ postWebhookUrl: "" });
    });
  }

  test("a conversation webhook created through the SDK sends signed GET requests", async () => {
    const conversation = await client.conversations.v1.conversations.create();
    const webhook = await client.conversations.v1.conversations(conversation.sid).webhooks.create({
      target: "webhook",
      "configuration.url": `${receiver.base}/scoped`,
      "configuration.method": "GET",
      "configuration.filters": ["onMessageAdded"],
    });
    assert.match(webhook.sid, /^WH[0-9a-f]{32}$/);

    await client.conversations.v1
      .conversations(conversation.sid)
      .messages.create({ body: "get me", xTwilioWebhookEnabled: "true" });

    const delivery = await receiver.next();
    assert.equal(delivery.method, "GET");
    const params = validated(receiver, delivery);
    assert.equal(params.EventType, "onMessageAdded");
    assert.equal(params.Body, "get me");
  });

  test("a chat user posting through a client SDK fires onMessageAdded with ClientIdentity", async () => {
    await client.conversations.v1.configuration.webhooks().update({
      filters: ["onMessageAdded"],
      postWebhookUrl: `${receiver.base}/sdk`,
    });
    const conversation = await client.conversations.v1.conversations.create();
    await client.conversations.v1.conversations(conversation.sid).participants.create({ identity: "ada" });

    const answer = await fetch(`${EMULATOR_URL}/_emulator/sdk/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ account_sid: accountSid, conversation: conversation.sid, identity: "ada", body: "hi" }),
    });
    const params = validated(receiver, await receiver.next());
    await client.conversations.v1.configuration.webhooks().update({ postWebhookUrl: "" });

    assert.equal(answer.status, 200);
    assert.equal(params.Source, "SDK");
    assert.equal(params.ClientIdentity, "ada");
    assert.equal(params.Author, "ada");
  });
});
