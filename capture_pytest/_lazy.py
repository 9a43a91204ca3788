"""capture, loaded while pytest starts the browser: the once-per-run costs off the critical
path.

Importing capture (pydantic, httpx, the recorder, the store) and starting the embedded store
take a few hundred milliseconds. A run with capture on starts both on a thread of its own
once the tests are collected (not sooner: two threads importing at once can meet halfway
through a package, and Python then raises "partially initialized module") and waits for
them where capture is first needed. A pytest-playwright
test waits for the config in `browser_type_launch_args` (which asks for the `playwright`
fixture first, so that the driver starts meanwhile), and for the rest, the store included,
before its context is made, while the browser launched; its captures begin then, before its
page exists. A test without a browser waits at the start of its setup.

Once loaded, every object alive is frozen out of garbage collection (`gc.freeze()`): capture's
modules and the store live for the whole run, and without it every full collection scanned
them again — the collections during a test and pytest's at its end cost a 30-action test
file more CPU than Playwright's tracing does (measured in docs/pytest.md, "What it costs").

A bad setting (a config value, a store that must answer and does not) stops the run at that
point, after the test under way, with capture's one line and exit code 4 (`pytest_runtestloop`).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Generator
from typing import Any

import pytest

__all__ = ["Lazy", "browser_type_launch_args", "loaded_plugin"]

LAZY_PLUGIN = "capture-session-lazy"
# pytest-playwright's fixtures whose setup waits for capture, if nothing did before.
_BEFORE = ("context", "page")


class Lazy:
    """The hooks capture needs before it is loaded; the loaded plugin has the rest."""

    def __init__(self, pconfig: pytest.Config) -> None:
        self._pconfig = pconfig
        self._plugin: Any = None
        self._error: str | None = None
        self._failure: BaseException | None = None
        self._joined = False
        self._configured = threading.Event()  # set: `_plugin` (or `_error`) is known
        self._session: pytest.Session | None = None
        self._waiting: pytest.Item | None = None  # a test whose captures begin at the join
        self._thread = threading.Thread(target=self._load, name="capture-load", daemon=True)

    def _start(self) -> None:
        """Start loading; once, and not before the test modules are imported."""
        if self._thread.ident is None:
            self._thread.start()

    def _load(self) -> None:
        try:
            from capture.pytest_plugin import prepare

            self._plugin = plugin = prepare(self._pconfig)
            self._configured.set()
            if plugin is not None and not self._pconfig.option.collectonly:
                plugin.open()  # the store
            gc.freeze()  # capture's modules and store live for the run (see above)
        except pytest.UsageError as exc:
            self._error = str(exc)
        except BaseException as exc:  # a bug: raised where capture is first needed
            self._failure = exc
        finally:
            self._configured.set()

    def configured(self) -> Any:
        """The plugin once its config is read (its store may still be starting); None when
        capture is off after all or its config is bad."""
        self._start()
        self._configured.wait()
        return self._plugin

    def plugin(self) -> Any:
        """The enabled plugin, once loaded (waits for it); None when capture is off after
        all or its settings are bad (the run then stops, see the module docstring)."""
        if not self._joined:
            self._start()
            self._thread.join()
            self._joined = True
            if self._failure is not None:
                raise self._failure
            if self._error is not None and self._session is not None:
                self._session.shouldstop = self._error
            if self._plugin is not None:
                self._plugin.register(self._pconfig)
                if self._waiting is not None:
                    self._plugin.begin(self._waiting)
        return self._plugin

    # -- hooks -----------------------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._session = session

    def pytest_collection_finish(self) -> None:
        """Capture loads from here on: while test modules are still being imported, its
        imports on another thread could meet theirs halfway (Python then raises "partially
        initialized module", as it did for typer while a test module imported the CLI)."""
        self._start()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        """The first test: its captures begin once capture is loaded, which a Playwright
        test waits for only before its context is made (its driver and browser start
        meanwhile), a test without a browser now."""
        first = not self._joined
        if first:
            self._waiting = item
            if "browser_type_launch_args" not in getattr(item, "fixturenames", ()):
                self.plugin()
        try:
            return (yield)
        except BaseException as exc:
            if first and self._joined and self._plugin is not None:
                self._plugin.setup_failed(item, exc)
            raise
        finally:
            if first:
                self._waiting = None

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any) -> Generator[None, object, object]:
        """Capture is loaded before the context or page of the first test is made (the
        browser launches meanwhile), also where a `conftest.py` replaced
        `browser_type_launch_args` outright."""
        if not self._joined and self._waiting is not None and fixturedef.argname in _BEFORE:
            self.plugin()
        return (yield)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """pytest-xdist's controller, for each worker: the store it found or started."""
        plugin = self.plugin()
        if plugin is not None:
            plugin.configure_node(node)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        """After the tests (or the one under way when a bad setting stopped them): a bad
        setting is capture's usage error, one line and exit code 4."""
        try:
            return (yield)
        finally:
            self.plugin()
            if self._error is not None:
                raise pytest.UsageError(self._error)


def loaded_plugin(pconfig: pytest.Config) -> Any:
    """The enabled capture plugin of this run (waits for it to load), or None."""
    lazy = pconfig.pluginmanager.get_plugin(LAZY_PLUGIN)
    return lazy.plugin() if isinstance(lazy, Lazy) else None


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], pytestconfig: pytest.Config, playwright: Any
) -> dict[str, Any]:
    """pytest-playwright's launch arguments, with capture's Chromium when Playwright has
    none of its own (`capture.pytest_plugin._browser`). It asks for `playwright` so that the
    driver starts while capture loads; a `conftest.py` fixture of the same name still wins."""
    lazy = pytestconfig.pluginmanager.get_plugin(LAZY_PLUGIN)
    plugin = lazy.configured() if isinstance(lazy, Lazy) else None
    if plugin is None:
        return browser_type_launch_args
    chosen: dict[str, Any] = plugin.launch_args(browser_type_launch_args, pytestconfig)
    return chosen
