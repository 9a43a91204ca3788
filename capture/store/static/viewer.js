// capture viewer: polls /viewer/api/* about once a second; a thread plays as a step player
// (player.js). Every stored value is untrusted: the DOM is built with createElement +
// textContent only, never innerHTML, and URLs from data are shown as text, never followed.
"use strict";

const POLL_MS = 1000;
const TOKEN_KEY = "capture.viewer.token";
const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  skew: 0,              // server clock minus client clock, in ms
  version: null,        // version of the thread snapshot on screen
  data: null,           // that snapshot
  route: null,
  timer: null,
  generation: 0,        // bumps on every tick, so a stale in-flight poll never reschedules
  images: new Map(),    // cache key -> object URL (image versions are immutable)
  shown: new Set(),     // cache keys the current render uses; the rest are released
  zoom: false,          // the step's screenshot at its own size rather than fitted
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

function kb(bytes) {
  return bytes >= 1024 ? (bytes / 1024).toFixed(1) + " KB" : bytes + " bytes";
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

// "5 min ago", as a person says how long ago something went.
function roughly(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + " s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " min";
  const h = Math.floor(m / 60);
  return h + " h " + (m % 60) + " min";
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
    node.textContent = left > 0 ? "expires in " + duration(left) : "expired " + roughly(-left) + " ago";
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

function imageNode(thread, key, at, alt, onload) {
  const cacheKey = (at ? "at|" + key + "|" + at : "now|" + key);
  const img = el("img", { alt });
  if (onload) img.addEventListener("load", () => onload(img));
  state.shown.add(cacheKey);
  imageUrl(thread, key, at, cacheKey)
    .then((url) => { if (url) img.src = url; else img.replaceWith(el("p", { class: "muted", text: "image no longer stored" })); })
    .catch((error) => { if (error instanceof AuthNeeded) showLogin(); });
  return img;
}

// Object URLs pin their blobs in memory: let go of the ones no longer on screen.
function releaseImages() {
  for (const [cacheKey, url] of state.images) {
    if (!state.shown.has(cacheKey)) { URL.revokeObjectURL(url); state.images.delete(cacheKey); }
  }
}

// -- routes: #/ · #/thread/<id> (follows the newest step) · #/thread/<id>/step/<n> ----------

function decode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;  // not percent-encoded: take it as typed
  }
}

function currentRoute() {
  const match = location.hash.match(/^#\/thread\/(.+?)(?:\/step\/(\d+))?$/s);
  if (!match) return { view: "list" };
  return { view: "thread", id: decode(match[1]), step: match[2] === undefined ? null : Number(match[2]) };
}

function stepHash(id, step) {
  return "#/thread/" + encodeURIComponent(id) + "/step/" + step;
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

function statusBadge(status) {
  const tone = status && status.tone ? status.tone : "none";
  return el("span", { class: "badge tone-" + tone, text: status ? status.label : "no run record" });
}

function renderList(data) {
  const body = $("threads").querySelector("tbody");
  body.replaceChildren(...data.threads.map((t) => {
    const run = t.run && typeof t.run === "object" ? t.run : {};
    return el("tr", { dataset: { thread: t.thread_id, tone: t.status.tone } },
      el("td", { class: "id" }, el("a", { href: "#/thread/" + encodeURIComponent(t.thread_id), text: t.thread_id })),
      el("td", {}, statusBadge(t.status)),
      el("td", { text: [str(run.name), str(run.source)].filter(Boolean).join(" · ") }),
      el("td", { text: typeof run.steps === "number" ? String(run.steps) : "" }),
      el("td", { text: String(t.key_count) }),
      el("td", {}, el("span", { dataset: { ago: t.updated_at || "" }, title: t.updated_at || "" })));
  }));
  const filtered = Boolean($("search").value || $("status-filter").value);
  $("no-threads").textContent = filtered ? "No thread matches." : "No threads with live values yet.";
  $("no-threads").hidden = data.threads.length > 0;
  $("list-partial").hidden = data.complete !== false;
}

function listPath() {
  const query = new URLSearchParams({ limit: "100" });
  if ($("search").value.trim()) query.set("q", $("search").value.trim());
  if ($("status-filter").value) query.set("status", $("status-filter").value);
  return "/viewer/api/threads?" + query;
}

// -- the poll loop --------------------------------------------------------------------------

async function tick() {
  clearTimeout(state.timer);
  const generation = ++state.generation;
  if (document.hidden) return;  // a background tab does not poll; visibilitychange resumes
  const route = currentRoute();
  if (!state.route || route.view !== state.route.view || route.id !== state.route.id) {
    state.version = null;
    state.data = null;
    state.index = undefined;
  }
  state.route = route;
  try {
    if (route.view === "list") {
      const data = await api(listPath());
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
      if (data === null) {
        document.title = "capture — " + route.id;
        $("thread-title").textContent = route.id;
        $("thread-missing").hidden = false;
        $("thread-body").hidden = true;
        $("run-status").textContent = "";
        $("now-summary").replaceChildren();
        state.version = null;
        state.data = null;
        show("thread");
      } else {
        noteServerTime(data.now);
        show("thread");  // first, so the current thumbnail can be scrolled into view
        if (!data.unchanged) { renderThread(data); state.version = data.version; }
      }
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

// A new address in the same thread re-renders the player at once from the snapshot on
// screen; the poll then only asks whether the thread moved.
function onAddress() {
  const route = currentRoute();
  if (state.data && state.route && route.view === "thread" && route.id === state.route.id) {
    state.route = route;
    renderPlayer();
  }
  tick();
}

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
  if ($("thread-view").hidden || !state.data) return;
  const moves = { ArrowLeft: -1, k: -1, ArrowRight: 1, j: 1 };
  if (event.key in moves) go(moves[event.key]);
  else if (event.key === "Home") go(0, 0);
  else if (event.key === "End") go(0, frames().length - 1);
  else return;
  event.preventDefault();
});
$("prev").addEventListener("click", () => go(-1));
$("next").addEventListener("click", () => go(1));
$("zoom").addEventListener("click", toggleZoom);
$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  state.token = $("token").value;
  sessionStorage.setItem(TOKEN_KEY, state.token);
  $("token").value = "";
  tick();
});
$("filters").addEventListener("submit", (event) => { event.preventDefault(); tick(); });
$("search").addEventListener("input", tick);
$("status-filter").addEventListener("change", tick);
window.addEventListener("hashchange", onAddress);
document.addEventListener("visibilitychange", () => { if (!document.hidden) tick(); });
setInterval(refreshClocks, 1000);
tick();
