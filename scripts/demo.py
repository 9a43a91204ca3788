"""capture's main job, end to end: run examples/shop.yaml on the bundled demo shop, headless,
capturing every step into the embedded store (in-process, SQLite in the user's data
folder), then print the step table and the final observation exactly as an agent receives
it, read back from the store. `scripts/demo` runs the setup first, then this.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from rich.console import Console

from capture.config import load_config
from capture.demo_site import DEMO_PASSWORD, serve_demo_site
from capture.session import USER_PART_PREFIX, AsyncSessionClient, ImagePart, TextPart
from capture.store import serve_in_background, store_for
from capture.tasks import RunListener, StepResult, TaskFile, load_task, run_task, step_table

ROOT = Path(__file__).resolve().parent.parent
TASK = ROOT / "examples" / "shop.yaml"


class _Ticker(RunListener):
    """One short line per step while the run goes, so a slow machine shows progress."""

    def step_finished(self, step: StepResult, total: int) -> None:
        print(f"  step {step.number:>2}/{total} {step.status:<7} {step.action}", flush=True)


async def demo(task: TaskFile) -> int:
    config = load_config(ROOT / "playwright.config.toml", env={})
    out = Console(highlight=False, soft_wrap=True)
    with serve_demo_site() as site:
        out.print(f"demo shop: {site.url}/ (bundled, capture/demo_site)", markup=False)
        store = store_for(config.store)
        async with serve_in_background(config.store, port=0, store=store) as store_url:
            where = store.describe()
            out.print(f"session store: {store_url} (embedded, in-process; data: {where})")
            out.print(f"running {TASK.relative_to(ROOT)} headless …")
            async with AsyncSessionClient.from_config(config.session, base_url=store_url) as client:
                result = await run_task(
                    task,
                    client=client,
                    config=config,
                    # The password is a secret variable: passed in, never written anywhere.
                    variables={"SHOP_URL": site.url, "SHOP_PASSWORD": DEMO_PASSWORD},
                    env={},
                    headless=True,
                    listener=_Ticker(),
                )
                parts = await client.get_user_parts(result.thread)
    out.print()
    out.print(step_table(result.steps, f"{task.name} → thread {result.thread!r}"))
    out.print(
        f"{result.status}: {sum(s.status == 'ok' for s in result.steps)}/{len(result.steps)} "
        f"steps in {result.seconds:.1f}s, {result.captures} captures, "
        f"{result.dropped} store writes dropped"
    )
    out.rule("the final observation, as the agent receives it (__user_part_observation)")
    observation = parts.get(config.capture.observation_key.removeprefix(USER_PART_PREFIX))
    if isinstance(observation, TextPart):
        out.print(observation.data, markup=False)
    else:
        out.print("(no observation part in the thread: the store dropped it?)")
    image = parts.get(config.capture.screenshot_key.removeprefix(USER_PART_PREFIX))
    if isinstance(image, ImagePart):
        out.print(
            f"[and the screenshot part: {image.data.mime_type}, name {image.data.name}]",
            markup=False,
        )
    out.rule("look at the thread")
    hints = [
        ("capture serve", "then open the viewer: http://127.0.0.1:8787/"),
        (f"capture parts list {result.thread}", "the user parts, from a shell"),
        (f"capture agent-context {result.thread}", "what a model gets as input"),
    ]
    width = max(len(command) for command, _ in hints)
    for command, why in hints:
        out.print(f"  {command:<{width}}  # {why}", markup=False)
    return result.exit_code()


def main() -> int:
    task = load_task(TASK)
    return asyncio.run(demo(task))


if __name__ == "__main__":
    sys.exit(main())
