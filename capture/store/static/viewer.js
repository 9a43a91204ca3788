// capture viewer: polls /viewer/api/* about once a second and renders threads.
// Every stored value is untrusted: the DOM is built with createElement + textContent only,
// never innerHTML, and URLs from data are shown as text, never followed or loaded.
"use strict";

const POLL_MS = 1000;
const TOKEN_KEY = "capture.viewer.token";
const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  skew: 0,              // server clock minus client clock, in ms
  version: null,        // version of the thread snapshot on screen
  route: null,
  timer: null,
  generation: 0,        // bumps on every tick, so a stale in-flight poll never reschedules
  images: new Map(),    // cache key -> object URL (image versions are immutable)
  shown: new Set(),     // cache keys the current render uses; the rest are released
};

// A token in the URL (?token=...) is moved into sessionStorage and out of the address bar.
(function takeTokenFromUrl() {
  const url = new URL(location.href);
  const token = url.searchParams.get("token");
  if (token !== null) {
    state.token = token;
    sessionStorage.setItem(TOKEN_KEY, token);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
})();

class AuthNeeded extends Error {}

function headers() {
  return state.token ? { Authorization: "Bearer " + state.token } : {};
}

async function api(path) {
  const response = await fetch(path, { headers: headers(), cache: "no-store" });
  if (response.status === 401) throw new AuthNeeded();
  if (response.status === 404) return null;
  if (!response.ok) throw new Error("HTTP " + response.status + " from " + path);
  return response.json();
}

// -- small DOM helpers (text only) ----------------------------------------------------------

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function pretty(value) {
  return el("pre", { text: JSON.stringify(value, null, 2) });
}

function str(value) {
  return typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value);
}

function setStatus(text, isError) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", Boolean(isError));
}

// -- time ---------------------------------------------------------------------------------

function serverNow() {
  return Date.now() + state.skew;
}

function noteServerTime(iso) {
  const t = Date.parse(iso);
  if (!Number.isNaN(t)) state.skew = t - Date.now();
}

function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + "s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + "m " + (s % 60) + "s";
  const h = Math.floor(m / 60);
  return h + "h " + (m % 60) + "m";
}

function ago(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? "" : duration(serverNow() - t) + " ago";
}

// Every live value carries its expiry (null = never); refreshClocks fills in the countdown.
function expiryBadge(item) {
  if (!item.expiry) return el("span", { class: "expiry", text: "no expiry" });
  return el("span", { class: "expiry", dataset: { expiry: item.expiry } });
}

function refreshClocks() {
  for (const node of document.querySelectorAll("[data-expiry]")) {
    const left = Date.parse(node.dataset.expiry) - serverNow();
    node.textContent = left > 0 ? "expires in " + duration(left) : "expired";
    node.classList.toggle("expired", left <= 0);
  }
  for (const node of document.querySelectorAll("[data-ago]")) node.textContent = ago(node.dataset.ago);
}

// -- images: fetched with the token header, shown from blob: URLs -------------------------

async function imageUrl(thread, key, at, cacheKey) {
  if (state.images.has(cacheKey)) return state.images.get(cacheKey);
  const query = new URLSearchParams({ thread, key });
  if (at) query.set("at", at);
  const response = await fetch("/viewer/api/image?" + query, { headers: headers() });
  if (response.status === 401) throw new AuthNeeded();
  if (!response.ok) return null;
  const url = URL.createObjectURL(await response.blob());
  state.images.set(cacheKey, url);
  return url;
}

function imageNode(thread, key, at, cacheKey, alt) {
  const img = el("img", { alt });
  state.shown.add(cacheKey);
  imageUrl(thread, key, at, cacheKey)
    .then((url) => { if (url) img.src = url; else img.replaceWith(el("p", { class: "muted", text: "image no longer stored" })); })
    .catch((error) => { if (error instanceof AuthNeeded) showLogin(); });
  return img;
}

// -- routes -------------------------------------------------------------------------------

function currentRoute() {
  const match = location.hash.match(/^#\/thread\/(.*)$/);
  if (!match) return { view: "list" };
  try {
    return { view: "thread", id: decodeURIComponent(match[1]) };
  } catch {
    return { view: "thread", id: match[1] };  // not percent-encoded: take it as typed
  }
}

// Until the first answer (or refusal) arrives, only "loading…" shows: never an empty page.
function show(view) {
  $("loading").hidden = true;
  $("login").hidden = view !== "login";
  $("list-view").hidden = view !== "list";
  $("thread-view").hidden = view !== "thread";
}

function showLogin(refused) {
  clearTimeout(state.timer);
  show("login");
  $("login-error").hidden = !refused;
  setStatus("token required", true);
  $("token").focus();
}

// -- thread list --------------------------------------------------------------------------

function runBadge(run) {
  if (!run || typeof run !== "object") return el("span", { class: "muted", text: "—" });
  const status = str(run.status) || "unknown";
  return el("span", {}, el("span", { class: "badge " + status.replace(/[^a-z]/gi, ""), text: status }),
    run.name ? " " + str(run.name) : "");
}

function renderList(data) {
  const body = $("threads").querySelector("tbody");
  body.replaceChildren(...data.threads.map((t) => el("tr", { dataset: { thread: t.thread_id } },
    el("td", { class: "id" }, el("a", { href: "#/thread/" + encodeURIComponent(t.thread_id), text: t.thread_id })),
    el("td", {}, runBadge(t.run)),
    el("td", { text: String(t.key_count) }),
    el("td", {}, el("span", { dataset: { ago: t.updated_at || "" }, title: t.updated_at || "" })),
  )));
  $("no-threads").hidden = data.threads.length > 0;
}

// -- thread page --------------------------------------------------------------------------

function partCard(thread, part) {
  const meta = el("div", { class: "meta" }, el("span", { class: "key", text: part.key }), expiryBadge(part));
  const card = el("div", { class: "card part", dataset: { key: part.key } }, meta);
  if (!part.proper_part) {
    card.append(el("p", { class: "warn", text: "Not a Distri Part: the agent receives this value as a JSON text dump." }));
  }
  const p = part.part;
  if (p.kind === "text") {
    card.append(el("pre", { class: "part-text", text: p.text }));
  } else if (p.kind === "image") {
    meta.append(el("span", { text: [p.mime_type, p.name, Math.round(p.bytes / 1024) + " KB"].filter(Boolean).join(" · ") }));
    card.append(imageNode(thread, part.key, null, "now|" + part.key + "|" + part.set_at, part.key));
  } else {
    card.append(el("p", { class: "muted", text: "image by URL (not loaded here): " }), el("pre", { text: p.url }));
  }
  return card;
}

// Step records carry `timings_ms` (the recorder's); plain `timings` are taken as seconds.
function timingsText(record) {
  const inMs = record.timings_ms && typeof record.timings_ms === "object";
  const timings = inMs ? record.timings_ms : record.timings;
  if (!timings || typeof timings !== "object") return "";
  return Object.entries(timings).map(([name, value]) => name + " " + (typeof value === "number"
    ? Math.round(inMs ? value : value * 1000) + " ms" : str(value))).join(" · ");
}

function stepItem(thread, item, openSteps) {
  const record = item.record && typeof item.record === "object" ? item.record : {};
  const status = str(record.status) || (item.record ? "" : "no record");
  const changed = record.changed === false || record.unchanged === true || status === "unchanged"
    ? "unchanged" : record.changed === true ? "changed" : "";
  const thumb = el("div", { class: "thumb" });
  if (item.screenshot) {
    thumb.append(imageNode(thread, "__user_part_screenshot", item.screenshot.set_at,
      "at|" + item.screenshot.set_at, "screenshot of step " + item.step));
  } else if (item.screenshot_from !== undefined) {
    thumb.append(el("span", { class: "muted", text: "same screenshot as step " + item.screenshot_from }));
  } else {
    thumb.append(el("span", { class: "muted", text: "no screenshot stored" }));
  }
  const title = item.step === null ? "capture at " + str(item.set_at) : "Step " + item.step;
  const info = el("div", {},
    el("div", { class: "meta" }, el("strong", { text: title }),
      status ? el("span", { class: "badge " + status.replace(/[^a-z]/gi, ""), text: status }) : null,
      changed ? el("span", { class: "badge " + changed, text: changed }) : null,
      record.time ? el("span", { text: str(record.time) }) : null,
      item.record ? expiryBadge(item) : null),
    el("div", { class: "action", text: str(record.action) }),
    record.url ? el("div", { class: "url", text: str(record.url) + (record.title ? " — " + str(record.title) : "") }) : null,
    el("div", { class: "timings", text: timingsText(record) }),
    record.error ? el("pre", { class: "error", text: str(record.error) }) : null,
    Array.isArray(record.notes) && record.notes.length
      ? el("div", { class: "notes muted", text: record.notes.map(str).join(" · ") }) : null);
  const id = String(item.step === null ? item.set_at : item.step);
  if (item.observation) {
    const details = el("details", { dataset: { id: "obs-" + id } }, el("summary", { text: "observation" }),
      el("pre", { class: "obs-text", text: item.observation.text }));
    info.append(details);
  } else if (item.observation_from !== undefined) {
    info.append(el("div", { class: "muted", text: "observation unchanged since step " + item.observation_from }));
  }
  if (item.record) {
    info.append(el("details", { dataset: { id: "rec-" + id } }, el("summary", { text: "step record" }), pretty(item.record)));
  }
  for (const details of info.querySelectorAll("details")) details.open = openSteps.has(details.dataset.id);
  return el("li", { class: "card step", dataset: { step: id } }, thumb, info);
}

// Object URLs pin their blobs in memory: let go of the ones no longer on screen.
function releaseImages() {
  for (const [cacheKey, url] of state.images) {
    if (!state.shown.has(cacheKey)) { URL.revokeObjectURL(url); state.images.delete(cacheKey); }
  }
}

function renderThread(data) {
  const thread = data.thread_id;
  state.shown = new Set();
  $("thread-title").textContent = thread;
  $("thread-missing").hidden = true;
  $("thread-body").hidden = false;
  $("parts").replaceChildren(...(data.parts.length ? data.parts.map((p) => partCard(thread, p))
    : [el("p", { class: "muted", text: "No user parts: the agent receives nothing from this thread now." })]));
  $("run").replaceChildren(data.run
    ? el("div", { class: "card" }, el("div", { class: "meta" }, runBadge(data.run.value), expiryBadge(data.run)), pretty(data.run.value))
    : el("p", { class: "muted", text: "No run record." }));
  const openSteps = new Set([...$("steps").querySelectorAll("details[open]")].map((d) => d.dataset.id));
  $("steps").replaceChildren(...data.steps.map((item) => stepItem(thread, item, openSteps)));
  if (!data.steps.length) $("steps").append(el("li", { class: "muted", text: "No steps." }));
  $("values").replaceChildren(...(data.values.length ? data.values.map((v) =>
    el("div", { class: "card value", dataset: { key: v.key } },
      el("div", { class: "meta" }, el("span", { class: "key", text: v.key }), expiryBadge(v)), pretty(v.value)))
    : [el("p", { class: "muted", text: "None." })]));
  releaseImages();
}

// -- the poll loop --------------------------------------------------------------------------

async function tick() {
  clearTimeout(state.timer);
  const generation = ++state.generation;
  if (document.hidden) return;  // a background tab does not poll; visibilitychange resumes
  const route = currentRoute();
  if (!state.route || route.view !== state.route.view || route.id !== state.route.id) state.version = null;
  state.route = route;
  try {
    if (route.view === "list") {
      const data = await api("/viewer/api/threads?limit=100");
      if (generation !== state.generation) return;
      noteServerTime(data.now);
      document.title = "capture — threads";
      renderList(data);
      show("list");
    } else {
      const query = new URLSearchParams({ id: route.id });
      if (state.version) query.set("since", state.version);
      const data = await api("/viewer/api/thread?" + query);
      if (generation !== state.generation) return;
      document.title = "capture — " + route.id;
      if (data === null) {
        $("thread-title").textContent = route.id;
        $("thread-missing").hidden = false;
        $("thread-body").hidden = true;
        state.version = null;
      } else {
        noteServerTime(data.now);
        if (!data.unchanged) { renderThread(data); state.version = data.version; }
      }
      show("thread");
    }
    refreshClocks();
    setStatus("live · updated " + new Date().toLocaleTimeString());
  } catch (error) {
    if (generation !== state.generation) return;
    if (error instanceof AuthNeeded) { showLogin(Boolean(state.token)); return; }
    setStatus("cannot reach the store: " + error.message, true);
  }
  state.timer = setTimeout(tick, POLL_MS);
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  state.token = $("token").value;
  sessionStorage.setItem(TOKEN_KEY, state.token);
  $("token").value = "";
  tick();
});
window.addEventListener("hashchange", tick);
document.addEventListener("visibilitychange", () => { if (!document.hidden) tick(); });
setInterval(refreshClocks, 1000);
tick();
