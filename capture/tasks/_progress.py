"""Showing a run: a live table on a terminal, one line per step on a pipe, nothing for --json.

Everything shown comes from action texts and reasons the runner already masked, so no secret
reaches the screen through here.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Self

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from capture._output import count
from capture.config import StoreConfig
from capture.store._links import serve_afterwards
from capture.tasks._runner import RunListener, RunResult, StepResult
from capture.tasks._schema import TaskFile

__all__ = ["ProgressListener", "listener_for", "print_summary", "step_table"]

_STYLE = {"ok": "green", "failed": "bold red", "skipped": "dim", "running": "yellow"}


class ProgressListener(RunListener):
    """A listener that is also a context manager (opened around the run)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


def step_table(steps: list[StepResult], title: str | None = None) -> Table:
    """The steps as a table: number, status, timings, action (and the reason of a failure)."""
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("#", justify="right")
    table.add_column("status")
    table.add_column("step", justify="right")
    table.add_column("capture", justify="right")
    table.add_column("action", overflow="fold")
    for step in steps:
        action = Text(step.action)
        if step.error:
            action.append(f"\n{step.error}", style="red")
        table.add_row(
            str(step.number),
            Text(step.status, style=_STYLE.get(step.status, "")),
            f"{step.seconds:.2f}s" if step.status != "skipped" else "",
            f"{step.capture_seconds:.2f}s" if step.status != "skipped" else "",
            action,
        )
    return table


class _Live(ProgressListener):
    """A rich live table, redrawn as steps start and finish."""

    def __init__(self) -> None:
        self.console = Console(highlight=False)
        self.live = Live(console=self.console, refresh_per_second=8, transient=False)
        self.done: list[StepResult] = []
        self.title = ""
        self.running = ""

    def __enter__(self) -> Self:
        self.live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.live.__exit__(kind, exc, tb)

    def _draw(self) -> None:
        parts: list[Table | Text] = [step_table(self.done, self.title)]
        if self.running:
            parts.append(Text(self.running, style=_STYLE["running"]))
        self.live.update(Group(*parts))

    def run_started(self, task: TaskFile, thread: str) -> None:
        self.title = f"{task.name} → thread {thread}"
        self._draw()

    def step_started(self, number: int, total: int, action: str) -> None:
        self.running = f"step {number}/{total}: {action} …"
        self._draw()

    def step_finished(self, step: StepResult, total: int) -> None:
        self.done.append(step)
        self.running = ""
        self._draw()


class _Lines(ProgressListener):
    """Plain lines for logs and pipes: one per finished step, flushed at once."""

    def run_started(self, task: TaskFile, thread: str) -> None:
        print(f"running {task.name} ({task.source}) into thread {thread}", flush=True)

    def step_finished(self, step: StepResult, total: int) -> None:
        timing = f"{step.seconds:6.2f}s" if step.status != "skipped" else " " * 7
        width = len(str(total))
        line = f"[{step.number:>{width}}/{total}] {step.status:<7} {timing}  {step.action}"
        print(line, flush=True)
        if step.error:
            print(f"    {step.error}", flush=True)


def listener_for(*, as_json: bool) -> ProgressListener:
    """Live table on a terminal, lines on a pipe, silence when JSON is the output."""
    if as_json:
        return ProgressListener()
    return _Live() if sys.stdout.isatty() else _Lines()


def print_summary(result: RunResult, base_url: str, *, embedded: StoreConfig | None = None) -> None:
    """One closing paragraph: outcome, counts, dropped writes, and where to look; `embedded`
    is the config of the embedded store the run used (None when a running store took it)."""
    ok = sum(1 for s in result.steps if s.status == "ok")
    lines = [
        f"{result.status}: {ok}/{count(len(result.steps), 'step')} ok in {result.seconds:.1f}s, "
        f"{count(result.captures, 'capture')} into thread {result.thread!r} ({base_url})",
    ]
    if result.dropped:
        lines.append(
            f"warning: {count(result.dropped, 'store write')} "
            f"{'was' if result.dropped == 1 else 'were'} dropped (the store was unreachable); "
            "the task itself ran to the end (--strict makes this exit 3)"
        )
    if embedded is not None:
        lines.append("the embedded store stopped with the run; its viewer link is gone")
        lines.append(serve_afterwards(embedded, result.thread))
    lines.append(f"look: capture parts list {result.thread}  (or the viewer of `capture serve`)")
    console = Console(highlight=False, soft_wrap=True)
    for line in lines:
        console.print(line, markup=False)
