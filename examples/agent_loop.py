"""An agent loop on the demo shop: see the page, decide, act, capture — until a mug is in the cart.

Each turn builds the user message with `capture.agent` from the thread's user parts (exactly
what a Distri agent would get attached), asks a *policy* for the next task step, executes it
on the page and captures the result with the recorder, so the next turn sees the new page.

The policy here is a scripted stand-in for a model (no network): it reads the observation
text, picks an element ref from the outline and emits a task step such as
`{"click": {"ref": "e12"}}`. Swap `ShopPolicy` for a call to a real model with the same
message and you have a working browser agent.

Run it:  .venv/bin/python examples/agent_loop.py [--keep]
(--keep leaves the store up afterwards so the printed viewer URL can be opened; Ctrl+C ends it)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from capture.actions import Step, StepBase, StepContext, StepFailed, Vars, perform
from capture.agent import read_content, user_message
from capture.browser import open_browser
from capture.config import Config, load_config
from capture.recorder import Recorder
from capture.session import AsyncSessionClient

# One outline line of the observation: `- link "Blue Mug" [ref=e12]` (states may sit between).
OUTLINE_ITEM = re.compile(
    r'- (?P<role>[\w-]+) (?P<name>"(?:[^"\\]|\\.)*")[^\n]*?\[ref=(?P<ref>\w+)\]'
)
CART_LINK = re.compile(r"^Cart \((\d+)\)$")

Policy = Callable[[dict[str, Any]], dict[str, Any] | None]
_STEP: TypeAdapter[StepBase] = TypeAdapter(Step)


def outline_items(observation: str) -> list[tuple[str, str, str]]:
    """(role, accessible name, ref) of every element the observation lets an agent act on."""
    return [
        (m["role"], json.loads(m["name"]), m["ref"]) for m in OUTLINE_ITEM.finditer(observation)
    ]


@dataclass
class ShopPolicy:
    """Stand-in for a model: open the shop, open the wanted product, add it to the cart, stop.

    Reads only what a model would read — the text blocks of the user message — and answers
    with one task step, or None once the cart link shows at least one item.
    """

    item: str = "Blue Mug"

    def __call__(self, message: dict[str, Any]) -> dict[str, Any] | None:
        text = "\n".join(b["text"] for b in message["content"] if b.get("type") == "text")
        items = outline_items(text)
        if not items:
            return {"goto": "/"}  # nothing captured yet: open the shop
        by_name = {(role, name): ref for role, name, ref in items}
        for role, name, _ in items:
            count = CART_LINK.match(name)
            if role == "link" and count and int(count.group(1)) > 0:
                return None  # goal reached
        if ref := by_name.get(("button", "Add to cart")):
            return {"click": {"ref": ref}}
        if ref := by_name.get(("link", self.item)):
            return {"click": {"ref": ref}}
        return {"goto": "/"}


@dataclass
class Turn:
    """One iteration: what the agent was shown (as content-block types), did, and got back."""

    number: int
    shown: list[str]
    step: dict[str, Any] | None
    action: str = ""
    error: str | None = None
    changed: bool | None = None


@dataclass
class LoopResult:
    reached_goal: bool
    turns: list[Turn] = field(default_factory=list)


async def agent_loop(
    page: Any,
    client: AsyncSessionClient,
    thread: str,
    shop_url: str,
    *,
    policy: Policy | None = None,
    config: Config | None = None,
    max_turns: int = 8,
    step_seconds: float = 10.0,
) -> LoopResult:
    """Run the policy on `page` until it says done (None) or `max_turns` run out."""
    policy = policy or ShopPolicy()
    config = config or Config()
    context = StepContext(shop_url, Path.cwd(), Vars())
    result = LoopResult(reached_goal=False)
    async with Recorder(page, client, thread, config=config.capture) as recorder:
        await recorder.start_run("agent loop: add a mug to the cart", agent="ShopPolicy")
        for number in range(1, max_turns + 1):
            content = await read_content(client, thread, "anthropic", max_edge=1024)
            message = user_message(content, "anthropic")
            step = policy(message)
            turn = Turn(number, [block["type"] for block in content], step)
            result.turns.append(turn)
            if step is None:
                result.reached_goal = True
                break
            try:
                turn.action = await perform(
                    page, _STEP.validate_python(step), context, step_seconds
                )
            except StepFailed as exc:
                turn.action, turn.error = json.dumps(step), exc.reason
            except ValidationError as exc:  # a malformed step: tell the agent, like a failure
                turn.action, turn.error = json.dumps(step), f"invalid step: {exc}"
            # Let a navigation the step started finish, so the capture shows where it led.
            await page.wait_for_load_state("load")
            captured = await recorder.capture(
                turn.action, status="failed" if turn.error else "ok", error=turn.error
            )
            turn.changed = captured.changed
            await recorder.flush()  # the next turn must read this capture
        await recorder.finish_run("passed" if result.reached_goal else "failed")
    return result


async def main() -> None:
    from capture.demo_site import serve_demo_site
    from capture.store import serve_in_background

    config = load_config()
    store_cfg = config.store.model_copy(update={"url": "memory://"})
    with serve_demo_site() as shop:
        async with (
            serve_in_background(store_cfg, port=0) as base_url,
            AsyncSessionClient(base_url) as client,
            open_browser(config.browser, config.context) as browser,
        ):
            viewer = base_url.removesuffix("/api/v1")
            print(f"viewer: {viewer}/#/thread/agent-demo")
            result = await agent_loop(browser.page, client, "agent-demo", shop.url, config=config)
            for turn in result.turns:
                shown = "+".join(turn.shown) or "nothing yet"
                did = json.dumps(turn.step) if turn.step else "done"
                print(f"turn {turn.number}: shown {shown:<10} -> {did} {turn.error or ''}")
            print("goal reached" if result.reached_goal else "goal NOT reached")
            if "--keep" in sys.argv:
                print("store still up for the viewer; Ctrl+C to stop")
                await asyncio.Event().wait()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
