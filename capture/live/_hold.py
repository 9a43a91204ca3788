"""Held gestures: the person's next input, held in the page until the previous action is
captured, then replayed with real input.

The listener (listen.js) swallows a press of the primary button, or Enter, Tab or Escape,
while one of its reports is unanswered (the action it belongs to is not captured yet), and
reports it as a `hold`. `Holds.replay` waits until everything before it is captured (the
recorder's `before`), then lets the page's listener pass input (`release`) and dispatches the
same gesture through CDP `Input` — trusted events, as the person's were — so the page acts on
it only after the capture of the step before. A press is replayed on the element it went down
on, wherever that element is by then (the page may have scrolled meanwhile): the listener
answers `release` with the element's point now, and a replayed key does not scroll the page.
Nothing is replayed with Playwright's `Mouse` or `Keyboard`, whose state belongs to whoever
drives the page.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from playwright.async_api import CDPSession, Frame, Page
from playwright.async_api import Error as PlaywrightError

from capture.live._listener import PageEvent

__all__ = ["Holds"]

_MODIFIERS = {"Alt": 1, "Control": 2, "Meta": 4, "Shift": 8}
_DOUBLE_MS = 500.0  # a second press this soon, this close, is the second click of a double
_UP_WAIT = 30.0  # a press held longer than this is replayed as a click where it went down
# A press waits for the page to stand still (no scroll for 100 ms) this often, this long, at
# most; then it is replayed wherever its element is.
_STILL_TRIES, _STILL_WAIT = 40, 0.05
_PRESS_TRIES = 3  # a press that missed its element (the page moved) is replayed this often


async def _offset(frame: Frame) -> tuple[float, float]:
    """Where `frame`'s viewport starts in the top page's (its iframe's content box)."""
    if frame.parent_frame is None:
        return 0.0, 0.0
    element = await frame.frame_element()
    box = await element.bounding_box()
    inset = await element.evaluate(
        "e => { const s = getComputedStyle(e); return [e.clientLeft + parseFloat(s.paddingLeft),"
        " e.clientTop + parseFloat(s.paddingTop)] }"
    )
    if box is None:
        return 0.0, 0.0
    return box["x"] + float(inset[0]), box["y"] + float(inset[1])


# A held press's DOM button -> CDP's name for it and its bit in `buttons`.
_BUTTONS = {0: ("left", 1), 3: ("back", 8), 4: ("forward", 16)}


async def _press(
    cdp: CDPSession, down: tuple[float, float], up: tuple[float, float], clicks: int, button: int
) -> None:
    name, bit = _BUTTONS.get(button, _BUTTONS[0])
    base: dict[str, Any] = {"button": name, "clickCount": clicks}
    await cdp.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": down[0], "y": down[1]})
    await cdp.send(
        "Input.dispatchMouseEvent",
        {"type": "mousePressed", "x": down[0], "y": down[1], "buttons": bit, **base},
    )
    if up != down:
        await cdp.send(
            "Input.dispatchMouseEvent",
            {"type": "mouseMoved", "x": up[0], "y": up[1], "buttons": bit, "button": name},
        )
    await cdp.send(
        "Input.dispatchMouseEvent",
        {"type": "mouseReleased", "x": up[0], "y": up[1], "buttons": 0, **base},
    )


async def _key(cdp: CDPSession, event: PageEvent) -> None:
    *mods, key = (event.key or "").split("+") or [""]
    text = "\r" if key == "Enter" else event.text
    common = {
        "key": key,
        "code": event.code,
        "windowsVirtualKeyCode": event.key_code,
        "modifiers": sum(_MODIFIERS.get(m, 0) for m in mods),
    }
    down = {"type": "keyDown", "text": text, "unmodifiedText": text} if text else {}
    await cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", **common, **down})
    await cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **common})


class Holds:
    """The gestures held by the listeners of one recording, replayed one at a time in order.

    `hurry` is set while a gesture waits: the recorder then captures at once instead of
    letting the page settle (the person has moved on; the capture shows the moment before).
    """

    def __init__(self, release: str) -> None:
        self.hurry = asyncio.Event()
        self.idle = asyncio.Event()  # set while no gesture waits to be replayed
        self.idle.set()
        self.replayed = 0
        self._release = release
        self._waiting = 0
        self._lock = asyncio.Lock()
        self._ups: dict[tuple[Hashable, str, int], asyncio.Future[tuple[int, int]]] = {}
        self._last: dict[tuple[Hashable, str], tuple[float, float, float]] = {}

    def _up(self, page: Hashable, event: PageEvent) -> asyncio.Future[tuple[int, int]]:
        key = (page, event.doc, event.gesture)
        if key not in self._ups:
            self._ups[key] = asyncio.get_running_loop().create_future()
        return self._ups[key]

    def held(self, page: Hashable, event: PageEvent) -> bool:
        """Note a hold report; True when it starts a gesture to replay (not a press's end)."""
        if event.phase == "up":
            done = self._up(page, event)
            if not done.done():
                done.set_result((event.x, event.y))
            return False
        self._waiting += 1
        self.hurry.set()
        self.idle.clear()
        return True

    async def replay(
        self,
        page: Hashable,
        frame: Frame,
        cdp: CDPSession | None,
        event: PageEvent,
        before: Callable[[bool], Awaitable[None]],
    ) -> None:
        """In its turn, once `before(ends)` returned (what came earlier is captured; `ends`:
        this gesture completes the pending action), replay `event`'s gesture."""
        try:
            async with self._lock:
                again = False
                if event.phase == "down":
                    last = self._last.get((page, event.doc))
                    self._last[(page, event.doc)] = (event.time, event.x, event.y)
                    near = last is not None and abs(event.x - last[1]) + abs(event.y - last[2]) < 8
                    again = near and last is not None and event.time - last[0] < _DOUBLE_MS
                # The second press of a double click completes nothing: the first is pending.
                await before(event.ends and not again)
                if cdp is None or frame.is_detached():
                    return
                if event.phase == "key":
                    key = (event.key or "").split("+")[-1]
                    await self._let(frame, {"kind": "key", "key": key}, lambda _: _key(cdp, event))
                    return
                try:
                    up = await asyncio.wait_for(asyncio.shield(self._up(page, event)), _UP_WAIT)
                except TimeoutError:
                    up = (event.x, event.y)
                self._ups.pop((page, event.doc, event.gesture), None)
                dx, dy = await _offset(frame)
                clicks = 2 if again else 1
                was = [event.x, event.y, *up]

                async def press(now: Any) -> None:
                    # Where the pressed elements are now (the listener's answer: the page may
                    # have moved since), else where the person's pointer was.
                    at = now if isinstance(now, list) and len(now) == 4 else was
                    down, end = (at[0] + dx, at[1] + dy), (at[2] + dx, at[3] + dy)
                    await _press(cdp, down, end, clicks, event.button)

                gesture = {"kind": "pointer", "gesture": event.gesture, "x": event.x, "y": event.y}
                await self._let(frame, gesture, press)
        except PlaywrightError:
            pass  # the page went away with the gesture
        finally:
            self._waiting -= 1
            if not self._waiting:
                self.hurry.clear()
                self.idle.set()

    async def typed(self, page: Page) -> None:
        """Have the listeners of `page` (where the typing is) report the typing they hold back
        (they report only every few keystrokes), so the fill the held gesture completes has
        all of it."""
        call = f"window[{json.dumps(self._release)}]"
        for frame in page.frames:
            try:
                await frame.evaluate(f'{call} && {call}("typed")')
            except PlaywrightError:
                continue
        # The reports were sent before the answers came: let their handlers run first.
        await asyncio.sleep(0)

    async def _let(
        self, frame: Frame, gesture: dict[str, Any], dispatch: Callable[[Any], Awaitable[None]]
    ) -> None:
        """Dispatch with the frame's listener letting this `gesture` through (the person's
        other input stays held), then count it as replayed. `dispatch` gets the listener's
        answer: for a press, where its elements are now. A press waits for the page to stand
        still, and one that came down on something else (the page moved on between the answer
        and the press) is replayed again; the last try goes wherever it lands."""
        release = f"window[{json.dumps(self._release)}]"

        async def call(argument: Any) -> Any:
            return await frame.evaluate(f"{release} && {release}({json.dumps(argument)})")

        for tries_left in reversed(range(_PRESS_TRIES)):
            answer = await call({**gesture, "check": tries_left > 0})
            for _ in range(_STILL_TRIES):
                if answer != "scrolling":
                    break
                await asyncio.sleep(_STILL_WAIT)
                answer = await call({**gesture, "check": tries_left > 0})
            try:
                await dispatch(answer)
            finally:
                try:
                    ended = await call(None)
                except PlaywrightError:
                    ended = None  # the gesture took the page away: it landed
            if ended != "missed":
                break
        self.replayed += 1
