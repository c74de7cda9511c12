// The emulator's web inspector. Plain JavaScript, no build step, no dependency.
//
// Rules this file keeps:
// - Every string that came from the emulator (so from an app, an SDK or a user) reaches
//   the page as text: through `h()`, which sets `textContent`, never `innerHTML`.
// - It talks only to the control plane: `/_emulator/…`, and the Twilio REST API through
//   `/_emulator/as/{AC…}/…`, which acts for an account without its auth token.
// - Live updates come from `/_emulator/events` (server-sent events read with `fetch`, so
//   that the control token can go in a header); a reconnect sends `Last-Event-ID` and the
//   server replays exactly what was missed, or says `reload` when it cannot.
"use strict";

const $ = (selector) => document.querySelector(selector);
const DEFAULT_ACCOUNT = "AC00000000000000000000000000000001";
const PAGE = 100;

// ---- state ------------------------------------------------------------------------------

const hash = new URLSearchParams(location.hash.slice(1));
const ui = {
  tab: hash.get("tab") || "conversations",
  account: hash.get("account") || localStorage.getItem("inspector.account") || "",
  service: hash.get("service") || "",
  conversation: hash.get("conversation") || "",
  services: [],
  conversations: [],
  searchHits: null,
  participants: [],
  messages: [],
  olderCursor: null,
  delivery: null,
  journalEntry: null,
  lastEventId: null,
  token: sessionStorage.getItem("inspector.token") || "",
  mediaUrls: new Map(),
};

function saveLocation() {
  const params = new URLSearchParams();
  params.set("tab", ui.tab);
  if (ui.account) params.set("account", ui.account);
  if (ui.service) params.set("service", ui.service);
  if (ui.conversation) params.set("conversation", ui.conversation);
  history.replaceState(null, "", "#" + params.toString());
}

// ---- DOM helpers ------------------------------------------------------------------------

// An element with attributes (`on*` keys become listeners) and children; strings become
// text nodes, never markup.
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "class") element.className = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

function toast(text, kind) {
  const item = h("div", { class: "toast " + (kind || "") }, text);
  $("#toasts").append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 3500);
}

function time(value) {
  if (!value) return "";
  const date = new Date(value);
  return isNaN(date) ? String(value) : date.toLocaleTimeString([], { hour12: false }) + "." + String(date.getMilliseconds()).padStart(3, "0");
}

function dateTime(value) {
  if (!value) return "";
  const date = new Date(value);
  return isNaN(date) ? String(value) : date.toLocaleString([], { hour12: false });
}

function pretty(text) {
  if (text === null || text === undefined || text === "") return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text);
  }
}

// ---- HTTP -------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? `${body.message}${body.code ? ` (${body.code})` : ""}` : `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
  }
}

function authHeaders() {
  return ui.token ? { Authorization: "Bearer " + ui.token } : {};
}

async function call(method, path, { json, form, headers } = {}) {
  const init = { method, headers: { ...authHeaders(), ...(headers || {}) } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = typeof json === "string" ? json : JSON.stringify(json);
  } else if (form) {
    init.headers["Content-Type"] = "application/x-www-form-urlencoded";
    init.body = new URLSearchParams(form).toString();
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (!response.ok) {
    if (response.status === 401 && body && body.code === 20003 && path.startsWith("/_emulator/")) askToken();
    throw new ApiError(response.status, body);
  }
  return body;
}

const control = (method, path, json) => call(method, "/_emulator" + path, json === undefined ? {} : { json });
const rest = (method, path, form, headers) => call(method, `/_emulator/as/${ui.account}${path}`, { form, headers });

// Every page of a Twilio list, up to `limit` items.
async function restList(path, key, limit = 1000) {
  const items = [];
  let url = path + (path.includes("?") ? "&" : "?") + "PageSize=" + PAGE;
  while (url && items.length < limit) {
    const page = await rest("GET", url);
    items.push(...(page[key] || []));
    const next = page.meta && page.meta.next_page_url;
    url = next ? next.replace(/^https?:\/\/[^/]+/, "") : null;
  }
  return items;
}

// ---- token ------------------------------------------------------------------------------

let tokenAsked = null;
function askToken() {
  if (tokenAsked) return tokenAsked;
  $("#token-button").hidden = false;
  const dialog = $("#token-dialog");
  tokenAsked = new Promise((resolve) => {
    $("#token-form").onsubmit = (event) => {
      event.preventDefault();
      ui.token = $("#token-input").value.trim();
      sessionStorage.setItem("inspector.token", ui.token);
      dialog.close();
      tokenAsked = null;
      resolve();
      restartLive();
      refreshAll();
    };
  });
  if (!dialog.open) dialog.showModal();
  return tokenAsked;
}

// ---- confirmation -----------------------------------------------------------------------

function confirmAction(text) {
  if (!$("#confirm-resets").checked) return Promise.resolve(true);
  const dialog = $("#confirm-dialog");
  fill($("#confirm-text"), text);
  return new Promise((resolve) => {
    dialog.onclose = () => resolve(dialog.returnValue === "ok");
    dialog.returnValue = "";
    for (const button of dialog.querySelectorAll("button")) {
      button.onclick = (event) => {
        event.preventDefault();
        dialog.close(button.value);
      };
    }
    dialog.showModal();
  });
}

// ---- tabs -------------------------------------------------------------------------------

function showTab(tab) {
  ui.tab = tab;
  for (const button of document.querySelectorAll("#tabs button")) {
    button.classList.toggle("active", button.dataset.tab === tab);
  }
  for (const section of document.querySelectorAll("main > .tab")) {
    section.hidden = section.id !== "tab-" + tab;
  }
  saveLocation();
  refreshTab();
}

function refreshTab() {
  const refresh = {
    webhooks: loadDeliveries,
    journal: loadJournal,
    faults: loadFaults,
    clock: loadClock,
  }[ui.tab];
  if (refresh) refresh().catch(report);
}

function report(error) {
  if (error && error.status === 401 && error.code === 20003) return;
  toast(error.message || String(error), "error");
}

// ---- accounts and services ----------------------------------------------------------------

async function loadAccounts() {
  const accounts = await control("GET", "/accounts");
  fill(
    $("#accounts"),
    accounts.map((account) =>
      h("option", { value: account.sid }, `${account.conversations} conversations, ${account.messages} messages`),
    ),
  );
  if (!ui.account) ui.account = accounts.length ? accounts[0].sid : DEFAULT_ACCOUNT;
  $("#account").value = ui.account;
}

async function loadServices() {
  ui.services = await restList("/v1/Services", "services");
  if (!ui.services.some((service) => service.sid === ui.service)) {
    ui.service = ui.services.length ? ui.services[0].sid : "";
  }
  fill(
    $("#service"),
    ui.services.map((service) =>
      h("option", { value: service.sid, selected: service.sid === ui.service }, `${service.friendly_name} · ${service.sid}`),
    ),
  );
}

// ---- conversations ----------------------------------------------------------------------

const servicePath = () => `/v1/Services/${ui.service}`;
const conversationPath = () => `${servicePath()}/Conversations/${ui.conversation}`;

async function loadConversations() {
  if (!ui.service) return;
  ui.conversations = await restList(`${servicePath()}/Conversations`, "conversations");
  renderConversations();
}

function renderConversations() {
  const query = $("#search").value.trim().toLowerCase();
  let shown = ui.conversations;
  if (query) {
    const hits = ui.searchHits || new Set();
    shown = shown.filter(
      (c) =>
        hits.has(c.sid) ||
        [c.sid, c.unique_name, c.friendly_name].some((field) => field && field.toLowerCase().includes(query)),
    );
  }
  const list = $("#conversation-list");
  fill(
    list,
    shown.length
      ? shown.map((c) =>
          h(
            "li",
            {
              class: c.sid === ui.conversation ? "selected" : "",
              tabindex: 0,
              dataset: { sid: c.sid },
              onclick: () => openConversation(c.sid),
              onkeydown: (event) => event.key === "Enter" && openConversation(c.sid),
            },
            h("div", { class: "title" }, c.friendly_name || c.unique_name || c.sid),
            h(
              "div",
              { class: "sub" },
              h("code", {}, c.sid),
              " ",
              h("span", { class: "chip " + c.state }, c.state),
              c.unique_name ? h("span", { class: "muted" }, " " + c.unique_name) : null,
            ),
          ),
        )
      : h("li", { class: "empty small" }, query ? "No conversation matches." : "No conversation in this service yet."),
  );
}

// Searching by participant identity or address asks the API which conversations they are in.
let searchTimer = null;
function onSearch() {
  clearTimeout(searchTimer);
  renderConversations();
  searchTimer = setTimeout(async () => {
    const query = $("#search").value.trim();
    if (!query || !ui.service) {
      ui.searchHits = null;
      return renderConversations();
    }
    const hits = new Set();
    for (const key of ["Identity", "Address"]) {
      try {
        const found = await rest(
          "GET",
          `${servicePath()}/ParticipantConversations?${key}=${encodeURIComponent(query)}&PageSize=${PAGE}`,
        );
        for (const item of found.conversations || []) hits.add(item.conversation_sid);
      } catch {
        // A query that is not an identity or an address simply finds nothing.
      }
    }
    ui.searchHits = hits;
    renderConversations();
  }, 200);
}

async function openConversation(sid) {
  ui.conversation = sid;
  ui.olderCursor = null;
  saveLocation();
  renderConversations();
  await loadThread();
}

async function loadThread() {
  const empty = !ui.conversation;
  $("#thread-empty").hidden = !empty;
  $("#thread").hidden = empty;
  $("#side").hidden = empty;
  if (empty) return;
  let conversation;
  try {
    conversation = await rest("GET", conversationPath());
  } catch (error) {
    if (error.status === 404) {
      ui.conversation = "";
      saveLocation();
      return loadThread();
    }
    throw error;
  }
  fill($("#thread-title"), conversation.friendly_name || conversation.unique_name || conversation.sid);
  fill($("#thread-sid"), conversation.sid);
  fill($("#thread-state"), conversation.state);
  $("#thread-state").className = "chip " + conversation.state;
  fill($("#thread-unique"), conversation.unique_name ? "unique name: " + conversation.unique_name : "");
  fill($("#thread-attributes"), pretty(conversation.attributes));
  await Promise.all([loadParticipants(), loadMessages(), loadConversationWebhooks(), loadUsers()]);
}

async function loadParticipants() {
  ui.participants = await restList(`${conversationPath()}/Participants`, "participants");
  renderParticipants();
}

function participantKind(participant) {
  const binding = participant.messaging_binding;
  if (!binding) return "chat";
  return binding.type || (String(binding.address || "").startsWith("whatsapp:") ? "whatsapp" : "sms");
}

function participantName(participant) {
  if (participant.identity) return participant.identity;
  const binding = participant.messaging_binding || {};
  return binding.address || participant.sid;
}

function renderParticipants() {
  fill(
    $("#participants"),
    ui.participants.length
      ? ui.participants.map((p) => {
          const binding = p.messaging_binding;
          return h(
            "li",
            {},
            h("span", { class: "kind " + participantKind(p) }, participantKind(p)),
            h("div", {}, h("div", { class: "title" }, participantName(p)),
              h("div", { class: "sub" }, h("code", {}, p.sid),
                binding ? ` via ${binding.proxy_address || binding.projected_address || "?"}` : "",
                p.last_read_message_index !== null && p.last_read_message_index !== undefined ? ` · read up to #${p.last_read_message_index}` : "")),
          );
        })
      : h("li", { class: "empty small" }, "No participant yet."),
  );
  const select = $("#post-as");
  const previous = select.value;
  fill(
    select,
    ui.participants.map((p) =>
      h("option", { value: p.sid }, `${participantName(p)} (${participantKind(p) === "chat" ? "chat, as an SDK user" : participantKind(p) + ", texting in"})`),
    ),
    h("option", { value: "rest" }, "system (REST API)"),
  );
  if ([...select.options].some((option) => option.value === previous)) select.value = previous;
  onPostAsChange();
}

function onPostAsChange() {
  const rest = $("#post-as").value === "rest";
  $("#rest-webhooks-label").hidden = !rest;
  const participant = ui.participants.find((p) => p.sid === $("#post-as").value);
  let hint = "Posts through the REST API with Author=system; webhooks only if asked (X-Twilio-Webhook-Enabled).";
  if (participant && participantKind(participant) === "chat") {
    hint = "Posts as the client SDK would (Source=SDK, ClientIdentity): onMessageAdd and onMessageAdded fire.";
  } else if (participant) {
    const binding = participant.messaging_binding || {};
    hint = `Texts ${binding.proxy_address || "the Twilio number"} from ${binding.address}: onMessageAdd and onMessageAdded fire (Source=${participantKind(participant).toUpperCase()}).`;
  }
  fill($("#post-hint"), hint);
}

async function loadMessages() {
  const page = await rest("GET", `${conversationPath()}/Messages?Order=desc&PageSize=${PAGE}`);
  ui.messages = (page.messages || []).reverse();
  ui.olderCursor = page.meta && page.meta.next_page_url;
  await renderMessages();
}

async function loadOlder() {
  if (!ui.olderCursor) return;
  const page = await rest("GET", ui.olderCursor.replace(/^https?:\/\/[^/]+/, ""));
  ui.messages = (page.messages || []).reverse().concat(ui.messages);
  ui.olderCursor = page.meta && page.meta.next_page_url;
  await renderMessages({ keepScroll: true });
}

async function renderMessages({ keepScroll } = {}) {
  const list = $("#messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  $("#older").hidden = !ui.olderCursor;
  // Receipts exist for messages sent to SMS or WhatsApp participants: fetched for those.
  const receipts = new Map();
  await Promise.all(
    ui.messages
      .filter((m) => m.delivery)
      .map(async (m) => {
        try {
          receipts.set(m.sid, await restList(`${conversationPath()}/Messages/${m.sid}/Receipts`, "delivery_receipts", 200));
        } catch {
          receipts.set(m.sid, []);
        }
      }),
  );
  const bySid = new Map(ui.participants.map((p) => [p.sid, p]));
  fill(
    list,
    ui.messages.length
      ? ui.messages.map((m) => renderMessage(m, bySid.get(m.participant_sid), receipts.get(m.sid)))
      : h("li", { class: "empty small" }, "No message yet. Post one below, or through the API: it shows here at once."),
  );
  if (!keepScroll && (atBottom || list.dataset.conversation !== ui.conversation)) list.scrollTop = list.scrollHeight;
  list.dataset.conversation = ui.conversation;
}

function renderMessage(message, participant, receipts) {
  const kind = participant ? participantKind(participant) : "system";
  const side = kind === "sms" || kind === "whatsapp" ? "left" : kind === "chat" ? "right" : "center";
  return h(
    "li",
    { class: `message ${side}`, dataset: { sid: message.sid, index: message.index } },
    h(
      "div",
      { class: "meta" },
      h("span", { class: "author" }, message.author || "(no author)"),
      h("span", { class: "kind " + kind }, kind),
      h("span", { class: "muted" }, `#${message.index} · ${dateTime(message.date_created)}`),
    ),
    h(
      "div",
      { class: "bubble" },
      message.body !== null && message.body !== undefined ? h("div", { class: "body" }, message.body) : h("div", { class: "muted" }, "(no body)"),
      (message.media || []).map((media) => renderMedia(media)),
    ),
    h(
      "div",
      { class: "footer" },
      h("code", {}, message.sid),
      message.attributes && message.attributes !== "{}" ? h("details", { class: "attrs" }, h("summary", {}, "attributes"), h("pre", {}, pretty(message.attributes))) : null,
      message.delivery ? renderDelivery(message, receipts || []) : null,
    ),
  );
}

// Media is fetched with the control token and shown from a blob: URL: an <img> pointing at
// the API could not send the token.
function renderMedia(media) {
  const path = `${servicePath()}/Media/${media.sid}/Content`;
  const label = `${media.filename || media.sid} (${media.content_type}, ${media.size} bytes)`;
  const load = async () => {
    if (ui.mediaUrls.has(media.sid)) return ui.mediaUrls.get(media.sid);
    const response = await fetch(`/_emulator/as/${ui.account}${path}`, { headers: authHeaders() });
    if (!response.ok) throw new Error(`media ${media.sid}: HTTP ${response.status}`);
    const url = URL.createObjectURL(await response.blob());
    ui.mediaUrls.set(media.sid, url);
    return url;
  };
  if (/^image\/(png|jpeg|gif|webp|bmp|avif)$/i.test(media.content_type || "")) {
    const image = h("img", { class: "media", alt: label, title: label });
    load().then((url) => (image.src = url), report);
    return image;
  }
  return h(
    "a",
    {
      class: "media-link",
      href: "#",
      onclick: async (event) => {
        event.preventDefault();
        const url = await load();
        const link = h("a", { href: url, download: media.filename || media.sid });
        link.click();
      },
    },
    "📎 " + label,
  );
}

const RECEIPT_STATUSES = ["delivered", "read", "failed", "undelivered"];

function renderDelivery(message, receipts) {
  const summary = Object.entries(message.delivery)
    .filter(([key, value]) => key !== "total" && value && value !== "none")
    .map(([key, value]) => `${key}: ${value}`)
    .join(" · ");
  return h(
    "div",
    { class: "delivery" },
    h("span", { class: "muted" }, `delivery (${message.delivery.total}) ${summary}`),
    receipts.map((receipt) =>
      h(
        "span",
        { class: "receipt" },
        h("span", { class: "chip " + receipt.status, title: receipt.sid }, `${participantLabel(receipt.participant_sid)}: ${receipt.status}${receipt.error_code ? " " + receipt.error_code : ""}`),
      ),
    ),
    h(
      "span",
      { class: "receipt-actions", title: "Move every receipt of this message, as a carrier's callback would" },
      h("span", { class: "muted" }, "move to"),
      RECEIPT_STATUSES.map((status) =>
        h("button", { type: "button", class: "mini", dataset: { status }, onclick: () => moveReceipts(message, status) }, status),
      ),
    ),
  );
}

function participantLabel(sid) {
  const participant = ui.participants.find((p) => p.sid === sid);
  return participant ? participantName(participant) : sid;
}

async function moveReceipts(message, status) {
  const change = { account_sid: ui.account, conversation_sid: ui.conversation, message_sid: message.sid, status };
  if (status === "failed" || status === "undelivered") change.error_code = 30008;
  try {
    await control("POST", "/receipts", change);
    toast(`Receipts of #${message.index} moved to ${status}`);
  } catch (error) {
    report(error);
  }
}

async function post(event) {
  event.preventDefault();
  const body = $("#body").value;
  if (!body.trim()) return;
  const as = $("#post-as").value;
  const participant = ui.participants.find((p) => p.sid === as);
  const button = $("#send");
  button.disabled = true;
  try {
    if (as === "rest" || !participant) {
      const headers = $("#rest-webhooks").checked ? { "X-Twilio-Webhook-Enabled": "true" } : {};
      await rest("POST", `${conversationPath()}/Messages`, { Body: body, Author: "system" }, headers);
    } else if (participantKind(participant) === "chat") {
      const result = await control("POST", "/sdk/messages", {
        account_sid: ui.account,
        chat_service_sid: ui.service,
        conversation: ui.conversation,
        identity: participant.identity,
        body,
      });
      reportSimulated(result);
    } else {
      const binding = participant.messaging_binding;
      const result = await control("POST", "/inbound", {
        account_sid: ui.account,
        from: binding.address,
        to: binding.proxy_address,
        body,
      });
      reportSimulated(result);
    }
    $("#body").value = "";
  } catch (error) {
    report(error);
  } finally {
    button.disabled = false;
  }
}

function reportSimulated(result) {
  const sent = (result.deliveries || []).map((d) => `${d.event_type} → ${d.outcome}`).join(", ");
  toast(result.outcome === "rejected" ? "Refused by the pre-event webhook" : sent ? `Sent. Webhooks: ${sent}` : "Sent (no webhook configured)");
}

async function createConversation(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const fields = {};
  for (const [key, value] of form) if (value) fields[key] = value;
  try {
    const created = await rest("POST", `${servicePath()}/Conversations`, fields);
    event.target.reset();
    $("#create-conversation").open = false;
    await loadConversations();
    await openConversation(created.sid);
  } catch (error) {
    report(error);
  }
}

function onParticipantKind() {
  const form = $("#participant-form");
  const chat = form.kind.value === "chat";
  form.identity.hidden = !chat;
  form.address.hidden = chat;
  form.proxy.hidden = chat;
}

async function addParticipant(event) {
  event.preventDefault();
  const form = event.target;
  const fields = {};
  if (form.kind.value === "chat") {
    fields.Identity = form.identity.value.trim();
  } else {
    const prefix = form.kind.value === "whatsapp" ? "whatsapp:" : "";
    const withPrefix = (value) => (value.startsWith(prefix) ? value : prefix + value);
    fields["MessagingBinding.Address"] = withPrefix(form.address.value.trim());
    fields["MessagingBinding.ProxyAddress"] = withPrefix(form.proxy.value.trim());
  }
  try {
    await rest("POST", `${conversationPath()}/Participants`, fields);
    form.reset();
    onParticipantKind();
  } catch (error) {
    report(error);
  }
}

async function loadConversationWebhooks() {
  const hooks = await restList(`${conversationPath()}/Webhooks`, "webhooks", 100);
  fill(
    $("#conversation-webhooks"),
    hooks.length
      ? hooks.map((hook) =>
          h("li", {}, h("span", { class: "chip" }, hook.target), " ", h("code", {}, hook.sid), h("div", { class: "sub" }, (hook.configuration && (hook.configuration.url || hook.configuration.flow_sid)) || "")),
        )
      : h("li", { class: "muted" }, "None."),
  );
}

async function loadUsers() {
  const users = await restList(`${servicePath()}/Users`, "users", 200);
  fill(
    $("#users"),
    users.length
      ? users.map((user) => h("li", {}, h("span", { class: "title" }, user.identity), " ", h("code", {}, user.sid), user.friendly_name ? h("span", { class: "muted" }, " " + user.friendly_name) : null))
      : h("li", { class: "muted" }, "None."),
  );
}

// ---- webhooks -----------------------------------------------------------------------------

const knownEvents = new Set();

async function loadDeliveries() {
  const params = new URLSearchParams({ account: ui.account });
  const event = $("#webhook-event").value.trim();
  if (event) params.set("event", event);
  if ($("#webhook-outcome").value) params.set("delivered", $("#webhook-outcome").value);
  if ($("#webhook-this-conversation").checked && ui.conversation) params.set("conversation", ui.conversation);
  const log = await control("GET", "/webhooks/deliveries?" + params);
  const deliveries = log.deliveries.slice().reverse();
  for (const delivery of deliveries) knownEvents.add(delivery.event_type);
  fill($("#webhook-events"), [...knownEvents].sort().map((name) => h("option", { value: name })));
  $("#deliveries-empty").hidden = deliveries.length > 0;
  fill(
    $("#deliveries tbody"),
    deliveries.map((d) =>
      h(
        "tr",
        { class: (d.outcome === "delivered" ? "ok" : "bad") + (ui.delivery === d.id ? " selected" : ""), tabindex: 0, dataset: { id: d.id }, onclick: () => openDelivery(d.id) },
        h("td", {}, String(d.id)),
        h("td", {}, time(d.date_created)),
        h("td", {}, h("span", { class: "event" }, d.event_type), h("span", { class: "muted" }, ` ${d.phase} · ${d.level}`)),
        h("td", { class: "url" }, d.request ? d.request.url : "(not sent)"),
        h("td", {}, h("span", { class: "chip " + d.outcome }, d.response ? `${d.response.status} ${d.outcome}` : d.outcome)),
        h("td", {}, `${Number(d.duration_ms).toFixed(1)} ms`),
        h("td", {}, d.redelivery_of ? `redelivery of #${d.redelivery_of}` : String(d.retry_count)),
      ),
    ),
  );
  if (ui.delivery) renderDeliveryDetail(log.deliveries.find((d) => d.id === ui.delivery));
}

async function openDelivery(id) {
  ui.delivery = id;
  for (const row of document.querySelectorAll("#deliveries tbody tr")) row.classList.toggle("selected", Number(row.dataset.id) === id);
  renderDeliveryDetail(await control("GET", `/webhooks/deliveries/${id}`));
}

function headerTable(headers) {
  return h("table", { class: "kv" }, (headers || []).map(([name, value]) => h("tr", {}, h("th", {}, name), h("td", {}, value))));
}

function renderDeliveryDetail(delivery) {
  const pane = $("#delivery-detail");
  if (!delivery) return fill(pane, h("div", { class: "empty small" }, "That delivery is no longer in the log."));
  const request = delivery.request;
  const params = request && request.body ? [...new URLSearchParams(request.body)] : [];
  const signature = request && (request.headers.find(([name]) => name.toLowerCase() === "x-twilio-signature") || [])[1];
  fill(
    pane,
    h("div", { class: "detail-head" },
      h("h3", {}, `#${delivery.id} ${delivery.event_type}`),
      h("button", { type: "button", id: "redeliver", onclick: () => redeliver(delivery.id) }, "Redeliver")),
    h("p", {}, h("span", { class: "chip " + delivery.outcome }, delivery.outcome), ` ${delivery.phase}-event · ${delivery.level} level · ${Number(delivery.duration_ms).toFixed(1)} ms · retry ${delivery.retry_count}`,
      delivery.error ? h("div", { class: "error-text" }, delivery.error) : null),
    request
      ? [
          h("h4", {}, "Request"),
          h("div", { class: "mono" }, `${request.method} ${request.url}`),
          signature ? h("div", { class: "sub" }, "X-Twilio-Signature: ", h("code", {}, signature)) : null,
          headerTable(request.headers),
          h("h4", {}, "Parameters"),
          headerTable(params),
          h("details", {}, h("summary", {}, "Raw body"), h("pre", {}, request.body)),
        ]
      : h("p", { class: "muted" }, "Not sent."),
    delivery.response
      ? [
          h("h4", {}, `Response ${delivery.response.status}`),
          headerTable(delivery.response.headers),
          h("pre", {}, pretty(delivery.response.body) || "(empty body)"),
          delivery.response.truncated ? h("p", { class: "muted" }, "(cut at 64 KiB)") : null,
        ]
      : null,
  );
}

async function redeliver(id) {
  try {
    const again = await control("POST", `/webhooks/deliveries/${id}/redeliver`);
    toast(`Redelivered as #${again.id}: ${again.outcome}`);
    ui.delivery = again.id;
    await loadDeliveries();
  } catch (error) {
    report(error);
  }
}

// ---- live activity --------------------------------------------------------------------------

const activity = [];

function renderActivity() {
  const accountOnly = $("#activity-account-only").checked;
  const rows = activity.filter((e) => !accountOnly || !e.account || e.account === ui.account).slice(0, 300);
  fill(
    $("#activity tbody"),
    rows.map((e) =>
      h(
        "tr",
        { class: e.action === "delete" || e.action === "reset" ? "bad" : "" },
        h("td", {}, String(e.seq)),
        h("td", {}, time(e.received)),
        h("td", {}, `${e.kind} ${e.action}`),
        h("td", {}, [e.source || "", e.identity ? ` (${e.identity})` : ""].join("")),
        h("td", {}, e.conversation ? h("a", { href: "#", onclick: (event) => { event.preventDefault(); ui.service = e.service; showTab("conversations"); openConversation(e.conversation).catch(report); } }, e.conversation) : ""),
        h("td", {}, h("code", {}, e.sid || "")),
      ),
    ),
  );
}

// ---- journal ----------------------------------------------------------------------------

async function loadJournal() {
  const params = new URLSearchParams({ limit: "500" });
  if ($("#journal-path").value.trim()) params.set("path", $("#journal-path").value.trim());
  if ($("#journal-method").value) params.set("method", $("#journal-method").value);
  if ($("#journal-account-only").checked) params.set("account", ui.account);
  const journal = await control("GET", "/requests?" + params);
  const entries = journal.requests.slice().reverse();
  fill(
    $("#journal tbody"),
    entries.map((entry) =>
      h(
        "tr",
        { class: (entry.status >= 400 ? "bad" : "ok") + (ui.journalEntry === entry.sequence ? " selected" : ""), tabindex: 0, onclick: () => renderJournalEntry(entry) },
        h("td", {}, String(entry.sequence)),
        h("td", {}, time(entry.time)),
        h("td", {}, entry.method),
        h("td", { class: "url" }, entry.path + (entry.query ? "?" + entry.query : "")),
        h("td", {}, h("span", { class: "chip " + (entry.status >= 400 ? "failed" : "delivered") }, String(entry.status))),
        h("td", {}, entry.error_code ? String(entry.error_code) : ""),
        h("td", {}, `${(entry.duration_us / 1000).toFixed(2)} ms`),
      ),
    ),
  );
}

function renderJournalEntry(entry) {
  ui.journalEntry = entry.sequence;
  fill(
    $("#journal-detail"),
    h("h3", {}, `${entry.method} ${entry.path}`),
    h("p", {}, h("span", { class: "chip " + (entry.status >= 400 ? "failed" : "delivered") }, String(entry.status)),
      entry.error_code ? ` Twilio error ${entry.error_code}` : "", ` · ${(entry.duration_us / 1000).toFixed(2)} ms · ${dateTime(entry.time)}`,
      entry.faults && entry.faults.length ? ` · faults: ${entry.faults.join(", ")}` : ""),
    entry.query ? [h("h4", {}, "Query"), headerTable([...new URLSearchParams(entry.query)])] : null,
    h("h4", {}, "Parameters"),
    entry.params ? headerTable(entry.params) : h("p", { class: "muted" }, "(no body kept)"),
    h("h4", {}, "Headers"),
    headerTable(Object.entries(entry.headers || {}).map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : String(value)])),
  );
}

// ---- faults -----------------------------------------------------------------------------

async function loadFaults() {
  const listing = await control("GET", "/faults");
  const rules = listing.faults || [];
  fill(
    $("#faults tbody"),
    rules.length
      ? rules.map((rule) =>
          h(
            "tr",
            {},
            h("td", {}, h("code", {}, rule.id)),
            h("td", {}, rule.method || "any"),
            h("td", { class: "url" }, rule.path),
            h("td", {}, rule.error ? `${rule.error.status} ${rule.error.code} ${rule.error.message}` : ""),
            h("td", {}, rule.latency_ms ? `${rule.latency_ms} ms` : ""),
            h("td", {}, rule.remaining === null || rule.remaining === undefined ? "∞" : String(rule.remaining)),
            h("td", {}, `${rule.matched} / ${rule.fired}`),
            h("td", {}, h("button", { type: "button", class: "mini", onclick: () => removeFault(rule.id) }, "Remove")),
          ),
        )
      : h("tr", {}, h("td", { colspan: 8, class: "muted" }, "No rule: every request reaches the emulator.")),
  );
}

async function addFault(event) {
  event.preventDefault();
  const form = event.target;
  const rule = { path: form.path.value.trim() };
  if (form.method.value) rule.method = form.method.value;
  if (form.status.value) {
    rule.error = { status: Number(form.status.value), code: Number(form.code.value || form.status.value), message: form.message.value || "Injected fault" };
  }
  if (form.latency_ms.value) rule.latency_ms = Number(form.latency_ms.value);
  if (form.times.value) rule.times = Number(form.times.value);
  if (form.probability.value) rule.probability = Number(form.probability.value);
  if (form.this_account.checked) rule.account = ui.account;
  try {
    await control("POST", "/faults", rule);
    await loadFaults();
  } catch (error) {
    report(error);
  }
}

async function removeFault(id) {
  try {
    await control("DELETE", `/faults/${id}`);
    await loadFaults();
  } catch (error) {
    report(error);
  }
}

// ---- clock ------------------------------------------------------------------------------

async function loadClock(given = null) {
  const clock = given || (await control("GET", "/clock"));
  fill($("#clock-now"), clock.now);
  fill($("#clock-mode"), clock.frozen ? "frozen" : clock.offset_seconds ? `running, ${clock.offset_seconds} s ahead` : "system time");
}

async function setClock(change) {
  try {
    await loadClock(await control("POST", "/clock", change));
  } catch (error) {
    report(error);
  }
}

// ---- state ------------------------------------------------------------------------------

async function reset(all) {
  const what = all ? "everything (every account, the journal, fault rules and webhook deliveries)" : `account ${ui.account}`;
  if (!(await confirmAction(`Reset ${what}? This cannot be undone.`))) return;
  try {
    await control("POST", all ? "/reset" : `/reset?account=${ui.account}`);
    toast(all ? "Everything was reset" : `Account ${ui.account} was reset`);
    ui.conversation = "";
    await refreshAll();
  } catch (error) {
    report(error);
  }
}

async function exportState(all) {
  try {
    const document_ = await control("GET", all ? "/state" : `/state?account=${ui.account}`);
    const blob = new Blob([JSON.stringify(document_, null, 2)], { type: "application/json" });
    const link = h("a", { href: URL.createObjectURL(blob), download: all ? "emulator-state.json" : `emulator-${ui.account}.json` });
    link.click();
  } catch (error) {
    report(error);
  }
}

async function importState(replace) {
  const file = $("#import-file").files[0];
  if (!file) return toast("Choose a state document first", "error");
  if (replace && !(await confirmAction("Replace the whole state with this document?"))) return;
  try {
    const summary = await call(replace ? "PUT" : "POST", "/_emulator/state", { json: await file.text() });
    const result = $("#state-result");
    result.hidden = false;
    fill(result, JSON.stringify(summary, null, 2));
    await refreshAll();
  } catch (error) {
    report(error);
  }
}

// ---- live -------------------------------------------------------------------------------

let liveAbort = null;
let refreshTimer = null;
const pending = { conversations: false, thread: false, participants: false, deliveries: false, accounts: false, all: false };

// Changes arrive in bursts: what they touch is refreshed once, shortly after.
function schedule(what) {
  pending[what] = true;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(flush, 60);
}

async function flush() {
  const work = { ...pending };
  for (const key of Object.keys(pending)) pending[key] = false;
  try {
    if (work.all) return await refreshAll();
    if (work.accounts) await loadAccounts();
    if (work.conversations) await loadConversations();
    if (ui.conversation && ui.tab === "conversations") {
      if (work.thread) await loadThread();
      else if (work.participants) await loadParticipants().then(() => renderMessages());
    }
    if (work.deliveries && ui.tab === "webhooks") await loadDeliveries();
  } catch (error) {
    report(error);
  }
}

function onChange(change) {
  change.received = new Date().toISOString();
  activity.unshift(change);
  if (activity.length > 1000) activity.length = 1000;
  if (ui.tab === "activity") renderActivity();
  if (change.kind === "account") {
    if (change.action === "reset") return schedule("all");
    return schedule("accounts");
  }
  if (change.account !== ui.account) return;
  if (change.kind === "service") schedule("all");
  if (change.kind === "conversation") schedule("conversations");
  if (change.conversation && change.conversation === ui.conversation) {
    schedule(change.kind === "participant" ? "participants" : "thread");
  }
}

function setLive(state, text) {
  const status = $("#live-status");
  status.dataset.state = state;
  fill(status.querySelector(".label"), text);
}

function restartLive() {
  if (liveAbort) liveAbort.abort();
  connectLive();
}

// Reads `/_emulator/events` with fetch (EventSource cannot send the control token) and
// reconnects after a second, resuming from the last event id.
async function connectLive() {
  const abort = new AbortController();
  liveAbort = abort;
  while (!abort.signal.aborted) {
    try {
      const headers = authHeaders();
      if (ui.lastEventId !== null) headers["Last-Event-ID"] = ui.lastEventId;
      const response = await fetch("/_emulator/events", { headers, signal: abort.signal, cache: "no-store" });
      if (response.status === 401) {
        setLive("off", "token needed");
        askToken();
        return;
      }
      if (!response.ok) throw new Error("HTTP " + response.status);
      setLive("on", "live");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
          dispatch(block);
        }
      }
    } catch (error) {
      if (abort.signal.aborted) return;
    }
    setLive("off", "reconnecting");
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function dispatch(block) {
  let event = "message";
  let id = null;
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "id") id = value;
    else if (field === "data") data.push(value);
  }
  if (id !== null) ui.lastEventId = id;
  const payload = data.length ? JSON.parse(data.join("\n")) : {};
  if (event === "hello") return;
  if (event === "reload") return schedule("all");
  if (event === "deliveries") {
    const badge = $("#webhook-badge");
    if (ui.tab !== "webhooks") {
      badge.hidden = false;
      fill(badge, String(Number(badge.textContent || 0) + 1));
    }
    return schedule("deliveries");
  }
  if (event === "change") onChange(payload);
}

// ---- start ------------------------------------------------------------------------------

async function refreshAll() {
  await loadAccounts();
  await loadServices();
  await loadConversations();
  await loadThread();
  refreshTab();
}

function bind() {
  for (const button of document.querySelectorAll("#tabs button")) {
    button.addEventListener("click", () => {
      if (button.dataset.tab === "webhooks") {
        $("#webhook-badge").hidden = true;
        fill($("#webhook-badge"), "");
      }
      if (button.dataset.tab === "activity") renderActivity();
      showTab(button.dataset.tab);
    });
  }
  $("#account").addEventListener("change", async () => {
    const value = $("#account").value.trim();
    if (!/^AC[0-9a-f]{32}$/.test(value)) return toast("An Account SID is AC and 32 hex digits", "error");
    ui.account = value;
    localStorage.setItem("inspector.account", value);
    ui.service = "";
    ui.conversation = "";
    saveLocation();
    await refreshAll().catch(report);
  });
  $("#service").addEventListener("change", async () => {
    ui.service = $("#service").value;
    ui.conversation = "";
    saveLocation();
    await loadConversations().catch(report);
    await loadThread().catch(report);
  });
  $("#search").addEventListener("input", onSearch);
  $("#conversation-form").addEventListener("submit", createConversation);
  $("#participant-form").addEventListener("submit", addParticipant);
  $("#participant-form").kind.addEventListener("change", onParticipantKind);
  $("#composer").addEventListener("submit", post);
  $("#body").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("#composer").requestSubmit();
    }
  });
  $("#post-as").addEventListener("change", onPostAsChange);
  $("#older").addEventListener("click", () => loadOlder().catch(report));
  for (const id of ["#webhook-event", "#webhook-outcome", "#webhook-this-conversation"]) {
    $(id).addEventListener("change", () => loadDeliveries().catch(report));
  }
  $("#webhook-event").addEventListener("input", () => loadDeliveries().catch(report));
  $("#webhook-clear").addEventListener("click", async () => {
    await control("DELETE", `/webhooks/deliveries?account=${ui.account}`).catch(report);
    ui.delivery = null;
    await loadDeliveries().catch(report);
  });
  $("#activity-account-only").addEventListener("change", renderActivity);
  $("#journal-refresh").addEventListener("click", () => loadJournal().catch(report));
  $("#journal-clear").addEventListener("click", async () => {
    await control("DELETE", "/requests").catch(report);
    await loadJournal().catch(report);
  });
  for (const id of ["#journal-path", "#journal-method", "#journal-account-only"]) {
    $(id).addEventListener("change", () => loadJournal().catch(report));
  }
  $("#fault-form").addEventListener("submit", addFault);
  for (const button of document.querySelectorAll("[data-advance]")) {
    button.addEventListener("click", () => setClock({ advance_seconds: Number(button.dataset.advance) }));
  }
  $("#advance-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setClock({ advance_seconds: Number(event.target.seconds.value || 0) });
  });
  $("#freeze-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setClock({ freeze_at: event.target.at.value.trim() });
  });
  $("#freeze-now").addEventListener("click", () => setClock({ freeze_at: new Date().toISOString() }));
  $("#clock-reset").addEventListener("click", async () => {
    await control("DELETE", "/clock").catch(report);
    await loadClock().catch(report);
  });
  const confirmSetting = localStorage.getItem("inspector.confirmResets");
  $("#confirm-resets").checked = confirmSetting !== "off";
  $("#confirm-resets").addEventListener("change", () => localStorage.setItem("inspector.confirmResets", $("#confirm-resets").checked ? "on" : "off"));
  $("#reset-account").addEventListener("click", () => reset(false));
  $("#reset-all").addEventListener("click", () => reset(true));
  $("#export-account").addEventListener("click", () => exportState(false));
  $("#export-all").addEventListener("click", () => exportState(true));
  $("#import-merge").addEventListener("click", () => importState(false));
  $("#import-replace").addEventListener("click", () => importState(true));
  $("#token-button").addEventListener("click", askToken);
  // Escape goes back from a conversation to the list, as in a mail client.
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && document.activeElement === document.body && ui.conversation) {
      ui.conversation = "";
      saveLocation();
      loadThread().catch(report);
      renderConversations();
    }
  });
  // The journal has no live stream (it grows with every API request): it is re-read while
  // its tab is in view.
  setInterval(() => {
    if (ui.tab === "journal" && !document.hidden) loadJournal().catch(() => {});
  }, 2000);
}

async function start() {
  bind();
  showTab(ui.tab);
  onParticipantKind();
  connectLive();
  await refreshAll().catch(report);
  document.body.dataset.ready = "true";
}

start();
