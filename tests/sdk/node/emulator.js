"use strict";
// Helpers shared by the Node SDK suites (*.test.js). Not a test file itself: `node --test`
// only runs files named like *.test.js, so this module is loaded only through require.
//
// The base URL comes from the environment variable EMULATOR_URL. The SDK is pointed at it
// by LocalRequestClient, which rewrites https://conversations.twilio.com and
// https://chat.twilio.com to that URL; everything else is the SDK's own code.

const assert = require("node:assert/strict");
const crypto = require("node:crypto");

// These make the SDK rewrite hostnames (and would mangle 127.0.0.1).
delete process.env.TWILIO_REGION;
delete process.env.TWILIO_EDGE;

const twilio = require("twilio");

const TWILIO_HOSTS = ["https://conversations.twilio.com", "https://chat.twilio.com"];

const BASE_URL = (process.env.EMULATOR_URL || "").replace(/\/+$/, "");
if (!BASE_URL) {
  throw new Error("set EMULATOR_URL to the emulator's base URL, e.g. http://127.0.0.1:4010");
}

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

/** A fresh tenant: nothing is shared with other suites or earlier runs. */
const newAccountSid = () => "AC" + crypto.randomBytes(16).toString("hex");

/** A new random account with a recording LocalRequestClient and an SDK client on it. */
function connect() {
  const accountSid = newAccountSid();
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
  BASE_URL,
  LocalRequestClient,
  newAccountSid,
  connect,
  createService,
  fetchDefaultServiceSid,
  assertRestError,
  sids,
};
