"""`CapturePlugin`: the pytest hooks of an enabled run.

`capture_pytest` (the `pytest11` entry point) loads it on a thread of its own when capture
may be on (`prepare`: the config, the store found or started) and registers it where capture
is first needed. It gives every test a `CapturedTest` from the start of its setup to the end
of its call (so a fixture that logs in through `page` is captured too), adds the capture
section to a failing test's report, and prints where the captures are.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from capture._output import count
from capture.config import Config
from capture.entry import StoreChoice, SyncCapture, door_config, open_capture_sync, store_choice
from capture.errors import BrowserError, CaptureError
from capture.pytest_plugin import _browser, _calls
from capture.pytest_plugin._captured import CapturedTest, Placement, folder_name
from capture.pytest_plugin._names import PLUGIN_NAME, thread_id_for, viewer_root
from capture.recorder import Recorder, SyncRecorder

__all__ = ["PLUGIN_NAME", "CapturePlugin", "prepare", "usage_errors"]

_TEST = pytest.StashKey[CapturedTest]()
# A pytest-xdist worker's input naming the store its controller found or started.
WORKER_STORE = "capture_store"
# The report attribute carrying a test's counts (it travels from an xdist worker with it).
REPORT_COUNTS = "capture_counts"
TASK_ITEMS = "capture-task-items"  # the plugin of task items (`tasks.PLUGIN_NAME`)


def prepare(pconfig: pytest.Config) -> CapturePlugin | None:
    """The plugin when the full config turns capture on; `capture_pytest` calls this off
    the main thread, and only when capture may be on, then `open()` (the store) unless the
    run only collects. A bad setting is a `pytest.UsageError`."""
    return CapturePlugin.from_pytest(pconfig)


@contextlib.contextmanager
def usage_errors() -> Iterator[None]:
    """How the plugin reports what every `capture` command reports as `error: ...`: a bad
    option or config value, a token the store refuses, a store that must answer and does
    not, as pytest's one-line usage error `capture: ...`."""
    try:
        yield
    except (CaptureError, ValueError) as exc:
        raise pytest.UsageError(f"capture: {exc}") from None


class CapturePlugin:
    """Hooks of a capture-enabled pytest run (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        *,
        store: StoreChoice,
        prefix: str,
        out: Path | None,
        failures: Path,
        headed: bool,
    ) -> None:
        self.config = config
        self._headed = headed  # pytest-playwright's --headed: the browser it gets must draw
        self.prefix = prefix
        self.out = out
        self.failures = failures
        self.store = store
        self.capture: SyncCapture | None = None  # opened once, before the first test
        self._closing = contextlib.ExitStack()
        self.mode = config.capture.pytest_mode
        self.tests = 0
        self.reruns = 0
        self.captures = 0
        self.dropped = 0
        self.kept = 0  # threads kept by failing tests (retain-on-failure)
        _calls.install()

    @classmethod
    def from_pytest(cls, pconfig: pytest.Config) -> CapturePlugin | None:
        """The plugin for this run, or None when capture is not enabled after all."""
        option = pconfig.option
        # A pytest-xdist worker captures into the store its controller found or started.
        server = option.capture_server or getattr(pconfig, "workerinput", {}).get(WORKER_STORE)
        with usage_errors():
            on = option.capture_session or option.capture_mode is not None
            config = door_config(
                option.capture_config,
                server=server,
                token=option.capture_token,
                **{
                    "capture.pytest": True if on else None,
                    "capture.pytest_mode": option.capture_mode,
                },
            )
        if not config.capture.pytest:
            return None
        out = Path(option.capture_out).resolve() if option.capture_out else None
        return cls(
            config,
            store=store_choice(server),
            prefix=option.capture_thread_prefix or "",
            out=out,
            failures=pconfig.rootpath / ".capture" / "pytest",
            headed=bool(getattr(option, "headed", False)),
        )

    # -- the run ---------------------------------------------------------------------------

    @functools.cached_property
    def browser(self) -> str | BrowserError | None:
        """The Chromium pytest-playwright gets from `_browser` (None: its own)."""
        return _browser.capture_browser(self.config.browser, headless=not self._headed)

    def register(self, pconfig: pytest.Config) -> None:
        """Take part in the run from now on (`capture_pytest` calls this once loaded)."""
        pconfig.pluginmanager.register(self, PLUGIN_NAME)

    def launch_args(self, chosen: dict[str, Any], pconfig: pytest.Config) -> dict[str, Any]:
        """pytest-playwright's launch arguments, with capture's Chromium when Playwright
        has none of its own (`_browser`); said once in the summary."""
        return _browser.with_capture_browser(chosen, self.browser, self.config.browser, pconfig)

    def _browser_line(self) -> str | None:
        """That pytest-playwright launched capture's browser, or why it could not."""
        if isinstance(self.browser, BrowserError):
            return f"capture: Playwright's Chromium is not installed and {self.browser}"
        if self.browser is None:
            return None
        return (
            f"capture: Playwright's Chromium is not installed; pytest-playwright launches "
            f"{self.browser} (the browser `capture run` uses)"
        )

    def configure_node(self, node: Any) -> None:
        """pytest-xdist's controller, for each worker: one store for the whole run, found or
        started here, and named to the worker (whose own summary nobody sees)."""
        node.workerinput[WORKER_STORE] = self.open().base_url

    def open(self) -> SyncCapture:
        """The run's capture (store and client), opened through the one entry, once."""
        if self.capture is None:
            with usage_errors():
                self.capture = self._closing.enter_context(
                    open_capture_sync(self.config, store=self.store)
                )
        return self.capture

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count a finished test's captures, here or in an xdist worker (see makereport)."""
        counts = getattr(report, REPORT_COUNTS, None)
        if counts is not None:
            if getattr(report, "rerun", 0):  # pytest-rerunfailures' attempt number
                self.reruns += 1
            else:
                self.tests += 1
            self.captures += counts["captures"]
            self.dropped += counts["dropped"]
            self.kept += counts.get("kept", False)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.capture is None:
            return
        store = self.capture.store
        write = terminalreporter.write_line
        terminalreporter.write_sep("-", "capture")
        if "browser" in self.__dict__ and (line := self._browser_line()) is not None:
            write(line)  # only when a launch asked (cached_property)
        write(self._counts_line())
        if self.dropped:
            write(f"{count(self.dropped, 'store write')} dropped (the store did not take them)")
        write(f"store: {store.base_url}")
        root = viewer_root(store.base_url)
        if store.embedded:
            write(f"viewer: {root}/ (while this run lasts)")
            write(store.embedded)
            write("look at it afterwards with `capture serve` (same store.url)")
        else:
            write(f"viewer: {root}/")

    def _counts_line(self) -> str:
        """What the run captured and which threads it left, by mode."""
        captures = count(self.captures, "capture")
        if self.mode == "on-first-retry":
            reruns = count(self.reruns, "rerun")
            return f"{captures} from {reruns}, one thread per first rerun (on-first-retry)"
        tests = count(self.tests, "test")
        if self.mode == "retain-on-failure":
            kept = count(self.kept, "thread")
            return f"{captures} from {tests}, {kept} kept: failing tests only (retain-on-failure)"
        reruns = f" and one per rerun ({count(self.reruns, 'rerun')})" if self.reruns else ""
        return f"{captures} from {tests}, one thread per test{reruns}"

    def pytest_unconfigure(self) -> None:
        _calls.uninstall()
        self._closing.close()

    # -- one test --------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        self.begin(item)
        try:
            return (yield)
        except BaseException as exc:
            self.setup_failed(item, exc)
            raise

    def setup_failed(self, item: pytest.Item, error: BaseException) -> None:
        """A test's setup failed: its captures end with it."""
        test = item.stash.get(_TEST, None)
        if test is not None:
            self._end(test, error)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        test = item.stash.get(_TEST, None)
        if test is None:
            return (yield)
        if test.current is None:
            test.start_page(getattr(item, "funcargs", {}).get("page"))
        try:
            result = yield
        except BaseException as exc:
            self._end(test, exc)
            raise
        self._end(test, None)
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        test = item.stash.get(_TEST, None)
        if test is not None and report.failed and report.when in ("setup", "call"):
            report.sections.append(("capture", test.report()))
        if test is not None and test.finished and not test.counted:
            test.counted = True
            counts = {"captures": test.captures, "dropped": test.dropped, "kept": test.kept}
            setattr(report, REPORT_COUNTS, counts)
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, None, None]:
        """After the last test's captures, the embedded store stops while pytest tears the
        browser down, unless a rerun (pytest-rerunfailures) or a task item may still write."""
        test = item.stash.get(_TEST, None)
        last = nextitem is None and test is not None and test.finished
        may_write = bool(getattr(item.config.option, "reruns", 0)) or (
            item.get_closest_marker("flaky") is not None
            or item.config.pluginmanager.get_plugin(TASK_ITEMS) is not None
        )
        if last and not may_write and self.capture is not None:
            self.capture.store_done()
        return (yield)

    def recorder_for(self, item: pytest.Item, page: Any) -> SyncRecorder:
        """The `capture_recorder` fixture's recorder: the test's own, on `page`."""
        return self._test_of(item, "capture_recorder").explicit_sync_recorder(page)

    def async_recorder_for(self, item: pytest.Item) -> Callable[[Any], Awaitable[Recorder]]:
        """The `capture_async_recorder` fixture: the test's own `Recorder` on a page."""
        return self._test_of(item, "capture_async_recorder").explicit_async_recorder

    def _test_of(self, item: pytest.Item, fixture: str) -> CapturedTest:
        test = item.stash.get(_TEST, None)
        if test is None:
            raise pytest.UsageError(f"{fixture} is only available inside a test")
        return test

    def begin(self, item: pytest.Item) -> CapturedTest | None:
        """Begin a test's captures, at the start of its setup (`capture_pytest` begins the
        first test's once capture is loaded)."""
        if self.capture is None or getattr(item, "captures_itself", False):
            return None  # a task file item records its own steps (pytest_plugin.tasks)
        rerun = getattr(item, "execution_count", 1) - 1  # pytest-rerunfailures counts runs
        if self.mode == "on-first-retry" and rerun != 1:
            return None  # as Playwright's on-first-retry: the first rerun only
        thread_id = thread_id_for(item.nodeid, self.prefix, rerun)
        place = Placement(
            node_id=item.nodeid,
            name=item.name,
            thread_id=thread_id,
            base_url=self.capture.base_url,
            folder=(self.out or self.failures) / folder_name(thread_id),
            write_steps=self.out is not None,
            retain=self.mode == "retain-on-failure",
        )
        test = CapturedTest(place, self.capture)
        test.start()
        item.stash[_TEST] = test
        _calls.use(test)
        return test

    def _end(self, test: CapturedTest, error: BaseException | None) -> None:
        _calls.use(None)
        if not test.finished:
            test.finish(error)
