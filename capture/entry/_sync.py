"""`open_capture_sync`: `open_capture` for callers without an event loop (the pytest plugin).

pytest's hooks are synchronous and pytest-asyncio's loops come and go per test, so the store
is resolved (and the embedded one served) by the same `resolve_store` on an event loop in a
daemon thread that lives as long as the capture. The browser is the caller's (pytest-
playwright's); recorders are `SyncRecorder`s on the sync API, or `Recorder`s on an async
test's own loop, each with a client of its own face, all closed with the same bounded flush.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from playwright.async_api import Page as AsyncPage
from playwright.sync_api import Page as SyncPage

from capture.config import Config
from capture.entry._open import FLUSH_GRACE, say_on_stderr, waiting_line
from capture.entry._store import ResolvedStore, StoreChoice, resolve_store
from capture.errors import CaptureError, SessionStoreError
from capture.recorder import Recorder, SyncRecorder
from capture.session import AsyncSessionClient, SessionClient

__all__ = ["SyncCapture", "open_capture_sync"]


class _StoreThread:
    """`resolve_store` held open on a loop of its own daemon thread until `stop()`."""

    def __init__(self, config: Config, choice: StoreChoice) -> None:
        self._config, self._choice = config, choice
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._resolved: ResolvedStore | None = None
        self._thread = threading.Thread(target=self._run, name="capture-store", daemon=True)

    def start(self) -> ResolvedStore:
        """Find or start the store; raise `CaptureError` when there is none."""
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        assert self._resolved is not None
        return self._resolved

    def let_go(self) -> None:
        """Tell an embedded store to stop (a reachable one is left alone); do not wait."""
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has ended already
                self._loop.call_soon_threadsafe(self._stop.set)

    def stop(self) -> None:
        """Stop an embedded store (a reachable one is left alone) and wait for it."""
        self.let_go()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by start() in the caller's thread
            self._error = exc if isinstance(exc, CaptureError) else CaptureError(str(exc))
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with resolve_store(self._config, self._choice) as resolved:
            self._resolved = resolved
            self._ready.set()
            await self._stop.wait()


@dataclass
class SyncCapture:
    """An open capture for sync callers: the store, a sync client, and recorders."""

    config: Config
    store: ResolvedStore
    client: SessionClient
    say: Callable[[str], None]
    _holder: _StoreThread | None = None
    _recorders: list[SyncRecorder] = field(default_factory=list)
    _async_clients: dict[int, AsyncSessionClient] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """The base URL of the store the captures go to."""
        return self.store.base_url

    def store_done(self) -> None:
        """Nothing more will be written: an embedded store starts stopping now, while the
        caller does other things (pytest tears the browser down), not when the capture
        closes. Recorders still open are closed first."""
        for recorder in list(self._recorders):
            self.close_recorder(recorder)
        if self._holder is not None:
            self._holder.let_go()

    def recorder(self, page: SyncPage, thread: str) -> SyncRecorder:
        """A recorder of a sync-API `page` into `thread`, closed (bounded) with the capture."""
        recorder = SyncRecorder(page, self.client, thread, config=self.config.capture)
        self._recorders.append(recorder)
        return recorder

    def async_recorder(self, page: AsyncPage, thread: str) -> Recorder:
        """A recorder of an async-API `page` on the running loop, with a client of its own
        on that loop; close it with `close_async_recorder` on the same loop."""
        client = AsyncSessionClient.from_config(self.config.session, base_url=self.base_url)
        recorder = Recorder(page, client, thread, config=self.config.capture)
        self._async_clients[id(recorder)] = client
        return recorder

    def close_recorder(self, recorder: SyncRecorder) -> None:
        """Send what `recorder` queued, within `capture.flush_timeout`."""
        if recorder in self._recorders:
            self._recorders.remove(recorder)
        deadline = self.config.capture.flush_timeout.total_seconds()
        with contextlib.suppress(SessionStoreError):  # strict: counted in its stats
            if not recorder.flush(min(FLUSH_GRACE, deadline)) and (pending := recorder.pending):
                self.say(waiting_line(pending, self.base_url))
            recorder.close(max(0.0, deadline - FLUSH_GRACE))

    async def close_async_recorder(self, recorder: Recorder) -> None:
        """`close_recorder` for a recorder from `async_recorder` (on its own loop)."""
        deadline = self.config.capture.flush_timeout.total_seconds()
        closing = asyncio.ensure_future(recorder.close(deadline))
        done, _ = await asyncio.wait({closing}, timeout=min(FLUSH_GRACE, deadline))
        if not done and (pending := recorder.pending):
            self.say(waiting_line(pending, self.base_url))
        with contextlib.suppress(SessionStoreError):
            await closing
        client = self._async_clients.pop(id(recorder), None)
        if client is not None:
            await client.close()


@contextlib.contextmanager
def open_capture_sync(
    config: Config,
    *,
    store: StoreChoice = "fallback",
    say: Callable[[str], None] = say_on_stderr,
) -> Iterator[SyncCapture]:
    """Open a capture without an event loop: the store (per `store`) on a thread of its own
    and a sync client; on exit the recorders still open are closed (bounded), then the
    client and the store. What an embedded store says is in `store.embedded`, for the
    caller to show where it fits (the pytest plugin: in its summary)."""
    holder = _StoreThread(config, store)
    try:
        resolved = holder.start()
        with SessionClient.from_config(config.session, base_url=resolved.base_url) as client:
            capture = SyncCapture(config, resolved, client, say, holder)
            try:
                yield capture
            finally:
                for recorder in list(capture._recorders):
                    capture.close_recorder(recorder)
    finally:
        holder.stop()
