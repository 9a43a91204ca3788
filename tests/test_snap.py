"""`capture snap`: the real command in a subprocess, against the real store and test site."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import (
    CAPTURE,
    ROOT,
    BrowserServer,
    Site,
    clean_env,
    dead_port,
    default_store_file,
    run_command,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a Chromium per subprocess


def snap(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_command(
        [CAPTURE, "snap", *args], ROOT, env={**clean_env(), **(env or {})}, timeout=90
    )


def test_snap_stores_prints_and_writes_files(store_server: Any, site: Site, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = snap(
        site.url("spa.html"),
        "--thread",
        "t-snap",
        "--wait-for",
        "#increment",
        "--out",
        str(out),
        "--server",
        store_server.base_url,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("thread t-snap step 1: 1280x800 JPEG")
    assert lines[2] == "status: 200 OK"
    assert any(line.startswith("wrote ") for line in lines)
    observation = (out / "observation.txt").read_text()
    assert "Todo app" in observation
    assert site.url("spa.html") in observation
    with Image.open(out / "screenshot.jpg") as image:
        assert image.size == (1280, 800)
    values = httpx.get(f"{store_server.base_url}/sessions/t-snap/values").json()["values"]
    stored = base64.b64decode(values["__user_part_screenshot"]["data"]["bytes"])
    assert stored == (out / "screenshot.jpg").read_bytes()
    assert values["__user_part_observation"]["data"] + "\n" == observation
    assert done.stdout.endswith(f"\n\n{observation}")  # what was stored, printed
    assert "capture.step.000001" in values


def test_snap_with_the_store_down_fails_in_one_line(site: Site) -> None:
    server = f"http://127.0.0.1:{dead_port()}/api/v1"
    done = snap(
        site.url("index.html"),
        "--thread",
        "t",
        "--server",
        server,
        env={"CAPTURE_SESSION_RETRIES": "0", "CAPTURE_CAPTURE_UPLOAD_RETRIES": "0"},
    )
    assert done.returncode == 1
    # Checked before a browser starts, in the words `capture run` uses (one entry).
    assert done.stderr == f"error: no session store answers at {server}\n"
    assert len(done.stderr.strip().splitlines()) == 1


def test_snap_without_a_store_falls_back_to_the_embedded_one(site: Site) -> None:
    """As `capture run` and `capture record` do: nothing answers at the configured URL and
    none was named, so the embedded store takes the capture."""
    nowhere = f"http://127.0.0.1:{dead_port()}/api/v1"
    done = snap(
        site.url("index.html"),
        "--thread",
        "t-fallback",
        env={"CAPTURE_SESSION_SERVER": nowhere, "CAPTURE_STORE_URL": "memory://"},
    )
    assert done.returncode == 0, done.stderr
    assert f"no session store at {nowhere}; running the embedded store" in done.stderr
    assert done.stdout.startswith("thread t-fallback step 1: 1280x800 JPEG")


def test_snap_without_a_browser_names_setup(store_server: Any, site: Site) -> None:
    done = snap(
        site.url("index.html"),
        "--thread",
        "t",
        "--server",
        store_server.base_url,
        env={"CAPTURE_BROWSER_EXECUTABLE": "/nonexistent/chromium"},
    )
    assert done.returncode == 1
    assert "scripts/setup" in done.stderr
    assert "Traceback" not in done.stderr


def test_snap_of_an_unreachable_page_is_one_error_line(store_server: Any) -> None:
    url = f"http://127.0.0.1:{dead_port()}/nothing.html"
    done = snap(url, "--thread", "t", "--server", store_server.base_url)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: could not open {url}")
    assert len(done.stderr.strip().splitlines()) == 1


def test_snap_through_a_playwright_browser_server(
    store_server: Any, site: Site, browser_server: BrowserServer, chromium_path: str
) -> None:
    done = snap(
        site.url("spa.html"),
        "--thread",
        "t-snap-remote",
        "--server",
        store_server.base_url,
        "--connect",
        browser_server.ws_url,
        env={
            "CAPTURE_BROWSER_EXECUTABLE": chromium_path,  # the server has no Chromium
            "CAPTURE_CAPTURE_TIME_BOX": "30s",  # a first screenshot on a busy machine
        },
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("thread t-snap-remote step 1: 1280x800 JPEG")
    values = httpx.get(f"{store_server.base_url}/sessions/t-snap-remote/values").json()["values"]
    assert "Todo app" in values["__user_part_observation"]["data"]


def test_snap_says_the_page_opened_but_the_selector_never_appeared(
    store_server: Any, site: Site
) -> None:
    url = site.url("spa.html")
    server = ("--server", store_server.base_url)
    done = snap(url, "--thread", "t", "--wait-for", "#nope", "--timeout", "1s", *server)
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"error: opened {url}, but --wait-for '#nope' never appeared "
        "(waited 1s; --timeout sets how long): "
    )
    assert len(done.stderr.strip().splitlines()) == 1


def test_snap_prints_what_it_stored(store_server: Any, site: Site) -> None:
    done = snap(site.url("spa.html"), "--thread", "t-stored", "--server", store_server.base_url)
    assert done.returncode == 0, done.stderr
    stored = httpx.get(f"{store_server.base_url}/sessions/t-stored/values").json()["values"]
    head, _, keys = done.stdout.splitlines()[1].partition(": ")
    assert head == f"stored in thread 't-stored' at {store_server.base_url}"
    assert sorted(keys.split(", ")) == sorted(stored)


def test_snap_of_a_404_says_404_and_fails_only_when_strict(store_server: Any, site: Site) -> None:
    url = site.url("no-such-page.html")
    done = snap(url, "--thread", "t-404", "--server", store_server.base_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[2:4] == ["status: 404 Not Found", "note: the page answered 404 Not Found"]
    strict = snap(url, "--thread", "t-404-strict", "--strict", "--server", store_server.base_url)
    assert strict.returncode == 1
    assert strict.stderr.strip().splitlines() == [f"error: {url} answered 404 Not Found (--strict)"]
    stored = httpx.get(f"{store_server.base_url}/sessions/t-404-strict/values").json()["values"]
    assert "__user_part_observation" in stored  # stored first, then failed


def test_snap_without_a_thread_captures_into_a_new_dated_one(store_server: Any, site: Site) -> None:
    done = snap(site.url("index.html"), "--server", store_server.base_url)
    assert done.returncode == 0, done.stderr
    thread = done.stdout.split()[1]
    assert re.fullmatch(r"snap-\d{8}-\d{6}", thread), done.stdout
    assert httpx.get(f"{store_server.base_url}/sessions/{thread}/values").status_code == 200


def test_what_a_run_stored_in_the_embedded_store_is_read_with_nothing_serving(
    site: Site, tmp_path: Path
) -> None:
    """snap, then agent-context and sessions in the same folder, with no store running:
    the readers read the embedded store's file and say so."""
    nowhere = f"http://127.0.0.1:{dead_port()}/api/v1"
    env = {**clean_env(), "CAPTURE_SESSION_SERVER": nowhere}
    done = run_command(
        [CAPTURE, "snap", site.url("index.html"), "--thread", "t-emb"], tmp_path, env=env
    )
    assert done.returncode == 0, done.stderr
    context = run_command([CAPTURE, "agent-context", "t-emb"], tmp_path, env=env)
    assert context.returncode == 0, context.stderr
    blocks = json.loads(context.stdout)
    assert [block["type"] for block in blocks] == ["image", "text"]
    assert f"no session store at {nowhere}; running the embedded store" in context.stderr
    assert str(default_store_file()) in context.stderr  # which store was read
    listed = run_command([CAPTURE, "sessions", "--json"], tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert [row["thread_id"] for row in json.loads(listed.stdout)] == ["t-emb"]
