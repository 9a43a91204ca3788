"""The store a pytest run captures into: `store_or_embedded` on a loop of its own thread.

pytest's hooks are synchronous and pytest-asyncio's loops come and go per test, so the
embedded store (when one is needed) runs on an event loop in a daemon thread for the whole
run, exactly as `capture run` would start it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from capture.config import Config
from capture.errors import CaptureError
from capture.store import store_or_embedded

__all__ = ["RunStore"]


class RunStore:
    """A reachable store for the length of a pytest run; `start()` returns its base URL."""

    def __init__(self, config: Config, *, explicit: bool) -> None:
        self._config = config
        self._explicit = explicit
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.base_url = ""
        self.embedded = ""  # what the embedded store announced; empty for a reachable one

    def start(self) -> str:
        """Find or start the store (once); raise `CaptureError` when there is none."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="capture-store", daemon=True)
            self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self.base_url

    def stop(self) -> None:
        """Stop an embedded store (a reachable one is left alone) and wait for it."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has ended already (no store)
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def _announce(self, message: str) -> None:
        self.embedded = message

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by start() in the main thread
            self._error = exc if isinstance(exc, CaptureError) else CaptureError(str(exc))
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with store_or_embedded(
            self._config, explicit=self._explicit, announce=self._announce
        ) as base_url:
            self.base_url = base_url
            self._ready.set()
            await self._stop.wait()
