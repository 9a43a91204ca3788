"""Many tasks on one browser (`capture.tasks._fleet`): real Chromium, the demo shop over real
HTTP, a real store. The command around it is tested in test_tasks_cli.py."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from playwright.async_api import Browser
from rich.console import Console

from capture.config import Config
from capture.demo_site import DemoSite
from capture.errors import TaskError
from capture.session import AsyncSessionClient
from capture.tasks import RunResult, StepResult, load_task
from capture.tasks._fleet import expand_task_paths, run_tasks, worst_exit_code
from capture.tasks._junit import junit_xml
from capture.tasks._progress import TaskBoard, print_fleet_summary
from tests.conftest import RunningStore

pytestmark = pytest.mark.browser
on_module_loop = pytest.mark.asyncio(loop_scope="module")

ADDS_A_MUG = """\
name: adds a mug
base_url: {url}
timeout: 20s
steps:
  - goto: /product/blue-mug
  - click: {{role: button, name: Add to cart}}
  - expect: {{text: Added Blue Mug to your cart.}}
"""

SEES_AN_EMPTY_CART = """\
name: sees an empty cart
base_url: {url}
timeout: 20s
steps:
  - goto: /cart
  - expect: {{text: Your cart is empty.}}
"""

HANGS = """\
name: waits forever
base_url: {url}
timeout: 20s
steps:
  - goto: /
  - wait_for: {{text: a text this shop never shows}}
    timeout: 1s
  - goto: /cart
"""


def write(directory: Path, name: str, text: str, url: str) -> Path:
    path = directory / name
    path.write_text(text.format(url=url))
    return path


@on_module_loop
async def test_tasks_run_side_by_side_and_one_failure_fails_alone(
    chromium: Browser,
    shop: DemoSite,
    store_server: RunningStore,
    config: Config,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths = [
        write(tmp_path, "adds.yaml", ADDS_A_MUG, shop.url),
        write(tmp_path, "hangs.yaml", HANGS, shop.url),
        write(tmp_path, "empty.yaml", SEES_AN_EMPTY_CART, shop.url),
    ]
    tasks = [load_task(p) for p in paths]
    board = TaskBoard(tasks, mode="lines")
    async with AsyncSessionClient(store_server.base_url) as client:
        fleet = await run_tasks(
            tasks, browser=chromium, client=client, config=config, parallel=3, board=board
        )
        threads = {r.thread: await client.get_session_values(r.thread) for r in fleet.results}
    adds, hangs, empty = fleet.results
    assert (adds.status, hangs.status, empty.status) == ("passed", "failed", "passed")
    # The hanging step was ended by its own time limit; the rest of its task skipped.
    assert [s.status for s in hangs.steps] == ["ok", "failed", "skipped"]
    assert f"{paths[1]}:6" in (hangs.failures[0].error or "")
    assert fleet.exit_code() == 1
    assert not chromium.contexts  # every task's context closed, the hung one too
    # Every task wrote its own thread, with its own run record.
    assert set(threads) == {"adds-a-mug", "waits-forever", "sees-an-empty-cart"}
    records = {values["capture.run"]["name"]: values["capture.run"] for values in threads.values()}
    assert {name: record["status"] for name, record in records.items()} == {
        "adds a mug": "passed",
        "waits forever": "failed",
        "sees an empty cart": "passed",
    }
    print_fleet_summary(fleet.results, fleet.seconds, store_server.base_url)
    out = capsys.readouterr().out
    assert re.search(r"^failed .* waits forever .*\n    step 2 \(wait_for\) at", out, re.M)
    steps = sum(len(r.steps) for r in fleet.results)
    ok = steps - 2
    assert "2 passed, 1 failed of 3 tasks in " in out
    assert (
        f"{ok}/{steps} steps ok, {sum(r.captures for r in fleet.results)} captures, 0 dropped"
        in out
    )
    assert f"failed: waits forever ({paths[1]})" in out
    # The JUnit file a CI reads: three cases, one failure naming the step's file:line.
    suite = ET.fromstring(junit_xml(fleet.results)).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    failure = suite.find("testcase[@name='waits forever']/failure")
    assert failure is not None
    assert f"{paths[1]}:6" in failure.get("message", "")
    assert "thread: adds-a-mug" in (suite.findtext("testcase[@name='adds a mug']/system-out") or "")


@on_module_loop
async def test_a_cookie_of_one_task_is_invisible_to_the_next(
    chromium: Browser, shop: DemoSite, store_server: RunningStore, config: Config, tmp_path: Path
) -> None:
    # One after the other on one browser: with a shared context, the second task would find
    # the first one's shop cookie, and so its cart.
    tasks = [
        load_task(write(tmp_path, "adds.yaml", ADDS_A_MUG, shop.url)),
        load_task(write(tmp_path, "empty.yaml", SEES_AN_EMPTY_CART, shop.url)),
    ]
    async with AsyncSessionClient(store_server.base_url) as client:
        fleet = await run_tasks(tasks, browser=chromium, client=client, config=config)
    assert [r.status for r in fleet.results] == ["passed", "passed"], fleet.results


@on_module_loop
async def test_two_tasks_writing_one_thread_are_refused_before_they_start(
    chromium: Browser, shop: DemoSite, store_server: RunningStore, config: Config, tmp_path: Path
) -> None:
    first = write(tmp_path, "a.yaml", SEES_AN_EMPTY_CART, shop.url)
    second = write(tmp_path, "b.yaml", SEES_AN_EMPTY_CART, shop.url)
    async with AsyncSessionClient(store_server.base_url) as client:
        with pytest.raises(TaskError, match=f"{first} and {second} both write thread"):
            await run_tasks(
                [load_task(first), load_task(second)],
                browser=chromium,
                client=client,
                config=config,
            )
    assert not chromium.contexts


def test_task_paths_from_files_globs_and_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suite" / "deep").mkdir(parents=True)
    for name in ("suite/b.yaml", "suite/a.yml", "suite/deep/c.yaml", "suite/notes.txt", "x.yaml"):
        (tmp_path / name).write_text("")
    found = expand_task_paths(["x.yaml", "suite", "suite/*.yaml"])
    assert [str(p) for p in found] == [
        "x.yaml",
        "suite/a.yml",
        "suite/b.yaml",
        os.path.join("suite", "deep", "c.yaml"),
    ]
    with pytest.raises(TaskError, match=r"nothing/\*.yaml: no task files match"):
        expand_task_paths(["nothing/*.yaml"])
    (tmp_path / "blank").mkdir()
    with pytest.raises(TaskError, match="blank: no task files"):
        expand_task_paths(["blank"])


def test_the_worst_exit_code_wins() -> None:
    assert worst_exit_code([0, 3, 0]) == 3
    assert worst_exit_code([3, 1, 0]) == 1
    assert worst_exit_code([]) == 0


def test_the_board_has_a_line_per_task_as_they_run_and_finish(tmp_path: Path) -> None:
    tasks = [
        load_task(write(tmp_path, "a.yaml", ADDS_A_MUG, "http://127.0.0.1:9")),
        load_task(write(tmp_path, "b.yaml", HANGS, "http://127.0.0.1:9")),
    ]
    board = TaskBoard(tasks, mode="quiet")
    first, second = board.listener(0), board.listener(1)
    first.run_started(tasks[0], "adds-a-mug")
    first.step_started(1, 3, "goto /product/blue-mug")
    failed = StepResult(2, "wait_for", 6, "wait for text", "failed", "step 2 at b.yaml:6: no")
    second.run_started(tasks[1], "waits-forever")
    second.step_finished(StepResult(1, "goto", 5, "goto /", "ok"), 3)
    second.step_finished(failed, 3)
    steps = [StepResult(1, "goto", 5, "goto /", "ok"), failed]
    board.finished(
        1, RunResult("waits forever", "b.yaml", "waits-forever", "failed", steps, 2, 2, 0)
    )
    console = Console(record=True, width=200)
    console.print(board.table())
    rows = [line for line in console.export_text().splitlines() if "│" in line]
    assert "adds a mug" in rows[0]
    assert "running" in rows[0]
    assert "0/3" in rows[0]
    assert "goto /product/blue-mug" in rows[0]  # the step running now
    assert "waits forever" in rows[1]
    assert "failed" in rows[1]
    assert "2/3" in rows[1]
    assert "step 2 at b.yaml:6: no" in rows[1]  # the failure, in place of a step
