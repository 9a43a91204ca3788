"""examples/agent_loop.py end to end: real demo shop, real Chromium, real store over HTTP.

The scripted policy sees only the user message `capture.agent` builds from the thread; the
loop must reach its goal (a mug in the cart) through steps it picked from observation refs.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from capture.browser import open_browser
from capture.config import Config
from capture.demo_site import DemoSite
from capture.session import AsyncSessionClient
from tests.conftest import ROOT

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

EXAMPLE = ROOT / "examples" / "agent_loop.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("agent_loop_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_policy_reads_refs_from_the_observation_text(example: ModuleType) -> None:
    policy = example.ShopPolicy()
    assert policy({"content": []}) == {"goto": "/"}
    home = (
        '- link "Cart (0)" [ref=e3]\n  - heading "Featured" [level=2]\n  - link "Blue Mug" [ref=e7]'
    )
    assert policy({"content": [{"type": "text", "text": home}]}) == {"click": {"ref": "e7"}}
    product = (
        '- link "Cart (0)" [ref=e3]\n- combobox "Size" [ref=e8]: Medium\n'
        '- button "Add to cart" [ref=e9]'
    )
    assert policy({"content": [{"type": "text", "text": product}]}) == {"click": {"ref": "e9"}}
    done = '- link "Cart (1)" [ref=e3]\n- button "Add to cart" [ref=e9]'
    assert policy({"content": [{"type": "text", "text": done}]}) is None


@pytest.mark.browser
@pytest.mark.slow
async def test_the_loop_puts_a_mug_in_the_cart(
    example: ModuleType, shop: DemoSite, store_server: Any, config: Config
) -> None:
    seen: list[dict[str, Any]] = []
    policy = example.ShopPolicy()

    def watching(message: dict[str, Any]) -> dict[str, Any] | None:
        seen.append(message)
        step: dict[str, Any] | None = policy(message)
        return step

    # A generous time box: on a loaded machine the outline must not fall back to "late",
    # since this test is about the loop, not about capture speed.
    roomy = config.model_copy(
        update={"capture": config.capture.model_copy(update={"time_box": timedelta(seconds=15)})}
    )
    async with (
        AsyncSessionClient(store_server.base_url) as client,
        open_browser(config.browser, config.context) as browser,
    ):
        result = await example.agent_loop(
            browser.page, client, "loop", shop.url, policy=watching, config=roomy
        )
        cart = await browser.page.goto(shop.url + "/cart")
        assert cart is not None
        assert "Blue Mug" in await browser.page.inner_text("main")
        values = await client.get_session_values("loop")
        await _show_in_viewer(
            browser.context, store_server.root + "/#/thread/loop", executed=len(result.turns) - 1
        )

    assert result.reached_goal, result.turns
    steps = [turn.step for turn in result.turns]
    assert steps[0] == {"goto": "/"}
    assert steps[-1] is None
    assert all("ref" in step.get("click", {}) for step in steps[1:-1]), steps
    assert all(turn.error is None for turn in result.turns)
    # From the second turn on, the agent saw the screenshot and the observation it acted on.
    assert seen[0] == {"role": "user", "content": []}
    for message in seen[1:]:
        kinds = [block["type"] for block in message["content"]]
        assert kinds == ["image", "text"]
        assert message["content"][0]["source"]["type"] == "base64"
    # The recorder kept counting across turns: one step record per executed step.
    executed = len(result.turns) - 1
    assert sorted(k for k in values if k.startswith("capture.step.")) == [
        f"capture.step.{n:06d}" for n in range(1, executed + 1)
    ]
    assert values["capture.run"]["status"] == "passed"
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{store_server.base_url}/sessions/loop/history",
            params={"key": "__user_part_screenshot", "limit": 50},
        )
    history = answer.json()["history"]
    assert len(history) == executed  # every step changed the page


async def _show_in_viewer(context: BrowserContext, url: str, *, executed: int) -> None:
    """Open the thread in the viewer and save it under artifacts/ (gitignored)."""
    page = await context.new_page()
    await page.set_viewport_size({"width": 1400, "height": 900})
    await page.goto(url)
    await page.wait_for_function(
        "n => document.querySelectorAll('#filmstrip li.frame').length === n "
        "&& [...document.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0)",
        arg=executed,
        timeout=5000,
    )
    (ROOT / "artifacts").mkdir(exist_ok=True)
    await page.screenshot(path=str(ROOT / "artifacts" / "viewer-agent-loop.png"), full_page=True)
    await page.close()
