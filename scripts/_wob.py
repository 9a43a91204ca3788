"""The pure parts of `scripts/bench agent`: MiniWoB++'s pages, the page's own ground truth of
what a person can act on, and one reading of both servers' answers.

- `RECORD_LISTENERS` (an init script) and `GROUND_TRUTH` (evaluated after an episode starts)
  read from the page itself which elements are standard controls and which a script made
  clickable: a click or mouse handler set as a property, an attribute or with
  `addEventListener`, a jQuery delegated handler, or a pointer cursor its parent lacks.
  Visible ones only (rendered, and not covered where they lie in the viewport).
- `parse_outline` reads capture's outline and @playwright/mcp's snapshot YAML alike (both
  are `- role "name" [attrs] [ref=eN]: value` lines, nested by indentation), so the agent's
  policy is written once against `Node`s.

Not a benchmark itself (the leading underscore keeps it out of `scripts/bench`'s list).
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass, field
from pathlib import Path


def miniwob_html() -> Path:
    """The `html/` folder of the installed `miniwob` package (found without importing it:
    its Python side pulls in gymnasium and selenium, which the bench does not use)."""
    spec = importlib.util.find_spec("miniwob")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the miniwob package is not installed: run scripts/setup")
    return Path(next(iter(spec.submodule_search_locations))) / "html"


# Before any page script: remember which elements got a click or mouse listener.
RECORD_LISTENERS = """
(() => {
  if (window.__benchListened) return;
  const kinds = new Set(["click", "dblclick", "mousedown", "mouseup", "pointerdown",
                         "pointerup", "touchstart", "touchend"]);
  const marks = new WeakMap();
  const original = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (type, listener, options) {
    if (kinds.has(type) && this instanceof Element) {
      if (!marks.has(this)) marks.set(this, new Set());
      marks.get(this).add(type);
    }
    return original.call(this, type, listener, options);
  };
  Object.defineProperty(window, "__benchListened", { value: (el) => marks.get(el) });
})();
"""

# (refAttribute) => {instruction, controls, clickables}: each element with the refs the
# server wrote on it or on a same-text ancestor or descendant (a ref there stands for it:
# the click lands on the same thing).
GROUND_TRUTH = """
(refAttribute) => {
  const CONTROL = [
    "a[href]", "button", "input:not([type=hidden])", "select", "textarea", "summary",
    "[contenteditable='']", "[contenteditable=true]",
    ...["button", "link", "checkbox", "radio", "tab", "menuitem", "option", "switch",
        "textbox", "combobox", "slider", "spinbutton", "searchbox", "treeitem"]
      .map((role) => `[role=${role}]`),
  ].join(",");
  const HANDLERS = ["onclick", "ondblclick", "onmousedown", "onmouseup", "onpointerdown",
                    "onpointerup"];
  const JQ_TYPES = ["click", "dblclick", "mousedown", "mouseup"];
  const listened = window.__benchListened || (() => undefined);
  const jq = window.jQuery && window.jQuery._data ? window.jQuery : null;
  const delegated = new Set();
  if (jq) {
    for (const host of [document, ...document.querySelectorAll("*")]) {
      const events = jq._data(host, "events");
      if (!events) continue;
      for (const type of JQ_TYPES) {
        for (const handler of events[type] || []) {
          if (!handler.selector) continue;
          try {
            host.querySelectorAll(handler.selector).forEach((el) => delegated.add(el));
          } catch (e) { /* a jQuery-only selector */ }
        }
      }
    }
  }
  const ownListener = (el) => {
    const types = listened(el);
    if (!types) return false;
    const events = jq ? jq._data(el, "events") || {} : {};
    // jQuery's one native listener per type only delegates when all its handlers do.
    return [...types].some((type) => !(events[type] || []).length
      || events[type].some((handler) => !handler.selector));
  };
  const handled = (el) => HANDLERS.some((name) => typeof el[name] === "function")
    || ownListener(el) || delegated.has(el);
  const pointer = (el) => getComputedStyle(el).cursor === "pointer"
    && !(el.parentElement && getComputedStyle(el.parentElement).cursor === "pointer");
  const visible = (el) => {
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) return false;
    const box = el.getBoundingClientRect();
    if (box.width < 1 || box.height < 1) return false;
    const x = box.left + box.width / 2, y = box.top + box.height / 2;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return true;
    const hit = document.elementFromPoint(x, y);
    return !hit || el.contains(hit) || hit.contains(el);
  };
  const text = (el) => (el.innerText || el.textContent || "").trim();
  const describe = (el) => {
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (typeof el.className === "string" && el.className.trim()
        ? "." + el.className.trim().split(/\\s+/).join(".") : "");
    const words = text(el).replace(/\\s+/g, " ");
    return words ? `${name} "${words.slice(0, 40)}"` : name;
  };
  const refs = (el, merged) => {
    const found = new Set();
    const add = (node) => node.getAttribute && node.getAttribute(refAttribute)
      && found.add(node.getAttribute(refAttribute));
    add(el);
    if (merged) {
      const own = text(el);
      for (let up = el.parentElement; up && up !== document.body && text(up) === own;
           up = up.parentElement) add(up);
      if (own) el.querySelectorAll("*").forEach((child) => text(child) === own && add(child));
    }
    return [...found];
  };
  const controls = [];
  const clickables = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.matches(CONTROL)) {
      if (visible(el)) controls.push({ what: describe(el), refs: refs(el, false) });
      continue;
    }
    if (el.closest(CONTROL) || !(handled(el) || pointer(el))) continue;
    if (el.querySelector(CONTROL) || !visible(el)) continue;  // a control inside stands for it
    clickables.push({ what: describe(el), refs: refs(el, true) });
  }
  const query = document.getElementById("query");
  return { instruction: query ? text(query) : "", controls, clickables };
}
"""


@dataclass
class Node:
    """One line of an outline: `role "name" [attrs] [ref=eN]: value`, with its children."""

    role: str
    name: str = ""
    value: str = ""
    ref: str | None = None
    attrs: list[str] = field(default_factory=list)
    depth: int = 0
    children: list[Node] = field(default_factory=list)
    parent: Node | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        """What a person reads on it: its name, else its value, else its children's text."""
        if self.name or self.value:
            return self.name or self.value
        return " ".join(c.label for c in self.children if c.label and not c.role.startswith("/"))


REF = re.compile(r"\[ref=([^\]\s]+)\]")
_LINE = re.compile(r"^(?P<indent> *)- (?P<body>.*)$")
_ATTR = r" \[((?:[^\[\]]|\[[^\]]*\])*)\]"  # [attr], which may hold [brackets] itself
_KEY = re.compile(
    r'^(?P<role>[/\w-]+)(?: "(?P<name>(?:[^"\\]|\\.)*)")?(?P<attrs>(?:' + _ATTR + r")*)$"
)


# An element inside a line of text, as capture writes it: `[link "if" [ref=e12]]`.
_INLINE = re.compile(
    r'\[(?P<role>[a-z][\w-]*)(?: "(?P<name>(?:[^"\\]|\\.)*)")?(?P<attrs>(?: \[[^\[\]]*\])*)\]'
)


def _inline(text: Node, nodes: list[Node]) -> None:
    """The elements with a ref inside a text line become its children; the line reads their
    names in their place."""

    def lift(found: re.Match[str]) -> str:
        attrs = re.findall(r"\[([^\]]*)\]", found["attrs"])
        ref = next((a[4:] for a in attrs if a.startswith("ref=")), None)
        if ref is None:
            return found.group(0)
        name = (found["name"] or "").replace('\\"', '"')
        child = Node(found["role"], name=name, ref=ref, depth=text.depth + 1, parent=text)
        child.attrs = [a for a in attrs if not a.startswith("ref=")]
        text.children.append(child)
        nodes.append(child)
        return name

    text.value = _INLINE.sub(lift, text.value)


def _unquote(text: str) -> str:
    """A YAML scalar as written by either server: plain, "double" or 'single' quoted."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            return str(json.loads(text))
        except ValueError:
            return text[1:-1]
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return text


def _split(body: str) -> tuple[str, str]:
    """`key: value` -> (key, value); a key Playwright quoted as a whole is unquoted."""
    if body.startswith("'"):
        end = body.find("'", 1)
        while end != -1 and body[end + 1 : end + 2] == "'":
            end = body.find("'", end + 2)
        if end != -1:
            return body[1:end].replace("''", "'"), body[end + 1 :].removeprefix(":").strip()
    key, _, value = body.partition(": ")
    return key.removesuffix(":"), value


def parse_outline(text: str) -> list[Node]:
    """Every element line of an outline, in document order (children follow their parent)."""
    nodes: list[Node] = []
    stack: list[Node] = []
    for line in text.splitlines():
        found = _LINE.match(line)
        if found is None:
            continue
        key, value = _split(found["body"])
        shape = _KEY.match(key)
        if shape is None:
            node = Node("text", value=_unquote(found["body"]))
        else:
            attrs = re.findall(_ATTR, shape["attrs"] or "")
            ref = next((a[4:] for a in attrs if a.startswith("ref=")), None)
            name = shape["name"] or ""
            node = Node(
                shape["role"],
                name=name.replace('\\"', '"').replace("\\\\", "\\"),
                value=_unquote(value),
                ref=ref,
                attrs=[a for a in attrs if not a.startswith("ref=")],
            )
        node.depth = len(found["indent"])
        while stack and stack[-1].depth >= node.depth:
            stack.pop()
        if stack:
            node.parent = stack[-1]
            stack[-1].children.append(node)
        stack.append(node)
        nodes.append(node)
        _inline(node, nodes)
    return nodes


def capture_page(answer: str) -> str | None:
    """The page part of a `capture mcp` answer (its changes and other parts left out)."""
    found = re.search(r"^## Page[^\n]*\n(.*?)(?=^## |\Z)", answer, re.S | re.M)
    return found.group(1) if found else None


def playwright_page(answer: str) -> str | None:
    """The snapshot YAML of an @playwright/mcp answer; None when it shows none."""
    found = re.search(r"```yaml\n(.*?)```", answer, re.S)
    return found.group(1) if found else None


def words(text: str) -> list[str]:
    """Letters and digits in order: the instruction is found whatever markup splits it."""
    return re.findall(r"\w+", text.casefold())


def holds(answer: str, instruction: str) -> bool:
    """Whether the instruction's words appear in order, side by side, in the answer's text
    (refs, attributes and roles between them aside)."""
    wanted = words(instruction)
    if not wanted:
        return False
    text = " ".join(
        " ".join(filter(None, (node.name, node.value))) for node in parse_outline(answer)
    )
    return f" {' '.join(wanted)} " in f" {' '.join(words(text))} "
