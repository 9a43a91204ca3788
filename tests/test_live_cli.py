"""`capture record` as a person uses it: attached over CDP to a Chromium started on its own,
every tab followed (also one opened later), stopped with `capture record --stop`."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import PIPE, Popen
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

from capture.browser import launch_args
from capture.tasks import load_task
from tests.conftest import CAPTURE, ROOT, free_port, run_command

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "Cdp-typed-secret-77"


def _wait_for(check: Any, what: str, timeout: float = 30.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = check()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}: {value!r}")


@pytest.fixture
def chromium_cdp(full_chromium_path: str, tmp_path: Path) -> Iterator[str]:
    """A Chromium started on its own with a debugging port on 127.0.0.1; its CDP URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            full_chromium_path,
            "--headless=new",
            f"--remote-debugging-port={port}",
            "--remote-debugging-address=127.0.0.1",
            f"--user-data-dir={tmp_path / 'profile'}",
            *launch_args([]),
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: httpx.get(f"{url}/json/version").is_success, "Chromium's CDP port")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _steps(base_url: str, thread: str) -> list[str]:
    values = httpx.get(f"{base_url}/sessions/{thread}/values").json()["values"]
    return [values[k]["action"] for k in sorted(values) if k.startswith("capture.step.")]


def _until_steps(base_url: str, thread: str, count: int, what: str) -> list[str]:
    seen: list[list[str]] = [[]]

    def check() -> bool:
        seen[0] = _steps(base_url, thread)
        return len(seen[0]) >= count

    try:
        _wait_for(check, what)
    except AssertionError:
        raise AssertionError(f"timed out waiting for {what}; steps: {seen[0]}") from None
    return seen[0]


def _page_at(pages: list[Page], suffix: str) -> Page | None:
    return next((p for p in pages if p.url.endswith(suffix)), None)


def _env() -> dict[str, str]:
    return {**os.environ, "CAPTURE_CONFIG": str(ROOT / "playwright.config.toml")}


@contextmanager
def _recorder(command: list[str], cwd: Path, env: dict[str, str]) -> Iterator[Popen[str]]:
    """A `capture record` process; killed (its output printed) if the test leaves it running."""
    process = Popen(command, cwd=cwd, env=env, stdout=PIPE, stderr=PIPE, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            print("recorder output:", *process.communicate(), sep="\n")


def test_record_attached_over_cdp_follows_tabs_and_stops_on_request(
    chromium_cdp: str, site: Any, store_server: Any, tmp_path: Path
) -> None:
    env = _env()
    base = store_server.base_url
    command = [CAPTURE, "record", site.url("login.html"), "--cdp", chromium_cdp]
    command += ["--thread", "cdp", "--out", "task.yaml", "--server", base]
    with _recorder(command, tmp_path, env) as recorder:
        _wait_for(lambda: _steps(base, "cdp"), "the first capture (the start URL)")
        with sync_playwright() as pw:
            browser = pw.chromium.connect_over_cdp(chromium_cdp)
            context = browser.contexts[0]
            page = _wait_for(lambda: _page_at(context.pages, "login.html"), "the login tab")
            page.locator("#username").click()
            page.keyboard.type("carol", delay=20)
            page.locator("#password").click()
            page.keyboard.type(PASSWORD, delay=20)
            page.get_by_role("button", name="Sign in").click()
            _until_steps(base, "cdp", 4, "captures of the login")
            later = context.new_page()  # a tab opened after the recording started
            # As a person does: the new tab shows, then an address is typed into it. (Sent
            # at once, the goto can land before the recorder sees the tab; it then sees only
            # the settled tab at spa.html, and records no separate "went to".)
            _until_steps(base, "cdp", 5, "the new tab")
            later.goto(site.url("spa.html"))
            _until_steps(base, "cdp", 6, "the new tab's captures")
            later.get_by_role("button", name="Increment").click()
            _until_steps(base, "cdp", 7, "the click in the new tab")
            browser.close()  # disconnects this client only; the browser keeps running
        stop = _stop(tmp_path, env)
        assert stop.returncode == 0, stop.stderr
        assert "stopped recording" in stop.stdout
        out, err = recorder.communicate(timeout=60)
    assert recorder.returncode == 0, err
    steps = _steps(base, "cdp")
    # The new tab's URL is whatever it shows once settled: blank, or already the todo app.
    assert steps[4].startswith("switched to a new tab: ")
    assert steps[:4] + steps[5:] == [
        f"went to {site.url('login.html')}",
        "typed into textbox 'Username'",
        "typed into password field 'Password'",
        "clicked button 'Sign in'",
        f"went to {site.url('spa.html')}",
        "clicked button 'Increment'",
    ]
    assert "task file: task.yaml (6 steps)" in out
    assert "secret variable SECRET_1" in out
    task = load_task(tmp_path / "task.yaml")
    assert [s.kind for s in task.steps] == ["goto", "fill", "fill", "click", "goto", "click"]
    stored = httpx.get(f"{base}/sessions/cdp/values").text
    for text in (out, err, stop.stdout, stop.stderr, stored, (tmp_path / "task.yaml").read_text()):
        assert PASSWORD not in text
    assert not list((tmp_path / ".capture").glob("recording-*.json"))

    # `capture run` replays it, the secret read from the environment variable of its name as
    # the summary says, to the same page state.
    assert "SECRET_1=... in the environment" in out
    run = [CAPTURE, "run", "task.yaml", "--thread", "replay", "--server", base]
    replay = run_command(run, tmp_path, env={**env, "SECRET_1": PASSWORD}, timeout=120)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert PASSWORD not in replay.stdout + replay.stderr
    final = httpx.get(f"{base}/sessions/replay/values/__user_part_observation").json()
    assert "Clicked 1 times" in " ".join(final["value"]["data"].split())


def _stop(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_command([CAPTURE, "record", "--stop", *args], cwd, env=env, timeout=90)


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run")
def test_record_launches_a_headed_browser_under_xvfb(
    site: Any, store_server: Any, tmp_path: Path
) -> None:
    env = _env()
    env.pop("DISPLAY", None)
    base = store_server.base_url
    command = ["xvfb-run", "-a", CAPTURE, "record", site.url("spa.html"), "--thread", "xvfb"]
    command += ["--out", "task.yaml", "--server", base]
    with _recorder(command, tmp_path, env) as recorder:
        _until_steps(base, "xvfb", 1, "the capture of the start URL")
        other = _stop(tmp_path, env, "--thread", "someone-else")
        assert other.returncode == 1
        assert "no running recording for thread 'someone-else'" in other.stderr
        stopped = _stop(tmp_path, env, "--thread", "xvfb")
        assert stopped.returncode == 0, stopped.stderr
        out, err = recorder.communicate(timeout=60)
    assert recorder.returncode == 0, err
    assert "task file: task.yaml (1 step)" in out
    assert [s.kind for s in load_task(tmp_path / "task.yaml").steps] == ["goto"]


def test_an_attached_recording_ends_when_its_tabs_close(
    chromium_cdp: str, site: Any, store_server: Any, tmp_path: Path
) -> None:
    """No Ctrl+C, no --stop: the person closes the tab they recorded in, and `capture record`
    writes the task file, prints its summary and exits (before: it kept waiting)."""
    base = store_server.base_url
    command = [CAPTURE, "record", site.url("spa.html"), "--cdp", chromium_cdp]
    command += ["--thread", "tabs", "--out", "task.yaml", "--server", base]
    with _recorder(command, tmp_path, _env()) as recorder:
        _wait_for(lambda: _steps(base, "tabs"), "the first capture (the start URL)")
        with sync_playwright() as pw:
            browser = pw.chromium.connect_over_cdp(chromium_cdp)
            page = _wait_for(lambda: _page_at(browser.contexts[0].pages, "spa.html"), "the tab")
            page.get_by_role("button", name="Increment").click()
            _until_steps(base, "tabs", 2, "the click")
            for tab in browser.contexts[0].pages:
                tab.close()
            out, err = recorder.communicate(timeout=60)
            browser.close()
    assert recorder.returncode == 0, err
    assert "task file: task.yaml (2 steps)" in out
    assert [s.kind for s in load_task(tmp_path / "task.yaml").steps] == ["goto", "click"]
