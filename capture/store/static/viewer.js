// capture viewer: polls /viewer/api/* about once a second; a thread plays as a step player.
// Every stored value is untrusted: the DOM is built with createElement + textContent only,
// never innerHTML, and URLs from data are shown as text, never followed or loaded.
"use strict";

const POLL_MS = 1000;
const TOKEN_KEY = "capture.viewer.token";
const SCREENSHOT_KEY = "__user_part_screenshot";
const GLANCE_KEY = "capture.glance";
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

// -- the thread: its steps ----------------------------------------------------------------

function record(item) {
  return item && item.record && typeof item.record === "object" ? item.record : {};
}

function isFailed(item) {
  return record(item).status === "failed" || Boolean(record(item).error);
}

// The steps the player walks: numbered ones, oldest first (as the API sends them).
function frames() {
  return state.data ? state.data.steps.filter((item) => item.step !== null) : [];
}

// The step whose screenshot a step shows: its own, or the earlier one it left unchanged.
function shotOf(item) {
  if (item.screenshot) return item;
  if (item.screenshot_from === undefined) return null;
  return frames().find((other) => other.step === item.screenshot_from) || null;
}

function actionOf(item) {
  return str(record(item).action) || (item.observation ? item.observation.text.split("\n", 1)[0].replace(/^#\s*/, "") : "");
}

function lagText(rec) {
  if (typeof rec.lag_ms === "number") {
    return (rec.exact === false ? "frame drawn " : "drawn ") + Math.round(rec.lag_ms) + " ms after the action";
  }
  if (rec.exact === true) return "exact: the page as it was after the step";
  if (rec.exact === false) return "a frame drawn shortly after the action";
  return "";
}

function thumb(thread, item, index) {
  const source = shotOf(item);
  const action = actionOf(item);
  const failed = isFailed(item);
  const rec = record(item);
  const label = "Step " + item.step + (failed ? " (failed)" : "") + ": " + action;
  const link = el("a", { href: stepHash(thread, item.step), title: label, dataset: { index: String(index) } });
  if (source) {
    link.append(imageNode(thread, SCREENSHOT_KEY, source.screenshot.set_at,
      "Step " + item.step + " screenshot" + (source !== item ? " (unchanged since step " + source.step + ")" : "")));
  } else {
    link.append(el("span", { class: "no-shot", text: "no screenshot" }));
  }
  const lag = typeof rec.lag_ms === "number" ? " · +" + Math.round(rec.lag_ms) + " ms" : "";
  link.append(el("span", { class: "frame-label" },
    el("span", { class: "frame-step", text: String(item.step) }),
    failed ? el("span", { class: "frame-failed", text: "failed" }) : null,
    lag ? el("span", { class: "frame-lag", text: lag.slice(3) }) : null,
    el("span", { class: "frame-action", text: action })));
  return el("li", { class: "frame" + (failed ? " failed" : ""), dataset: { step: String(item.step) } }, link);
}

// The "## Changes since previous capture" section of an observation, line by line.
// A new page says so on the title line ("…: new page (was /): …"), a count is "(18)".
function changesOf(text) {
  const match = text.match(/(?:^|\n)## Changes since previous capture([^\n]*)(?:\n([\s\S]*?))?(?=\n## |$)/);
  if (!match) return null;
  const head = match[1].replace(/^\s*\(\d+\)\s*/, "").replace(/^:\s*/, "");
  const lines = (match[2] || "").replace(/\s+$/, "").split("\n").filter((line) => line !== "");
  return head ? [head, ...lines] : lines;
}

function renderChanges(item) {
  const box = $("step-changes");
  if (!item.observation) {
    box.replaceChildren(el("p", { class: "muted", text: item.observation_from !== undefined
      ? "The agent was given no new observation: the one of step " + item.observation_from + " stood."
      : "No observation of this step is stored." }));
    return;
  }
  const lines = changesOf(item.observation.text);
  if (lines === null) {
    box.replaceChildren(el("p", { class: "muted", text: "The first capture: nothing to compare with." }));
    return;
  }
  box.replaceChildren(el("pre", {}, ...lines.map((line) => el("span", {
    class: line.startsWith("+ ") ? "added" : line.startsWith("- ") ? "removed" : "",
    text: line + "\n" }))));
}

function fact(list, name, value, attrs) {
  if (value === null || value === undefined || value === "") return;
  list.append(el("dt", { text: name }), el("dd", attrs || {}, value));
}

function renderFacts(item) {
  const rec = record(item);
  const facts = $("step-facts");
  facts.replaceChildren();
  const status = str(rec.status) || (item.record ? "" : "no step record");
  fact(facts, "status", status ? el("span", { class: "badge " + (isFailed(item) ? "tone-failed" : status === "ok" ? "tone-ok" : "tone-unknown"), text: status }) : "");
  fact(facts, "URL", str(rec.url), { class: "url" });
  fact(facts, "title", str(rec.title));
  fact(facts, "time", str(rec.time));
  const timings = rec.timings_ms && typeof rec.timings_ms === "object" ? rec.timings_ms : null;
  fact(facts, "timings", timings ? Object.entries(timings).map(([name, ms]) =>
    name + " " + (typeof ms === "number" ? Math.round(ms) + " ms" : str(ms))).join(" · ") : "");
  fact(facts, "image", lagText(rec), { class: "lag" });
  const changed = rec.changed === true ? "changed" : rec.changed === false ? "unchanged" : "";
  fact(facts, "page", changed);
  const source = shotOf(item);
  if (source && source !== item) fact(facts, "screenshot", "unchanged since step " + source.step);
}

function renderRecord(item) {
  const rec = record(item);
  const list = $("step-record");
  list.replaceChildren();
  if (!item.record) {
    list.append(el("dt", { text: "record" }), el("dd", { class: "muted", text: "expired or trimmed; the parts below come from the store's history" }));
  } else if (typeof item.record !== "object") {
    fact(list, "value", str(item.record));
  } else {
    for (const [name, value] of Object.entries(rec)) {
      if (name === "timings_ms" && value && typeof value === "object") {
        fact(list, name, Object.entries(value).map(([k, v]) => k + " " + str(v)).join(" · "));
      } else if (Array.isArray(value)) {
        fact(list, name, value.length ? value.map(str).join(" · ") : "none");
      } else {
        fact(list, name, value === null ? "—" : str(value));
      }
    }
    if (item.expiry) list.append(el("dt", { text: "kept" }), el("dd", {}, expiryBadge(item)));
  }
  $("step-json").hidden = !item.record;
  $("step-json").querySelector("pre").textContent = JSON.stringify(item.record, null, 2);
}

// Masked regions outlined over the screenshot: the record's boxes are in image pixels.
function outlineMasks(figure, img, masks) {
  for (const old of figure.querySelectorAll(".mask")) old.remove();
  if (!img.naturalWidth) return;
  figure.querySelector(".frame-box").style.setProperty("--aspect", String(img.naturalWidth / img.naturalHeight));
  if (!Array.isArray(masks)) return;
  for (const box of masks) {
    if (!Array.isArray(box) || box.length !== 4) continue;
    const [x, y, w, h] = box.map(Number);
    const mask = el("span", { class: "mask", title: "masked: a sensitive field" });
    // Set through the CSSOM: the page's CSP refuses style attributes.
    Object.assign(mask.style, {
      left: (100 * x / img.naturalWidth) + "%", top: (100 * y / img.naturalHeight) + "%",
      width: (100 * w / img.naturalWidth) + "%", height: (100 * h / img.naturalHeight) + "%" });
    figure.querySelector(".frame-box").append(mask);
  }
}

function renderShot(thread, item) {
  const figure = $("shot");
  const source = shotOf(item);
  figure.classList.toggle("zoomed", state.zoom);
  if (!source) {
    figure.replaceChildren(el("p", { class: "muted no-shot", text: "No screenshot of this step is stored." }));
    return;
  }
  const masks = record(source).masks;
  const img = imageNode(thread, SCREENSHOT_KEY, source.screenshot.set_at,
    "Screenshot after step " + item.step + ": " + actionOf(item)
      + (Array.isArray(masks) && masks.length ? " (" + masks.length + " masked region" + (masks.length > 1 ? "s" : "") + " outlined)" : ""),
    (loaded) => outlineMasks(figure, loaded, masks));
  img.id = "shot-img";
  img.addEventListener("click", toggleZoom);
  const caption = [source === item ? "" : "unchanged since step " + source.step,
    Array.isArray(masks) && masks.length ? masks.length + " masked (outlined)" : ""].filter(Boolean).join(" · ");
  figure.replaceChildren(el("div", { class: "frame-box" }, img));
  if (caption) figure.append(el("figcaption", { class: "muted", text: caption }));
}

function renderGlance(thread, item) {
  const run = state.data.run && typeof state.data.run.value === "object" ? state.data.run.value : {};
  const mcp = run.source === "capture mcp";
  $("glance-box").hidden = !item.glance && !mcp;
  if (item.glance) {
    const size = item.glance.bytes ? " (" + kb(item.glance.bytes) + ")" : "";
    $("glance").replaceChildren(
      imageNode(thread, GLANCE_KEY, item.glance.set_at, "The image the MCP client was sent with the answer to step " + item.step),
      el("p", { class: "muted", text: "sent with the answer" + size + ", beside the text" }));
  } else {
    $("glance").replaceChildren(el("p", { class: "muted", text: "No image went with this answer: the page looked as it did in the last one sent." }));
  }
}

function renderPlayer() {
  const data = state.data;
  const thread = data.thread_id;
  const list = frames();
  const route = state.route;
  const hasSteps = list.length > 0;
  $("player").hidden = !hasSteps;
  document.querySelector(".below").hidden = !hasSteps;
  if (!hasSteps) return;
  let index = list.length - 1;
  if (route.step !== null) index = list.findIndex((item) => item.step === route.step);
  for (const frame of $("filmstrip").children) {
    const current = frame.dataset.step === String(route.step === null ? list[list.length - 1].step : route.step);
    frame.classList.toggle("current", current);
    if (current) frame.firstChild.setAttribute("aria-current", "step");
    else frame.firstChild.removeAttribute("aria-current");
  }
  if (index < 0) {
    $("step-title").textContent = "No step " + route.step;
    $("step-position").textContent = "Step " + route.step + " is not in this thread (steps " + list[0].step + "–" + list[list.length - 1].step + " are)";
    for (const id of ["step-action", "step-facts", "step-changes", "shot", "step-observation", "step-record"]) $(id).replaceChildren();
    $("failure").hidden = true;
    $("glance-box").hidden = true;
    $("notes-box").hidden = true;
    return;
  }
  const item = list[index];
  const rec = record(item);
  state.index = index;
  $("prev").disabled = index === 0;
  $("next").disabled = index === list.length - 1;
  $("step-position").textContent = "Step " + item.step + " · " + (index + 1) + " of " + list.length
    + (route.step === null ? " · following the newest" : "");
  $("step-title").replaceChildren("Step " + item.step);
  if (isFailed(item)) $("step-title").append(" ", el("span", { class: "badge tone-failed", text: "failed" }));
  $("step-action").textContent = actionOf(item) || "(no action recorded)";
  $("failure").hidden = !isFailed(item);
  $("failure").textContent = isFailed(item) ? "Failed: " + (str(rec.error) || "this step's status is failed") : "";
  renderShot(thread, item);
  renderFacts(item);
  renderChanges(item);
  renderGlance(thread, item);
  const notes = Array.isArray(rec.notes) ? rec.notes.map(str) : [];
  $("notes-box").hidden = notes.length === 0;
  $("step-notes").replaceChildren(...notes.map((note) => el("li", { text: note })));
  $("step-observation").textContent = item.observation ? item.observation.text
    : item.observation_from !== undefined ? "(unchanged: the observation of step " + item.observation_from + ")" : "(not stored)";
  renderRecord(item);
  const current = $("filmstrip").querySelector(".frame.current");
  if (current) current.scrollIntoView({ block: "nearest", inline: "nearest" });
  document.title = "capture — " + thread + " — step " + item.step;
  refreshClocks();
}

// Moving with the keys replaces the address (the history is not flooded with one entry per
// step); a click on a thumbnail is a link and adds one, as links do.
function go(delta, absolute) {
  const list = frames();
  if (!list.length || !state.route || state.route.view !== "thread") return;
  const at = state.index === undefined ? list.length - 1 : state.index;
  const index = absolute !== undefined ? absolute : Math.max(0, Math.min(list.length - 1, at + delta));
  history.replaceState(null, "", stepHash(state.data.thread_id, list[index].step));
  state.route = currentRoute();
  renderPlayer();
}

function toggleZoom() {
  state.zoom = !state.zoom;
  $("zoom").setAttribute("aria-pressed", String(state.zoom));
  $("shot").classList.toggle("zoomed", state.zoom);
}

// -- the thread: what the agent receives now ------------------------------------------------

function partCard(thread, part, expired) {
  const meta = el("div", { class: "meta" }, el("span", { class: "key", text: part.key }), expiryBadge(part));
  const card = el("div", { class: "card part" + (expired ? " expired" : ""), dataset: { key: part.key } }, meta);
  if (expired) card.append(el("p", { class: "warn", text: "The agent receives nothing from this key now. The last value it got:" }));
  if (!part.proper_part) {
    card.append(el("p", { class: "warn", text: "Not a Distri Part: the agent receives this value as a JSON text dump." }));
  }
  const p = part.part;
  if (p.kind === "text") {
    card.append(el("pre", { class: "part-text", text: p.text }));
  } else if (p.kind === "image") {
    meta.append(el("span", { text: [p.mime_type, p.name, kb(p.bytes)].filter(Boolean).join(" · ") }));
    card.append(imageNode(thread, part.key, expired ? part.set_at : null,
      (expired ? "The last image the agent received from " : "The image the agent receives now from ") + part.key
        + (p.name ? " (" + p.name + ")" : "")));
  } else {
    card.append(el("p", { class: "muted", text: "image by URL (not loaded here): " }), el("pre", { text: p.url }));
  }
  return card;
}

function renderNow(data) {
  const thread = data.thread_id;
  const cards = [...data.parts.map((p) => partCard(thread, p, false)),
    ...data.expired_parts.map((p) => partCard(thread, p, true))];
  $("parts").replaceChildren(...(cards.length ? cards
    : [el("p", { class: "muted", text: "No user parts: the agent receives nothing from this thread now, and none are in the history." })]));
  const summary = $("now-summary");
  const expiries = data.expired_parts.map((p) => p.expiry).filter(Boolean).sort();
  if (expiries.length && !data.parts.some((p) => p.key.startsWith("__user_part_"))) {
    summary.replaceChildren("agent receives nothing: its parts ", el("span", { class: "expiry", dataset: { expiry: expiries[expiries.length - 1] } }));
    summary.className = "now-summary expired";
  } else if (data.parts.length) {
    const soonest = data.parts.map((p) => p.expiry).filter(Boolean).sort()[0];
    summary.replaceChildren("agent receives " + data.parts.length + " part" + (data.parts.length > 1 ? "s" : ""));
    if (soonest) summary.append(", ", el("span", { class: "expiry", dataset: { expiry: soonest } }));
    summary.className = "now-summary";
  } else {
    summary.replaceChildren();
  }
}

function renderThread(data) {
  const thread = data.thread_id;
  state.data = data;
  state.shown = new Set();
  $("thread-title").textContent = thread;
  $("thread-missing").hidden = true;
  $("thread-body").hidden = false;
  const status = $("run-status");
  status.className = "badge tone-" + data.status.tone;
  status.textContent = data.status.label;
  status.title = data.status.failed ? data.status.failed + " failed step(s)" : "";
  const strip = $("filmstrip");
  const scroll = strip.scrollLeft;
  strip.replaceChildren(...frames().map((item, index) => thumb(thread, item, index)));
  strip.scrollLeft = scroll;
  if (!frames().length) strip.append(el("li", { class: "muted", text: "No steps." }));
  renderNow(data);
  $("run").replaceChildren(data.run
    ? el("div", { class: "card" }, el("div", { class: "meta" }, statusBadge(data.status), expiryBadge(data.run)), pretty(data.run.value))
    : el("p", { class: "muted", text: "No run record." }));
  $("values").replaceChildren(...(data.values.length ? data.values.map((v) =>
    el("div", { class: "card value", dataset: { key: v.key } },
      el("div", { class: "meta" }, el("span", { class: "key", text: v.key }), expiryBadge(v)), pretty(v.value)))
    : [el("p", { class: "muted", text: "None." })]));
  renderPlayer();
  releaseImages();
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
