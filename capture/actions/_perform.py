"""One step on a page: find its target and do it within the step's time limit.

`perform()` maps each step kind onto Playwright calls (a target in a frame is looked for in
that frame); a failure becomes a `StepFailed` whose reason is one readable line (Playwright's
multi-line call logs are boiled down), with secrets masked. The dispatch is exhaustive: a
kind with no action fails the type checker, and at run time the step fails instead of
passing silently.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import urljoin

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Locator, Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from capture.actions._describe import describe, quote
from capture.actions._frames import find_frame, url_pattern
from capture.actions._near import near_matches
from capture.actions._select import missing_options
from capture.actions._step import DragArgs, ExpectArgs, StepBase, unhandled
from capture.actions._target import Target, text_or_pattern
from capture.actions._vars import Vars, substitute
from capture.errors import CaptureError, TaskError
from capture.recorder.observe import frame_for_ref, is_sensitive, resolve_ref

__all__ = ["StepContext", "StepFailed", "locate", "perform"]


# Scroll a box by [dx, dy] and resolve once it has landed (at the clamped goal, or where a
# smooth scroll or scroll snapping stopped: still for 100 ms after it moved) and the page
# has seen its scroll events. False when the box cannot scroll in any direction asked for.
_SCROLL_BY = """async (el, [dx, dy, ms]) => {
  const roomX = el.scrollWidth - el.clientWidth, roomY = el.scrollHeight - el.clientHeight;
  if (!((dx && roomX > 0) || (dy && roomY > 0))) return false;
  const clamp = (v, max) => Math.max(0, Math.min(v, Math.max(max, 0)));
  const goal = [clamp(el.scrollLeft + dx, roomX), clamp(el.scrollTop + dy, roomY)];
  const from = [el.scrollLeft, el.scrollTop].join();
  el.scrollBy(dx, dy);
  // Give up on a scroll that never starts (a page that cancels it) after 2 s.
  const end = performance.now() + ms, giveUp = performance.now() + Math.min(ms, 2000);
  let last = from, still = 0;
  while (performance.now() < (last === from ? giveUp : end)) {
    const at = [el.scrollLeft, el.scrollTop];
    if (Math.abs(at[0] - goal[0]) < 0.5 && Math.abs(at[1] - goal[1]) < 0.5) break;
    const key = at.join();
    still = key === last ? still + 1 : 0;
    last = key;
    if (key !== from && still >= 5) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // The page's scroll listeners run with the next rendering (a frame that is not painted
  // has none: then 50 ms will do).
    await Promise.race([
    new Promise((resolve) => requestAnimationFrame(resolve)),
    new Promise((resolve) => setTimeout(resolve, 50)),
  ]);
  return [Math.round(el.scrollLeft), Math.round(el.scrollTop), roomX, roomY];
}"""

# Pointer positions between pressing on a drag's source and releasing on its target: a drag
# needs movement to start, and pointer-event code sees a glide rather than a jump.
_DRAG_MOVES = 12


class StepFailed(TaskError):
    """A step did not do what it says; `reason` is one line, secrets masked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StepContext:
    """What a step needs besides itself: the task's base URL and folder, variables, and what
    the latest observation calls each ref (`names`, for the action text)."""

    def __init__(self, base_url: str, folder: Path, variables: Vars) -> None:
        self.base_url = base_url
        self.folder = folder
        self.vars = variables
        self.names: Mapping[str, str] = {}


class _Limit:
    """A step's time limit as a deadline: each wait in the step gets what is left of it, so
    finding a late frame and then acting in it together stay within the limit."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    @property
    def left(self) -> float:
        """Seconds left; never 0, which Playwright would read as "no limit"."""
        return max(0.001, self._end - time.monotonic())

    @property
    def ms(self) -> float:
        return self.left * 1000


async def _frame(page: Page, target: Target, ctx: StepContext, limit: _Limit) -> Frame:
    """The frame a target is in: its `frame` (waited for), its ref's frame, or the page's."""
    if target.ref is not None:
        frame: Frame = frame_for_ref(page, target.ref)  # RefNotFoundError: its frame is gone
        return frame
    if target.frame is None:
        return page.main_frame
    return await find_frame(page, target.frame, ctx.base_url, limit.left)


async def locate(
    page: Page, target: Target, ctx: StepContext, limit: _Limit, root: Frame | None = None
) -> Locator:
    """The Playwright locator for a target; refs are resolved in the page as it is now.
    `root` is the target's frame when the caller has found it already."""
    if target.ref is not None:
        return await resolve_ref(page, target.ref)
    if root is None:
        root = await _frame(page, target, ctx, limit)
    exact = target.exact
    if target.css is not None:
        found = root.locator(target.css)
    elif target.text is not None:
        found = root.get_by_text(text_or_pattern(target.text) or "", exact=exact)
    elif target.role is not None:
        name = text_or_pattern(target.name)
        found = root.get_by_role(cast(Any, target.role), name=name, exact=exact)
    elif target.test_id is not None:
        found = root.get_by_test_id(target.test_id)
    elif target.label is not None:
        found = root.get_by_label(text_or_pattern(target.label) or "", exact=exact)
    elif target.placeholder is not None:
        found = root.get_by_placeholder(target.placeholder, exact=exact)
    else:
        raise TaskError("the step has no target")
    return found.nth(target.nth) if target.nth is not None else found


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


async def _check_expectations(
    page: Page, args: ExpectArgs, ctx: StepContext, limit: _Limit
) -> None:
    if args.has_target:
        found = await locate(page, args.target(), ctx, limit)
        try:
            await expect(found.first).to_be_visible(timeout=limit.ms)
        except AssertionError:
            raise StepFailed(
                f"expected {args.describe_target()} to be visible; it is not"
            ) from None
    if args.url is not None:
        try:
            await expect(page).to_have_url(url_pattern(args.url, ctx.base_url), timeout=limit.ms)
        except AssertionError:
            raise StepFailed(f"expected URL {args.url}; the page is at {page.url}") from None
    if args.url_matches is not None:
        try:
            await expect(page).to_have_url(re.compile(args.url_matches), timeout=limit.ms)
        except AssertionError:
            raise StepFailed(
                f"expected the URL to match /{args.url_matches}/; the page is at {page.url}"
            ) from None
    if args.title is not None:
        try:
            await expect(page).to_have_title(re.compile(re.escape(args.title)), timeout=limit.ms)
        except AssertionError:
            title = await page.title()
            raise StepFailed(
                f"expected the title to contain {quote(args.title)}; it is {quote(title)}"
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


async def _scroll_by(box: Locator | Frame, dx: int, dy: int, limit: _Limit) -> str | None:
    """Scroll an element's own box (a Locator) or a document (a Frame) by (dx, dy) and wait
    until it has landed; where it landed (`y=80 of 400`: the scroll position and the most
    it can take), or None when the element has no room to scroll that way."""
    args = [dx, dy, limit.ms]
    if isinstance(box, Frame):
        document = "document.scrollingElement || document.documentElement"
        script = f"(arg) => ({_SCROLL_BY})({document}, arg)"
        landed = await box.evaluate(script, args)
    else:
        landed = await box.evaluate(_SCROLL_BY, args, timeout=limit.ms)
    if not landed:
        return None
    left, top, room_x, room_y = landed
    axes = [f"x={left} of {room_x}" if dx else "", f"y={top} of {room_y}" if dy else ""]
    return " ".join(axis for axis in axes if axis)


async def _drag(page: Page, args: DragArgs, ctx: StepContext, limit: _Limit) -> None:
    """Drag as a person does: rest on the source, press, glide to the target, release.

    Real mouse input, so Chromium runs its own drag machinery: HTML5 drag and drop
    (dragstart ... drop) and pointer-event drags (pointerdown, pointermove..., pointerup)
    both see what they would from a hand on a mouse.
    """
    start, end = await _frame(page, args.from_, ctx, limit), await _frame(page, args.to, ctx, limit)
    if start != end:
        raise StepFailed(f"drag within one frame: 'from' is in {start.url}, 'to' in {end.url}")
    source = await locate(page, args.from_, ctx, limit, start)
    target = await locate(page, args.to, ctx, limit, end)
    await source.hover(timeout=limit.ms)  # scrolled into view, stable, reachable
    await page.mouse.down()
    try:
        await target.scroll_into_view_if_needed(timeout=limit.ms)
        box = await target.bounding_box(timeout=limit.ms)
        if box is None:
            raise StepFailed(f"{args.to.describe_target()} is not visible to drop on")
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        await page.mouse.move(x, y, steps=_DRAG_MOVES)
    finally:
        await page.mouse.up()


async def _perform(page: Page, step: StepBase, ctx: StepContext, limit: _Limit) -> bool | str:
    """Do the step; True when the value it typed must be hidden from the action text; for a
    scroll inside an element, where the element's box landed (said in the action text, since
    the screenshot of a scrolled box may look the same to a diff)."""
    args = step.args
    match step.kind:
        case "goto":
            url = urljoin(ctx.base_url, args.url)
            await page.goto(url, wait_until=args.wait_until, timeout=limit.ms)
        case "click" | "dblclick":
            found = await locate(page, args, ctx, limit)
            click = found.click if step.kind == "click" else found.dblclick
            await click(button=args.button, modifiers=args.modifiers or None, timeout=limit.ms)
        case "fill":
            found = await locate(page, args, ctx, limit)
            await found.fill(args.value, timeout=limit.ms)
            return await is_sensitive(found, timeout=1000)
        case "type":
            found = await locate(page, args, ctx, limit)
            await found.press_sequentially(args.value, delay=args.delay, timeout=limit.ms)
            return await is_sensitive(found, timeout=1000)
        case "press":
            if args.has_target:
                await (await locate(page, args, ctx, limit)).press(args.key, timeout=limit.ms)
            else:
                await page.keyboard.press(args.key)
        case "select":
            found = await locate(page, args, ctx, limit)
            if problem := await missing_options(found, args.option, limit.ms):
                raise StepFailed(f"{args.describe_target()} {problem}")
            await found.select_option(args.option, timeout=limit.ms)
        case "check":
            await (await locate(page, args, ctx, limit)).check(timeout=limit.ms)
        case "uncheck":
            await (await locate(page, args, ctx, limit)).uncheck(timeout=limit.ms)
        case "hover":
            await (await locate(page, args, ctx, limit)).hover(timeout=limit.ms)
        case "drag":
            await _drag(page, args, ctx, limit)
        case "scroll":
            if not args.by:
                found = await locate(page, args, ctx, limit)
                await found.scroll_into_view_if_needed(timeout=limit.ms)
            elif args.has_target:
                found = await locate(page, args, ctx, limit)
                landed = await _scroll_by(found, args.dx, args.dy, limit)
                if landed is None:
                    raise StepFailed(f"{args.describe_target()} has nothing to scroll that way")
                return f"scrolled to {landed}"
            else:
                # The page (or a frame's document) scrolls as far as it can: no complaint.
                root = await _frame(page, args, ctx, limit)
                await _scroll_by(root, args.dx, args.dy, limit)
        case "wait_for":
            if args.url is not None:
                await page.wait_for_url(url_pattern(args.url, ctx.base_url), timeout=limit.ms)
            elif args.load_state is not None:
                await page.wait_for_load_state(args.load_state, timeout=limit.ms)
            else:
                # Any match will do: waiting is about the page reaching a state.
                found = await locate(page, args, ctx, limit)
                await found.first.wait_for(state=args.state, timeout=limit.ms)
        case "expect":
            await _check_expectations(page, args, ctx, limit)
        case "upload":
            files = _files(args.files, ctx.folder)
            await (await locate(page, args, ctx, limit)).set_input_files(files, timeout=limit.ms)
        case "sleep":
            await asyncio.sleep(args.total_seconds())
        case "capture":
            pass  # the capture after every step is this step's whole point
        case _:
            unhandled(step.kind)
    return False


def _in_frame(step: StepBase) -> str:
    """`in frame 'pay': ` for a step whose target is in a frame (Playwright's own messages
    name the element, not the frame), else empty."""
    args = step.args
    if isinstance(args, DragArgs):
        where = args.from_.in_frame() or args.to.in_frame()
    else:
        where = args.in_frame() if isinstance(args, Target) else ""
    return f"{where.strip()}: " if where else ""


async def perform(page: Page, step: StepBase, ctx: StepContext, seconds: float) -> str:
    """Do one step within `seconds`; return its action text. Raises `StepFailed`."""
    # Playwright enforces the limit on each call; the outer guard catches what has none
    # (a page script that never yields, a keyboard press into a hung renderer).
    guard = seconds + 2 + (step.args.total_seconds() if step.kind == "sleep" else 0)
    try:
        async with asyncio.timeout(guard):
            done = await _perform(page, substitute(step, ctx.vars.expand), ctx, _Limit(seconds))
    except StepFailed as exc:
        raise StepFailed(ctx.vars.mask(exc.reason)) from None
    except (PlaywrightError, TimeoutError) as exc:
        reason = _in_frame(step) + _reason(exc, seconds)
        if isinstance(step.args, Target) and isinstance(exc, PlaywrightTimeoutError):
            reason += await near_matches(page, step.args)
        raise StepFailed(ctx.vars.mask(reason)) from exc
    except CaptureError as exc:  # an unknown or stale ref, a missing variable
        raise StepFailed(ctx.vars.mask(str(exc))) from exc
    action = describe(step, ctx.vars, value_hidden=done is True, names=ctx.names)
    return f"{action}; {ctx.vars.mask(done)}" if isinstance(done, str) else action
