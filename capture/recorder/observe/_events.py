"""What the page reports between two captures: console errors, uncaught exceptions,
failed requests (network failures and HTTP >= 400) and JavaScript dialogs.

Works with pages of both Playwright APIs: event handlers are plain callbacks either way.
Dialogs are recorded, not handled: but any "dialog" listener stops Playwright's default of
dismissing dialogs nobody handles, and a page with an open alert() blocks every evaluate.
So when PageEvents is the only listener, it does what Playwright would have done (dismiss;
accept for beforeunload), and says so in the record.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from capture.browser import dialog_listeners
from capture.recorder.observe._model import EventsSnapshot

__all__ = ["MAX_EVENTS", "MAX_EVENT_CHARS", "PageEvents"]

MAX_EVENTS = 20  # per kind and drain; the rest is only counted
MAX_EVENT_CHARS = 300
# Chromium logs every failed load to the console too; the request list already has it.
_DUPLICATE_CONSOLE = "Failed to load resource:"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_EVENT_CHARS else text[: MAX_EVENT_CHARS - 1] + "…"


def _other_dialog_listeners(page: Any) -> int:
    """How many "dialog" listeners the page and its context have besides PageEvents' own.

    If Playwright stops telling, assume nobody else listens, which keeps Playwright's default
    behaviour (dismiss) and never leaves a page blocked.
    """
    count = dialog_listeners(page)
    return 0 if count is None else max(count - 1, 0)


class PageEvents:
    """Collects page events; `drain()` returns and forgets what came since the last drain."""

    def __init__(self, page: Any = None) -> None:
        self._snapshot = EventsSnapshot()
        self._open: dict[int, str] = {}
        self._pages: list[Any] = []
        self._tasks: set[asyncio.Future[Any]] = set()
        if page is not None:
            self.attach(page)

    def attach(self, page: Any) -> None:
        """Listen to `page` too (a new tab); attaching the same page twice is a no-op."""
        if any(p is page for p in self._pages):
            return
        self._pages.append(page)
        for event, handler in self._handlers().items():
            page.on(event, handler)

    def detach(self, page: Any) -> None:
        """Stop listening to `page`."""
        if not any(p is page for p in self._pages):
            return
        self._pages = [p for p in self._pages if p is not page]
        for event, handler in self._handlers().items():
            page.remove_listener(event, handler)

    def drain(self) -> EventsSnapshot:
        """Events since the previous drain, plus the JavaScript dialogs open right now."""
        snapshot, self._snapshot = self._snapshot, EventsSnapshot()
        snapshot.open_dialogs = list(self._open.values())
        return snapshot

    # -- handlers ---------------------------------------------------------------------

    def _handlers(self) -> dict[str, Callable[[Any], None]]:
        """The page events listened to, each with its handler (attach and detach agree)."""
        return {
            "console": self._on_console,
            "pageerror": self._on_page_error,
            "requestfailed": self._on_request_failed,
            "response": self._on_response,
            "dialog": self._on_dialog,
            "dialogclosed": self._on_dialog_closed,
        }

    def _add(self, bucket: list[str], text: str) -> None:
        if len(bucket) < MAX_EVENTS:
            bucket.append(_short(text))
        else:
            self._snapshot.dropped += 1

    def _on_console(self, message: Any) -> None:
        if message.type != "error" or message.text.startswith(_DUPLICATE_CONSOLE):
            return
        location = message.location or {}
        where = f" (at {location.get('url')}:{location.get('lineNumber')})" if location else ""
        self._add(self._snapshot.console_errors, f"{message.text}{where}")

    def _on_page_error(self, error: Any) -> None:
        name = getattr(error, "name", None) or "Error"
        self._add(self._snapshot.page_errors, f"{name}: {getattr(error, 'message', error)}")

    def _on_request_failed(self, request: Any) -> None:
        reason = request.failure or "failed"
        self._add(self._snapshot.failed_requests, f"{request.method} {request.url} — {reason}")

    def _on_response(self, response: Any) -> None:
        # A missing favicon is the browser's request, not the page's; only headed
        # Chromium even asks for it.
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            status = f"{response.status} {response.status_text}".strip()
            self._add(
                self._snapshot.failed_requests,
                f"{response.request.method} {response.url} — HTTP {status}",
            )

    def _on_dialog(self, dialog: Any) -> None:
        text = f"{dialog.type} {dialog.message!r}"
        self._open[id(dialog)] = text
        if dialog.page is None or _other_dialog_listeners(dialog.page):
            self._add(self._snapshot.dialogs, text)
            return
        accept = dialog.type == "beforeunload"
        self._add(self._snapshot.dialogs, f"{text} ({'accepted' if accept else 'dismissed'})")
        self._settle(dialog.accept() if accept else dialog.dismiss())

    def _on_dialog_closed(self, dialog: Any) -> None:
        self._open.pop(id(dialog), None)

    def _settle(self, result: Any) -> None:
        """Run the async API's coroutine in the background; the sync API already ran it."""
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a dialog closed by the page itself is no error
