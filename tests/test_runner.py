"""The task runner on real Chromium against the bundled demo shop, capturing into a real
store over HTTP. One browser per module (`chromium` in conftest); each run gets a fresh
context (its own cookies)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser

from capture._output import count
from capture.actions import STEP_KINDS, FillStep, StepContext, Vars, perform
from capture.config import Config, StoreConfig, load_config
from capture.demo_site import DEMO_PASSWORD, DemoSite
from capture.session import AsyncSessionClient, TextPart
from capture.store import MemoryStore, StoreServer
from capture.tasks import (
    EXIT_DROPPED,
    EXIT_FAILED,
    EXIT_OK,
    RunListener,
    RunResult,
    StepResult,
    TaskFile,
    parse_task,
    print_summary,
    run_task,
    run_task_sync,
)
from tests.conftest import ROOT, RunningStore

pytestmark = pytest.mark.browser
# One event loop for the module, so the module's browser serves every async test.
on_module_loop = pytest.mark.asyncio(loop_scope="module")


def task_at(tmp_path: Path, text: str) -> TaskFile:
    """Parse `text` as if loaded from tmp_path/task.yaml (uploads resolve next to it)."""
    path = tmp_path / "task.yaml"
    path.write_text(text)
    return parse_task(text, str(path))


async def run_in(
    store: RunningStore, browser: Browser, task: TaskFile, thread: str, **options: Any
) -> RunResult:
    """Run `task` in a fresh context of `browser`, capturing into `thread` of `store`."""
    async with AsyncSessionClient(store.base_url) as client:
        return await run_task(task, client=client, browser=browser, thread=thread, **options)


RunOnShop = Callable[..., Awaitable[RunResult]]


@pytest.fixture
def run_on_shop(
    tmp_path: Path, shop: DemoSite, chromium: Browser, store_server: RunningStore
) -> RunOnShop:
    """`await run_on_shop(thread, steps, name=thread, head="", **options)`: the task `steps`
    (YAML lines) on the demo shop, `head` its other top-level lines, written to
    tmp_path/task.yaml and run into `thread` of the test's store."""

    async def run(
        thread: str, steps: str, name: str = "", head: str = "", **options: Any
    ) -> RunResult:
        text = f"name: {name or thread}\nbase_url: {shop.url}\n{head}steps:\n{steps}"
        return await run_in(store_server, chromium, task_at(tmp_path, text), thread, **options)

    return run


async def values(base_url: str, thread: str) -> dict[str, Any]:
    async with AsyncSessionClient(base_url) as client:
        return await client.get_session_values(thread)


def steps_of(stored: dict[str, Any]) -> list[dict[str, Any]]:
    return [stored[key] for key in sorted(stored) if key.startswith("capture.step.")]


def observation(stored: dict[str, Any]) -> str:
    part = TextPart.model_validate(stored["__user_part_observation"])
    return part.data


EVERY_KIND = """\
name: every kind
base_url: {url}
timeout: 5s
viewport: {{width: 1024, height: 700}}
vars:
  WHO: Grace Hopper
steps:
  - goto: /
  - type: {{placeholder: "mugs, kettles", value: kett, delay: 10}}
  - wait_for: {{text: "Suggestion: Tea Kettle"}}
  - fill: {{label: Search, value: mug}}
  - press: {{label: Search, key: Enter}}
  - wait_for: {{url: "**/search?q=mug"}}
  - wait_for: {{load_state: domcontentloaded}}
  - expect: {{test_id: result-count, url_matches: "q=mug$", title: "Search: mug"}}
  - click: {{role: link, name: Travel Mug}}
  - hover: {{text: Shipping info, exact: false}}
  - expect: {{role: tooltip}}
  - select: {{css: "#size", option: Small}}
  - click: {{role: button, name: Add to cart}}
  - expect: {{css: ".notice", url: "/product/travel-mug?added=1"}}
  - scroll: {{css: "#reviews"}}
  - scroll: {{dy: -5000}}
  - capture: after adding
  - press: Tab
  - sleep: 50ms
  - goto: /login?next=/checkout
  - fill: {{label: Username, value: demo}}
  - fill: {{label: Password, value: "{password}"}}
  - click: {{role: button, name: Sign in}}
  - fill: {{label: Full name, value: "${{WHO}}"}}
  - fill: {{label: Address, value: 1 Compiler Lane}}
  - fill: {{label: Card number, value: "4111 1111 1111 1111"}}
  - select: {{label: Shipping, option: [express]}}
  - upload: {{label: Gift card image, files: gift.txt}}
  - uncheck: {{css: "#newsletter"}}
  - check: {{label: I accept the terms, exact: true}}
  - click: {{text: Place order, nth: 0}}
  - expect: {{text: "Thank you, Grace Hopper!", title: Order}}
"""


@on_module_loop
async def test_every_step_kind_and_target_kind(
    tmp_path: Path, shop: DemoSite, chromium: Browser, store_server: RunningStore
) -> None:
    (tmp_path / "gift.txt").write_text("happy birthday")
    task = task_at(tmp_path, EVERY_KIND.format(url=shop.url, password=DEMO_PASSWORD))
    # dblclick and drag run on the test site (tests/test_steps.py): the shop has no use for them
    assert {step.kind for step in task.steps} == set(STEP_KINDS) - {"dblclick", "drag"}
    result = await run_in(store_server, chromium, task, "every")
    assert [s.status for s in result.steps] == ["ok"] * len(task.steps), result.failures
    assert result.exit_code() == EXIT_OK
    assert result.captures == len(task.steps)
    assert result.dropped == 0
    final = result.final_observation
    assert "Thank you, Grace Hopper!" in final
    assert "express shipping" in final
    assert "Gift card image: gift.txt. Newsletter: no." in final
    actions = [s.action for s in result.steps]
    assert actions[1] == "type placeholder 'mugs, kettles' with 'kett'"
    assert actions[8] == "click link 'Travel Mug'"
    assert actions[16] == "capture: after adding"
    assert actions[21] == "fill label 'Password' with [redacted]"  # a password field
    assert actions[25] == "fill label 'Card number' with [redacted]"  # autocomplete=cc-number
    assert actions[23] == "fill label 'Full name' with 'Grace Hopper'"
    stored = await values(store_server.base_url, "every")
    records = steps_of(stored)
    assert [r["action"] for r in records] == actions
    assert {r["status"] for r in records} == {"ok"}
    assert stored["capture.run"]["status"] == "passed"
    assert stored["capture.run"]["name"] == "every kind"


@on_module_loop
async def test_ref_from_a_previous_observation(
    tmp_path: Path, shop: DemoSite, chromium: Browser, store_server: RunningStore
) -> None:
    """An agent reads the last observation, picks a ref, and sends a step that uses it."""
    context = await chromium.new_context()
    page = await context.new_page()
    async with AsyncSessionClient(store_server.base_url) as client:
        first = task_at(
            tmp_path, f"name: look\nbase_url: {shop.url}\nsteps:\n  - goto: /product/red-mug\n"
        )
        assert (await run_task(first, client=client, page=page, thread="refs")).status == "passed"
        seen = observation(await values(store_server.base_url, "refs"))
        ref = re.search(r'button "Add to cart" \[ref=(e\d+)\]', seen)
        assert ref is not None, seen
        second = task_at(
            tmp_path,
            f"name: act\nbase_url: {shop.url}\nsteps:\n"
            f"  - click: {{ref: {ref.group(1)}}}\n"
            "  - expect: {text: Added Red Mug to your cart.}\n"
            "  - click: {ref: e999}\n",
        )
        result = await run_task(second, client=client, page=page, thread="refs")
    in_cart = await page.get_by_test_id("cart-count").inner_text()
    await context.close()
    assert result.steps[0].status == "ok"
    assert result.steps[0].action == f"click ref {ref.group(1)}"
    assert result.steps[1].status == "ok"
    assert in_cart == "1"
    assert result.steps[2].status == "failed"
    assert "ref e999 is not on the page" in (result.steps[2].error or "")


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        ("click: {css: '#no-such-button'}", r"timed out after 0\.5s \(waiting for locator\("),
        ("expect: {text: Free unicorns}", r"expected text 'Free unicorns' to be visible"),
        ("expect: {title: Unicorns}", r"expected the title to contain 'Unicorns'; it is 'Home"),
        ("wait_for: {url: /never}", r"timed out after 0\.5s"),
        ("click: {role: link, name: Mug}", r"the target matches \d+ elements"),
        ("upload: {css: input, files: missing.png}", r"file to upload not found: .*missing\.png"),
    ],
)
@on_module_loop
async def test_a_failing_step_is_named_captured_and_stops_the_run(
    tmp_path: Path, store_server: RunningStore, run_on_shop: RunOnShop, step: str, reason: str
) -> None:
    # Only the step under test has the short limit: a loaded machine may take longer than
    # that to open the first page.
    steps = f"  - goto: /\n    timeout: 10s\n  - {step}\n  - goto: /cart\n"
    result = await run_on_shop("fails", steps, head="timeout: 500ms\n")
    assert result.status == "failed"
    assert result.exit_code() == EXIT_FAILED
    assert [s.status for s in result.steps] == ["ok", "failed", "skipped"]
    error = result.steps[1].error or ""
    kind = step.split(":")[0]
    assert error.startswith(f"step 2 ({kind}) at {tmp_path / 'task.yaml'}:7 failed: "), error
    assert re.search(reason, error), error
    stored = await values(store_server.base_url, "fails")
    records = steps_of(stored)
    assert len(records) == 2  # the skipped step was not captured
    assert records[1]["status"] == "failed"
    assert records[1]["error"] == error[:239] + ("…" if len(error) > 240 else "")
    assert stored["capture.run"]["status"] == "failed"
    failed_observation = observation(stored)  # the failure state, as the agent will see it
    assert f"FAILED: {error}" in failed_observation


@on_module_loop
async def test_a_new_tab_is_followed(
    shop: DemoSite, store_server: RunningStore, run_on_shop: RunOnShop
) -> None:
    result = await run_on_shop(
        "tab",
        "  - goto: /product/red-mug\n"
        "  - click: {text: Size guide}\n  - expect: {text: 500 ml, url: /size-guide}\n",
    )
    assert [s.status for s in result.steps] == ["ok"] * 3, result.failures
    records = steps_of(await values(store_server.base_url, "tab"))
    assert records[1]["url"] == f"{shop.url}/size-guide"  # captured in the new tab


@on_module_loop
async def test_continue_on_error_runs_the_rest(
    store_server: RunningStore, run_on_shop: RunOnShop
) -> None:
    result = await run_on_shop(
        "on",
        "  - goto: /\n"
        "  - fill: {css: '#missing', value: literal-pass-1234}\n    timeout: 300ms\n"
        "  - goto: /cart\n  - expect: {text: empty}\n",
        name="goes on",
        continue_on_error=True,
    )
    assert [s.status for s in result.steps] == ["ok", "failed", "ok", "ok"]
    assert result.exit_code() == EXIT_FAILED
    # The field was never found, so nobody knows whether it was a password field: the
    # typed value stays hidden.
    assert result.steps[1].action == "fill css '#missing' with [redacted]"
    stored = await values(store_server.base_url, "on")
    assert len(steps_of(stored)) == 4
    assert "literal-pass-1234" not in json.dumps(stored)


class _StopStoreAfter(RunListener):
    """Stops the store server once step `after` finished: the store goes away mid-run."""

    def __init__(self, server: StoreServer, after: int) -> None:
        self.server, self.after = server, after
        self.seen: list[StepResult] = []

    def step_finished(self, step: StepResult, total: int) -> None:
        self.seen.append(step)
        if step.number == self.after:
            self.server.should_exit = True


@on_module_loop
async def test_store_going_away_mid_run_drops_captures_not_the_task(
    tmp_path: Path, shop: DemoSite, chromium: Browser, capsys: pytest.CaptureFixture[str]
) -> None:
    server = StoreServer(
        StoreConfig(sweep_interval=timedelta(0)),
        MemoryStore(),
        host="127.0.0.1",
        port=0,
        embedded=True,
    )
    serving = await server.start()
    base_url = f"http://127.0.0.1:{server.port}/api/v1"
    task = task_at(
        tmp_path,
        f"name: store goes\nbase_url: {shop.url}\ncapture: {{upload_retries: 0}}\nsteps:\n"
        "  - goto: /\n  - goto: /cart\n  - goto: /search?q=mug\n"
        "  - click: {role: link, name: Blue Mug}\n  - expect: {text: stoneware}\n",
    )
    listener = _StopStoreAfter(server, after=2)
    async with AsyncSessionClient(base_url, retries=0, timeout=1.0) as client:
        result = await run_task(
            task, client=client, browser=chromium, thread="gone", listener=listener
        )
    await serving
    assert [s.status for s in result.steps] == ["ok"] * 5, result.failures  # task completed
    assert result.captures == 5
    assert result.dropped > 0
    assert result.exit_code() == EXIT_OK
    assert result.exit_code(strict=True) == EXIT_DROPPED
    print_summary(result, base_url)
    shown = capsys.readouterr().out
    assert f"{count(result.dropped, 'store write')} w" in shown  # "1 … was", "3 … were"


@on_module_loop
async def test_values_typed_into_fields_the_recorder_redacts_stay_out_of_the_action(
    chromium: Browser,
) -> None:
    """The action text hides a value wherever the recorder's sensitive-field rule applies."""
    context = await chromium.new_context()
    page = await context.new_page()
    await page.set_content(
        '<input aria-label="Code" autocomplete="one-time-code">'
        '<div data-capture-redact><input aria-label="Note"></div>'
        '<input aria-label="Name">'
    )
    ctx = StepContext("http://127.0.0.1/", ROOT, Vars())
    actions = [
        await perform(page, FillStep(fill={"label": label, "value": "typed-1234"}), ctx, 5)
        for label in ("Code", "Note", "Name")
    ]
    await context.close()
    assert actions == [
        "fill label 'Code' with [redacted]",
        "fill label 'Note' with [redacted]",
        "fill label 'Name' with 'typed-1234'",
    ]


def test_sync_wrapper_builds_its_own_browser_and_client(
    tmp_path: Path, shop: DemoSite, store_server: RunningStore
) -> None:
    config: Config = load_config(
        ROOT / "playwright.config.toml", env={}, overrides={"session.server": store_server.base_url}
    )
    task = task_at(
        tmp_path, f"name: sync\nbase_url: {shop.url}\nsteps:\n  - goto: /\n  - capture: home\n"
    )
    result = run_task_sync(task, config=config, step_timeout=timedelta(seconds=5))
    assert result.status == "passed"
    assert result.thread == "sync"
    assert "Welcome to the Demo Shop" in result.final_observation
