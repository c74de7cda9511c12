"use strict";
// The preload: `node --require twilio-conversations-emulator/register app.js` sends an
// unmodified app's twilio requests for Conversations, Chat and Media to the emulator at
// $TWILIO_EMULATOR_URL (default http://127.0.0.1:4747). Other Twilio hosts are untouched.
//
// It patches twilio's RequestClient class when the app loads the package (by name, or by
// path as Node's ESM loader does for `import twilio from "twilio"`), so every client the
// app builds, with or without its own RequestClient subclass, goes to the emulator.

const Module = require("node:module");

const { patchRequestClient } = require("./rewrite");

const baseUrl = (process.env.TWILIO_EMULATOR_URL || "http://127.0.0.1:4747").replace(/\/+$/, "");
// "twilio", or a path to its entry point (…/node_modules/twilio/lib/index.js).
const TWILIO_ENTRY = /(^|[\\/])twilio([\\/]lib([\\/]index(\.js)?)?)?$/;

const load = Module._load;
Module._load = function (request, ...rest) {
  const exported = load.call(this, request, ...rest);
  if (TWILIO_ENTRY.test(request) && exported && exported.RequestClient) {
    patchRequestClient(exported.RequestClient, baseUrl);
  }
  return exported;
};
