"""Showing a run: a live table on a terminal, one line per step on a pipe, nothing for --json;
for many tasks, a board with a line per task.

Everything shown comes from action texts and reasons the runner already masked, so no secret
reaches the screen through here.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Literal, Self

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from capture._output import count
from capture.config import StoreConfig
from capture.store import serve_afterwards
from capture.tasks._runner import RunListener, RunResult, StepResult
from capture.tasks._schema import TaskFile

__all__ = [
    "ProgressListener",
    "TaskBoard",
    "board_for",
    "listener_for",
    "print_fleet_summary",
    "print_summary",
    "step_table",
]

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


# -- many tasks (`capture run A.yaml B.yaml --parallel N`) -----------------------------------


class _TaskLine:
    """What the board knows of one task: it is updated by that task's listener."""

    def __init__(self, name: str, source: str) -> None:
        self.name = name
        self.source = source
        self.thread = ""
        self.status = "queued"
        self.total = 0
        self.done = 0
        self.action = ""
        self.began = 0.0
        self.seconds = 0.0
        self.error = ""


class _TaskListener(RunListener):
    """One task's listener: it writes into the task's line and asks the board to redraw."""

    def __init__(self, board: TaskBoard, line: _TaskLine) -> None:
        self._board = board
        self._line = line

    def run_started(self, task: TaskFile, thread: str) -> None:
        self._line.thread = thread
        self._line.status = "running"
        self._line.total = len(task.steps)
        self._line.began = time.monotonic()
        self._board.changed(self._line)

    def step_started(self, number: int, total: int, action: str) -> None:
        self._line.action = action
        self._board.changed(self._line)

    def step_finished(self, step: StepResult, total: int) -> None:
        self._line.done = step.number
        if step.error and not self._line.error:
            self._line.error = step.error
        self._board.changed(self._line)


class TaskBoard:
    """Progress of many tasks at once: a live table with a line per task on a terminal, a
    line per finished task on a pipe, nothing with --json. `listener(i)` is task i's
    `RunListener`; `finished(i, result)` closes its line."""

    def __init__(self, tasks: list[TaskFile], *, mode: Literal["live", "lines", "quiet"]) -> None:
        self.lines = [_TaskLine(task.name, task.source) for task in tasks]
        self.mode = mode
        self._live: Live | None = None
        if mode == "live":
            self._live = Live(
                console=Console(highlight=False), refresh_per_second=4, transient=False
            )

    def __enter__(self) -> Self:
        if self._live is not None:
            self._live.__enter__()
            self._draw()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._draw()
            self._live.__exit__(kind, exc, tb)

    def listener(self, index: int) -> RunListener:
        return _TaskListener(self, self.lines[index])

    def finished(self, index: int, result: RunResult) -> None:
        line = self.lines[index]
        line.status = result.status
        line.seconds = result.seconds
        line.thread = result.thread
        line.action = ""
        line.done = sum(1 for s in result.steps if s.status != "skipped")
        if result.failures:
            line.error = result.failures[0].error or ""
        if self.mode == "lines":
            ok = sum(1 for s in result.steps if s.status == "ok")
            print(
                f"{result.status:<7} {result.seconds:6.2f}s  {result.task} ({result.source}): "
                f"{ok}/{len(result.steps)} steps ok, thread {result.thread}",
                flush=True,
            )
            if line.error:
                print(f"    {line.error}", flush=True)
        self.changed(line)

    def changed(self, line: _TaskLine) -> None:
        if self._live is not None:
            self._draw()

    def table(self) -> Table:
        """The board as a table: a line per task, with its step, status and current action."""
        table = Table(expand=False)
        table.add_column("#", justify="right")
        table.add_column("task")
        table.add_column("status")
        table.add_column("steps", justify="right")
        table.add_column("time", justify="right")
        table.add_column("thread")
        table.add_column("now", overflow="fold")
        now = time.monotonic()
        for number, line in enumerate(self.lines, 1):
            seconds = line.seconds or (now - line.began if line.began else 0.0)
            what = Text(line.action, style=_STYLE["running"])
            if line.error:
                what = Text(line.error, style="red")
            table.add_row(
                str(number),
                line.name,
                Text(line.status, style=_STYLE.get(line.status, "")),
                f"{line.done}/{line.total}" if line.total else "",
                f"{seconds:.1f}s" if seconds else "",
                line.thread,
                what,
            )
        return table

    def _draw(self) -> None:
        assert self._live is not None
        self._live.update(self.table())


def board_for(tasks: list[TaskFile], *, as_json: bool) -> TaskBoard:
    """Live table on a terminal, lines on a pipe, silence when JSON is the output."""
    if as_json:
        return TaskBoard(tasks, mode="quiet")
    return TaskBoard(tasks, mode="live" if sys.stdout.isatty() else "lines")


def print_fleet_summary(
    results: list[RunResult], seconds: float, base_url: str, *, embedded: bool = False
) -> None:
    """The closing paragraph of many tasks: passed, failed, steps, captures, dropped writes."""
    passed = sum(1 for r in results if r.status == "passed")
    steps = sum(len(r.steps) for r in results)
    ok = sum(1 for r in results for s in r.steps if s.status == "ok")
    lines = [
        f"{passed} passed, {len(results) - passed} failed of {len(results)} tasks in "
        f"{seconds:.1f}s: {ok}/{steps} steps ok, {sum(r.captures for r in results)} captures, "
        f"{sum(r.dropped for r in results)} dropped writes ({base_url})",
    ]
    lines += [f"failed: {r.task} ({r.source}) → thread {r.thread}" for r in results if r.failures]
    if embedded:
        lines.append("the embedded store stopped with the run; `capture serve` serves its data")
    console = Console(highlight=False, soft_wrap=True)
    for line in lines:
        console.print(line, markup=False)
