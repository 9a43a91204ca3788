"""One test's captures: its thread, its recorder, and the files it leaves behind.

A `CapturedTest` is the `StepHook` while its test runs. The first hooked call picks the face:
a `SyncRecorder` for Playwright's sync API (pytest-playwright's `page`), a `Recorder` on the
test's event loop for the async API; calls of the other API in the same test are not
captured (both would number the same steps). Typed input is named in the action text only
when the field it went to is not sensitive (the task runner's rule); otherwise the text says
`[redacted]` and the value joins the recorder's secrets, so it is scrubbed from every text.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page as AsyncPage
from playwright.sync_api import Page as SyncPage

from capture.browser import impl_of, run_sync
from capture.entry import SyncCapture
from capture.errors import SessionStoreError
from capture.pytest_plugin._calls import ASSERTIONS, QUIET_ASSERTIONS, Call, describe_call
from capture.pytest_plugin._names import viewer_url
from capture.recorder import CaptureResult, EncodedImage, Recorder, SyncRecorder
from capture.recorder.observe import (
    FOCUSED_SENSITIVE_JS,
    SENSITIVE_FIELD_JS,
    is_sensitive,
    short_error,
)
from capture.store import serve_afterwards

__all__ = ["CapturedTest", "Placement", "folder_name"]


@dataclass
class Placement:
    """Where a test's captures go: its thread in the store and its folder on disk."""

    node_id: str
    name: str  # the test's name, which starts every action text
    thread_id: str
    base_url: str
    folder: Path
    write_steps: bool  # --capture-out: every step; otherwise only a failing test's last
    retain: bool = False  # retain-on-failure: only a failing test's captures leave the process


def _secret_values(value: Any) -> Iterator[str]:
    for item in value if isinstance(value, list | tuple) else [value]:
        if isinstance(item, str):
            yield item


def _error_line(call: Call | None, error: BaseException) -> str:
    """One line on what failed; an assertion on a field's value names no value."""
    if call is not None and call.kind in ASSERTIONS and QUIET_ASSERTIONS.match(call.method):
        return f"{call.method} did not pass"
    return f"{type(error).__name__}: {short_error(error)}"


def _sensitivity_probe(call: Call, page: Any) -> tuple[Any, str, dict[str, Any]] | None:
    """What to evaluate (on a locator or the page) to learn whether the field `call` typed
    into is sensitive; None when the call typed nothing. The same for both APIs."""
    if call.typed_value is None:
        return None
    if call.kind == "Locator":
        return call.owner, SENSITIVE_FIELD_JS, {"timeout": 1000}
    if call.kind == "ElementHandle":
        return call.owner, SENSITIVE_FIELD_JS, {}
    if call.selector is not None:  # on the page, or on the frame the call ran in
        return call.owner.locator(call.selector), SENSITIVE_FIELD_JS, {"timeout": 1000}
    return page, FOCUSED_SENSITIVE_JS, {}


# One test captures through one API: both recorders would number the same steps.
_ONE_API = "this test already captures through Playwright's {} API; use {} for it"


def _is_outcome(error: BaseException) -> bool:
    """pytest.skip() and pytest.xfail() raise; they are not failures to capture."""
    return isinstance(error, pytest.skip.Exception | pytest.xfail.Exception)


@dataclass
class CapturedTest:
    """The captures of one test (see the module docstring)."""

    place: Placement
    capture: SyncCapture
    busy: bool = False
    current: Any = None  # the page captured last (or the test's `page` before any action)
    sync: SyncRecorder | None = None
    asynchronous: Recorder | None = None
    last: CaptureResult | None = None
    last_image: tuple[int, EncodedImage] | None = None
    notes: list[str] = field(default_factory=list)
    _pages: list[Any] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    finished: bool = False
    kept: bool = False  # retain-on-failure: the failing test's captures were sent
    counted: bool = False  # its counts went out with a report
    _failure: BaseException | None = None  # the error an action's capture already showed

    @property
    def captures(self) -> int:
        """Captures so far, explicit ones (`capture_recorder`) included."""
        return sum(r.stats.captures for r in self._recorders())

    @property
    def dropped(self) -> int:
        """Store writes given up on (the store was down): the test did not fail for them."""
        return sum(r.stats.dropped for r in self._recorders())

    def _recorders(self) -> list[SyncRecorder | Recorder]:
        return [r for r in (self.sync, self.asynchronous) if r is not None]

    def start(self) -> None:
        """A fresh thread and folder for this test (a re-run replaces the last run's).

        A store that went away does not fail the test (the captures' writes are dropped
        and counted); the report says the thread was not cleared. Under retain-on-failure
        the store hears of the test only if it fails (`_settle`)."""
        if not self.place.retain:
            self._clear()
        shutil.rmtree(self.place.folder, ignore_errors=True)

    def _clear(self) -> None:
        try:
            self.capture.client.clear_session(self.place.thread_id)
        except SessionStoreError as exc:
            self.notes.append(f"the thread was not cleared: {exc}")

    def _settle(self, recorder: SyncRecorder | Recorder, failed: bool) -> None:
        """retain-on-failure, once the test's last write is held: a failing test's thread
        is replaced by its captures; a passing test's never leave the process."""
        if not self.place.retain:
            return
        if failed:
            self._clear()
            recorder.release_writes()
            self.kept = True
        else:
            recorder.discard_writes()

    def start_page(self, page: Any) -> None:
        """The test's `page` fixture, captured on failure even before any action. A sync
        page gets its recorder now, so console errors and failed requests of the first
        navigation are in the first observation."""
        if isinstance(page, SyncPage):
            self.sync_recorder(page)
        if isinstance(page, SyncPage | AsyncPage):
            self._follow(page)

    # -- StepHook --------------------------------------------------------------------------

    def began(self) -> None:
        """An action starts: a background capture whose frame comes later is not exact."""
        for recorder in self._recorders():
            recorder.action_began()

    def after_sync(self, call: Call, error: BaseException | None) -> None:
        """A step's capture: in the background (it may lag) unless the action failed."""
        page = self._page_of(call, SyncPage)
        if page is None:
            return
        self.busy = True
        try:
            hide = error is not None or self._sensitive_sync(call, page)
            recorder = self.sync_recorder(page)
            self._remember(recorder, call, hide, error)
            action = self._action(call, hide)
            if error is None:
                recorder.capture_soon(action, then=self._done)
            else:
                self._done(recorder.capture(action, **self._failed(call, error)))
        finally:
            self.busy = False

    async def after_async(self, call: Call, error: BaseException | None) -> None:
        page = self._page_of(call, AsyncPage)
        if page is None:
            return
        self.busy = True
        try:
            hide = error is not None or await self._sensitive_async(call, page)
            recorder = await self._async_recorder(page)
            self._remember(recorder, call, hide, error)
            action = self._action(call, hide)
            if error is None:
                await recorder.capture_soon(action, then=self._done)
            else:
                self._done(await recorder.capture(action, **self._failed(call, error)))
        finally:
            self.busy = False

    # -- the end of the test ---------------------------------------------------------------

    def finish(self, error: BaseException | None) -> None:
        """Capture the failing state (unless the failing action's capture already did),
        close the run record and the recorder, and leave a failing test's last step on disk."""
        self.finished = True
        failed = error is not None and not _is_outcome(error)
        status = "failed" if failed else "passed"
        failure = None  # the line of a failure no action's capture has shown yet
        if error is not None and failed and self._failure is not error:
            failure = _error_line(None, error)
        self.busy = True
        try:
            if self.asynchronous is not None or isinstance(self.current, AsyncPage):
                self._finish_async(status, failure)
            else:
                self._finish_sync(status, failure)
        finally:
            self.busy = False
        if failed and not self.place.write_steps and self.last is not None:
            self._write(self.last)
        if self.place.retain and not failed:
            shutil.rmtree(self.place.folder, ignore_errors=True)  # --capture-out's files too

    def _finish_sync(self, status: str, failure: str | None) -> None:
        if failure is not None and isinstance(self.current, SyncPage):
            recorder = self.sync_recorder(self.current)
            self._done(recorder.capture(self._action(None), status="failed", error=failure))
        if self.sync is not None:
            if (last := self.sync.make_last_exact()) is not None:
                self._done(last)
            self.sync.finish_run(status)
            self._settle(self.sync, status == "failed")
            self.capture.close_recorder(self.sync)

    def _finish_async(self, status: str, failure: str | None) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or loop.is_running():
            if failure is not None:
                self.notes.append("the failing state was not captured: no usable event loop")
            return

        async def finish() -> None:
            if failure is not None and isinstance(self.current, AsyncPage):
                recorder = await self._async_recorder(self.current)
                self._done(
                    await recorder.capture(self._action(None), status="failed", error=failure)
                )
            if self.asynchronous is not None:
                if (last := await self.asynchronous.make_last_exact()) is not None:
                    self._done(last)
                await self.asynchronous.finish_run(status)
                self._settle(self.asynchronous, status == "failed")
                await self.capture.close_async_recorder(self.asynchronous)

        loop.run_until_complete(finish())

    def report(self) -> str:
        """The report section of a failing test: where to look."""
        viewer = viewer_url(self.place.base_url, self.place.thread_id)
        lines = [f"thread: {self.place.thread_id}"]
        if self.capture.store.embedded:
            lines.append(f"viewer: {viewer} (while this run lasts)")
            lines.append(serve_afterwards(self.capture.config.store, self.place.thread_id))
        else:
            lines.append(f"viewer: {viewer}")
        if self.last_image is not None:
            step, image = self.last_image
            lines.append(f"last screenshot: {self._image_path(step, image)} (step {step})")
        else:
            lines.append("last screenshot: none (no page was captured)")
        lines.append(f"captures: {self.captures}, store writes dropped: {self.dropped}")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    # -- internals -------------------------------------------------------------------------

    def _follow(self, page: Any) -> None:
        self.current = page
        if all(seen is not page for seen in self._pages):
            self._pages.append(page)

    def _page_of(self, call: Call, api: type) -> Any:
        """The page a call acted on, in the API `api`; None when it is not ours to capture."""
        if call.kind == "Page":
            page = call.owner
        elif call.kind in ("Locator", "Frame"):
            page = call.owner.page
        elif call.kind in ("Keyboard", "Mouse"):
            owners = (p for p in self._pages if call.owner in (p.keyboard, p.mouse))
            page = next(owners, self.current)
        else:  # an assertion or an element handle: the page captured last
            page = self.current
        if not isinstance(page, api):
            return None
        if (self.sync if api is AsyncPage else self.asynchronous) is not None:
            return None  # the test already captures through the other API
        self._follow(page)
        return page

    def _sensitive_sync(self, call: Call, page: SyncPage) -> bool:
        probe = _sensitivity_probe(call, page)
        if probe is None:
            return False
        target, script, options = probe
        return run_sync(page, is_sensitive(impl_of(target), script, **options))

    async def _sensitive_async(self, call: Call, page: AsyncPage) -> bool:
        probe = _sensitivity_probe(call, page)
        if probe is None:
            return False
        target, script, options = probe
        return await is_sensitive(target, script, **options)

    def sync_recorder(self, page: SyncPage) -> SyncRecorder:
        """The test's recorder on the sync API, following `page` (made on first use)."""
        if self.sync is None:
            self.sync = self.capture.recorder(page, self.place.thread_id)
            if self.place.retain:
                self.sync.hold_writes()
            self.sync.start_run(self.place.node_id, source="pytest")
        elif self.sync.page is not page:
            self.sync.page = page
        return self.sync

    def explicit_sync_recorder(self, page: SyncPage) -> SyncRecorder:
        """The test's recorder on the sync API, following `page` (`capture_recorder`)."""
        if self.asynchronous is not None:
            pytest.fail(_ONE_API.format("async", "capture_async_recorder"), pytrace=False)
        self._follow(page)
        return self.sync_recorder(page)

    async def explicit_async_recorder(self, page: AsyncPage) -> Recorder:
        """The test's recorder on the async API, following `page` (`capture_async_recorder`)."""
        if self.sync is not None:
            pytest.fail(_ONE_API.format("sync", "capture_recorder"), pytrace=False)
        self._follow(page)
        return await self._async_recorder(page)

    async def _async_recorder(self, page: AsyncPage) -> Recorder:
        if self.asynchronous is None:
            self._loop = asyncio.get_running_loop()
            self.asynchronous = self.capture.async_recorder(page, self.place.thread_id)
            if self.place.retain:
                self.asynchronous.hold_writes()
            await self.asynchronous.start_run(self.place.node_id, source="pytest")
        elif self.asynchronous.page is not page:
            self.asynchronous.page = page
        return self.asynchronous

    def _remember(
        self, recorder: SyncRecorder | Recorder, call: Call, hide: bool, error: BaseException | None
    ) -> None:
        """Before the capture: a hidden value becomes a secret; an error is now shown."""
        if hide and call.typed_value is not None:
            recorder.add_secrets(*_secret_values(call.typed_value))
        if error is not None:
            self._failure = error

    def _action(self, call: Call | None, hide: bool = True) -> str:
        """The observation's action line: the test, then the call (or "test failed")."""
        what = describe_call(call, hide_value=hide) if call is not None else "test failed"
        return f"{self.place.name}: {what}"

    def _failed(self, call: Call, error: BaseException) -> dict[str, Any]:
        return {"status": "failed", "error": _error_line(call, error)}

    def _done(self, result: CaptureResult) -> None:
        self.last = result
        if result.image is not None:
            self.last_image = (result.step, result.image)
        if self.place.write_steps:
            self._write(result)

    def _step_folder(self, step: int) -> Path:
        return self.place.folder / f"step-{step:03d}"

    def _image_path(self, step: int, image: EncodedImage) -> Path:
        return self._step_folder(step) / f"screenshot.{image.extension}"

    def _write(self, result: CaptureResult) -> None:
        """A step's observation and (its own or the last) screenshot, as files."""
        folder = self._step_folder(result.step)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "observation.txt").write_text(result.observation, encoding="utf-8")
            if self.last_image is not None:
                step, image = self.last_image
                path = self._image_path(step, image)
                if not path.exists():  # a step without a new image points at an older one
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(image.data)
        except OSError as exc:  # a full disk must not fail the test; the report says so
            self.notes.append(f"could not write {folder}: {exc.strerror or exc}")


def folder_name(thread_id: str) -> str:
    """A file-system-safe folder name for a thread. A parameter id in brackets becomes a
    `-` suffix (`test_a[chromium]` → `test_a-chromium`): shells glob brackets, and some
    tools and URL handlers cannot open a path holding them."""
    plain = thread_id.replace("[", "-").replace("]", "")
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", plain).strip("_-") or "test"
