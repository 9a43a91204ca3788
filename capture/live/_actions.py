"""From the listener's events to the person's actions: pure logic, no browser.

The `ActionBuilder` folds what the page reports into actions a person would name: a burst of
keystrokes into one field is one "typed into" action, a click into a text field that is
followed by typing is part of that typing, the clicks of a double click are one "dblclick",
and a submit caused by a click or Enter is not an action of its own. It holds at most one
*pending* action (typing, a click that a second click may make a double click, a scroll) until
something else happens or the person has been quiet for `quiet` seconds.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Literal

from capture.live._listener import ElementInfo, PageEvent

__all__ = ["FOCUSES_FIELD", "Action", "ActionBuilder", "ActionKind"]

ActionKind = Literal[
    "goto",
    "click",
    "dblclick",
    "hover",
    "drag",
    "upload",
    "fill",
    "press",
    "select",
    "check",
    "uncheck",
    "scroll",
    "submit",
    "new_tab",
    "reload",
    "back",
    "forward",
    "dialog",
]
# Actions that change nothing a capture could show (the dialog blocks screenshots until the
# person answers it; the observation after the next action reports it).
_NOT_CAPTURED = frozenset({"dialog"})
# Actions that put the focus in a field: typing into that field right after one of them is
# the same action (a fill focuses the field and replaces its text). The builder merges them
# while they are pending, the export when a pause split them.
FOCUSES_FIELD = frozenset({"click", "dblclick", "fill"})
_TYPING_GRACE = 3.0
# A click waits this long at most for the second click of a double click (Chromium's double
# click time on Linux), not the whole `quiet`: a person may close the tab soon after.
_DOUBLE_CLICK = 0.5


@dataclass
class Action:
    """One thing the person did, in the page `page` (an opaque key: the recorder's Page)."""

    kind: ActionKind
    page: Hashable
    element: ElementInfo | None = None
    value: str | None = None  # typed text (None when sensitive), URL, key, dialog message
    options: list[str] = field(default_factory=list)  # chosen option values of a select
    labels: list[str] = field(default_factory=list)  # ... and their text, as the person saw it
    secret: str | None = None  # the ${VAR} that stands for a sensitive field's value
    # The iframe(s) it happened in, outermost first, each as {name|url|title: ...}; empty in
    # the top document.
    frame: list[dict[str, str]] = field(default_factory=list)
    to: ElementInfo | None = None  # where a drag ended
    files: list[str] = field(default_factory=list)  # names of the files chosen for an upload
    field_key: tuple[Hashable, str, int] | None = None
    x: int = 0
    y: int = 0
    at: float = 0.0  # when its last event came (loop time; 0 for what Python saw itself)

    @property
    def captured(self) -> bool:
        return self.kind not in _NOT_CAPTURED

    @property
    def text(self) -> str:
        """What the person did, as the observation's action line says it."""
        what = self.element.describe() if self.element is not None else "the page"
        if self.frame:
            what += " in frame " + " > ".join(repr(next(iter(f.values()))) for f in self.frame)
        match self.kind:
            case "goto":
                return f"went to {self.value}"
            case "click":
                return f"clicked {what}"
            case "dblclick":
                return f"double-clicked {what}"
            case "hover":
                return f"hovered over {what}"
            case "drag":
                to = self.to.describe() if self.to is not None else "the page"
                return f"dragged {what} to {to}"
            case "upload":
                names = ", ".join(f"'{name}'" for name in self.files) or "no file"
                return f"chose {names} in {what}"
            case "fill":
                return f"typed into {what}"
            case "press":
                return f"pressed {self.value}" + (f" in {what}" if self.element else "")
            case "select":
                chosen = ", ".join(f"'{o}'" for o in self.labels or self.options) or "nothing"
                return f"selected {chosen} in {what}"
            case "check" | "uncheck":
                return f"{self.kind}ed {what}"
            case "scroll":
                where = f" in {what}" if self.element else ""
                return f"scrolled to x={self.x}, y={self.y}{where}"
            case "submit":
                return f"submitted {what}"
            case "new_tab":
                return f"switched to a new tab: {self.value or 'about:blank'}"
            case "reload":
                return f"reloaded {self.value}"
            case "back" | "forward":
                return f"went {self.kind} to {self.value}"
            case "dialog":
                return f"a dialog opened: {self.value}"


class ActionBuilder:
    """Turns events into actions; `feed`/`add` return the actions that are complete now."""

    def __init__(self, quiet: float = 1.0) -> None:
        self.quiet = quiet
        self.untrusted = 0
        self._pending: Action | None = None
        self._deadline: float | None = None
        self._secrets: dict[tuple[Hashable, str, int], str] = {}
        # Typing completed before its last report came (the person acted in another
        # document at once): the field, and the value its action holds.
        self._unclosed: dict[tuple[Hashable, str, int], str | None] = {}
        self._closed = True  # the pending typing's last report said it was done

    @property
    def pending(self) -> Action | None:
        """The action that more input may still change (typing, a click, a scroll)."""
        return self._pending

    @property
    def deadline(self) -> float | None:
        """When the pending action completes unless more input arrives (loop time)."""
        return self._deadline

    @property
    def secret_names(self) -> list[str]:
        return sorted(set(self._secrets.values()), key=lambda name: int(name.rsplit("_", 1)[1]))

    def feed(
        self,
        page: Hashable,
        event: PageEvent,
        now: float,
        *,
        frame: list[dict[str, str]] | None = None,
    ) -> list[Action]:
        """Take one listener event; untrusted (page script) events are counted, not acted on.

        `frame` describes the iframe the event came from (see `Action.frame`).
        """
        if not event.trusted:
            self.untrusted += 1
            return []
        # A field's key; a page's own scroll is keyed by its document (field 0).
        number = 0 if event.type == "scroll" and event.field is None else event.field
        key = (page, event.doc, number) if number is not None else None
        made = Action("click", page, event.element, frame=frame or [], field_key=key, at=now)
        pending = self._pending
        match event.type:
            case "click":
                # Held: typing may follow (a click into a field is part of it), or a second
                # click (a double click is one action).
                return self._hold(made, now, min(self.quiet, _DOUBLE_CLICK))
            case "dblclick" if pending and pending.kind == "click" and pending.field_key == key:
                pending.kind, pending.at = "dblclick", now
                # Into a text field, typing may still follow (and replaces the selected word).
                return [] if event.text_field else self.flush()
            case "dblclick":
                made.kind = "dblclick"
                return self._emit(made)
            case "hover":
                made.kind = "hover"
                return self._emit(made)
            case "drag":
                made.kind, made.to = "drag", event.to
                return self._emit(made)
            case "upload":
                made.kind, made.files = "upload", list(event.files)
                return self._emit(made)
            case "chooser" if pending and pending.kind == "click" and pending.field_key == key:
                # The click opened a file chooser: the upload that follows is the action.
                self._pending = self._deadline = None
                return []
            case "input":
                return self._typing(made, event, now)
            case "key":
                made.kind, made.value = "press", event.key
                return self._emit(made)
            case "select" if pending and pending.kind == "select" and pending.field_key == key:
                # Arrow keys step a closed select through its options, one change each: one
                # intent, whose choice is the last.
                pending.options, pending.at = [o.value for o in event.options], now
                pending.labels = [o.label for o in event.options]
                self._deadline = now + self.quiet
                return []
            case "select":
                made.kind, made.options = "select", [o.value for o in event.options]
                made.labels = [o.label for o in event.options]
                return self._hold(made, now)
            case "check":
                made.kind = "check" if event.checked else "uncheck"
                return self._emit(made)
            case "submit" if not event.caused:
                made.kind = "submit"
                return self._emit(made)
            case "scroll":
                made.kind, made.x, made.y = "scroll", event.x, event.y
                if pending and pending.kind == "scroll" and pending.field_key == key:
                    pending.x, pending.y, pending.at = event.x, event.y, now
                    self._deadline = now + self.quiet
                    return []
                return self._hold(made, now)
        return []

    def add(self, action: Action) -> list[Action]:
        """An action seen from Python (navigation, new tab, dialog): completes any pending one."""
        return self._emit(action)

    def due(self, now: float) -> list[Action]:
        """The pending action, when the person has been quiet long enough."""
        if self._deadline is not None and now >= self._deadline:
            return self.flush()
        return []

    def flush(self) -> list[Action]:
        """Complete the pending action now (the recording stops)."""
        done, self._pending, self._deadline = self._pending, None, None
        if done is not None and done.kind == "fill" and done.field_key and not self._closed:
            self._unclosed[done.field_key] = done.value
        return [done] if done is not None else []

    def _hold(self, action: Action, now: float, wait: float | None = None) -> list[Action]:
        done = self.flush()
        self._pending, self._deadline = action, now + (self.quiet if wait is None else wait)
        return done

    def _emit(self, action: Action) -> list[Action]:
        return [*self.flush(), action]

    def _typing(self, made: Action, event: PageEvent, now: float) -> list[Action]:
        pending = self._pending
        same_field = pending is not None and pending.field_key == made.field_key
        value = None if event.sensitive else (event.value or "")
        if made.field_key in self._unclosed:
            held = self._unclosed.pop(made.field_key)
            if event.done and not same_field and held == value:
                return []  # the last report of typing already recorded: nothing new
        if same_field and pending is not None and pending.kind in FOCUSES_FIELD:
            made = pending  # the click into the field, or earlier keystrokes: one action
            made.at = now
            made.element = event.element or made.element
            done: list[Action] = []
        else:
            done = self.flush()
        made.kind = "fill"
        made.value = value
        self._closed = event.done
        if event.sensitive and made.field_key is not None:
            made.secret = self._secrets.setdefault(
                made.field_key, f"SECRET_{len(set(self._secrets.values())) + 1}"
            )
        # While the listener has a later report coming, `_TYPING_GRACE` only covers a document
        # that went away without sending it.
        wait = self.quiet if event.done else self.quiet + _TYPING_GRACE
        self._pending, self._deadline = made, now + wait
        return done
