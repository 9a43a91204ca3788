"""One recording from start to task file, on an open capture: the recorder, the stop.

`record_session` is what `capture record` runs on the capture it opened (`open_capture`
with the browser launched or attached); it returns when `stop` is set (a signal, `capture
record --stop`) or the person closed the browser, and always flushes the captures (bounded)
and writes the task file before returning.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from capture._output import count
from capture.config import StoreConfig
from capture.entry import Capture
from capture.errors import TaskError
from capture.live._actions import Action
from capture.live._export import Export, export_task
from capture.live._recorder import LiveRecorder
from capture.live._result import LiveResult
from capture.store import serve_afterwards
from capture.tasks import dump_task

__all__ = ["Recording", "record_session"]


@dataclass
class Recording:
    """What `record_session` produced: the recorder's result and the exported task."""

    result: LiveResult
    export: Export | None
    out: Path | None

    def report(
        self, thread: str, base_url: str, *, embedded: StoreConfig | None = None
    ) -> list[str]:
        """What `capture record` prints when it ends: the summary, the thread and how to look
        at it (`embedded`: the config of the embedded store the recording ran, which stopped
        with it), the task file, its secret variables (names only), the files to place and
        what was not exported."""
        lines = [self.result.summary(), f"thread: {thread} at {base_url}"]
        if embedded is not None:
            lines.append("the embedded store stopped with the recording; that address is gone")
            lines.append(serve_afterwards(embedded, thread))
        lines.append(f"look: capture parts list {thread}  (or the viewer of `capture serve`)")
        if self.export is None or self.out is None:
            return lines
        task = self.export.task
        lines.append(f"task file: {self.out} ({count(len(task.steps), 'step')})")
        lines += [
            f"  secret variable {v}: to replay, set {v}=... in the environment or an "
            f"--env-file (or give --var {v}=...); the value was not recorded"
            for v in task.vars
        ]
        lines += [
            f"  upload: place {name!r} next to the task file (only its name was recorded)"
            for name in self.export.files
        ]
        lines += [f"  not exported: {skipped}" for skipped in self.export.skipped]
        return lines


async def record_session(
    capture: Capture,
    *,
    thread: str,
    stop: asyncio.Event,
    url: str | None = None,
    out: Path | None = None,
    name: str | None = None,
    quiet: float = 1.0,
    ready: Callable[[LiveRecorder], None] = lambda _: None,
    on_action: Callable[[Action], None] | None = None,
) -> Recording:
    """Record in `capture`'s browser until `stop` is set or the browser goes away; write
    `out` if given.

    `ready` is called once the recorder listens (the CLI says so; a caller can drive the page),
    `on_action` with each action as it completes; `quiet` is `LiveRecorder`'s.
    """
    browser = capture.browser
    if browser is None:
        raise TaskError("record_session needs a capture with a browser (launch it first)")
    live = LiveRecorder(
        browser.context,
        capture,
        thread,
        page=None if browser.attached else browser.page,
        name=name or f"live recording {thread}",
        on_action=on_action,
        quiet=quiet,
    )
    stopped = asyncio.ensure_future(stop.wait())
    closed = asyncio.ensure_future(live.closed.wait())
    try:
        await live.start(url)
        ready(live)
        await asyncio.wait({stopped, closed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        closed.cancel()
        result = await live.stop()  # also when starting failed: no task is left behind
    if out is None:
        return Recording(result, None, None)
    try:
        exported = export_task(
            result.actions,
            name=name or f"recorded {thread}",
            secrets=capture.config.capture.secrets,
        )
    except TaskError as exc:
        result.problems.append(f"no task file written: {exc}")
        return Recording(result, None, None)
    await asyncio.to_thread(_write, out, dump_task(exported.task))
    return Recording(result, exported, out)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
