"""Task files as pytest items: a child pytest (pytester, a subprocess) collects
`test_*.task.yaml` files and runs them on real Chromium against the demo shop, capturing into
a real store; also spread over pytest-xdist workers into one store."""

from __future__ import annotations

import os

import pytest

from capture.demo_site import DemoSite
from capture.pytest_plugin import thread_id_for
from tests.conftest import (
    CHILD_PYTEST_ADDOPTS,
    RunningStore,
    StartServe,
    assert_one_embedded_store,
    cart_task,
    point_at_no_store,
    serve_embedded_store,
    thread_values,
)

pytest_plugins = ["pytester"]
# A child pytest (and under xdist three of them, two browsers): slow on a busy machine.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(400)]


@pytest.fixture
def child(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for name in list(os.environ):
        if name.startswith("CAPTURE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PYTEST_ADDOPTS", CHILD_PYTEST_ADDOPTS)
    return pytester


def test_task_files_are_collected_and_run_as_items(
    child: pytest.Pytester, shop: DemoSite, store_server: RunningStore
) -> None:
    child.makefile(".task.yaml", test_passes=cart_task("cart passes", shop.url))
    child.makefile(".task.yml", test_fails=cart_task("cart fails", shop.url, "Red Mug"))
    child.makefile(".task.yaml", helper=cart_task("not a test", shop.url))  # no test_ prefix
    child.makefile(".yaml", test_plain=cart_task("not a task file", shop.url))
    child.makefile(".task.yaml", test_broken="name: broken\nbase_url: /\nsteps:\n  - fly: /\n")
    child.makefile(
        ".task.yaml",
        test_unset="name: unset\nbase_url: /\nvars:\n  PW: {secret: true, env: FLEET_PW_UNSET}\n"
        "steps:\n  - goto: /${PW}\n",
    )
    result = child.runpytest_subprocess(
        "-p", "no:cacheprovider", "-v", "--continue-on-collection-errors",
        "--capture-server", store_server.base_url,
    )  # fmt: skip
    result.assert_outcomes(passed=1, failed=2, errors=1)
    output = "\n".join(result.outlines)
    assert "test_passes.task.yaml::cart passes PASSED" in output
    assert "test_fails.task.yml::cart fails FAILED" in output
    assert "not a test" not in output
    assert "not a task file" not in output
    # The failure names the failing step with file:line, and the thread holding its captures.
    failing = thread_id_for("test_fails.task.yml::cart fails")
    assert (
        "step 3 (expect) at test_fails.task.yml:7 failed: expected text 'Added Red Mug to "
        "your cart.' to be visible; it is not" in result.outlines
    )
    assert f"2/3 steps ok; thread {failing} ({store_server.base_url})" in result.outlines
    assert "Traceback" not in output
    # An unset variable fails its item with the runner's line, before a step runs.
    assert any(
        line.startswith("test_unset.task.yaml:6: variable ${PW} is not set")
        for line in result.outlines
    ), output
    # A broken task file is a collection error naming its line.
    assert "test_broken.task.yaml:4: steps[0].fly: unknown step kind 'fly'" in output
    # One thread per item, written by the task runner.
    passing = thread_values(
        store_server.base_url, thread_id_for("test_passes.task.yaml::cart passes")
    )
    assert passing["capture.run"]["status"] == "passed"
    assert sum(key.startswith("capture.step.") for key in passing) == 3
    failed = thread_values(store_server.base_url, failing)
    assert failed["capture.run"]["status"] == "failed"


def test_task_items_spread_over_xdist_workers_into_one_store(
    child: pytest.Pytester,
    shop: DemoSite,
    capture_serve: StartServe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in range(4):
        child.makefile(".task.yaml", **{f"test_cart_{n}": cart_task(f"cart{n}", shop.url)})
    point_at_no_store(monkeypatch)
    result = child.runpytest_subprocess("-p", "no:cacheprovider", "--capture-session", "-n", "2")
    # The controller started the one embedded store; the workers' items wrote into it.
    assert_one_embedded_store(result, passed=4, captures=12)
    served = serve_embedded_store(capture_serve)
    for n in range(4):
        values = thread_values(served.base_url, f"test_cart_{n}.task.yaml::cart{n}")
        assert values["capture.run"]["status"] == "passed"
        assert sum(key.startswith("capture.step.") for key in values) == 3
