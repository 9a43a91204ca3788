// capture viewer, the thread as a step player: the filmstrip, the step shown large, what the
// agent receives now. Loaded before viewer.js, whose helpers (state, el, imageNode, ...) it
// calls; viewer.js wires the events and runs the poll loop.
// Every stored value is untrusted: text only (textContent), never innerHTML.
"use strict";

const SCREENSHOT_KEY = "__user_part_screenshot";
const GLANCE_KEY = "capture.glance";
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

// Step records may say how exact their image is (pytest frames): `exact`, `lag_ms`.
function lagText(rec) {
  if (rec.exact === true) return "exact: the page as it was after the step";
  if (typeof rec.lag_ms === "number") return "a frame drawn " + Math.round(rec.lag_ms) + " ms after the action";
  if (rec.exact === false) return "a frame drawn shortly after the action";
  return "";
}

function lagBadge(rec) {
  return rec.exact !== true && typeof rec.lag_ms === "number" && rec.lag_ms > 0 ? "+" + Math.round(rec.lag_ms) + " ms" : "";
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
  const lag = lagBadge(rec);
  link.append(el("span", { class: "frame-label" },
    el("span", { class: "frame-step", text: String(item.step) }),
    failed ? el("span", { class: "frame-failed", text: "failed" }) : null,
    lag ? el("span", { class: "frame-lag", text: lag }) : null,
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
