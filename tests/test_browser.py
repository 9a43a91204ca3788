"""capture.browser: launching from the config, the no-browser error, attaching over CDP."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from capture.browser import _locate, find_browser, launch_args, open_browser, remote_launch_options
from capture.browser._locate import _playwright_chromium, headless_shell_beside
from capture.config import BrowserConfig, CaptureConfig, Config, ContextConfig
from capture.errors import BrowserError
from capture.recorder import Recorder
from capture.session import AsyncSessionClient
from tests._helpers import ROOMY_BOX
from tests.conftest import BrowserServer, Site, dead_port, descendants, free_port

ROOMY = CaptureConfig.model_validate({"time_box": ROOMY_BOX})

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


def test_a_missing_playwright_chromium_is_known_without_its_driver(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Starting Playwright's driver to ask where its Chromium is costs ~0.45 s of every
    capture-enabled pytest run; a registry without Chromium's folder answers at once. With
    the folder there, the driver is still the one to say."""
    import playwright

    browsers = Path(playwright.__file__).parent / "driver" / "package" / "browsers.json"
    listed = json.loads(browsers.read_text())["browsers"]
    revision = next(b["revision"] for b in listed if b["name"] == "chromium")
    asked: list[int] = []

    def ask() -> str:
        asked.append(1)
        return str(tmp_path / "not-a-file")

    monkeypatch.setattr(_locate, "_ask_playwright", ask)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))
    _playwright_chromium.cache_clear()
    try:
        assert _playwright_chromium() is None
        assert asked == []
        (tmp_path / f"chromium-{revision}").mkdir()
        _playwright_chromium.cache_clear()
        assert _playwright_chromium() is None  # asked: what it named is not a file
        assert asked == [1]
    finally:
        _playwright_chromium.cache_clear()


async def test_a_headless_launch_runs_a_headless_shell(config: Config) -> None:
    """Headless, `auto` launches Chromium's headless shell where one is installed (setup
    installs Debian's): a full Chromium run headless costs about twice the CPU per task."""
    shell, full = find_browser("auto", headless=True), find_browser("auto")
    if shell == full:
        pytest.skip("no headless shell is installed (scripts/setup installs one as root)")
    async with open_browser(config.browser.model_copy(update={"headless": True})):
        running = set()
        for pid in descendants(os.getpid()):
            with contextlib.suppress(OSError):  # a process that ended meanwhile
                running.add(os.readlink(f"/proc/{pid}/exe"))
    names = {Path(exe).name for exe in running}  # wrappers resolved: what really runs
    assert any("headless" in name for name in names), names
    assert not names & {"chromium", "chrome", "chromium-browser", "google-chrome"}, names


def test_auto_prefers_a_headless_shell_on_path_only_for_headless_launches(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("chromium", "chromium-headless-shell"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))  # no Playwright Chromium
    _playwright_chromium.cache_clear()
    try:
        assert find_browser("auto") == str(tmp_path / "chromium")
        assert find_browser("auto", headless=True) == str(tmp_path / "chromium-headless-shell")
        (tmp_path / "chromium-headless-shell").unlink()
        assert find_browser("auto", headless=True) == str(tmp_path / "chromium")
        # a configured browser is used as given, headless or not
        assert find_browser(str(tmp_path / "chromium"), headless=True) == str(tmp_path / "chromium")
    finally:
        _playwright_chromium.cache_clear()


@pytest.mark.parametrize("shell", ["chrome-linux/headless_shell", "x/chrome-headless-shell"])
def test_playwrights_headless_shell_of_the_same_revision(tmp_path: Path, shell: str) -> None:
    chromium = tmp_path / "chromium-1200" / "chrome-linux" / "chrome"
    for path in (chromium, tmp_path / "chromium_headless_shell-1199" / shell):
        path.parent.mkdir(parents=True)
        path.write_text("")
    assert headless_shell_beside(str(chromium)) is None  # another revision's is not used
    (tmp_path / "chromium_headless_shell-1200" / shell).parent.mkdir(parents=True)
    (tmp_path / "chromium_headless_shell-1200" / shell).write_text("")
    assert headless_shell_beside(str(chromium)) == str(
        tmp_path / "chromium_headless_shell-1200" / shell
    )


async def test_launch_failure_is_a_browser_error(tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(BrowserError, match="could not launch Chromium"):
        async with open_browser(BrowserConfig(executable=str(fake), launch_timeout=5)):
            pass


@pytest.fixture
def running_chromium(full_chromium_path: str, tmp_path: Path) -> Iterator[str]:
    """A Chromium started on its own (as a person would), debugging on a free loopback port."""
    profile = tmp_path / "profile"
    proc = subprocess.Popen(
        [
            full_chromium_path,
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
        async with Recorder(session.page, client, "t-cdp", config=ROOMY) as rec:
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


async def test_connect_sends_the_launch_options_to_a_browser_server(
    browser_server: BrowserServer, chromium_path: str, site: Site, store_server: Any
) -> None:
    # The server has no Chromium of its own: it runs the configured one, with our flags,
    # because they travel in the x-playwright-launch-options header.
    config = BrowserConfig(executable=chromium_path, args=["--user-agent=capture-via-server"])
    async with (
        open_browser(config, connect_url=browser_server.ws_url) as session,
        AsyncSessionClient(store_server.base_url) as client,
    ):
        assert not session.attached
        await session.page.goto(site.url("index.html"))
        assert await session.page.evaluate("navigator.userAgent") == "capture-via-server"
        async with Recorder(session.page, client, "t-connect", config=ROOMY) as rec:
            result = await rec.capture("open")  # screenshots go through CDP, over the server
        assert result.image is not None
        assert rec.stats.uploaded == 3
        browser = session.browser
    assert not browser.is_connected()


async def test_connect_to_a_server_without_a_browser_says_what_to_do(
    chromium_path: str,
) -> None:
    server = BrowserServer(unsafe=False)  # ignores a client's executable
    try:
        with pytest.raises(BrowserError, match=r"run-server --unsafe") as caught:
            async with open_browser(
                BrowserConfig(executable=chromium_path), connect_url=server.ws_url
            ):
                pass
        assert f"could not connect to the browser server at {server.ws_url}" in str(caught.value)
        assert "\n" not in str(caught.value)
    finally:
        server.stop()


async def test_connect_to_nothing_is_one_browser_error() -> None:
    url = f"ws://127.0.0.1:{dead_port()}/"
    with pytest.raises(BrowserError, match=f"could not connect to the browser server at {url}"):
        async with open_browser(BrowserConfig(connect_url=url, launch_timeout=5)):
            pass


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"connect_url": "http://127.0.0.1:1/"}, "a browser server URL is ws:// or wss://"),
        ({"connect_url": "ws://127.0.0.1:1/", "cdp_url": "http://127.0.0.1:2"}, "not both"),
    ],
)
async def test_connect_misconfigured_is_one_browser_error(
    options: dict[str, str], message: str
) -> None:
    with pytest.raises(BrowserError, match=message):
        async with open_browser(BrowserConfig(**options)):
            pass


def test_launch_options_header_names_the_executable_only_when_configured() -> None:
    auto = json.loads(remote_launch_options(BrowserConfig(args=["--x"]), headless=False))
    assert auto["headless"] is False
    assert "executablePath" not in auto  # the server's own Chromium
    assert auto["args"] == launch_args(["--x"])
    named = json.loads(remote_launch_options(BrowserConfig(executable="/opt/chromium/chrome")))
    assert named["executablePath"] == "/opt/chromium/chrome"  # a path on the server
    assert named["headless"] is True
