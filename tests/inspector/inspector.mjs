// Drives the emulator's web inspector in the system's headless Chromium (Debian's
// `chromium` package), as a person would: clicks, typing, waiting for what the page shows.
// Run by tests/api/inspector.rs, which starts the emulator and a webhook receiver, sets
// up a conversation and passes everything in the environment:
//   EMULATOR_URL, ACCOUNT, AUTH_TOKEN, SERVICE, CONVERSATION, SCREENSHOTS, and
//   GUARDED_URL and CONTROL_TOKEN: a second emulator run with --control-token
// Each scenario saves a screenshot (SCREENSHOTS/<name>.png) and prints `ok <name>`; the
// first failure saves `<name>-failed.png`, prints `not ok <name>: <why>` and exits 1.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const base = env("EMULATOR_URL");
const account = env("ACCOUNT");
const token = env("AUTH_TOKEN");
const service = env("SERVICE");
const conversation = env("CONVERSATION");
const screenshots = env("SCREENSHOTS");
const guarded = env("GUARDED_URL");
const controlToken = env("CONTROL_TOKEN");
mkdirSync(screenshots, { recursive: true });

// The REST API as an application would call it.
const basic = "Basic " + Buffer.from(`${account}:${token}`).toString("base64");
async function api(method, path, form) {
  const init = { method, headers: { Authorization: basic } };
  if (form) {
    init.headers["Content-Type"] = "application/x-www-form-urlencoded";
    init.body = new URLSearchParams(form).toString();
  }
  const response = await fetch(base + path, init);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}
const messagesPath = `/v1/Conversations/${conversation}/Messages`;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// A fresh profile per run, so that nothing leaks in from an earlier one.
const profile = mkdtempSync(join(tmpdir(), "inspector-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1440, height: 900 },
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const page = context.pages()[0] || (await context.newPage());
const dialogs = [];
page.on("dialog", async (dialog) => {
  dialogs.push(dialog.message());
  await dialog.dismiss();
});
const pageErrors = [];
page.on("pageerror", (error) => pageErrors.push(String(error)));
// Console errors count too, except the browser's own line for a 404 answer: the page
// asks for things that a reset removed, and handles the answer.
page.on("console", (message) => {
  if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageErrors.push(message.text());
});

let failed = false;
async function scenario(name, body) {
  if (failed) return;
  try {
    await body();
    await page.screenshot({ path: join(screenshots, `${name}.png`) });
    console.log(`ok ${name}`);
  } catch (error) {
    failed = true;
    await page.screenshot({ path: join(screenshots, `${name}-failed.png`) }).catch(() => {});
    console.log(`not ok ${name}: ${error && error.stack ? error.stack : error}`);
  }
}

const thread = page.locator("#messages");
const messageWith = (text) => thread.locator("li.message", { has: page.locator(".body", { hasText: text }) });

await scenario("opens-the-conversation", async () => {
  await page.goto(`${base}/_emulator/inspector/#tab=conversations&account=${account}&service=${service}&conversation=${conversation}`);
  await page.waitForSelector("body[data-ready=true]");
  await page.locator("#live-status[data-state=on]").waitFor();
  await page.locator("#participants li", { hasText: "+15551230000" }).waitFor();
  await page.locator("#participants li", { hasText: "alice" }).waitFor();
});

await scenario("a-message-from-the-api-appears-live", async () => {
  const started = Date.now();
  await api("POST", messagesPath, { Author: "system", Body: "Hello from the REST API" });
  // The page was not reloaded: the change came over the live stream.
  await messageWith("Hello from the REST API").waitFor({ timeout: 5000 });
  const elapsed = Date.now() - started;
  console.log(`# live update shown ${elapsed} ms after the API call`);
  check(elapsed < 1000, `the message took ${elapsed} ms to appear (at most 1 s)`);
});

await scenario("user-strings-render-as-text", async () => {
  const attack = "<img src=x onerror=alert(1)>";
  await api("POST", messagesPath, { Author: "<b>mallory</b>", Body: attack, Attributes: JSON.stringify({ note: "<script>alert(2)</script>" }) });
  const message = messageWith(attack);
  await message.waitFor();
  check((await message.locator(".body").textContent()) === attack, "the body is not shown as its characters");
  check((await message.locator(".author").textContent()) === "<b>mallory</b>", "the author is not shown as its characters");
  check((await thread.locator("img[src=x], b, script").count()) === 0, "markup from the API became elements");
  // Give an injected handler every chance to run before checking that none did.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 50))));
  check(dialogs.length === 0, `a dialog fired: ${dialogs.join(", ")}`);
});

await scenario("texting-in-as-an-sms-participant-fires-a-webhook", async () => {
  const smsOption = page.locator("#post-as option", { hasText: "+15551230000" });
  await page.selectOption("#post-as", await smsOption.getAttribute("value"));
  await page.fill("#body", "Texting in from the page");
  await page.click("#send");
  await messageWith("Texting in from the page").waitFor();
  await page.click("#tabs button[data-tab=webhooks]");
  const row = page.locator("#deliveries tbody tr", { hasText: "onMessageAdded" }).first();
  await row.waitFor();
  await row.locator(".chip.delivered").waitFor();
  await row.click();
  const detail = page.locator("#delivery-detail");
  await detail.locator("text=X-Twilio-Signature").first().waitFor();
  await detail.locator("td", { hasText: "Texting in from the page" }).first().waitFor();
  await detail.locator("td", { hasText: /^SMS$/ }).first().waitFor();
});

await scenario("redelivering-a-webhook-from-the-page", async () => {
  const before = await page.locator("#deliveries tbody tr").count();
  await page.click("#redeliver");
  await page.locator("#deliveries tbody tr", { hasText: "redelivery of" }).first().waitFor();
  check((await page.locator("#deliveries tbody tr").count()) === before + 1, "the redelivery is not listed");
  await page.selectOption("#webhook-outcome", "false");
  await page.locator("#deliveries-empty").waitFor();
  await page.selectOption("#webhook-outcome", "");
});

await scenario("moving-a-receipt-changes-the-delivery", async () => {
  await page.click("#tabs button[data-tab=conversations]");
  const message = messageWith("Hello from the REST API");
  await message.locator("button[data-status=read]").click();
  await message.locator(".chip.read").waitFor();
  const sid = await message.getAttribute("data-sid");
  const fetched = await api("GET", `${messagesPath}/${sid}`);
  check(fetched.delivery && fetched.delivery.read === "all", `delivery is ${JSON.stringify(fetched.delivery)}`);
});

await scenario("creating-a-conversation-and-adding-a-participant", async () => {
  await page.click("#create-conversation summary");
  await page.fill("#conversation-form input[name=FriendlyName]", "Made in the inspector");
  await page.click("#conversation-form button[type=submit]");
  await page.locator("#thread-title", { hasText: "Made in the inspector" }).waitFor();
  await page.click("#side details.create summary");
  await page.fill("#participant-form input[name=identity]", "bob");
  await page.click("#participant-form button[type=submit]");
  await page.locator("#participants li", { hasText: "bob" }).waitFor();
  const sid = await page.locator("#thread-sid").textContent();
  const participants = await api("GET", `/v1/Conversations/${sid}/Participants`);
  check(participants.participants.some((p) => p.identity === "bob"), "bob is not a participant in the API");
});

await scenario("resetting-the-account-from-the-page", async () => {
  await page.click("#tabs button[data-tab=state]");
  await page.click("#reset-account");
  await page.locator("#confirm-dialog[open]").waitFor();
  await page.click("#confirm-ok");
  await page.locator(".toast", { hasText: "was reset" }).waitFor();
  const listed = await api("GET", "/v1/Conversations");
  check(listed.conversations.length === 0, `${listed.conversations.length} conversations left`);
  await page.click("#tabs button[data-tab=conversations]");
  await page.locator("#conversation-list li", { hasText: "No conversation" }).waitFor();
});

await scenario("asks-for-the-control-token-and-keeps-it-for-the-session-only", async () => {
  await page.goto(`${guarded}/_emulator/inspector/#account=${account}`);
  await page.locator("#token-dialog[open]").waitFor();
  await page.fill("#token-input", controlToken);
  await page.click("#token-form button[type=submit]");
  await page.locator("#live-status[data-state=on]").waitFor();
  await page.locator("#conversation-list li", { hasText: "Guarded" }).waitFor();
  const stored = await page.evaluate(() => [sessionStorage.getItem("inspector.token"), JSON.stringify(localStorage)]);
  check(stored[0] === controlToken, "the token is not in session storage");
  check(!stored[1].includes(controlToken), "the token was written to local storage");
});

await scenario("no-script-error", async () => {
  check(pageErrors.length === 0, `the page reported errors: ${pageErrors.join(" | ")}`);
});

await context.close();
rmSync(profile, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
