"""`LiveRecorder`: capture a browser context while a person drives it.

Events reach Python through one binding (see listen.js); the `ActionBuilder` turns them into
actions; one worker captures after each action, once the page settled, so captures never
overlap and always follow the person's order. Each report is answered once its action is
captured; until then the listener holds the person's next gesture that is not text entry,
and the recorder replays it (`_hold`) after the capture, which so shows its own moment.
Navigations are classified by Chromium's own history entry (`transitionType`: typed vs
link/form_submit), which tells a typed URL from one a click caused without guessing from
timing. While the person is idle, the worker re-captures before the stored parts expire;
after `stop()` nothing is deleted, the parts expire on their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Coroutine
from secrets import token_hex
from typing import Any

from playwright.async_api import BrowserContext, Dialog, Frame, Page, Request
from playwright.async_api import Error as PlaywrightError

from capture.config import CaptureConfig
from capture.entry import Capture
from capture.errors import BrowserError, CaptureError
from capture.live._actions import Action, ActionBuilder, ActionKind
from capture.live._hold import Holds
from capture.live._listener import frame_path, listener_script, parse_event
from capture.live._result import LiveResult
from capture.live._tab import Tab, settle
from capture.recorder import Recorder, RecorderStats

__all__ = ["LiveRecorder", "LiveResult"]

# Chromium transition types of a URL the person entered (address bar, bookmark, keyword).
_TYPED = frozenset(
    {"typed", "address_bar", "generated", "auto_bookmark", "keyword", "keyword_generated"}
)
_BLANK = ("about:", "chrome:", "chrome-search:", "edge:", "devtools:")
# Without CDP (not Chromium), a navigation this long after the last input counts as typed.
_TYPED_GAP = 2.0


class LiveRecorder:
    """Record every action of a person in `context` into `thread_id`.

        live = LiveRecorder(context, capture, "thread-1")   # an open `Capture`
        await live.start("http://127.0.0.1:8000/")
        ...                        # the person works
        result = await live.stop()
        export_task(result.actions, name="my task")

    `quiet` is how long a burst of typing (or scrolling) may pause and still be one action;
    `settle` bounds the wait for the page after an action; `refresh` is the idle re-capture
    interval (default: 60% of the shortest part expiry, so the recorder's "expiry near" rule
    re-uploads the image); `on_action` hears each action as it completes (progress output).
    """

    def __init__(
        self,
        context: BrowserContext,
        capture: Capture,
        thread_id: str,
        *,
        config: CaptureConfig | None = None,
        page: Page | None = None,
        name: str = "live recording",
        quiet: float = 1.0,
        settle: float = 2.0,
        refresh: float | None = None,
        on_action: Callable[[Action], None] | None = None,
    ) -> None:
        self.context = context
        self.config = config or capture.config.capture
        self.thread_id = thread_id
        self.name = name
        self.actions: list[Action] = []
        self._opened = capture
        self._first_page = page
        self._on_action = on_action
        self._settle_ms = settle * 1000
        shortest = min(self.config.screenshot_expiry, self.config.observation_expiry)
        self._refresh = refresh if refresh is not None else shortest.total_seconds() * 0.6 or None
        self._builder = ActionBuilder(quiet)
        self._binding = f"__captureLive_{token_hex(6)}"
        self._token = token_hex(16)
        self._script = listener_script(self._binding, self._token, self.config.redact_selectors)
        self._tabs: dict[Page, Tab] = {}
        self._holds = Holds(f"{self._binding}_release")
        self._answers: list[asyncio.Future[None]] = []  # reports waiting for their capture
        self._unfinished = 0  # actions queued or being captured
        self._classifying = 0  # navigations not yet classified
        self._stopping = False
        self._queue: asyncio.Queue[Action | None] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._quiet = asyncio.Event()  # set while no action is pending in the builder
        self._quiet.set()
        self._closed = asyncio.Event()
        self._nav_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._recorder: Recorder | None = None
        self._current: Page | None = None
        self._worker: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._result: LiveResult | None = None
        self._captures = 0
        self._refreshed = 0
        self._reports = 0
        self._forged = 0
        self._problems: list[str] = []
        self._last_input = 0.0
        self._last_capture = 0.0

    # -- public surface --------------------------------------------------------------------

    @property
    def closed(self) -> asyncio.Event:
        """Set when the last recorded tab closed, or the browser (or the context) went away:
        time to stop."""
        return self._closed

    @property
    def page(self) -> Page | None:
        """The page the person is in now."""
        return self._current

    async def start(self, url: str | None = None) -> None:
        """Listen in every page (open now or later), then open `url` (or note the current one)."""
        ctx = self.context
        await ctx.expose_binding(self._binding, self._on_binding)
        await ctx.add_init_script(script=self._script)
        ctx.on("close", lambda _: self._closed.set())
        if ctx.browser is not None:
            ctx.browser.on("disconnected", lambda _: self._closed.set())
        for open_page in ctx.pages:
            await self._watch(open_page, existing=True)
        page = self._first_page or await self._visible(ctx.pages) or await ctx.new_page()
        if page not in self._tabs:  # a page made just now: ctx.on("page") is not set yet
            await self._watch(page, existing=True)
        ctx.on("page", self._on_page)
        self._current = page
        self._recorder = self._opened.recorder(page, self.thread_id, config=self.config)
        await self._recorder.start_run(self.name, mode="live")
        self._worker = asyncio.create_task(self._work())
        self._ticker = asyncio.create_task(self._tick())
        if url:
            try:
                await page.goto(url)  # a typed URL: classified like the address bar's
            except PlaywrightError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                raise BrowserError(f"could not open {url}: {first}") from exc
            await self._classify(page)
        elif not page.url.startswith(_BLANK):
            await self._classify(page, start=True)  # attached: where the person is now

    async def stop(self) -> LiveResult:
        """Complete the pending action, capture what is queued, flush; parts are not deleted."""
        if self._result is not None:
            return self._result
        self._stopping = True
        self._deliver(self._builder.flush())
        stopping = [task for task in (self._ticker, *self._tasks) if task is not None]
        for task in stopping:
            task.cancel()
        await asyncio.gather(*stopping, return_exceptions=True)
        await self._queue.put(None)
        if self._worker is not None:
            await self._worker
        self._answer_all(stopping=True)
        stats = RecorderStats()
        if self._recorder is not None:
            try:
                await self._recorder.finish_run("finished")
                await self._opened.close_recorders(self._recorder)
            except CaptureError as exc:
                self._problems.append(str(exc))
            stats = self._recorder.stats
        self._result = LiveResult(
            actions=list(self.actions),
            captures=self._captures,
            stats=stats,
            untrusted=self._builder.untrusted,
            forged=self._forged,
            problems=self._problems,
            refreshed=self._refreshed,
        )
        return self._result

    async def settled(self) -> None:
        """Wait until every action so far is complete and captured (a quiet moment), and every
        held gesture replayed."""
        while True:
            await self._holds.idle.wait()
            await self._quiet.wait()
            await self._queue.join()
            if self._holds.idle.is_set() and self._quiet.is_set() and not self._unfinished:
                return

    @property
    def captures(self) -> int:
        """Captures made so far (idle refreshes included)."""
        return self._captures

    @property
    def reports(self) -> int:
        """Reports heard from the listeners so far (page-script events included, not forged
        ones): a caller waits for a debounced one (a scroll) with it."""
        return self._reports

    # -- pages, navigation, dialogs --------------------------------------------------------

    async def _visible(self, pages: list[Page]) -> Page | None:
        """The tab the person looks at (attached browsers have several)."""
        for page in pages:
            try:
                if await page.evaluate("document.visibilityState") == "visible":
                    return page
            except PlaywrightError:
                continue
        return pages[0] if pages else None

    def _track(self, page: Page) -> Tab:
        """Listen to `page` now, synchronously, so not one of its events is missed."""
        if page not in self._tabs:
            self._tabs[page] = Tab()
            page.on("framenavigated", lambda frame: self._on_navigated(page, frame))
            page.on("request", lambda request: self._on_request(page, request))
            page.on("dialog", lambda dialog: self._on_dialog(page, dialog))
            page.on("close", lambda _: self._on_close(page))
        return self._tabs[page]

    async def _watch(self, page: Page, *, existing: bool = False) -> None:
        tab = self._track(page)
        try:
            tab.cdp = await self.context.new_cdp_session(page)
        except PlaywrightError:
            tab.cdp = None
        tab.ready.set()
        if existing:
            # Init scripts reach documents created after add_init_script only.
            for frame in page.frames:
                try:
                    await frame.evaluate(self._script)
                except PlaywrightError:
                    continue
            await self._history(page)

    def _on_page(self, page: Page) -> None:
        self._current = page
        self._track(page)
        self._deliver(self._builder.add(Action("new_tab", page)))
        self._spawn(self._watch(page))

    def _on_close(self, page: Page) -> None:
        """A tab closed: the recorder follows the last one left; with none left (the person
        closed the last tab or window, or every recorded tab), the recording is over."""
        self._tabs.pop(page, None)
        if self._current is page:
            self._current = next(reversed(self._tabs), None) if self._tabs else None
        if not self._tabs:
            self._closed.set()

    def _on_dialog(self, page: Page, dialog: Dialog) -> None:
        # Not answered here: the person answers it in the browser window.
        message = " ".join(dialog.message.split())[:120]
        self._deliver(self._builder.add(Action("dialog", page, value=f"{dialog.type} '{message}'")))

    def _on_request(self, page: Page, request: Request) -> None:
        tab = self._tabs.get(page)
        if tab is not None and request.is_navigation_request() and request.frame is page.main_frame:
            tab.requested = asyncio.get_running_loop().time()
            tab.moved.set()

    def _on_navigated(self, page: Page, frame: Frame) -> None:
        if frame is page.main_frame and page in self._tabs:
            self._tabs[page].committed = asyncio.get_running_loop().time()
            self._tabs[page].moved.set()
        if frame is page.main_frame:
            # Counted from now: the new document's listener holds the person's input until
            # the navigation is classified and, if it is an action, captured.
            self._classifying += 1
            self._spawn(self._navigated(page))

    async def _navigated(self, page: Page) -> None:
        try:
            await self._classify(page)
        finally:
            self._classifying -= 1
            self._answer_all()

    async def _history(self, page: Page) -> tuple[str, str, bool, int] | None:
        """The current history entry (url, transition, new?, index move); marks it seen.

        None when the page has no CDP session, is gone, or kept failing to answer (it does
        while a navigation commits): then no action is made rather than a guessed one.
        """
        tab = self._tabs.get(page)
        if tab is None or tab.cdp is None:
            return None
        for attempt in range(3):
            try:
                history = await tab.cdp.send("Page.getNavigationHistory")
                break
            except PlaywrightError:
                if page.is_closed() or attempt == 2:
                    return None
                await asyncio.sleep(0.05)
        index = int(history["currentIndex"])
        entry = history["entries"][index]
        new = entry["id"] not in tab.seen
        tab.seen.add(entry["id"])
        moved, tab.index = (index - tab.index if tab.index >= 0 else 0), index
        return str(entry["url"]), str(entry["transitionType"]), new, moved

    async def _classify(self, page: Page, *, start: bool = False) -> None:
        """Turn a main-frame navigation into an action when the person caused it directly."""
        tab = self._tabs.get(page)
        if tab is None:
            return
        await tab.ready.wait()
        async with self._nav_lock:
            kind: ActionKind | None
            entry = await self._history(page)
            if entry is None and tab.cdp is not None:
                return
            if entry is None:
                url = page.url
                quiet = asyncio.get_running_loop().time() - self._last_input > _TYPED_GAP
                kind = "goto" if start or quiet else None
            else:
                url, transition, new, moved = entry
                if start or (new and transition in _TYPED):
                    kind = "goto"
                elif not new and moved:
                    kind = "back" if moved < 0 else "forward"
                elif not new and transition == "reload":
                    kind = "reload"
                else:
                    kind = None  # a click, a form or a script navigated: not an action
            if kind is not None and not url.startswith(_BLANK):
                self._deliver(self._builder.add(Action(kind, page, value=url)))

    # -- events from the page --------------------------------------------------------------

    def _on_binding(self, source: dict[str, Any], payload: Any) -> Awaitable[None] | None:
        """Take a report; the answer (awaited by the page) comes once its action is captured."""
        event = parse_event(payload, self._token)
        if event is None:
            self._forged += 1
            return None
        page: Page = source["page"]
        frame = source.get("frame")
        if event.type == "hold":
            if isinstance(frame, Frame) and self._holds.held(page, event):
                tab = self._tabs.get(page)
                cdp = tab.cdp if tab is not None else None
                self._spawn(self._holds.replay(page, frame, cdp, event, self._before_held))
            return None
        if event.type != "hello":
            self._reports += 1
        if event.type == "visible":
            self._current = page
        elif event.type != "hello":
            now = asyncio.get_running_loop().time()
            self._last_input = now
            where = frame_path(frame, event.title) if isinstance(frame, Frame) else []
            self._deliver(self._builder.feed(page, event, now, frame=where))
        return self._answer()

    async def _before_held(self, ends: bool) -> None:
        """What must happen before a held gesture acts, in its turn: one that `ends` (not text
        entry) completes the pending action (typing ends here); then every action is captured."""
        if ends:
            typing = self._builder.pending
            if typing is not None and typing.kind == "fill" and isinstance(typing.page, Page):
                await self._holds.typed(typing.page)
            self._deliver(self._builder.flush())
        await self._queue.join()

    def _answer(self) -> asyncio.Future[None]:
        """A future set once every action so far is captured (at once when it already is)."""
        answer: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._answers.append(answer)
        self._answer_all()
        return answer

    def _answer_all(self, *, stopping: bool = False) -> None:
        caught_up = (
            self._builder.deadline is None and not self._unfinished and not self._classifying
        )
        if not (caught_up or stopping):
            return
        for answer in self._answers:
            if not answer.done():
                answer.set_result(None)
        self._answers.clear()

    def _deliver(self, actions: list[Action]) -> None:
        for action in actions:
            self.actions.append(action)
            if self._on_action is not None:
                self._on_action(action)
            if action.captured:
                self._unfinished += 1
                self._queue.put_nowait(action)
        if self._builder.deadline is None:
            self._quiet.set()
        else:
            self._quiet.clear()
        self._wake.set()
        self._answer_all()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tick(self) -> None:
        """Complete the pending action once the person has been quiet long enough."""
        loop = asyncio.get_running_loop()
        # Not `while True`: a cancel that comes as the wake does is swallowed by wait_for
        # (Python < 3.12), and `stop` waits for this task to end.
        while not self._stopping:
            self._wake.clear()
            deadline = self._builder.deadline
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                self._deliver(self._builder.due(loop.time()))

    # -- capturing -------------------------------------------------------------------------

    async def _work(self) -> None:
        """One capture at a time, in the person's order; an idle refresh between actions."""
        loop = asyncio.get_running_loop()
        self._last_capture = loop.time()
        while True:
            wait = None
            if self._refresh is not None:
                wait = max(0.0, self._last_capture + self._refresh - loop.time())
            try:
                action = await asyncio.wait_for(self._queue.get(), wait)
            except TimeoutError:
                if await self._capture(self._current, "idle: no new action, state re-captured"):
                    self._refreshed += 1
                continue
            if action is None:
                return
            try:
                page = action.page
                assert isinstance(page, Page)
                await self._settle(page, action.at)
                if action.kind == "new_tab" and not page.is_closed():
                    action.value = page.url
                await self._capture(page, action.text)
            finally:
                self._unfinished -= 1
                self._queue.task_done()
                self._answer_all()

    async def _settle(self, page: Page, at: float = 0.0) -> None:
        tab = self._tabs.get(page)
        await settle(page, tab, at, self._settle_ms / 1000, self._holds.hurry)

    async def _badge(self, page: Page, steps: int | None) -> None:
        """Show the in-page badge with the count of `steps`, or hide it (None)."""
        call = f"window[{json.dumps(self._binding + '_badge')}]"
        # A page navigating or gone: its next document shows the badge after a capture.
        with contextlib.suppress(PlaywrightError):
            await page.main_frame.evaluate(f"{call} && {call}({json.dumps(steps)})")

    async def _capture(self, page: Page | None, text: str) -> bool:
        """Capture `page` with the action line `text`; False when nothing was captured."""
        loop = asyncio.get_running_loop()
        self._last_capture = loop.time()
        recorder = self._recorder
        if recorder is None or page is None:
            return False
        if page.is_closed():
            self._problems.append(f"not captured, its tab closed first: {text}")
            return False
        if recorder.page is not page:
            recorder.page = page
        await self._badge(page, None)  # out of the screenshot and the observation
        try:
            await recorder.capture(text)
        except CaptureError as exc:
            self._problems.append(str(exc))
            return False
        finally:
            await self._badge(page, sum(1 for action in self.actions if action.captured))
        self._captures += 1
        self._last_capture = loop.time()
        return True
