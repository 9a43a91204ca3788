"""A step in words: the action text a capture stores, a step record keeps and a person
reads. Public variables are filled in and secrets stay `${NAME}`; a typed value whose field
turned out to be sensitive is hidden. A ref is named as the latest observation called its
element, `link "Blue Mug" (e10)`, so two steps on different elements read differently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from capture.actions._step import ExpectArgs, StepBase, unhandled
from capture.actions._target import Target, format_duration
from capture.actions._vars import Vars, substitute
from capture.recorder.observe import REDACTED

__all__ = ["describe", "quote"]


def quote(text: str) -> str:
    return repr(text) if len(text) <= 80 else repr(text[:77] + "...")


def _target(target: Target, names: Mapping[str, str]) -> str:
    """`link "Blue Mug" (e10)` for a ref the observation named; else the target's own words."""
    if target.ref is None or target.role is not None or target.ref not in names:
        return target.describe_target()
    text = f"{names[target.ref]} ({target.ref})"
    if target.nth is not None:
        text += f" (match #{target.nth})"
    return text + target.in_frame()


def describe(
    step: StepBase,
    variables: Vars,
    *,
    value_hidden: bool = False,
    names: Mapping[str, str] | None = None,
) -> str:
    """The step in words, e.g. `fill label 'Password' with ${SHOP_PASSWORD}`; `names` says
    what the latest observation called each ref."""
    names = names or {}
    shown = substitute(step, variables.describe)  # secrets stay `${NAME}`
    args = shown.args
    on = _target(args, names) if isinstance(args, Target) else ""
    match shown.kind:
        case "goto":
            return f"goto {args.url}"
        case "fill" | "type":
            only_a_secret = re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", args.value)
            value = REDACTED if value_hidden and not only_a_secret else quote(args.value)
            return f"{shown.kind} {on} with {value}"
        case "press":
            return f"press {args.key}" + (f" on {on}" if args.has_target else "")
        case "select":
            options = args.option if isinstance(args.option, list) else [args.option]
            return f"select {', '.join(map(quote, options))} in {on}"
        case "click" | "dblclick":
            return f"{shown.kind} {on}{args.describe_how()}"
        case "check" | "uncheck" | "hover":
            return f"{shown.kind} {on}"
        case "drag":
            start = args.from_
            if start.frame is not None and start.frame == args.to.frame:  # say it once
                start = start.model_copy(update={"frame": None})
            return f"drag {_target(start, names)} to {_target(args.to, names)}"
        case "scroll":
            if not args.by:
                return f"scroll to {on}"
            where = f" in {on}" if args.has_target else args.in_frame()
            return f"scroll by {args.dx}, {args.dy}{where}"
        case "wait_for":
            if args.url is not None:
                return f"wait for URL {args.url}"
            if args.load_state is not None:
                return f"wait for load state {args.load_state}"
            return f"wait for {on} to be {args.state}"
        case "expect":
            return "expect " + ", ".join(_expectations(args))
        case "capture":
            return f"capture: {args.label}"
        case "upload":
            files = args.files if isinstance(args.files, list) else [args.files]
            return f"upload {', '.join(Path(f).name for f in files)} to {on}"
        case "sleep":
            return f"sleep {format_duration(args)}"
        case _:
            unhandled(shown.kind)


def _expectations(args: ExpectArgs) -> list[str]:
    wanted = []
    if args.has_target:
        wanted.append(f"{args.describe_target()} visible")
    if args.url is not None:
        wanted.append(f"URL {args.url}")
    if args.url_matches is not None:
        wanted.append(f"URL matching /{args.url_matches}/")
    if args.title is not None:
        wanted.append(f"title containing {quote(args.title)}")
    return wanted
