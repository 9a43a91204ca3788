"""Recorded actions -> a task file that `capture run` replays.

Targets: the first candidate the page found unique, in the order role + name, label,
placeholder, test id, text, CSS (the listener checks uniqueness when the action happens), with
`exact` so a name that is a prefix of another ("Cancel 1" / "Cancel 10") does not match both.
`goto` steps come only from URLs the person typed (the start URL, the address bar), and from
back/forward/reload, which a task can only express by URL; navigations a click caused are
replayed by the click, and so is a tab a click opened (the runner follows new tabs). A
sensitive field's text is `${SECRET_n}`, declared as a secret variable with no value: the
value never reaches the task file. An action inside an iframe gets the frame on its target;
scrolls (of the page, a frame's document or an element's own box) become relative dx/dy from
the previous recorded position; an upload names the chosen files, which the browser reveals
by name only, as paths next to the task file.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from capture.actions import text_or_pattern
from capture.errors import TaskError
from capture.live._actions import FOCUSES_FIELD, Action
from capture.live._listener import ElementInfo
from capture.recorder.observe import MIN_SECRET_LENGTH
from capture.tasks import TaskFile, VarSpec

__all__ = ["Export", "export_task"]

_EXACT = ("name", "label", "text", "placeholder")


@dataclass
class Export:
    """The task, and the actions that could not become steps (with why)."""

    task: TaskFile
    skipped: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # uploads: to be placed next to the task


def _target(element: ElementInfo | None, frame: list[dict[str, str]]) -> dict[str, Any] | None:
    if element is None or not element.targets:
        return None
    best: dict[str, Any] = dict(element.targets[0])
    # A name or text written as a pattern (it holds a number the page may change) matches
    # by itself; `exact` is for the literal ones.
    if any(key in best and text_or_pattern(best[key]) == best[key] for key in _EXACT):
        best["exact"] = True
    return {**best, **_in_frame(frame)}


def _in_frame(frame: list[dict[str, str]]) -> dict[str, Any]:
    """The `frame` key of a target: one mapping, or the path of nested frames."""
    if not frame:
        return {}
    return {"frame": frame[0] if len(frame) == 1 else frame}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else url


def _moved(
    action: Action, key: Hashable, scroll: dict[Hashable, tuple[int, int]]
) -> tuple[int, int]:
    """How far a scroll moved from the previous recorded position of the same box (0,0 first)."""
    x, y = scroll.get(key, (0, 0))
    scroll[key] = (action.x, action.y)
    return action.x - x, action.y - y


def _step(action: Action, scroll: dict[Hashable, tuple[int, int]]) -> dict[str, Any] | str:
    """The step for one action, or the reason it has none."""
    target = _target(action.element, action.frame)
    match action.kind:
        case "new_tab":
            return "the runner follows the tab a click opens (a typed URL there is a goto)"
        case "goto" | "reload" | "back" | "forward":
            # Scroll positions are keyed by Action.field_key: (page, document, box).
            for key in [k for k in scroll if isinstance(k, tuple) and k[0] == action.page]:
                del scroll[key]
            return {"goto": {"url": action.value}} if action.value else "no URL"
        case "click" | "dblclick" | "hover" | "check" | "uncheck" if target is not None:
            return {action.kind: target}
        case "fill" if target is not None:
            value = f"${{{action.secret}}}" if action.secret else (action.value or "")
            return {"fill": {**target, "value": value}}
        case "select" if target is not None:
            option: str | list[str] = (
                action.options[0] if len(action.options) == 1 else action.options
            )
            return {"select": {**target, "option": option}}
        case "upload" if target is not None and action.files:
            return {"upload": {**target, "files": list(action.files)}}
        case "drag" if target is not None:
            to = _target(action.to, action.frame)
            return {"drag": {"from": target, "to": to}} if to is not None else "no drop target"
        case "press":
            # On the element that had focus (the runner focuses it first), else on the page.
            return {"press": {**(target or {}), "key": action.value}}
        case "scroll":
            # The page's, a frame document's (by the frame), or an element's own box.
            where = target or _in_frame(action.frame)
            dx, dy = _moved(action, action.field_key, scroll)
            return {"scroll": {**where, "dx": dx, "dy": dy}} if dx or dy else "no movement"
        case "submit":
            return "a form submitted without a click or Enter"
        case "dialog":
            return "dialogs are answered by the person"
    return "no target for the element"


def _more_typing(previous: Action | None, action: Action) -> bool:
    """Whether `action` types into the field the step just before it clicked or typed into
    (the person paused after clicking, or mid-word, longer than `quiet`): a fill focuses the
    field and replaces its text, so that step is part of this one."""
    return (
        previous is not None
        and action.kind == "fill"
        and previous.kind in FOCUSES_FIELD
        and action.field_key is not None
        and previous.field_key == action.field_key
    )


def _hide_literal_secrets(actions: Sequence[Action], secrets: Iterable[str]) -> list[Action]:
    """Typing that contains a configured literal secret becomes a secret variable too."""
    literal = [s for s in secrets if len(s) >= MIN_SECRET_LENGTH]
    taken = {a.secret for a in actions if a.secret}
    out: list[Action] = []
    for action in actions:
        if action.kind == "fill" and action.value and any(s in action.value for s in literal):
            var = next(
                f"SECRET_{n}" for n in range(1, len(taken) + 2) if f"SECRET_{n}" not in taken
            )
            taken.add(var)
            action = replace(action, value=None, secret=var)
        out.append(action)
    return out


def export_task(
    actions: Sequence[Action],
    *,
    name: str,
    base_url: str | None = None,
    secrets: Iterable[str] = (),
) -> Export:
    """The task file for `actions`; raises `TaskError` only if no action has a step.

    `secrets` are configured literal secrets (`capture.secrets`): typed text containing one
    is exported as a variable as well, like a sensitive field's.
    """
    actions = _hide_literal_secrets(actions, secrets)
    steps: list[dict[str, Any]] = []
    skipped: list[str] = []
    files: list[str] = []
    scroll: dict[Hashable, tuple[int, int]] = {}
    variables: dict[str, str] = {}
    previous: Action | None = None
    for action in actions:
        step = _step(action, scroll)
        if isinstance(step, str):
            skipped.append(f"{action.text}: {step}")
            continue
        if _more_typing(previous, action):
            steps.pop()
        steps.append(step)
        previous = action
        files.extend(name for name in action.files if name not in files)
        if action.secret and action.element is not None:
            variables.setdefault(action.secret, f"typed into {action.element.describe()}")
    if not steps:
        raise TaskError("nothing to export: no recorded action became a task step")
    first_url = next((a.value for a in actions if a.kind == "goto" and a.value), None)
    task = TaskFile.model_validate(
        {
            "name": name,
            "base_url": base_url or _origin(first_url or "http://127.0.0.1"),
            "vars": {var: VarSpec(secret=True, description=why) for var, why in variables.items()},
            "steps": steps,
        }
    )
    return Export(task, skipped, files)
