"use strict";
// A small app that receives Conversations webhooks: at start it points its account's
// webhooks at itself, then logs each event whose X-Twilio-Signature validates (403 for
// the others). Set EMULATOR_URL to send its twilio client to the emulator; without it,
// the same code talks to Twilio.
//
// Environment: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, EMULATOR_URL, PUBLIC_URL (this app's
// URL as the emulator reaches it; default http://127.0.0.1:PORT), PORT (3000), HOST (0.0.0.0).

const http = require("node:http");
const twilio = require("twilio");

const { TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, EMULATOR_URL } = process.env;
const HOST = process.env.HOST || "0.0.0.0";
const PORT = Number(process.env.PORT || 3000);

/** Sends the Conversations, Chat and Media hosts' requests to the emulator. */
class EmulatorRequestClient extends twilio.RequestClient {
  request(opts) {
    const uri = opts.uri.replace(/^https:\/\/(?:conversations|chat|mcs)(?:\.[a-z0-9-]+)*\.twilio\.com/, EMULATOR_URL);
    return super.request({ ...opts, uri });
  }
}

const client = twilio(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, EMULATOR_URL ? { httpClient: new EmulatorRequestClient() } : {});

const server = http.createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    const params = Object.fromEntries(new URLSearchParams(body));
    // The signature covers the URL the emulator (or Twilio) was given, so this app's public one.
    const url = publicUrl() + req.url;
    if (!twilio.validateRequest(TWILIO_AUTH_TOKEN, req.headers["x-twilio-signature"] || "", url, params)) {
      console.log(`refused ${req.method} ${req.url}: invalid signature`);
      res.writeHead(403).end();
      return;
    }
    console.log(`webhook ${params.EventType} ${params.ConversationSid || ""}`);
    res.writeHead(200).end();
  });
});

function publicUrl() {
  return process.env.PUBLIC_URL || `http://127.0.0.1:${server.address().port}`;
}

server.listen(PORT, HOST, async () => {
  try {
    await client.conversations.v1.configuration.webhooks().update({
      postWebhookUrl: `${publicUrl()}/twilio/webhook`,
      method: "POST",
      filters: ["onConversationAdded", "onMessageAdded"],
    });
    console.log(`listening; webhooks go to ${publicUrl()}/twilio/webhook`);
  } catch (error) {
    console.error(`cannot set the webhook: ${error.message}`);
    process.exit(1);
  }
});
