"""Running a task: every step on a real page, a capture after each, a result at the end.

The runner owns the step loop and nothing else: steps are done (and settled) by the action
engine (`capture.actions`), captures by the `Recorder`, display by a `RunListener`. A
failed step is captured with `status="failed"` and the reason (so the agent reading the
thread sees why), the run record is marked failed, and the remaining steps are skipped
unless `continue_on_error`. A store that goes away never fails the task: the recorder counts
the writes it had to drop, and the result reports them.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, suppress
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from playwright.async_api import Browser, Page

from capture.actions import StepBase, StepContext, StepFailed, Tabs, Vars, describe, perform
from capture.config import Config
from capture.entry import Capture, open_capture
from capture.errors import SessionStoreError
from capture.recorder import Recorder
from capture.session import AsyncSessionClient
from capture.tasks._schema import TaskFile
from capture.tasks._vars import resolve_vars

__all__ = [
    "EXIT_DROPPED",
    "EXIT_FAILED",
    "EXIT_OK",
    "RunListener",
    "RunResult",
    "StepResult",
    "config_for",
    "default_thread",
    "run_task",
    "run_task_sync",
]

EXIT_OK = 0  # every step passed (dropped store writes are reported, not fatal)
EXIT_FAILED = 1  # a step failed, or the task file is invalid
EXIT_DROPPED = 3  # strict mode only: every step passed but store writes were dropped

StepStatus = Literal["ok", "failed", "skipped"]


@dataclass
class StepResult:
    """One step's outcome; `seconds` is the step itself, `capture_seconds` its capture."""

    number: int
    kind: str
    line: int
    action: str
    status: StepStatus
    error: str | None = None
    seconds: float = 0.0
    capture_seconds: float = 0.0
    changed: bool | None = None
    observation: str = field(default="", repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("observation")
        return data


@dataclass
class RunResult:
    """The outcome of a run: per-step results, timings, and how the captures fared."""

    task: str
    source: str
    thread: str
    status: Literal["passed", "failed"]
    steps: list[StepResult]
    seconds: float
    captures: int
    dropped: int
    final_observation: str = field(default="", repr=False)

    @property
    def failures(self) -> list[StepResult]:
        return [step for step in self.steps if step.status == "failed"]

    def exit_code(self, *, strict: bool = False) -> int:
        """0 passed; 1 a step failed; 3 passed but store writes were dropped (strict only)."""
        if self.failures:
            return EXIT_FAILED
        return EXIT_DROPPED if strict and self.dropped else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        """A machine-readable summary (`capture run --json`)."""
        return {
            "task": self.task,
            "source": self.source,
            "thread": self.thread,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "captures": self.captures,
            "dropped": self.dropped,
            "steps": [step.to_dict() for step in self.steps],
            "failures": [step.error for step in self.failures],
        }


class RunListener:
    """Hooks for showing progress; the default does nothing. Called on the event loop."""

    def run_started(self, task: TaskFile, thread: str) -> None:
        """Before the first step."""

    def step_started(self, number: int, total: int, action: str) -> None:
        """A step is about to run; `action` is its description (secrets masked)."""

    def step_finished(self, step: StepResult, total: int) -> None:
        """A step ran and was captured (or was skipped)."""


def default_thread(task: TaskFile) -> str:
    """The task's thread, else its name made id-friendly: re-runs land in the same thread."""
    if task.thread:
        return task.thread
    return re.sub(r"[^A-Za-z0-9._-]+", "-", task.name).strip("-").lower() or "task"


def config_for(task: TaskFile, config: Config) -> Config:
    """`config` with the task's own viewport, if it sets one (before a browser opens)."""
    if task.viewport is None:
        return config
    size = {"viewport_width": task.viewport.width, "viewport_height": task.viewport.height}
    return config.model_copy(update={"context": config.context.model_copy(update=size)})


async def run_task(
    task: TaskFile,
    *,
    capture: Capture | None = None,
    client: AsyncSessionClient | None = None,
    thread: str | None = None,
    config: Config | None = None,
    variables: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    browser: Browser | None = None,
    page: Page | None = None,
    headless: bool | None = None,
    step_timeout: timedelta | None = None,
    continue_on_error: bool = False,
    listener: RunListener | None = None,
) -> RunResult:
    """Run `task`, capturing every step into `thread`; never raises for a failed step.

    `variables` are `--var` values; `env` defaults to `os.environ`. The run opens its
    capture through `open_capture` unless given an open `capture` (a front door's, whose
    store, client and browser it shares). Pass `browser` to reuse a launched browser (a
    fresh context per run) or `page` to continue in an existing page (an agent acting on
    refs from the last observation); otherwise a browser is launched from `config.browser`
    and closed at the end. Without `client` or `capture`, one is built from
    `config.session`. `step_timeout` overrides the task's default step time limit. Invalid
    variables raise `TaskError` before any browser starts.
    """
    config = config_for(task, config or (capture.config if capture else Config()))
    resolved = resolve_vars(task, variables, env)
    async with AsyncExitStack() as stack:
        if capture is None:
            capture = await stack.enter_async_context(
                open_capture(
                    config,
                    store="as_is",
                    client=client,
                    browser=browser,
                    page=page,
                    launch=True,
                    headless=headless,
                )
            )
            start_page = capture.page
        elif page is not None or browser is not None:
            start_page = page or await capture.new_page(browser)
        else:
            start_page = capture.page or await capture.new_page()
        assert start_page is not None
        if page is not None and task.viewport is not None:
            await page.set_viewport_size(
                {"width": task.viewport.width, "height": task.viewport.height}
            )
        return await _run(
            task,
            capture,
            start_page,
            config,
            resolved,
            thread,
            step_timeout,
            continue_on_error,
            listener or RunListener(),
        )


async def _run(
    task: TaskFile,
    capture: Capture,
    start_page: Page,
    config: Config,
    resolved: Vars,
    thread: str | None,
    step_timeout: timedelta | None,
    continue_on_error: bool,
    listener: RunListener,
) -> RunResult:
    """The step loop on an open capture; its recorder is closed (bounded) before the result."""
    thread = thread or resolved.expand(default_thread(task))
    ctx = StepContext(resolved.expand(task.base_url), Path(task.source).parent, resolved)
    default_limit = step_timeout or task.timeout
    begun = time.monotonic()
    tabs = Tabs(start_page)
    recorder = capture.recorder(
        start_page, thread, secrets=resolved.secrets, config=task.capture_config(config.capture)
    )
    try:
        listener.run_started(task, thread)
        await _guarded(recorder.start_run, task.name, source=task.source, steps=len(task.steps))
        results: list[StepResult] = []
        last_observation = ""
        for number, step in enumerate(task.steps, 1):
            if results and results[-1].status != "ok" and not continue_on_error:
                results.append(_skipped(number, step, resolved))
                listener.step_finished(results[-1], len(task.steps))
                continue
            result = await _run_step(
                number, step, task, ctx, tabs, recorder, default_limit, listener
            )
            last_observation = result.observation or last_observation
            results.append(result)
            listener.step_finished(result, len(task.steps))
        status: Literal["passed", "failed"] = (
            "failed" if any(r.status == "failed" for r in results) else "passed"
        )
        await _guarded(recorder.finish_run, status)
    finally:
        tabs.close()
        await capture.close_recorders(recorder)
    stats = recorder.stats  # after close: every upload was sent or dropped
    return RunResult(
        task=task.name,
        source=task.source,
        thread=thread,
        status=status,
        steps=results,
        seconds=time.monotonic() - begun,
        captures=stats.captures,
        dropped=stats.dropped,
        final_observation=last_observation,
    )


async def _guarded(work: Callable[..., Awaitable[None]], *args: Any, **kwargs: Any) -> None:
    """Recorder bookkeeping that may raise in strict mode: the task goes on regardless."""
    with suppress(SessionStoreError):  # counted in recorder.stats.dropped
        await work(*args, **kwargs)


def _skipped(number: int, step: StepBase, variables: Vars) -> StepResult:
    return StepResult(
        number, step.kind, step.line, describe(step, variables, value_hidden=True), "skipped"
    )


async def _run_step(
    number: int,
    step: StepBase,
    task: TaskFile,
    ctx: StepContext,
    tabs: Tabs,
    recorder: Recorder,
    default_limit: timedelta,
    listener: RunListener,
) -> StepResult:
    total = len(task.steps)
    limit = (step.timeout or default_limit).total_seconds()
    if await tabs.settle():  # a tab that opened late, after the last step's capture
        recorder.page = tabs.current
    # Until the step ran, a typed value's field is unknown: it may be a password field.
    ctx.names = recorder.names()
    action = describe(step, ctx.vars, value_hidden=True, names=ctx.names)
    listener.step_started(number, total, action)
    began = time.monotonic()
    error: str | None = None
    try:
        action = await perform(tabs.current, step, ctx, limit)
    except StepFailed as exc:
        where = f"{task.source}:{step.line}" if step.line else task.source
        error = f"step {number} ({step.kind}) at {where} failed: {exc.reason}"
    seconds = time.monotonic() - began
    # A click or key press may have opened a tab or started a navigation: capture the page
    # it leads to, not the one it leaves.
    if await tabs.after([] if error else [step], seconds, load_within=min(limit, 5.0)):
        recorder.page = tabs.current
    result = StepResult(
        number, step.kind, step.line, action, "failed" if error else "ok", error, seconds
    )
    began = time.monotonic()
    try:
        # On failure the observation says under the action what failed and why, so the
        # agent reading the thread sees it without the step records.
        captured = await recorder.capture(action, status="failed" if error else "ok", error=error)
    except SessionStoreError:
        pass  # strict mode: the recorder's upload error; the run result reports it
    else:
        result.changed = captured.changed
        result.observation = captured.observation
    result.capture_seconds = time.monotonic() - began
    return result


def run_task_sync(task: TaskFile, **options: Any) -> RunResult:
    """`run_task` for code without an event loop (same keyword options)."""
    return asyncio.run(run_task(task, **options))
