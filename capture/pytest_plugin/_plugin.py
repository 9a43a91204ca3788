"""`CapturePlugin`: the pytest hooks of an enabled run.

`capture_pytest` (the `pytest11` entry point) registers it only when capture is on. It finds
or starts the store once per run, gives every test a `CapturedTest` from the start of its
setup to the end of its call (so a fixture that logs in through `page` is captured too),
adds the capture section to a failing test's report, and prints where the captures are.
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

__all__ = ["PLUGIN_NAME", "CapturePlugin", "enable", "usage_errors"]

_TEST = pytest.StashKey[CapturedTest]()
# A pytest-xdist worker's input naming the store its controller found or started.
WORKER_STORE = "capture_store"
# The report attribute carrying a test's counts (it travels from an xdist worker with it).
REPORT_COUNTS = "capture_counts"


def enable(pconfig: pytest.Config) -> None:
    """Register the plugin, and the browser plugin module beside it, when the full config
    turns capture on (`capture_pytest` calls this only when it may)."""
    plugin = CapturePlugin.from_pytest(pconfig)
    if plugin is not None:
        pconfig.pluginmanager.register(plugin, PLUGIN_NAME)
        pconfig.pluginmanager.register(_browser, _browser.BROWSER_PLUGIN)


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
        self.tests = 0
        self.reruns = 0
        self.captures = 0
        self.dropped = 0
        _calls.install()

    @classmethod
    def from_pytest(cls, pconfig: pytest.Config) -> CapturePlugin | None:
        """The plugin for this run, or None when capture is not enabled after all."""
        option = pconfig.option
        # A pytest-xdist worker captures into the store its controller found or started.
        server = option.capture_server or getattr(pconfig, "workerinput", {}).get(WORKER_STORE)
        with usage_errors():
            config = door_config(
                option.capture_config,
                server=server,
                token=option.capture_token,
                **{"capture.pytest": True if option.capture_session else None},
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

    def pytest_report_header(self) -> str | None:
        """Say once that pytest-playwright launches capture's browser, or why it cannot."""
        if isinstance(self.browser, BrowserError):
            return f"capture: Playwright's Chromium is not installed and {self.browser}"
        if self.browser is None:
            return None
        return (
            f"capture: Playwright's Chromium is not installed; pytest-playwright launches "
            f"{self.browser} (the browser `capture run` uses)"
        )

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Find or start the store once, before the first test (not for --collect-only)."""
        if not session.items or session.config.option.collectonly:
            return
        self._open()

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """pytest-xdist's controller, for each worker: one store for the whole run, found or
        started here, and named to the worker (whose own summary nobody sees)."""
        node.workerinput[WORKER_STORE] = self._open().base_url

    def _open(self) -> SyncCapture:
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

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.capture is None:
            return
        store = self.capture.store
        write = terminalreporter.write_line
        terminalreporter.write_sep("-", "capture")
        tests = count(self.tests, "test")
        reruns = f" and one per rerun ({count(self.reruns, 'rerun')})" if self.reruns else ""
        write(f"{count(self.captures, 'capture')} from {tests}, one thread per test{reruns}")
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

    def pytest_unconfigure(self) -> None:
        _calls.uninstall()
        self._closing.close()

    # -- one test --------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        test = self._begin(item)
        try:
            return (yield)
        except BaseException as exc:
            if test is not None:
                self._end(test, exc)
            raise

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
            setattr(report, REPORT_COUNTS, {"captures": test.captures, "dropped": test.dropped})
        return report

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

    def _begin(self, item: pytest.Item) -> CapturedTest | None:
        if self.capture is None or getattr(item, "captures_itself", False):
            return None  # a task file item records its own steps (pytest_plugin.tasks)
        rerun = getattr(item, "execution_count", 1) - 1  # pytest-rerunfailures counts runs
        thread_id = thread_id_for(item.nodeid, self.prefix, rerun)
        place = Placement(
            node_id=item.nodeid,
            name=item.name,
            thread_id=thread_id,
            base_url=self.capture.base_url,
            folder=(self.out or self.failures) / folder_name(thread_id),
            write_steps=self.out is not None,
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
