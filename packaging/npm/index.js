"use strict";
// The Twilio Conversations emulator from Node: start it on a free loopback port, reset it,
// hand out twilio clients pointed at it, and hook it into node --test, Jest or Vitest.
//
// The binary ships in bin/<platform>-<arch>/; TWILIO_EMULATOR_BINARY overrides it, and
// TWILIO_EMULATOR_URL makes the helpers use a running emulator instead of starting one.

const { spawn } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const readline = require("node:readline");

const { TWILIO_HOSTS, toEmulator } = require("./rewrite");

const BINARY_NAME = "twilio-conversations-emulator";
// The binary's documented readiness line on stdout (README, "Configuration": `--port`).
const LISTENING = /listening on (http:\/\/\S+)/;
// How much of the binary's log (stderr) an error message quotes.
const LOG_TAIL_BYTES = 16 * 1024;

/** The emulator binary for this platform, or $TWILIO_EMULATOR_BINARY. */
function binaryPath() {
  if (process.env.TWILIO_EMULATOR_BINARY) {
    return process.env.TWILIO_EMULATOR_BINARY;
  }
  const platform = `${process.platform}-${process.arch}`;
  const candidate = path.join(__dirname, "bin", platform, BINARY_NAME);
  if (!fs.existsSync(candidate)) {
    const bin = path.join(__dirname, "bin");
    const shipped = fs.existsSync(bin) ? fs.readdirSync(bin).join(", ") : "none";
    throw new Error(
      `${BINARY_NAME} has no binary for ${platform} (this package has: ${shipped}); ` +
        "build it with cargo and set TWILIO_EMULATOR_BINARY to its path",
    );
  }
  return candidate;
}

/** A fresh account SID: in permissive mode every AC… SID is its own, empty tenant. */
function newAccountSid() {
  return "AC" + crypto.randomBytes(16).toString("hex");
}

/** A twilio RequestClient subclass that sends the emulated hosts' requests to `baseUrl`. */
function emulatorRequestClient(twilio, baseUrl, options = {}) {
  class EmulatorRequestClient extends twilio.RequestClient {
    request(opts) {
      return super.request({ ...opts, uri: toEmulator(opts.uri, baseUrl) });
    }
  }
  return new EmulatorRequestClient(options);
}

/** A running emulator: one that startEmulator() started, or one at a URL. */
class Emulator {
  constructor(url, child = null) {
    /** The base URL, such as http://127.0.0.1:41234. */
    this.url = url.replace(/\/+$/, "");
    this.child = child;
  }

  /** Stops a started emulator (SIGTERM: requests in flight finish first). */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }

  /** Calls the control plane (`/_emulator/…`); resolves to the decoded JSON answer or null. */
  async control(method, pathAndQuery, body) {
    const headers = {};
    if (process.env.TWILIO_EMULATOR_CONTROL_TOKEN) {
      headers.Authorization = `Bearer ${process.env.TWILIO_EMULATOR_CONTROL_TOKEN}`;
    }
    const response = await fetch(this.url + pathAndQuery, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${method} ${pathAndQuery}: ${response.status} ${text}`);
    }
    return text ? JSON.parse(text) : null;
  }

  /** Deletes every account's data (or one account's), the request journal and fault rules. */
  async reset(accountSid) {
    await this.control("POST", "/_emulator/reset" + (accountSid ? `?account=${accountSid}` : ""));
  }

  /** The control plane's health document (`status`, `version`, `uptime_seconds`). */
  health() {
    return this.control("GET", "/_emulator/health");
  }

  /**
   * A twilio client for `accountSid` (a new account when omitted) sent to this emulator.
   * Needs the `twilio` package in the project.
   */
  client({ accountSid = newAccountSid(), authToken = "test-auth-token", twilio = require("twilio"), ...options } = {}) {
    return twilio(accountSid, authToken, { ...options, httpClient: emulatorRequestClient(twilio, this.url) });
  }
}

/**
 * Starts the emulator on 127.0.0.1 and a free port, resolving once it accepts requests.
 * `args` are extra flags (`["--seed", "7"]`); `env` replaces the environment.
 */
function startEmulator({ binary = binaryPath(), args = [], env = process.env, timeoutMs = 30000 } = {}) {
  const child = spawn(binary, ["--host", "127.0.0.1", "--port", "0", ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Never leave an emulator behind when the test process exits without stopping it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.removeListener("exit", killOnExit));

  let log = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    log = (log + chunk).slice(-LOG_TAIL_BYTES);
  });
  return new Promise((resolve, reject) => {
    const fail = (why) => {
      child.kill("SIGKILL");
      reject(new Error(`${binary} did not start: ${why}\n${log}`));
    };
    const timer = setTimeout(() => fail(`no address announced within ${timeoutMs} ms`), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      fail(error.message);
    });
    const exitedEarly = (code, signal) => {
      clearTimeout(timer);
      fail(`exited with ${signal || code}`);
    };
    child.once("exit", exitedEarly);
    // The line reader keeps draining stdout after the announcement, so the binary never
    // blocks on a full pipe.
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      const match = LISTENING.exec(line);
      if (match) {
        clearTimeout(timer);
        child.removeListener("exit", exitedEarly);
        resolve(new Emulator(match[1], child));
      }
    });
  });
}

/** The test runner's suite hooks: Jest's or Vitest's globals where present, else node:test's. */
function defaultHooks() {
  const g = globalThis;
  if (typeof g.beforeAll === "function" && typeof g.afterAll === "function" && typeof g.beforeEach === "function") {
    return { before: g.beforeAll, after: g.afterAll, beforeEach: g.beforeEach };
  }
  const { before, after, beforeEach } = require("node:test");
  return { before, after, beforeEach };
}

/**
 * Registers hooks that start the emulator before the file's tests (or use
 * $TWILIO_EMULATOR_URL), give every test a fresh account and client, and stop it after.
 * Returns an object whose `emulator`, `accountSid`, `authToken` and `client` are set
 * by the time each test runs. Pass `hooks: { before, after, beforeEach }` for a runner
 * without globals (Vitest's `beforeAll`, `afterAll`, `beforeEach` imports).
 */
function useEmulator({ hooks = defaultHooks(), ...startOptions } = {}) {
  const context = { emulator: null, accountSid: null, authToken: null, client: null };
  hooks.before(async () => {
    const url = process.env.TWILIO_EMULATOR_URL;
    context.emulator = url ? new Emulator(url) : await startEmulator(startOptions);
  });
  hooks.after(async () => {
    await context.emulator?.stop();
  });
  hooks.beforeEach(() => {
    context.accountSid = newAccountSid();
    // The emulator signs an account's webhooks with the token its client last used.
    context.authToken = "token-" + crypto.randomBytes(8).toString("hex");
    context.client = context.emulator.client({ accountSid: context.accountSid, authToken: context.authToken });
  });
  return context;
}

module.exports = {
  Emulator,
  TWILIO_HOSTS,
  binaryPath,
  emulatorRequestClient,
  newAccountSid,
  startEmulator,
  useEmulator,
};
