"""capture's pytest entry point (`pytest11`): the options, task files as tests, and nothing
more unless enabled.

Why a second package beside `capture.pytest_plugin` (which holds the hooks): this module
lives outside the `capture` package on purpose, because importing `capture` costs a few
hundred milliseconds (pydantic, httpx), and a pytest run without capture must not pay for
it. Only when `--capture-session` or `--capture-mode` is given, or the config may turn
capture on (`[capture] pytest` in the config file, or `CAPTURE_CAPTURE_PYTEST`), is
`capture.pytest_plugin` imported, on a thread of its own while pytest starts the browser
(`_lazy`); it reads the full config and decides. A task file
(`test_*.task.yaml`) is recognised by its name alone; only a run that has one imports the
task runner.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from capture_pytest import _lazy

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from capture.recorder import Recorder, SyncRecorder

__all__ = [
    "capture_async_recorder",
    "capture_recorder",
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_configure",
]

MODES = ("on", "retain-on-failure", "on-first-retry")
_GROUP = "capture (screenshots and observations of every Playwright step)"
# Task files pytest collects as tests (tavern's `test_*.<kind>.yaml`); matched here, by
# name only, so that a run without task files never imports capture.
_TASK_FILE = re.compile(r"^test_.+\.task\.ya?ml$")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("capture-session", _GROUP)
    group.addoption(
        "--capture-session",
        action="store_true",
        default=False,
        help="capture every Playwright action of every test into a thread per test "
        "[config: capture.pytest]",
    )
    group.addoption(
        "--capture-mode",
        choices=MODES,
        help="which tests keep their captures, as --tracing's modes: on (every test), "
        "retain-on-failure (only a failing test leaves a thread), on-first-retry (only a "
        "test's first rerun, with pytest-rerunfailures); turns capture on "
        "[config: capture.pytest_mode]",
    )
    group.addoption(
        "--capture-server",
        metavar="URL",
        help="session store base URL; without it, session.server when it answers, "
        "else an embedded store for this run [config: session.server]",
    )
    group.addoption(
        "--capture-token",
        metavar="TOKEN",
        help="bearer token for the store [config: session.token, env CAPTURE_TOKEN]",
    )
    group.addoption(
        "--capture-config",
        metavar="FILE",
        help="config file [default: ./playwright.config.toml, env CAPTURE_CONFIG]",
    )
    group.addoption(
        "--capture-thread-prefix",
        metavar="PREFIX",
        default="",
        help="put PREFIX before every test's thread id (e.g. ci-1234/)",
    )
    group.addoption(
        "--capture-out",
        metavar="DIR",
        help="also write each step's screenshot and observation to DIR/<test>/step-NNN/",
    )


def _config_says_maybe(option: Any) -> bool:
    """Whether the environment or the config file mentions `capture.pytest` other than as
    `false` (any other value is judged by the full config loader)."""
    if "CAPTURE_CAPTURE_PYTEST" in os.environ:
        return True
    name = option.capture_config or os.environ.get("CAPTURE_CONFIG") or "playwright.config.toml"
    try:
        parsed = tomllib.loads(Path(name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return option.capture_config is not None  # a named file that is missing: say so
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # not ours to judge when capture is not asked for
    section = parsed.get("capture")
    # `pytest = false` is off for sure (only `capture.pytest` turns capture on): not even a
    # thread to load capture, whose imports could race the test modules' (see `_lazy`).
    return isinstance(section, dict) and "pytest" in section and section["pytest"] is not False


def pytest_configure(config: pytest.Config) -> None:
    option = config.option
    if not (option.capture_session or option.capture_mode or _config_says_maybe(option)):
        return
    # After every entry-point plugin: its fixture extends pytest-playwright's.
    config.pluginmanager.register(_lazy.Lazy(config), _lazy.LAZY_PLUGIN)
    config.pluginmanager.register(_lazy, "capture-session-browser")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A `test_*.task.yaml` / `test_*.task.yml` file is a test: one item that runs the task
    with capture (docs/pytest.md, "Task files as tests")."""
    if not _TASK_FILE.match(file_path.name):
        return None
    from capture.pytest_plugin.tasks import TaskFileCollector

    collector: pytest.Collector = TaskFileCollector.from_parent(parent, path=file_path)
    return collector


def _plugin(request: pytest.FixtureRequest) -> Any:
    """The enabled capture plugin; the test fails saying how to enable it otherwise."""
    plugin = _lazy.loaded_plugin(request.config)
    if plugin is None:
        pytest.fail(
            f"{request.fixturename} needs capture enabled: pytest --capture-session "
            "(or [capture] pytest = true in playwright.config.toml)",
            pytrace=False,
        )
    return plugin


@pytest.fixture
def capture_recorder(request: pytest.FixtureRequest, page: Any) -> SyncRecorder:
    """The test's `SyncRecorder` on pytest-playwright's `page`, for explicit captures
    (`capture_recorder.capture("cart with 3 items")`) in the test's own thread."""
    recorder: SyncRecorder = _plugin(request).recorder_for(request.node, page)
    return recorder


@pytest.fixture
def capture_async_recorder(request: pytest.FixtureRequest) -> Callable[[Any], Awaitable[Recorder]]:
    """For async tests: `await capture_async_recorder(page)` is the test's `Recorder` on
    that async-API page, made on the test's own event loop, in the test's own thread."""
    recorder_on: Callable[[Any], Awaitable[Recorder]] = _plugin(request).async_recorder_for(
        request.node
    )
    return recorder_on
