"use strict";
// A sample suite using the package as a user's project would (`node --test`). `.ci/run`
// installs the packed tarball into a fresh project and runs this file there.

const assert = require("node:assert/strict");
const { execFile } = require("node:child_process");
const path = require("node:path");
const { test } = require("node:test");
const { promisify } = require("node:util");

const { useEmulator, newAccountSid } = require("twilio-conversations-emulator");

const ctx = useEmulator();

test("the client talks to the emulator, in an account of the test's own", async () => {
  const conversation = await ctx.client.conversations.v1.conversations.create({ friendlyName: "Support" });
  const messages = ctx.client.conversations.v1.conversations(conversation.sid).messages;
  await messages.create({ author: "alice", body: "hello" });

  const listed = await messages.list({ limit: 20 });

  assert.equal(conversation.accountSid, ctx.accountSid);
  assert.deepEqual(
    listed.map((message) => [message.author, message.body]),
    [["alice", "hello"]],
  );
});

test("each test gets a fresh account", async () => {
  const other = ctx.emulator.client({ accountSid: newAccountSid() });
  await other.conversations.v1.conversations.create({ uniqueName: "only-in-the-other-account" });

  await assert.rejects(ctx.client.conversations.v1.conversations("only-in-the-other-account").fetch(), {
    status: 404,
  });
});

test("reset empties every account", async () => {
  await ctx.client.conversations.v1.conversations.create({ uniqueName: "before-the-reset" });

  await ctx.emulator.reset();

  assert.deepEqual(await ctx.client.conversations.v1.conversations.list(), []);
  assert.equal((await ctx.emulator.health()).status, "ok");
});

test("hosts with an edge and region go to the emulator too", async () => {
  // The SDK puts the edge and region into the host before the RequestClient sees the URL.
  const client = ctx.emulator.client({ accountSid: ctx.accountSid, region: "au1", edge: "sydney" });

  const conversation = await client.conversations.v1.conversations.create({ friendlyName: "far away" });

  assert.ok(conversation.url.startsWith(ctx.emulator.url + "/v1/Conversations/"), conversation.url);
});

for (const app of ["app.js", "app.mjs"]) {
  test(`the preload points an unmodified app (${app}) at the emulator`, async () => {
    const uniqueName = `from-${app.replace(".", "-")}`;

    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--require", "twilio-conversations-emulator/register", path.join(__dirname, app), uniqueName],
      {
        env: {
          ...process.env,
          TWILIO_EMULATOR_URL: ctx.emulator.url,
          TWILIO_ACCOUNT_SID: ctx.accountSid,
          TWILIO_AUTH_TOKEN: ctx.authToken,
        },
      },
    );

    const printed = JSON.parse(stdout);
    assert.ok(printed.url.startsWith(ctx.emulator.url + "/v1/Conversations/"), printed.url);
    const fetched = await ctx.client.conversations.v1.conversations(uniqueName).fetch();
    assert.equal(fetched.sid, printed.sid);
  });
}
