"""Task files as pytest items: `test_*.task.yaml` and `test_*.task.yml`, one item per file.

An item runs its task with the task runner, in a fresh context of a browser shared by every
task item of the process (a pytest-xdist worker has its own), into a thread named after the
item's node id, as a Python test's captures are. The browser and the capture live on an
event loop in a daemon thread for the whole run: pytest's hooks are synchronous, and the
runner is async. The store is the enabled capture plugin's (under xdist, the one its
controller found or started); without the plugin, the configured store when it answers,
else an embedded one, as `capture run` does.

A failing item shows every failing step with its `file:line` and reason, the thread, and
where to look; the runner has already masked secrets in all of it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Generator, Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest

from capture.config import Config
from capture.entry import Capture, StoreChoice, door_config, open_capture, store_choice
from capture.errors import CaptureError
from capture.pytest_plugin._names import thread_id_for, viewer_url
from capture.pytest_plugin._plugin import PLUGIN_NAME as CAPTURE_PLUGIN
from capture.pytest_plugin._plugin import REPORT_COUNTS, TASK_ITEMS, usage_errors
from capture.tasks import RunResult, TaskFile, load_task, run_task

__all__ = ["TaskFileCollector", "TaskItem", "TaskItems"]

PLUGIN_NAME = TASK_ITEMS
T = TypeVar("T")


class TaskFailed(Exception):
    """A task item's run failed; carries the result for the report."""

    def __init__(self, result: RunResult, base_url: str, *, embedded: bool) -> None:
        super().__init__(result.failures[0].error if result.failures else result.status)
        self.result = result
        self.base_url = base_url
        self.embedded = embedded


class TaskItems:
    """The browser, store and loop every task item of this process runs on (registered as a
    plugin at the first task file collected, so that it is closed at the end of the run)."""

    def __init__(self, pconfig: pytest.Config) -> None:
        self._pconfig = pconfig
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._capture: Capture | None = None
        self._stop: asyncio.Event | None = None
        self._opened: Future[Capture] = Future()

    @classmethod
    def of(cls, pconfig: pytest.Config) -> TaskItems:
        plugin = pconfig.pluginmanager.get_plugin(PLUGIN_NAME)
        if plugin is None:
            plugin = cls(pconfig)
            pconfig.pluginmanager.register(plugin, PLUGIN_NAME)
        assert isinstance(plugin, TaskItems)
        return plugin

    def config(self) -> tuple[Config, StoreChoice]:
        """The config and store choice: the capture plugin's store when it is on."""
        option = self._pconfig.option
        # Registered once capture loaded, which a test's setup waits for (`capture_pytest`).
        enabled = self._pconfig.pluginmanager.get_plugin(CAPTURE_PLUGIN)
        if enabled is not None:
            base_url = enabled.open().base_url
            config = enabled.config.model_copy(
                update={"session": enabled.config.session.model_copy(update={"server": base_url})}
            )
            return config, store_choice(base_url)
        server = getattr(option, "capture_server", None)
        with usage_errors():
            config = door_config(
                getattr(option, "capture_config", None),
                server=server,
                token=option.capture_token,
            )
        return config, store_choice(server)

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the items' loop and wait for it."""
        self._start()
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    def capture(self) -> Capture:
        """The open capture (store, client, browser), opened at the first call."""
        self._start()
        return self._opened.result()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name="capture-tasks", daemon=True)
            self._thread.start()

    def _main(self) -> None:
        asyncio.run(self._hold())

    async def _hold(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            config, store = self.config()
            headed = bool(getattr(self._pconfig.option, "headed", False))
            async with open_capture(
                config,
                store=store,
                launch=True,
                headless=False if headed else None,
            ) as capture:
                self._opened.set_result(capture)
                await self._stop.wait()
        except BaseException as exc:
            if not self._opened.done():
                self._opened.set_exception(exc)
            else:
                raise

    def pytest_unconfigure(self) -> None:
        """Close the browser, client and embedded store (with the capture's bounded flush)."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=60)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """A task item's counts travel on its report, as a Python test's do (REPORT_COUNTS),
        so the capture plugin's summary adds them up, from xdist workers too."""
        report = yield
        if isinstance(item, TaskItem) and report.when == "call" and item.result is not None:
            counts = {"captures": item.result.captures, "dropped": item.result.dropped}
            setattr(report, REPORT_COUNTS, counts)
        return report


class TaskFileCollector(pytest.File):
    """A `test_*.task.yaml` file: one `TaskItem`, named after the task."""

    def collect(self) -> Iterable[TaskItem]:
        # Named as the person typed it (relative to where pytest runs), so `file:line` in a
        # failure is short and clickable.
        cwd = Path.cwd()
        path = self.path.relative_to(cwd) if self.path.is_relative_to(cwd) else self.path
        try:
            task = load_task(path)
        except CaptureError as exc:
            raise self.CollectError(str(exc)) from None
        TaskItems.of(self.config)
        yield TaskItem.from_parent(self, name=task.name, task=task)


class TaskItem(pytest.Item):
    """One task file run as a test; its captures go to a thread named after its node id."""

    captures_itself = True  # the capture plugin leaves it alone: the runner records it

    def __init__(self, *, task: TaskFile, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.task = task
        self.result: RunResult | None = None

    def runtest(self) -> None:
        items = TaskItems.of(self.config)
        try:
            capture = items.capture()
        except (CaptureError, pytest.UsageError) as exc:  # no store, no browser: one line
            message = str(exc).removeprefix("capture: ")
            pytest.fail(f"capture: {message}", pytrace=False)
        assert capture.browser is not None
        prefix = getattr(self.config.option, "capture_thread_prefix", "") or ""
        try:
            self.result = items.run(
                run_task(
                    self.task,
                    client=capture.client,
                    browser=capture.browser.browser,
                    config=capture.config,
                    thread=thread_id_for(self.nodeid, prefix),
                )
            )
        except CaptureError as exc:  # an unset variable, say: one line, as `capture run` says
            pytest.fail(str(exc), pytrace=False)
        if self.result.status != "passed":
            embedded = capture.store.embedded is not None
            raise TaskFailed(self.result, capture.base_url, embedded=embedded)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        """The failing steps with `file:line`, then the thread and where to see it."""
        if not isinstance(excinfo.value, TaskFailed):
            return super().repr_failure(excinfo)
        result, base_url = excinfo.value.result, excinfo.value.base_url
        ok = sum(1 for s in result.steps if s.status == "ok")
        lines = [step.error or "" for step in result.failures]
        lines.append(f"{ok}/{len(result.steps)} steps ok; thread {result.thread} ({base_url})")
        if excinfo.value.embedded:
            lines.append("(the embedded store of this run; `capture serve` serves its data)")
        else:
            lines.append(f"viewer: {viewer_url(base_url, result.thread)}")
        return "\n".join(lines)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"task: {self.name}"
