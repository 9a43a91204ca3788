"""Shared fixtures: the config (one source with the CLI), the test site on two loopback
origins, and pytest-playwright's launch arguments.

With CAPTURE_REQUIRE_ALL=1 (set by scripts/test) a skipped test is reported as a failure:
a browser or Redis test that cannot run in CI is a broken setup, not a pass.
"""

from __future__ import annotations

import functools
import os
import runpy
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from capture.browser import find_browser, launch_args
from capture.browser._launch import context_options
from capture.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = Path(__file__).resolve().parent / "site"
# The repository's own config file, without the developer's CAPTURE_* environment.
CONFIG: Config = load_config(ROOT / "playwright.config.toml", env={})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CAPTURE_REQUIRE_ALL") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CAPTURE_REQUIRE_ALL (a setup failure): {report.longrepr}"


@pytest.fixture(scope="session")
def config() -> Config:
    return CONFIG


# -- the test site, on two origins (for cross-origin iframes) ---------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


@dataclass
class Site:
    """Base URLs of the test site: `origin` and a second, cross-origin `other`."""

    origin: str
    other: str

    def url(self, path: str) -> str:
        return f"{self.origin}/{path.lstrip('/')}"

    def other_url(self, path: str) -> str:
        return f"{self.other}/{path.lstrip('/')}"


def _serve_dir(directory: Path, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    """tests/site served on 127.0.0.1 (two ports = two origins)."""
    first, second = _serve_dir(SITE_DIR), _serve_dir(SITE_DIR)
    yield Site(
        origin=f"http://127.0.0.1:{first.server_address[1]}",
        other=f"http://127.0.0.1:{second.server_address[1]}",
    )
    first.shutdown()
    second.shutdown()


@pytest.fixture(scope="session")
def big_document(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a generated static HTML document of at least 1 MB (tests/site/bigdoc.py)."""
    directory = tmp_path_factory.mktemp("big")
    runpy.run_path(str(SITE_DIR / "bigdoc.py"))["write_big_document"](directory)
    server = _serve_dir(directory)
    yield f"http://127.0.0.1:{server.server_address[1]}/big.html"
    server.shutdown()


# -- pytest-playwright, configured from playwright.config.toml ------------------------


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return find_browser(CONFIG.browser.executable)


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], chromium_path: str
) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path,
        "args": launch_args(CONFIG.browser.args),
        "headless": CONFIG.browser.headless,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, **context_options(CONFIG.context)}
