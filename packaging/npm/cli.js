#!/usr/bin/env node
"use strict";
// `npx twilio-conversations-emulator [flags]`: runs this platform's binary with the
// terminal's stdio, passes SIGINT and SIGTERM on, and exits with its status.

const { spawn } = require("node:child_process");

const { binaryPath } = require("./index");

const child = spawn(binaryPath(), process.argv.slice(2), { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("error", (error) => {
  console.error(`cannot run the emulator: ${error.message}`);
  process.exit(1);
});
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
