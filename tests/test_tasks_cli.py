"""`capture run` as a person or a CI job runs it: a real process, real Chromium, the demo shop,
and a real store (the embedded one in-process, or a server named with --server)."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from capture.demo_site import DEMO_PASSWORD, DemoSite
from capture.session import SessionClient
from capture.store import SqliteStore
from tests.conftest import (
    CAPTURE,
    BrowserServer,
    RunningStore,
    Site,
    StartServe,
    cart_task,
    clean_env,
    dead_port,
    default_store_file,
    run_command,
    wait_until,
)

pytestmark = pytest.mark.browser

NAME_SECRET = "zebra-quartz-secret-77"  # a secret var typed into a plain text field
ENV_SECRET = "envsecret-5521-xyzzy"  # read from the environment: secret by default


def capture_run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_command([CAPTURE, "run", *args], cwd, env={**clean_env(), **env}, timeout=90)


SECRET_TASK = """\
name: secrets stay secret
base_url: {url}
thread: secrets
vars:
  PW: {{secret: true, env: SHOP_PASSWORD}}
  NAME: {{secret: true, value: {name}}}
steps:
  - goto: /cart
  - goto: /product/blue-mug
  - click: {{role: button, name: Add to cart}}
  - goto: /login?next=/checkout
  - fill: {{label: Username, value: demo}}
  - fill: {{label: Password, value: "${{PW}}"}}
  - click: {{role: button, name: Sign in}}
  - fill: {{label: Full name, value: "${{NAME}}"}}
  - fill: {{label: Address, value: "${{MY_ADDRESS}}"}}
  - capture: the filled form
  - expect: {{text: "${{NAME}}"}}
    timeout: 300ms
  - expect: {{title: Checkout}}
"""


def test_secrets_stay_out_of_the_store_and_the_output_on_the_embedded_store(
    tmp_path: Path, shop: DemoSite
) -> None:
    (tmp_path / "task.yaml").write_text(SECRET_TASK.format(url=shop.url, name=NAME_SECRET))
    nowhere = f"http://127.0.0.1:{dead_port()}/api/v1"
    done = capture_run(
        tmp_path,
        "task.yaml",
        "--json",
        "--out",
        "out",
        "--continue-on-error",
        SHOP_PASSWORD=DEMO_PASSWORD,
        MY_ADDRESS=ENV_SECRET,
        CAPTURE_SESSION_SERVER=nowhere,
    )
    # One expectation fails on purpose (its text names a secret): exit 1, the rest ran.
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert [s["status"] for s in summary["steps"]] == ["ok"] * 10 + ["failed", "ok"]
    assert summary["thread"] == "secrets"
    assert summary["exit_code"] == 1
    assert summary["steps"][5]["action"] == "fill label 'Password' with '${PW}'"
    assert summary["steps"][7]["action"] == "fill label 'Full name' with '${NAME}'"
    assert summary["steps"][8]["action"] == "fill label 'Address' with '${MY_ADDRESS}'"
    assert "expected text '${NAME}' to be visible" in summary["failures"][0]
    # No store answered at the configured URL: the embedded one ran, and said where.
    assert f"no session store at {nowhere}" in done.stderr
    assert f"data: sqlite {default_store_file()}" in done.stderr
    assert summary["store"] != nowhere

    printed = done.stdout + done.stderr
    task_file = tmp_path / "task.yaml"  # holds NAME's value itself, by the user's choice
    written = b"".join(
        p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p != task_file
    )
    assert len(written) > 10_000
    for secret in (DEMO_PASSWORD, NAME_SECRET, ENV_SECRET):
        assert secret not in printed
        assert secret.encode() not in written  # the SQLite files (+WAL) and --out
    # ... while the captures are really there, in the embedded store's file.
    stored = asyncio.run(_read_sqlite(default_store_file(), "secrets"))
    assert stored["capture.run"]["status"] == "failed"
    assert json.loads((tmp_path / "out" / "result.json").read_text())["thread"] == "secrets"
    assert (tmp_path / "out" / "step-010.txt").read_text().startswith("# Step 10: capture:")


async def _read_sqlite(path: Path, thread: str) -> dict[str, Any]:
    store = SqliteStore(path)
    await store.open()
    try:
        run = await store.get(thread, "capture.run")
    finally:
        await store.close()
    assert run is not None
    return {"capture.run": json.loads(run)}


def test_a_failing_step_exits_1_naming_step_line_and_reason(
    tmp_path: Path, shop: DemoSite, store_server: RunningStore
) -> None:
    (tmp_path / "task.yaml").write_text(
        f"name: broken\nbase_url: {shop.url}\nsteps:\n  - goto: /\n"
        "  - click: '#no-such-thing'\n    timeout: 500ms\n  - goto: /cart\n"
    )
    done = capture_run(tmp_path, "task.yaml", "--server", store_server.base_url, "--thread", "b")
    assert done.returncode == 1
    message = (
        "error: step 2 (click) at task.yaml:5 failed: timed out after 0.5s (waiting for "
        'locator("#no-such-thing"))'
    )
    assert message in done.stderr.splitlines()
    lines = done.stdout.splitlines()  # a pipe: plain lines, one per step
    assert lines[0] == "running broken (task.yaml) into thread b"
    assert lines[1].startswith("[1/3] ok ")
    assert lines[2].startswith("[2/3] failed ")
    assert lines[2].endswith("click css '#no-such-thing'")
    assert lines[4].startswith("[3/3] skipped ")
    assert lines[5].startswith("failed: 1/3 steps ok")
    with SessionClient(store_server.base_url) as client:
        stored = client.get_session_values("b")
    assert stored["capture.step.000002"]["status"] == "failed"
    assert "capture.step.000003" not in stored
    assert "task.yaml:5" in stored["__user_part_observation"]["data"]


def test_an_explicit_server_that_does_not_answer_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "task.yaml").write_text(
        "name: t\nbase_url: http://127.0.0.1:9\nsteps:\n  - goto: /\n"
    )
    nowhere = f"http://127.0.0.1:{dead_port()}/api/v1"
    done = capture_run(tmp_path, "task.yaml", "--server", nowhere)
    assert done.returncode == 1
    assert done.stderr == f"error: no session store answers at {nowhere}\n"


def test_the_store_going_away_mid_run_is_reported_not_fatal(
    tmp_path: Path, shop: DemoSite, capture_serve: StartServe
) -> None:
    """`capture serve` is killed after step 2: the task completes, the summary counts the
    dropped writes, and the exit code is 0 (the documented policy without --strict)."""
    server = capture_serve("--store", "memory://")
    (tmp_path / "task.yaml").write_text(
        f"name: store goes\nbase_url: {shop.url}\nsteps:\n  - goto: /\n  - goto: /cart\n"
        "  - sleep: 200ms\n  - goto: /search?q=mug\n  - expect: {text: Blue Mug}\n"
    )
    env = {**clean_env(), "CAPTURE_SESSION_RETRIES": "0", "CAPTURE_CAPTURE_UPLOAD_RETRIES": "0"}
    with subprocess.Popen(
        [CAPTURE, "run", "task.yaml", "--server", server.base_url],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as run:
        assert run.stdout is not None
        seen = [run.stdout.readline() for _ in range(3)]  # header, step 1, step 2
        assert seen[2].startswith("[2/5] ok")
        server.stop(signal.SIGKILL)
        rest, errors = run.communicate(timeout=90)
    assert run.returncode == 0, errors
    assert [line[:9] for line in rest.splitlines()[:3]] == ["[3/5] ok ", "[4/5] ok ", "[5/5] ok "]
    assert "passed: 5/5 steps ok" in rest
    assert re.search(r"warning: \d+ store writes were dropped", rest), rest


def test_a_directory_of_tasks_in_parallel_one_failing(
    tmp_path: Path, shop: DemoSite, store_server: RunningStore
) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "a.yaml").write_text(cart_task("cart a", shop.url))
    (suite / "b.yaml").write_text(cart_task("cart b", shop.url, product="Red Mug"))
    (suite / "c.yml").write_text(cart_task("cart c", shop.url))
    done = capture_run(
        tmp_path, "suite", "--parallel", "3", "--server", store_server.base_url,
        "--junit", "reports/junit.xml",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    failure = (
        "step 3 (expect) at suite/b.yaml:7 failed: expected text 'Added Red Mug to your "
        "cart.' to be visible; it is not"
    )
    assert f"error: {failure}" in done.stderr.splitlines()
    lines = done.stdout.splitlines()  # a pipe: a line per finished task, then the summary
    finished = sorted(
        " ".join(m.groups()) for line in lines if (m := re.match(r"(\w+) +[\d.]+s  (.+?) \(", line))
    )
    assert finished == ["failed cart b", "passed cart a", "passed cart c"]
    assert f"    {failure}" in lines
    assert re.match(
        r"2 passed, 1 failed of 3 tasks in [\d.]+s: 8/9 steps ok, 9 captures, 0 dropped writes",
        lines[4],
    ), lines
    assert lines[5] == "failed: cart b (suite/b.yaml) → thread cart-b"
    with SessionClient(store_server.base_url) as client:
        for thread, status in (("cart-a", "passed"), ("cart-b", "failed"), ("cart-c", "passed")):
            assert client.get_session_value(thread, "capture.run")["status"] == status
    suite_xml = ET.parse(tmp_path / "reports" / "junit.xml").getroot().find("testsuite")
    assert suite_xml is not None
    assert (suite_xml.get("tests"), suite_xml.get("failures")) == ("3", "1")
    cases = {case.get("name"): case for case in suite_xml.iter("testcase")}
    assert cases["cart b"].find("failure") is not None
    assert cases["cart b"].get("classname") == "suite/b.yaml"
    assert cases["cart a"].find("failure") is None


def test_many_tasks_refuse_a_bad_file_or_a_shared_thread_before_anything_starts(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.yaml").write_text(cart_task("same", "http://127.0.0.1:9"))
    (tmp_path / "b.yaml").write_text(cart_task("same", "http://127.0.0.1:9"))
    (tmp_path / "bad.yaml").write_text("name: bad\nbase_url: /\nsteps:\n  - teleport: /\n")
    nowhere = f"http://127.0.0.1:{dead_port()}/api/v1"  # never reached
    shared = capture_run(tmp_path, "a.yaml", "b.yaml", "--server", nowhere)
    assert shared.returncode == 1
    assert shared.stderr == (
        "error: a.yaml and b.yaml both write thread 'same'; give one of them its own "
        "`thread:` or `name:`\n"
    )
    bad = capture_run(tmp_path, "*.yaml", "--server", nowhere)
    assert bad.returncode == 1
    assert "bad.yaml:4: steps[0]" in bad.stderr  # the glob's bad file, named before any run
    assert "Traceback" not in bad.stderr
    thread = capture_run(tmp_path, "a.yaml", "b.yaml", "--thread", "t")
    assert thread.returncode == 2
    assert "--thread" in thread.stderr


def test_tasks_on_a_playwright_browser_server(
    tmp_path: Path,
    shop: DemoSite,
    store_server: RunningStore,
    browser_server: BrowserServer,
    chromium_path: str,
) -> None:
    (tmp_path / "a.yaml").write_text(cart_task("remote a", shop.url))
    (tmp_path / "b.yaml").write_text(cart_task("remote b", shop.url))
    done = capture_run(
        tmp_path, "a.yaml", "b.yaml", "--parallel", "2", "--json",
        "--server", store_server.base_url, "--connect", browser_server.ws_url,
        CAPTURE_BROWSER_EXECUTABLE=chromium_path,  # the server has no Chromium of its own
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["tasks"], summary["passed"], summary["failed"]) == (2, 2, 0)
    assert summary["exit_code"] == 0
    assert [(r["task"], r["thread"], r["status"]) for r in summary["results"]] == [
        ("remote a", "remote-a", "passed"),
        ("remote b", "remote-b", "passed"),
    ]
    assert summary["captures"] == 6


def test_a_browser_server_that_is_down_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(cart_task("a", "http://127.0.0.1:9"))
    down = f"ws://127.0.0.1:{dead_port()}/"
    for args in (["a.yaml"], ["a.yaml", "a.yaml", "--parallel", "2"]):
        done = capture_run(tmp_path, *args, "--connect", down, CAPTURE_STORE_URL="memory://")
        assert done.returncode == 1
        assert done.stderr.splitlines()[-1].startswith(
            f"error: could not connect to the browser server at {down}: "
        )
        assert "Traceback" not in done.stderr


DYING_TASK = """\
name: the store dies
base_url: {url}
thread: dying
steps:
  - goto: /
  - sleep: 2s
  - goto: /product/blue-mug
  - goto: /cart
  - goto: /product/blue-mug
  - goto: /cart
"""


def test_a_store_that_dies_mid_run_holds_the_end_for_at_most_the_flush_deadline(
    tmp_path: Path, shop: DemoSite, capture_serve: StartServe
) -> None:
    """The store is SIGKILLed during step 2: the steps go on, and the end of the run waits
    at most `capture.flush_timeout` for the uploads left (it waited ~65 s before: retries of
    the uploader times retries of the client, write after write), saying what it waits for."""
    server = capture_serve("--store", "memory://")
    task = tmp_path / "dying.yaml"
    task.write_text(DYING_TASK.format(url=shop.url), encoding="utf-8")
    env = {**clean_env(), "CAPTURE_CAPTURE_FLUSH_TIMEOUT": "3s"}
    run = subprocess.Popen(
        [CAPTURE, "run", str(task), "--server", server.base_url],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with SessionClient(server.base_url) as client:
        wait_until(
            lambda: client.get_session_value("dying", "capture.step.000001") is not None,
            "step 1 to be stored",
        )
    server.stop(signal.SIGKILL)
    killed = time.monotonic()
    out, err = run.communicate(timeout=90)
    after_kill = time.monotonic() - killed
    assert run.returncode == 0, err
    # The steps after the kill take ~3 s on a quiet machine, the deadline adds at most 3 s;
    # the bound leaves room for a loaded machine and still fails the ~65 s of before.
    assert after_kill < 30, (after_kill, err)
    assert re.search(r"waiting for \d+ uploads? to http://127\.0\.0\.1:\d+/api/v1…", err), err
    assert "passed" in out
    assert "dropped" in out + err


def test_the_summary_says_how_to_see_the_thread_after_the_embedded_store_stopped(
    tmp_path: Path, site: Site, capture_serve: StartServe
) -> None:
    task = f"name: links\nbase_url: {site.origin}\nthread: keep/me\nsteps:\n  - goto: /table.html\n"
    (tmp_path / "task.yaml").write_text(task)
    nowhere = f"http://127.0.0.1:{dead_port()}/api/v1"
    done = capture_run(tmp_path, "task.yaml", CAPTURE_SESSION_SERVER=nowhere)
    assert done.returncode == 0, done.stderr
    # While it runs, the embedded store's viewer is said to last only as long as the run ...
    assert re.search(r"viewer: http://127\.0\.0\.1:\d+/ while this run lasts\)", done.stderr)
    # ... and the summary gives the one command that serves the data afterwards.
    found = re.search(
        r"^afterwards: capture serve --store (\S+)  then open (\S+)$", done.stdout, re.M
    )
    assert found, done.stdout
    store_url, page = found.groups()
    assert store_url == f"sqlite:///{default_store_file()}"
    assert page == "http://127.0.0.1:8787/#/thread/keep%2Fme"
    served = capture_serve("--store", store_url, cwd=tmp_path.parent)  # from elsewhere
    with SessionClient(served.base_url) as client:
        stored = client.get_session_values("keep/me")
    assert stored["capture.run"]["status"] == "passed"
