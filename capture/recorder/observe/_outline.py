"""Pure assembly: per-frame results of page.js -> one viewport-first `PageState`.

Kept free of I/O so the async and the sync drivers share every line of it. Coordinates:
page.js reports boxes in its own frame's viewport; here each frame's offset in the top
viewport (the sum of its ancestors' iframe content boxes) is added, and what a frame shows
is clipped by its iframe's box, so "in the viewport" means "the person can see it".
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Error as PlaywrightError

from capture.errors import BrowserError, ConfigError
from capture.recorder.observe._model import PageState, Rect
from capture.recorder.observe._script import frame_prefix

__all__ = [
    "ABOVE_MARKER",
    "BELOW_MARKER",
    "FrameRead",
    "assemble_sensitive",
    "assemble_state",
    "live_frames",
    "ref_names",
    "short_error",
]

BELOW_MARKER = "--- below or beside the viewport (scroll to see) ---"
ABOVE_MARKER = "--- above the viewport (scroll up to see) ---"

# Roles printed only as the context of what they contain (never as a line of their own).
_CONTEXT_ROLES = frozenset(
    {
        "banner",
        "navigation",
        "main",
        "contentinfo",
        "complementary",
        "region",
        "form",
        "search",
        "dialog",
        "alertdialog",
    }
)


@dataclass
class FrameRead:
    """What the driver got for one frame.

    `prefix` is the frame's ref prefix ("" for the main frame, "f1", ...), `parent` the
    parent frame's prefix (None for the main frame), `data` page.js's answer in "walk" or
    "sensitive" mode, `place` its answer in "frame" mode for the frame's iframe element
    (the content box in the parent's viewport). `error` says why a frame could not be read.
    """

    prefix: str
    parent: str | None
    url: str
    data: dict[str, Any] | None = None
    place: dict[str, Any] | None = None
    error: str | None = None

    def record(self, results: Sequence[object]) -> FrameRead:
        """Take the driver's results: [walk] or [walk, place], each page.js's JSON answer or
        an exception.

        Playwright errors (a detached frame, a navigation mid-call) become `error`; any
        other exception is a bug and is raised.
        """
        for result in results:
            if isinstance(result, PlaywrightError):
                self.error = short_error(result)
                return self
            if isinstance(result, BaseException):
                raise result
        answers = [_answer(result) for result in results]
        wants = (_READ_KEYS, _PLACE_KEYS)[: len(answers)]
        whole = [a is not None and k <= a.keys() for a, k in zip(answers, wants, strict=True)]
        if not all(whole):
            # Reads run in an isolated world, where the page cannot garble them: this is a
            # bug, said as a note on this frame rather than a traceback.
            self.error = "page.js gave an answer without what a read needs"
            return self
        self.data = answers[0]
        self.place = answers[1] if len(answers) > 1 else None
        return self

    @classmethod
    def of(cls, page: Any, frame: Any) -> FrameRead:
        """An empty read of `frame` (a Frame of either Playwright API), named by its refs."""
        parent = frame.parent_frame
        return cls(
            frame_prefix(page, frame),
            None if parent is None else frame_prefix(page, parent),
            frame.url,
        )

    def kept(self, frame: Any) -> FrameRead | None:
        """This read, or None for a child frame detached meanwhile (it shows nothing now)."""
        gone = self.error and self.parent is not None and frame.is_detached()
        return None if gone else self


# What a "walk" or "sensitive" answer of page.js holds at least, and a "frame" answer.
_READ_KEYS = frozenset({"url", "viewport", "scroll", "pageSize", "sensitive", "secrets"})
_PLACE_KEYS = frozenset({"x", "y", "width", "height"})


def live_frames(page: Any) -> list[Any]:
    """The frames of `page` still attached, main frame first; a closed page is an error."""
    frames = [f for f in page.frames if not f.is_detached()]
    if not frames:
        raise BrowserError("could not read the page: it is closed")
    return frames


def _answer(result: object) -> dict[str, Any] | None:
    """page.js's JSON answer as a dict, or None when it is not one."""
    try:
        value = json.loads(result)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def short_error(exc: BaseException) -> str:
    """The first line of a Playwright error (the rest is a call log)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _main(reads: Sequence[FrameRead]) -> tuple[dict[str, Any], tuple[int, int]]:
    main = next(r for r in reads if r.parent is None)
    if main.data is None:
        raise BrowserError(f"could not read the page: {main.error}")
    viewport = main.data["viewport"]
    return main.data, (int(viewport[0]), int(viewport[1]))


@dataclass
class _Placement:
    dx: float
    dy: float
    clip: Rect | None  # the part of the top viewport this frame shows; None: nothing


@dataclass
class _Node:
    role: str
    name: str
    rect: Rect
    parent: int
    section: str  # "view" | "below" | "above"
    ref: str | None = None
    level: int | None = None
    states: list[str] = field(default_factory=list)
    value: str | None = None
    parts: list[str | dict[str, Any]] | None = None  # a text with elements inline
    more: int = 0  # characters of a text left out after its cut
    options: list[str] | None = None  # a select's first options
    more_options: int = 0


def _intersect(a: Rect, b: Rect) -> Rect | None:
    x1, y1 = max(a.x, b.x), max(a.y, b.y)
    x2, y2 = min(a.x + a.width, b.x + b.width), min(a.y + a.height, b.y + b.height)
    if x2 <= x1 or y2 <= y1:
        return None
    return Rect(x1, y1, x2 - x1, y2 - y1)


def _check_selectors(reads: Sequence[FrameRead]) -> None:
    for read in reads:
        bad = (read.data or {}).get("invalidSelectors") or []
        if bad:
            raise ConfigError(
                "capture.redact_selectors: not a valid CSS selector: "
                + ", ".join(repr(s) for s in bad)
            )


def _placements(reads: Sequence[FrameRead], viewport: tuple[int, int]) -> dict[str, _Placement]:
    """Offset and visible clip of every frame whose place is known, parents first."""
    out = {"": _Placement(0.0, 0.0, Rect(0, 0, viewport[0], viewport[1]))}
    pending = [r for r in reads if r.parent is not None and r.place is not None]
    progress = True
    while pending and progress:
        progress = False
        for read in list(pending):
            parent = out.get(read.parent or "")
            if parent is None:
                continue
            assert read.place is not None
            p = read.place
            box = Rect(parent.dx + p["x"], parent.dy + p["y"], p["width"], p["height"])
            clip = _intersect(box, parent.clip) if parent.clip else None
            out[read.prefix] = _Placement(box.x, box.y, clip)
            pending.remove(read)
            progress = True
    return out


def _sensitive(
    reads: Sequence[FrameRead], places: dict[str, _Placement], *, strict: bool
) -> tuple[list[Rect], list[str]]:
    rects: list[Rect] = []
    secrets: list[str] = []
    for read in reads:
        if read.data is None:
            if strict and read.parent is not None:
                raise BrowserError(
                    f"could not check frame {read.url} for sensitive fields: {read.error}"
                )
            continue
        for value in read.data.get("secrets", []):
            if value not in secrets:
                secrets.append(value)
        place = places.get(read.prefix)
        if place is None and strict and read.data.get("sensitive"):
            raise BrowserError(f"could not locate frame {read.url}, which has sensitive fields")
        if place is None or place.clip is None:
            continue
        for x, y, w, h in read.data.get("sensitive", []):
            rects.append(Rect(x + place.dx, y + place.dy, w, h))
    return rects, secrets


def assemble_sensitive(reads: Sequence[FrameRead]) -> tuple[list[Rect], list[str]]:
    """Sensitive rects in top-viewport coordinates, and the secret values, of all frames.

    Strict, because the screenshot is masked with these rects: a frame that could not be
    read, or holds sensitive fields but could not be placed, is a `BrowserError` (the
    recorder then skips the screenshot) rather than an unmasked field. Detached frames
    are no longer shown and are not passed in.
    """
    _check_selectors(reads)
    return _sensitive(reads, _placements(reads, _main(reads)[1]), strict=True)


def _section(rect: Rect, clip: Rect | None) -> str:
    if clip is not None:
        # A zero-size element (a visually hidden checkbox) counts where its point is.
        probe = Rect(rect.x, rect.y, max(rect.width, 1), max(rect.height, 1))
        if _intersect(probe, clip) is not None:
            return "view"
    return "above" if rect.y + rect.height <= 0 else "below"


def _frame_nodes(
    reads: Sequence[FrameRead], places: dict[str, _Placement]
) -> tuple[list[_Node], list[str]]:
    """All frames' items as one document-order node list (frame content after its iframe)."""
    by_iframe_ref: dict[str, FrameRead] = {}
    for read in reads:
        if read.place is not None and read.data is not None and "items" in read.data:
            by_iframe_ref[read.place["ref"]] = read
    nodes: list[_Node] = []
    notes: list[str] = []
    placed: set[str] = set()

    def add(read: FrameRead, parent: int) -> None:
        placed.add(read.prefix)
        place = places.get(read.prefix)
        dx, dy = (place.dx, place.dy) if place else (0.0, 0.0)
        clip = place.clip if place else None
        assert read.data is not None
        local: dict[int, int] = {}
        for index, item in enumerate(read.data["items"]):
            x, y, w, h = item["box"]
            rect = Rect(x + dx, y + dy, w, h)
            node = _Node(
                role=item["role"],
                name=item.get("name") or "",
                rect=rect,
                parent=local.get(item["parent"], parent),
                section=_section(rect, clip),
                ref=item.get("ref"),
                level=item.get("level"),
                states=list(item.get("states") or []),
                value=item.get("value"),
                parts=item.get("parts"),
                more=int(item.get("more") or 0),
                options=item.get("options"),
                more_options=int(item.get("moreOptions") or 0),
            )
            local[index] = len(nodes)
            nodes.append(node)
            child = by_iframe_ref.get(node.ref or "") if node.role == "iframe" else None
            if child is not None and child.prefix not in placed:
                add(child, local[index])

    for read in reads:
        if read.parent is None and read.data is not None:
            add(read, -1)
    for read in reads:
        if read.error:
            notes.append(f"frame {read.url or '(no url)'} not readable: {read.error}")
        elif (
            read.data is not None
            and "items" in read.data
            and read.prefix not in placed
            and read.place is not None
            and read.place["width"] > 0
            and read.place["height"] > 0
        ):
            # Its iframe element was not walked (far off-screen): list it last. A frame
            # without area (display: none) shows nothing, so it is left out.
            nodes.append(_Node("iframe", read.url, Rect(0, 1e9, 0, 0), -1, "below"))
            add(read, len(nodes) - 1)
    return nodes, notes


# `role "name" [state]... [ref=e12]` anywhere in a line (a line may hold several refs), or
# `- role [state]... [ref=e12]` at a line's start (an element without a name). A bracket
# between name and ref is a state or an attribute (`[level=2]`, `[type=date]`,
# `[placeholder="a, b…"]`, whose quoted value may hold a `]`).
_NAMED_REF = re.compile(
    r'(?:(?<=[\s\[(])|^)(?P<start>- )?(?P<role>[a-z]+)(?: (?P<name>"(?:[^"\\]|\\.)*"))?'
    r'(?: \[(?!ref=)(?:[^\]"]|"(?:[^"\\]|\\.)*")*\])* \[ref=(?P<ref>(?:f\d+)?e\d+)\]'
)
_NAME_CHARS = 60


def ref_names(outline: Sequence[str]) -> dict[str, str]:
    """What an outline calls each ref: `link "Blue Mug"`, `button` (no name): the words an
    action text names its element by."""
    names: dict[str, str] = {}
    for line in outline:
        for match in _NAMED_REF.finditer(line.lstrip(" ")):
            if not match.group("name") and not (match.group("start") and match.start() == 0):
                continue
            words = match.group("role")
            if match.group("name"):
                name = json.loads(match.group("name"))
                if len(name) > _NAME_CHARS:
                    name = name[: _NAME_CHARS - 1] + "…"
                words += " " + _quote(name)
            names.setdefault(match.group("ref"), words)
    return names


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _element(
    role: str, name: str, level: int | None, states: Sequence[str], ref: str | None
) -> str:
    """`role "name" [level=2] [state] [ref=e3]`: an element, on its line or inline in a text."""
    parts = [role]
    if name:
        parts.append(_quote(name))
    if level is not None:
        parts.append(f"[level={level}]")
    parts.extend(f"[{state}]" for state in states)
    if ref:
        parts.append(f"[ref={ref}]")
    return " ".join(parts)


def _text(node: _Node) -> str:
    """A text's words, with its inline elements as `[link "if" [ref=e12]]`, and a cut's hint."""
    if node.parts is None:
        text = node.name
    else:
        text = "".join(
            part
            if isinstance(part, str)
            else "["
            + _element(part["role"], part["name"], None, part.get("states") or [], part["ref"])
            + "]"
            for part in node.parts
        )
    if node.more:
        text += f"… [+{node.more} chars: browser_snapshot target={node.ref}]"
    return text


def _line(node: _Node) -> str:
    if node.role == "text" or (node.role == "row" and not node.states):  # not a clickable row
        text = _text(node)
        # A block read whole by the ref its cut named: that ref leads the line.
        role = f"{node.role} [ref={node.ref}]" if node.ref and not node.more else node.role
        return f"- {role}: {text}" if text else f"- {role}"
    line = "- " + _element(node.role, node.name, node.level, node.states, node.ref)
    if node.role == "row" and _text(node):
        line += f": {_text(node)}"
    if node.value is not None:
        line += f": {node.value}"
    if node.options is not None:
        shown = [_quote(option) for option in node.options]
        if node.more_options:
            shown.append(f"+{node.more_options} more")
        line += f" [options: {', '.join(shown)}]"
    return line


def _render(nodes: list[_Node]) -> tuple[list[str], int]:
    """Viewport section, then below/beside, then above; each element under its containers.

    Containers (landmarks, iframes, rows) are repeated in each section that shows something
    inside them, so every section reads on its own; an element itself is listed once.
    """
    depth: list[int] = []
    for node in nodes:
        depth.append(depth[node.parent] + 1 if node.parent >= 0 else 0)
    lines: list[str] = []
    in_viewport = 0
    listed: set[int] = set()
    for section, marker in (("view", None), ("below", BELOW_MARKER), ("above", ABOVE_MARKER)):
        members = [
            i
            for i, n in enumerate(nodes)
            if n.section == section and n.role not in _CONTEXT_ROLES and i not in listed
        ]
        if not members:
            continue
        if marker:
            lines.append(marker)
        here: set[int] = set()
        for index in members:
            if index in here:
                continue
            chain = []
            parent = nodes[index].parent
            while parent >= 0 and parent not in here:
                chain.append(parent)
                parent = nodes[parent].parent
            for shown in [*reversed(chain), index]:
                lines.append("  " * depth[shown] + _line(nodes[shown]))
                here.add(shown)
        listed |= here
        if section == "view":
            in_viewport = len(lines)
    return lines, in_viewport


def assemble_state(reads: Sequence[FrameRead]) -> PageState:
    """Build the `PageState` from every frame's "walk" result (the main frame first)."""
    _check_selectors(reads)
    data, viewport = _main(reads)
    places = _placements(reads, viewport)
    nodes, notes = _frame_nodes(reads, places)
    lines, in_viewport = _render(nodes)
    rects, secrets = _sensitive(reads, places, strict=False)
    return PageState(
        url=data["url"],
        title=data["title"],
        viewport=viewport,
        scroll=(round(data["scroll"][0]), round(data["scroll"][1])),
        page_size=(int(data["pageSize"][0]), int(data["pageSize"][1])),
        outline=lines,
        omitted=sum(int((r.data or {}).get("omitted", 0)) for r in reads),
        sensitive_rects=rects,
        secret_values=secrets,
        notes=notes,
        in_viewport=in_viewport,
        partial=any((r.data or {}).get("partial") for r in reads),
    )
