"""capture.browser: launching from the config, the no-browser error, attaching over CDP."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from capture.browser import find_browser, launch_args, open_browser
from capture.browser._locate import _playwright_chromium
from capture.config import BrowserConfig, Config, ContextConfig
from capture.errors import BrowserError
from capture.recorder import Recorder
from capture.session import AsyncSessionClient
from tests.conftest import Site, free_port

pytestmark = pytest.mark.browser


async def test_launch_uses_the_config(config: Config, site: Site) -> None:
    context = ContextConfig(
        viewport_width=900,
        viewport_height=640,
        device_scale_factor=2,
        locale="de-DE",
        timezone="Europe/Berlin",
    )
    async with open_browser(config.browser, context) as session:
        assert not session.attached
        await session.page.goto(site.url("index.html"))
        seen = await session.page.evaluate(
            "[innerWidth, innerHeight, devicePixelRatio, navigator.language,"
            " Intl.DateTimeFormat().resolvedOptions().timeZone]"
        )
        assert seen == [900, 640, 2, "de-DE", "Europe/Berlin"]
        assert session.browser.is_connected()
        browser = session.browser
    assert not browser.is_connected()  # closed on exit


def test_launch_args_for_a_root_container() -> None:
    args = launch_args(["--lang=de", "--no-first-run"])
    assert args.count("--no-first-run") == 1
    assert args[-1] == "--lang=de"
    assert ("--no-sandbox" in args) == (os.geteuid() == 0)


def test_configured_browser_that_does_not_exist_names_setup() -> None:
    with pytest.raises(BrowserError, match="scripts/setup"):
        find_browser("/nonexistent/chromium")


def test_no_browser_anywhere_names_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))  # no Playwright Chromium
    _playwright_chromium.cache_clear()
    try:
        with pytest.raises(BrowserError, match=r"no Chromium found.*scripts/setup"):
            find_browser("auto")
    finally:
        _playwright_chromium.cache_clear()


async def test_launch_failure_is_a_browser_error(tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(BrowserError, match="could not launch Chromium"):
        async with open_browser(BrowserConfig(executable=str(fake), launch_timeout=5)):
            pass


@pytest.fixture
def running_chromium(chromium_path: str, tmp_path: Path) -> Iterator[str]:
    """A Chromium started on its own (as a person would), debugging on a free loopback port."""
    profile = tmp_path / "profile"
    proc = subprocess.Popen(
        [
            chromium_path,
            *launch_args(),
            "--headless=new",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        for _ in range(200):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


async def test_attach_over_cdp_reuses_and_leaves_the_browser(
    running_chromium: str, site: Site, store_server: Any
) -> None:
    async with (
        open_browser(cdp_url=running_chromium) as session,
        AsyncSessionClient(store_server.base_url) as client,
    ):
        assert session.attached
        assert session.page.viewport_size is None  # the person's window, no emulation
        async with Recorder(session.page, client, "t-cdp") as rec:
            await session.page.goto(site.url("index.html"))
            result = await rec.capture("open")
        assert result.image is not None
        assert result.image.width > 0
        assert rec.stats.uploaded == 3
        assert rec.stats.dropped == 0
    # The person's browser is still there: attach again and find the page we left.
    async with open_browser(BrowserConfig(cdp_url=running_chromium)) as again:
        urls = [p.url for ctx in again.browser.contexts for p in ctx.pages]
        assert site.url("index.html") in urls


async def test_attach_to_nothing_is_a_browser_error() -> None:
    port = free_port()
    with pytest.raises(BrowserError, match=f"could not attach to http://127.0.0.1:{port}"):
        async with open_browser(
            BrowserConfig(launch_timeout=5), cdp_url=f"http://127.0.0.1:{port}"
        ):
            pass
