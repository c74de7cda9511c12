"use strict";
// Which URLs the emulator answers for, and how they are rewritten to it. Shared by the
// test helper's client (index.js) and the preload (register.js).

/**
 * The hosts whose API the emulator serves, with any edge and region the SDK puts in them
 * (conversations.sydney.au1.twilio.com). The Python package's TWILIO_HOSTS is the same.
 */
const TWILIO_HOSTS = /^https:\/\/(?:conversations|chat|mcs)(?:\.[a-z0-9-]+)*\.twilio\.com(?=\/|\?|$)/;

/** `uri` with an emulated Twilio host replaced by `baseUrl`; any other URI unchanged. */
function toEmulator(uri, baseUrl) {
  return typeof uri === "string" ? uri.replace(TWILIO_HOSTS, baseUrl.replace(/\/+$/, "")) : uri;
}

/**
 * Makes every instance of twilio's RequestClient class send emulated hosts' requests to
 * `baseUrl`; patching the prototype also reaches the clients the SDK creates itself.
 * Patches a class once; returns whether it patched it now.
 */
function patchRequestClient(RequestClient, baseUrl) {
  const prototype = RequestClient && RequestClient.prototype;
  if (!prototype || typeof prototype.request !== "function" || prototype.request.twilioEmulator) {
    return false;
  }
  const original = prototype.request;
  const request = function (opts) {
    return original.call(this, { ...opts, uri: toEmulator(opts.uri, baseUrl) });
  };
  request.twilioEmulator = baseUrl;
  prototype.request = request;
  return true;
}

module.exports = { TWILIO_HOSTS, toEmulator, patchRequestClient };
