"""Many tasks side by side: `capture run A.yaml B.yaml dir/ --parallel N`.

One browser serves every task, each in a context of its own (no cookie or storage shared)
and each into its own thread. At most N run at once, on one event loop: a page mostly waits
on its server, so tasks overlap where a single one would sit idle. A failing task fails
alone; a step that hangs is ended by its own time limit (the runner's guard), and its
context is closed when its run ends, whatever happened.
"""

from __future__ import annotations

import asyncio
import glob
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser
from playwright.async_api import Error as PlaywrightError

from capture.config import Config
from capture.errors import CaptureError, TaskError
from capture.session import AsyncSessionClient
from capture.tasks._progress import TaskBoard
from capture.tasks._runner import (
    EXIT_DROPPED,
    EXIT_FAILED,
    EXIT_OK,
    RunResult,
    StepResult,
    default_thread,
    run_task,
)
from capture.tasks._schema import TaskFile
from capture.tasks._vars import resolve_vars

__all__ = [
    "FleetResult",
    "check_threads",
    "expand_task_paths",
    "run_tasks",
    "worst_exit_code",
]

TASK_SUFFIXES = (".yaml", ".yml")


def expand_task_paths(arguments: Sequence[str]) -> list[Path]:
    """Files, globs and directories (every `*.yaml`/`*.yml` below, sorted) as task files, in
    the order given, each once; a name that matches nothing is a `TaskError`."""
    found: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            matches = sorted(p for p in path.rglob("*") if p.suffix in TASK_SUFFIXES)
            if not matches:
                raise TaskError(f"{argument}: no task files (*.yaml, *.yml) in this directory")
        elif glob.has_magic(argument):
            matches = sorted(Path(p) for p in glob.glob(argument, recursive=True))
            matches = [p for p in matches if p.is_file()]
            if not matches:
                raise TaskError(f"{argument}: no task files match this pattern")
        else:
            matches = [path]  # a missing file is reported by load_task, with its name
        found += matches
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.resolve(), None)
    cwd = Path.cwd()
    return [p.relative_to(cwd) if p.is_relative_to(cwd) else p for p in unique]


def worst_exit_code(codes: Sequence[int]) -> int:
    """The worst of the tasks' exit codes: a failed step (1) over dropped writes (3) over 0."""
    for code in (EXIT_FAILED, EXIT_DROPPED):
        if code in codes:
            return code
    return EXIT_OK


@dataclass
class FleetResult:
    """Every task's result, in the order given, and the wall time of the whole run."""

    results: list[RunResult]
    seconds: float

    def exit_code(self, *, strict: bool = False) -> int:
        return worst_exit_code([r.exit_code(strict=strict) for r in self.results])

    def to_dict(self, *, strict: bool = False) -> dict[str, Any]:
        """`capture run --json` for many tasks: totals, then every task with its exit code."""
        passed = sum(1 for r in self.results if r.status == "passed")
        return {
            "tasks": len(self.results),
            "passed": passed,
            "failed": len(self.results) - passed,
            "steps": sum(len(r.steps) for r in self.results),
            "captures": sum(r.captures for r in self.results),
            "dropped": sum(r.dropped for r in self.results),
            "seconds": round(self.seconds, 3),
            "results": [
                {**r.to_dict(), "exit_code": r.exit_code(strict=strict)} for r in self.results
            ],
        }


def check_threads(tasks: Sequence[TaskFile], variables: Mapping[str, str]) -> list[str]:
    """Each task's thread (its `thread:`, else its name), checked to be its own: two tasks
    writing one thread would interleave their steps. Raises `TaskError` naming both files."""
    seen: dict[str, TaskFile] = {}
    threads = []
    for task in tasks:
        thread = resolve_vars(task, variables).expand(default_thread(task))
        if (other := seen.get(thread)) is not None:
            raise TaskError(
                f"{other.source} and {task.source} both write thread {thread!r}; "
                "give one of them its own `thread:` or `name:`"
            )
        seen[thread] = task
        threads.append(thread)
    return threads


async def run_tasks(
    tasks: Sequence[TaskFile],
    *,
    browser: Browser,
    client: AsyncSessionClient,
    config: Config,
    variables: Mapping[str, str] | None = None,
    parallel: int = 1,
    continue_on_error: bool = False,
    board: TaskBoard | None = None,
) -> FleetResult:
    """Run `tasks`, at most `parallel` at once, each in a fresh context of `browser` and its
    own thread; never raises for a task that fails (see the module docstring)."""
    threads = check_threads(tasks, variables or {})
    gate = asyncio.Semaphore(max(1, parallel))
    began = time.monotonic()

    async def one(index: int) -> RunResult:
        task = tasks[index]
        async with gate:
            started = time.monotonic()
            try:
                result = await run_task(
                    task,
                    client=client,
                    thread=threads[index],
                    config=config,
                    variables=variables,
                    browser=browser,
                    continue_on_error=continue_on_error,
                    listener=board.listener(index) if board else None,
                )
            except (CaptureError, PlaywrightError) as exc:
                # The browser went away or a context could not open: this task fails alone.
                seconds = time.monotonic() - started
                masked = resolve_vars(task, variables).mask(_first_line(exc))
                result = _could_not_run(task, threads[index], masked, seconds)
        if board is not None:
            board.finished(index, result)
        return result

    results = await asyncio.gather(*(one(i) for i in range(len(tasks))))
    return FleetResult(list(results), time.monotonic() - began)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _could_not_run(task: TaskFile, thread: str, reason: str, seconds: float) -> RunResult:
    error = f"task {task.name!r} ({task.source}) could not run: {reason}"
    step = StepResult(0, "task", 0, "start the task", "failed", error)
    return RunResult(task.name, task.source, thread, "failed", [step], seconds, 0, 0)
