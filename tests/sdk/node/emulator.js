"use strict";
// Helpers shared by the Node SDK suites (*.test.js). Not a test file itself: `node --test`
// only runs files named like *.test.js, so this module is loaded only through require.
//
// The emulator's address comes from the environment variable EMULATOR_URL. The suites run in
// one of two ways:
// - directly (the default): LocalRequestClient rewrites https://conversations.twilio.com and
//   https://chat.twilio.com to EMULATOR_URL; everything else is the SDK's own code;
// - through proxy mode (EMULATOR_PROXY=1, with HTTP_PROXY, which twilio-node's RequestClient
//   reads, and NODE_EXTRA_CA_CERTS set): a plain `twilio(sid, token)` and nothing else.

const assert = require("node:assert/strict");
const crypto = require("node:crypto");

// These make the SDK rewrite hostnames (and would mangle 127.0.0.1).
delete process.env.TWILIO_REGION;
delete process.env.TWILIO_EDGE;

const twilio = require("twilio");

const TWILIO_HOSTS = ["https://conversations.twilio.com", "https://chat.twilio.com"];

/** The emulator itself: what the SDK cannot do (uploads, the control plane) goes here. */
const EMULATOR_URL = (process.env.EMULATOR_URL || "").replace(/\/+$/, "");
if (!EMULATOR_URL) {
  throw new Error("set EMULATOR_URL to the emulator's base URL, e.g. http://127.0.0.1:4010");
}
const PROXY = process.env.EMULATOR_PROXY === "1";
/** Where the SDK's Conversations requests go, and what their `url` and links start with. */
const BASE_URL = PROXY ? TWILIO_HOSTS[0] : EMULATOR_URL;
/** The same for Chat v2, which Twilio serves on a host of its own. */
const CHAT_BASE_URL = PROXY ? TWILIO_HOSTS[1] : BASE_URL;

/** A RequestClient that sends Conversations and Chat requests to the emulator. */
class LocalRequestClient extends twilio.RequestClient {
  constructor(baseUrl = BASE_URL, options = {}) {
    super({ timeout: 30000, ...options });
    this.baseUrl = baseUrl;
    this.requests = [];
  }

  request(opts) {
    let uri = opts.uri;
    const host = TWILIO_HOSTS.find((h) => uri.startsWith(h));
    if (host) {
      uri = this.baseUrl + uri.slice(host.length);
    }
    assert.ok(uri.startsWith(this.baseUrl + "/"), `the SDK requested ${uri}, not the emulator`);
    this.requests.push({ method: opts.method, uri, params: opts.params, data: opts.data });
    return super.request({ ...opts, uri });
  }
}

/**
 * Makes the SDK's own RequestClient record every request in `requests`, as LocalRequestClient
 * does: it still sends each request where the SDK addressed it.
 */
function record(httpClient) {
  const send = httpClient.request.bind(httpClient);
  httpClient.requests = [];
  httpClient.request = (opts) => {
    assert.ok(TWILIO_HOSTS.some((host) => opts.uri.startsWith(host + "/")), `the SDK requested ${opts.uri}`);
    httpClient.requests.push({ method: opts.method, uri: opts.uri, params: opts.params, data: opts.data });
    return send(opts);
  };
  return httpClient;
}

/** A fresh tenant: nothing is shared with other suites or earlier runs. */
const newAccountSid = () => "AC" + crypto.randomBytes(16).toString("hex");

/** A new random account with an SDK client on it and its recording HTTP client. */
function connect() {
  const accountSid = newAccountSid();
  if (PROXY) {
    const client = twilio(accountSid, "any-token");
    return { accountSid, httpClient: record(client.httpClient), client };
  }
  const httpClient = new LocalRequestClient(BASE_URL);
  const client = twilio(accountSid, "any-token", { httpClient });
  return { accountSid, httpClient, client };
}

/** A new Conversation Service of the client's account, created through Conversations v1. */
async function createService(client, accountSid, friendlyName) {
  const service = await client.conversations.v1.services.create({ friendlyName });
  assert.match(service.sid, /^IS[0-9a-f]{32}$/);
  assert.equal(service.accountSid, accountSid);
  return service;
}

/** The SID of the account's default Conversation Service. */
async function fetchDefaultServiceSid(client) {
  const sid = (await client.conversations.v1.configuration().fetch()).defaultChatServiceSid;
  assert.match(sid, /^IS[0-9a-f]{32}$/);
  return sid;
}

async function assertRestError(promise, status, code) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof twilio.RestException, `expected a RestException, got ${error}`);
    assert.equal(error.status, status, error.message);
    assert.equal(error.code, code, error.message);
    assert.equal(error.moreInfo, `https://www.twilio.com/docs/errors/${code}`);
    return true;
  });
}

const sids = (list) => list.map((item) => item.sid);

module.exports = {
  twilio,
  TWILIO_HOSTS,
  EMULATOR_URL,
  PROXY,
  BASE_URL,
  CHAT_BASE_URL,
  LocalRequestClient,
  newAccountSid,
  connect,
  createService,
  fetchDefaultServiceSid,
  assertRestError,
  sids,
};
