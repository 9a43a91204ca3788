"""docs/viewer.png, from a real thread: run examples/shop.yaml on the bundled demo shop into
an in-memory store (as scripts/demo does, headless), open the viewer on one step in
Chromium at 1400x900, and save the screenshot, its colours reduced until it is under
200 KB so the repository stays small.

    .venv/bin/python scripts/viewer_shot.py [--step N] [--out PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from pathlib import Path

from PIL import Image

from capture.browser import open_browser
from capture.config import load_config
from capture.demo_site import DEMO_PASSWORD, serve_demo_site
from capture.session import AsyncSessionClient
from capture.store import MemoryStore, serve_in_background, viewer_url
from capture.tasks import load_task, run_task

ROOT = Path(__file__).resolve().parent.parent
TASK = ROOT / "examples" / "shop.yaml"
LIMIT = 200_000  # bytes


def small_png(png: bytes, limit: int = LIMIT) -> bytes:
    """`png` with fewer colours, then smaller, until it is under `limit` bytes."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    scale = 1.0
    while True:
        size = (int(image.width * scale), int(image.height * scale))
        out = io.BytesIO()
        image.resize(size, Image.Resampling.LANCZOS).quantize(colors=96).save(
            out, "PNG", optimize=True
        )
        if out.tell() < limit:
            return out.getvalue()
        scale *= 0.9


async def shoot(step: int, out: Path) -> int:
    config = load_config(ROOT / "playwright.config.toml", env={})
    task = load_task(TASK)
    if not 1 <= step <= len(task.steps):
        print(f"viewer_shot: --step must be 1 to {len(task.steps)}", file=sys.stderr)
        return 2
    with serve_demo_site() as site:
        async with serve_in_background(config.store, port=0, store=MemoryStore()) as store_url:
            async with AsyncSessionClient.from_config(config.session, base_url=store_url) as client:
                result = await run_task(
                    task,
                    client=client,
                    config=config,
                    variables={"SHOP_URL": site.url, "SHOP_PASSWORD": DEMO_PASSWORD},
                    env={},
                    headless=True,
                )
            url = f"{viewer_url(store_url, result.thread)}/step/{step}"
            async with open_browser(config.browser, config.context) as browser:
                page = browser.page
                await page.set_viewport_size({"width": 1400, "height": 900})
                await page.goto(url)
                await page.wait_for_function(
                    "() => document.querySelector('#shot img') && "
                    "[...document.querySelectorAll('img')].every(i => i.complete && i.naturalWidth)"
                )
                png = await page.screenshot()
                shown = await page.locator("#shot img").evaluate("i => i.clientWidth")
    written = await asyncio.to_thread(out.write_bytes, small_png(png))
    where = f"{TASK.relative_to(ROOT)}, step {step} of thread {result.thread!r}"
    print(f"{out}: {where} ({written} bytes); its screenshot shown {shown} px wide")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--step", type=int, default=26, help="the step shown (default 26)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "viewer.png")
    args = parser.parse_args()
    return asyncio.run(shoot(args.step, args.out))


if __name__ == "__main__":
    sys.exit(main())
