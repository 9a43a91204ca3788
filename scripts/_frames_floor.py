"""`scripts/bench pytest`'s `frames floor` way, a pytest plugin copied into its test folder.

What a capture that never makes the test wait for its image could not do without, were its
images to stay exact (issue 19): a screencast on (every frame acknowledged, none decoded),
after each action one page call that draws a step marker, so that a frame says which step
it shows, and before the next action a gate that waits for a frame only while the marked
state has not been drawn yet. Nothing else: no sensitive-field read, no outline, no mask,
no encoding, no store. It runs capture's own action wrappers (`pytest_plugin._calls`), with
the gate put in front of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Error, Page

from capture.browser import impl_of, run_sync
from capture.pytest_plugin import _calls

# The marker: a 16 px corner square whose grey says the step (mod 4), drawn through an
# adopted style sheet (no element in the page), turned white by the first input event after
# it, so no frame with step N's grey can show the next action's effect. `committed` is set
# once an animation frame ran with it: that frame is the step's image.
MARK_JS = """(step) => {
  let s = window.__floorMark;
  const css = (v) => "html::after{content:'';position:fixed;left:0;top:0;width:16px;"
    + `height:16px;background:rgb(${v},${v},${v});z-index:2147483647;pointer-events:none}`;
  if (!s) {
    const sheet = new CSSStyleSheet();
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    s = window.__floorMark = {sheet, step: -1, committed: -1};
    const clear = () => { if (s.step >= 0) { s.step = -1; s.sheet.replaceSync(css(255)); } };
    for (const type of ["pointerdown", "pointermove", "mousedown", "mousemove", "keydown",
        "beforeinput", "input", "change", "focusin", "wheel", "touchstart", "submit"])
      window.addEventListener(type, clear, true);
    document.addEventListener("scroll", clear, true);
  }
  s.step = step;
  s.sheet.replaceSync(css([0, 64, 128, 192][step % 4]));
  requestAnimationFrame(() => { if (s.step === step) s.committed = step; });
}"""

# Before the next action: 0 when the marked state was drawn already, else 1 after a frame.
GATE_JS = """() => new Promise((done) => {
  const s = window.__floorMark;
  if (!s || s.step < 0 || s.committed === s.step) done(0);
  else requestAnimationFrame(() => setTimeout(() => done(1)));
})"""


class Floor:
    """The hook: marks after every action, gates before the next."""

    busy = False
    page: Page | None = None
    steps = 0
    frames = 0
    waits = 0

    def before_sync(self) -> None:
        if self.page is not None and self.steps:
            # A navigation under way (a submit) has swapped the marked document: no wait.
            with contextlib.suppress(Error):
                self.waits += self.page.evaluate(GATE_JS)

    def after_sync(self, call: _calls.Call, error: BaseException | None) -> None:
        self.steps += 1
        if self.page is not None:
            # A navigation may swap the document meanwhile: no marker this time.
            with contextlib.suppress(Error):
                self.page.evaluate(MARK_JS, self.steps)

    async def after_async(self, call: _calls.Call, error: BaseException | None) -> None:
        """The bench's tests are sync-API tests."""


FLOOR = Floor()
_plain = _calls._sync_wrapper


def _gated(kind: str, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    wrapped = _plain(kind, name, original)

    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _calls._hook is FLOOR and not FLOOR.busy:
            FLOOR.busy = True
            try:
                FLOOR.before_sync()
            finally:
                FLOOR.busy = False
        return wrapped(self, *args, **kwargs)

    return wrapper


def pytest_configure(config: pytest.Config) -> None:
    _calls._sync_wrapper = _gated
    _calls.install()
    _calls.use(FLOOR)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(
        f"{FLOOR.steps} marked steps, {FLOOR.frames} frames, {FLOOR.waits} gate waits"
    )


@pytest.fixture(autouse=True)
def _screencast(page: Page) -> None:
    # On the session behind the sync one: a frame is acknowledged on Playwright's event loop
    # as it arrives, without a sync call (and its switch) per frame.
    cdp = impl_of(page.context.new_cdp_session(page))
    acks: set[asyncio.Future[Any]] = set()

    def frame(event: dict[str, Any]) -> None:
        FLOOR.frames += 1
        ack = asyncio.ensure_future(
            cdp.send("Page.screencastFrameAck", {"sessionId": event["sessionId"]}, None)
        )
        acks.add(ack)
        ack.add_done_callback(acks.discard)

    cdp.on("Page.screencastFrame", frame)
    params = {"format": "jpeg", "quality": 70, "everyNthFrame": 1}
    run_sync(page, cdp.send("Page.startScreencast", params, None))
    FLOOR.page = page
