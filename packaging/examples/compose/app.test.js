"use strict";
// The compose example's app, run without Docker (.ci/run copies this file beside app/ into
// a project with twilio and the emulator's npm package): it must register its webhook
// and log a signed onConversationAdded that the emulator sends it.

const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const path = require("node:path");
const readline = require("node:readline");
const { test } = require("node:test");

const { useEmulator } = require("twilio-conversations-emulator");

const ctx = useEmulator();

/** Resolves with the first line of `lines` that matches `pattern`. */
function lineMatching(lines, pattern) {
  return new Promise((resolve, reject) => {
    const onLine = (line) => {
      if (pattern.test(line)) {
        lines.removeListener("line", onLine);
        resolve(line);
      }
    };
    lines.on("line", onLine);
    lines.once("close", () => reject(new Error(`the app exited before printing ${pattern}`)));
  });
}

test("the app gets the emulator's signed webhooks", async (t) => {
  const app = spawn(process.execPath, [path.join(__dirname, "app", "server.js")], {
    env: {
      ...process.env,
      TWILIO_ACCOUNT_SID: ctx.accountSid,
      TWILIO_AUTH_TOKEN: ctx.authToken,
      EMULATOR_URL: ctx.emulator.url,
      HOST: "127.0.0.1",
      PORT: "0",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  t.after(() => app.kill());
  const lines = readline.createInterface({ input: app.stdout });
  await lineMatching(lines, /^listening; webhooks go to /);

  const conversation = await ctx.client.conversations.v1.conversations.create({
    friendlyName: "demo",
    xTwilioWebhookEnabled: "true",
  });

  const logged = await lineMatching(lines, /^(webhook|refused) /);
  assert.equal(logged, `webhook onConversationAdded ${conversation.sid}`);
});
