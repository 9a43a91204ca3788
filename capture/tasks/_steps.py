"""One step on a page: find its target, do it, and describe it in words.

`describe()` is the action text a capture stores and a person reads, so it fills in public
variables and leaves secrets as `${NAME}`. `perform()` maps each step kind onto one
Playwright call with the step's time limit; a failure becomes a `StepFailed` whose reason is
one readable line (Playwright's multi-line call logs are boiled down), with secrets masked.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urljoin, urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from pydantic import BaseModel

from capture.errors import CaptureError, TaskError
from capture.recorder.observe import resolve_ref
from capture.tasks._schema import (
    CaptureStep,
    CheckStep,
    ClickStep,
    DblclickStep,
    DragStep,
    ExpectArgs,
    ExpectStep,
    FillStep,
    GotoStep,
    HoverStep,
    PressStep,
    ScrollStep,
    SelectStep,
    SleepStep,
    StepBase,
    Target,
    TypeStep,
    UncheckStep,
    UploadStep,
    WaitForStep,
    format_duration,
)
from capture.tasks._vars import Vars

__all__ = ["StepContext", "StepFailed", "describe", "locate", "perform", "url_pattern"]

M = TypeVar("M", bound=BaseModel)

# A field whose typed value stays out of the action text: the recorder's sensitive-field rule
# (FIELD in recorder/observe/page.js), or a field inside a `data-capture-redact` area.
_SENSITIVE_JS = """el => el.matches(
  "input[type=password i], [data-capture-sensitive], [autocomplete*='cc-' i], "
  + "[autocomplete*='one-time-code' i], [autocomplete*='password' i]"
) || el.closest("[data-capture-redact]") !== null"""


class StepFailed(TaskError):
    """A step did not do what it says; `reason` is one line, secrets masked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StepContext:
    """What a step needs besides itself: the task's base URL and folder, variables, limits."""

    def __init__(self, base_url: str, folder: Path, variables: Vars) -> None:
        self.base_url = base_url
        self.folder = folder
        self.vars = variables


def _substitute(model: M, sub: Callable[[str], str]) -> M:
    """A copy of `model` with `sub` applied to every string field (nested too): `Vars.expand`
    for the page, `Vars.describe` for people."""
    update: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, str):
            update[name] = sub(value)
        elif isinstance(value, list):
            update[name] = [sub(v) if isinstance(v, str) else v for v in value]
        elif isinstance(value, BaseModel):
            update[name] = _substitute(value, sub)
    return model.model_copy(update=update)


def url_pattern(pattern: str, base_url: str) -> re.Pattern[str]:
    """A URL pattern from a task file as a regex: a path is resolved against base_url; `**`
    matches anything, `*` anything but `/`; without wildcards the URL must be equal."""
    if pattern.startswith("/"):
        parts = urlsplit(base_url)
        pattern = f"{parts.scheme}://{parts.netloc}{pattern}"
    out = []
    for token in re.split(r"(\*\*|\*)", pattern):
        out.append(".*" if token == "**" else "[^/]*" if token == "*" else re.escape(token))
    return re.compile("^" + "".join(out) + "$")


async def locate(page: Page, target: Target) -> Locator:
    """The Playwright locator for a target; refs are resolved in the page as it is now."""
    if target.ref is not None:
        return await resolve_ref(page, target.ref)
    exact = target.exact
    if target.css is not None:
        found = page.locator(target.css)
    elif target.text is not None:
        found = page.get_by_text(target.text, exact=exact)
    elif target.role is not None:
        found = page.get_by_role(cast(Any, target.role), name=target.name, exact=exact)
    elif target.test_id is not None:
        found = page.get_by_test_id(target.test_id)
    elif target.label is not None:
        found = page.get_by_label(target.label, exact=exact)
    elif target.placeholder is not None:
        found = page.get_by_placeholder(target.placeholder, exact=exact)
    else:
        raise TaskError("the step has no target")
    return found.nth(target.nth) if target.nth is not None else found


def _quote(text: str) -> str:
    return repr(text) if len(text) <= 80 else repr(text[:77] + "...")


def describe(step: StepBase, variables: Vars, *, value_hidden: bool = False) -> str:
    """The step in words, e.g. `fill label 'Password' with ${SHOP_PASSWORD}`."""
    shown = _substitute(step, variables.describe)  # secrets stay `${NAME}`
    args = shown.args
    on = args.describe_target() if isinstance(args, Target) else ""
    match shown:
        case GotoStep():
            return f"goto {args.url}"
        case FillStep() | TypeStep():
            only_a_secret = re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", args.value)
            value = "[redacted]" if value_hidden and not only_a_secret else _quote(args.value)
            return f"{shown.kind} {on} with {value}"
        case PressStep():
            return f"press {args.key}" + (f" on {on}" if args.has_target else "")
        case SelectStep():
            options = args.option if isinstance(args.option, list) else [args.option]
            return f"select {', '.join(map(_quote, options))} in {on}"
        case ClickStep() | DblclickStep() | CheckStep() | UncheckStep() | HoverStep():
            return f"{shown.kind} {on}"
        case DragStep():
            return f"drag {args.from_.describe_target()} to {args.to.describe_target()}"
        case ScrollStep():
            if not args.by:
                return f"scroll to {on}"
            where = f" in {on}" if args.has_target else args.in_frame()
            return f"scroll by {args.dx}, {args.dy}{where}"
        case WaitForStep():
            if args.url is not None:
                return f"wait for URL {args.url}"
            if args.load_state is not None:
                return f"wait for load state {args.load_state}"
            return f"wait for {on} to be {args.state}"
        case ExpectStep():
            return "expect " + ", ".join(_expectations(args))
        case CaptureStep():
            return f"capture: {args.label}"
        case UploadStep():
            files = args.files if isinstance(args.files, list) else [args.files]
            return f"upload {', '.join(Path(f).name for f in files)} to {on}"
        case SleepStep():
            return f"sleep {format_duration(shown.sleep)}"
    return shown.kind


def _expectations(args: ExpectArgs) -> list[str]:
    wanted = []
    if args.has_target:
        wanted.append(f"{args.describe_target()} visible")
    if args.url is not None:
        wanted.append(f"URL {args.url}")
    if args.url_matches is not None:
        wanted.append(f"URL matching /{args.url_matches}/")
    if args.title is not None:
        wanted.append(f"title containing {_quote(args.title)}")
    return wanted


def _reason(exc: BaseException, limit: float) -> str:
    """Playwright's error as one line: the headline, plus the last call-log entry."""
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    head = re.sub(r"^[A-Za-z]+\.[A-Za-z_]+: ", "", lines[0]) if lines else type(exc).__name__
    log = [line.removeprefix("- ").strip() for line in lines if line.startswith("- ")]
    if isinstance(exc, PlaywrightTimeoutError | TimeoutError):
        detail = f" ({log[-1]})" if log else ""
        return f"timed out after {limit:g}s{detail}"
    if "strict mode violation" in head:
        count = re.search(r"resolved to (\d+) elements", head)
        n = count.group(1) if count else "several"
        return f"the target matches {n} elements; make it specific or add nth"
    return head


async def _check_expectations(page: Page, args: ExpectArgs, ctx: StepContext, ms: float) -> None:
    if args.has_target:
        found = await locate(page, args.target())
        try:
            await expect(found.first).to_be_visible(timeout=ms)
        except AssertionError:
            raise StepFailed(
                f"expected {args.describe_target()} to be visible; it is not"
            ) from None
    if args.url is not None:
        try:
            await expect(page).to_have_url(url_pattern(args.url, ctx.base_url), timeout=ms)
        except AssertionError:
            raise StepFailed(f"expected URL {args.url}; the page is at {page.url}") from None
    if args.url_matches is not None:
        try:
            await expect(page).to_have_url(re.compile(args.url_matches), timeout=ms)
        except AssertionError:
            raise StepFailed(
                f"expected the URL to match /{args.url_matches}/; the page is at {page.url}"
            ) from None
    if args.title is not None:
        try:
            await expect(page).to_have_title(re.compile(re.escape(args.title)), timeout=ms)
        except AssertionError:
            title = await page.title()
            raise StepFailed(
                f"expected the title to contain {_quote(args.title)}; it is {_quote(title)}"
            ) from None


def _files(paths: str | list[str], folder: Path) -> list[Path]:
    found = []
    for name in [paths] if isinstance(paths, str) else paths:
        path = Path(name).expanduser()
        path = path if path.is_absolute() else folder / path
        if not path.is_file():
            raise StepFailed(f"file to upload not found: {path}")
        found.append(path)
    return found


async def _is_sensitive(found: Locator) -> bool:
    """Whether a field's typed value must stay out of the action text.

    Unknown (the field went away after the action) counts as sensitive: hiding a public
    value costs a little clarity, showing a secret cannot be undone.
    """
    try:
        return bool(await found.evaluate(_SENSITIVE_JS, timeout=1000))
    except PlaywrightError:
        return True


async def _perform(page: Page, step: StepBase, ctx: StepContext, seconds: float) -> bool:
    """Do the step; True when the value it typed must be hidden from the action text."""
    ms = seconds * 1000
    args = step.args
    match step:
        case GotoStep():
            await page.goto(urljoin(ctx.base_url, args.url), wait_until=args.wait_until, timeout=ms)
        case ClickStep():
            await (await locate(page, args)).click(timeout=ms)
        case FillStep():
            found = await locate(page, args)
            await found.fill(args.value, timeout=ms)
            return await _is_sensitive(found)
        case TypeStep():
            found = await locate(page, args)
            await found.press_sequentially(args.value, delay=args.delay, timeout=ms)
            return await _is_sensitive(found)
        case PressStep():
            if args.has_target:
                await (await locate(page, args)).press(args.key, timeout=ms)
            else:
                await page.keyboard.press(args.key)
        case SelectStep():
            await (await locate(page, args)).select_option(args.option, timeout=ms)
        case CheckStep():
            await (await locate(page, args)).check(timeout=ms)
        case UncheckStep():
            await (await locate(page, args)).uncheck(timeout=ms)
        case HoverStep():
            await (await locate(page, args)).hover(timeout=ms)
        case ScrollStep():
            if args.has_target:
                await (await locate(page, args)).scroll_into_view_if_needed(timeout=ms)
            else:
                await page.evaluate("([x, y]) => window.scrollBy(x, y)", [args.dx, args.dy])
        case WaitForStep():
            if args.url is not None:
                await page.wait_for_url(url_pattern(args.url, ctx.base_url), timeout=ms)
            elif args.load_state is not None:
                await page.wait_for_load_state(args.load_state, timeout=ms)
            else:
                # Any match will do: waiting is about the page reaching a state.
                found = await locate(page, args)
                await found.first.wait_for(state=args.state, timeout=ms)
        case ExpectStep():
            await _check_expectations(page, args, ctx, ms)
        case UploadStep():
            files = _files(args.files, ctx.folder)
            await (await locate(page, args)).set_input_files(files, timeout=ms)
        case SleepStep():
            await asyncio.sleep(step.sleep.total_seconds())
        case CaptureStep():
            pass  # the capture after every step is this step's whole point
    return False


async def perform(page: Page, step: StepBase, ctx: StepContext, seconds: float) -> str:
    """Do one step within `seconds`; return its action text. Raises `StepFailed`."""
    # Playwright enforces the limit on each call; the outer guard catches what has none
    # (a page script that never yields, a keyboard press into a hung renderer).
    guard = seconds + 2 + (step.sleep.total_seconds() if isinstance(step, SleepStep) else 0)
    try:
        async with asyncio.timeout(guard):
            hidden = await _perform(page, _substitute(step, ctx.vars.expand), ctx, seconds)
    except StepFailed as exc:
        raise StepFailed(ctx.vars.mask(exc.reason)) from None
    except (PlaywrightError, TimeoutError) as exc:
        raise StepFailed(ctx.vars.mask(_reason(exc, seconds))) from exc
    except CaptureError as exc:  # an unknown or stale ref, a missing variable
        raise StepFailed(ctx.vars.mask(str(exc))) from exc
    return describe(step, ctx.vars, value_hidden=hidden)
