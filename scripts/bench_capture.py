"""`scripts/bench capture`: how long a capture blocks the step loop, against the floor.

Pages: the long table, a generated >= 1 MB HTML document, a generated page built like real
documentation (tests/site/docpages.py: highlighted code, nested lists, a long sidebar,
collapsed sections), and the real documentation pages `scripts/setup --test` installs
(the Python library reference, rustdoc and mdBook pages). On each, in one run and
alternating, it measures the blocking time of `Recorder.capture()` and the *floor*: a raw
CDP `Page.captureScreenshot` JPEG plus `document.body.innerText`, the least any capture
of pixels and text costs. It prints per page p50/p95 of both, their ratio, how many
captures came back with a partial outline, and how many without one.

Targets (issue 21): on real large documentation pages capture p50 <= 2x the floor's p50,
p95 within the time box, no capture without an outline. The machine's load goes into
every figure: compare ratios from one run, not figures across runs.
Usage: scripts/bench capture [--rounds N] [--pages SUBSTRING]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _mcp_sides import page_server  # noqa: E402

from capture.browser import open_browser  # noqa: E402
from capture.config import load_config  # noqa: E402
from capture.recorder import Recorder  # noqa: E402
from capture.session import AsyncSessionClient  # noqa: E402
from tests._helpers import IncludingHandler  # noqa: E402

SITE = ROOT / "tests" / "site"


@contextlib.contextmanager
def store_process() -> Iterator[str]:
    """`capture serve --store memory:// --port 0` in a subprocess (its own CPU time slice,
    as a real store would be); yields its base URL."""
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "capture"),
            "serve",
            "--store",
            "memory://",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/api/v1)", line)
        if match is None:
            raise SystemExit(f"store did not start: {line!r}")
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(10)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    begun = time.perf_counter()
    result = await fn()
    return time.perf_counter() - begun, result


async def bench_page(
    rec: Recorder, page: Any, cdp: Any, url: str, rounds: int, quality: int
) -> dict[str, Any]:
    await page.goto(url, timeout=120_000)  # a 2 MB page on a loaded machine
    captures: list[float] = []
    floors: list[float] = []
    parts: dict[str, list[float]] = {}
    partial = missing = 0
    result: Any = None
    for n in range(rounds + 2):  # two warm-up rounds, not counted
        # Interleaved, so both see the same page, cache and machine load.
        took, result = await timed(lambda n=n: rec.capture(f"round {n}"))
        await rec.flush()  # uploads overlap the next step in real use; keep them out here

        async def floor() -> None:
            await cdp.send("Page.captureScreenshot", {"format": "jpeg", "quality": quality})
            await page.evaluate("document.body.innerText")

        floor_took, _ = await timed(floor)
        if n >= 2:
            captures.append(took)
            floors.append(floor_took)
            partial += "## Page (partial" in result.observation
            missing += "outline not available" in result.observation
            for name, value in result.timings.items():
                parts.setdefault(name, []).append(value)
    content = await page.content()
    return {
        "capture": captures,
        "floor": floors,
        "partial": partial,
        "missing": missing,
        "parts": {k: statistics.median(v) for k, v in parts.items()},
        "observation": len(result.observation.encode()),
        "content": len(content.encode()),
        "nodes": await page.evaluate("document.getElementsByTagName('*').length"),
    }


MS = 1000


def table_head() -> None:
    print(
        f"\n{'page':32} {'nodes':>6} {'capture p50':>11} {'p95':>7} {'floor p50':>9} "
        f"{'p95':>7} {'ratio p50':>9} {'partial':>7} {'no outline':>10}",
        flush=True,
    )


def table_line(name: str, r: dict[str, Any], time_box: float) -> None:
    """One page's line, printed as soon as it is measured."""
    c50, c95 = pct(r["capture"], 0.5), pct(r["capture"], 0.95)
    f50, f95 = pct(r["floor"], 0.5), pct(r["floor"], 0.95)
    over = "" if c95 <= time_box else " (p95 OVER the time box)"
    print(
        f"{name:32} {r['nodes']:>6} {c50 * MS:>8.0f} ms {c95 * MS:>4.0f} ms "
        f"{f50 * MS:>6.0f} ms {f95 * MS:>4.0f} ms {c50 / f50:>9.2f} "
        f"{r['partial']:>4}/{len(r['capture'])} {r['missing']:>10}{over}",
        flush=True,
    )


def report(results: list[tuple[str, dict[str, Any]]]) -> None:
    ms = MS
    print("\ncapture parts p50 (ms), observation and page sizes:")
    for name, r in results:
        print(
            f"{name:32} "
            + ", ".join(f"{k} {v * ms:.0f}" for k, v in r["parts"].items())
            + f"; observation {r['observation']:,} B, page.content() {r['content']:,} B"
        )


async def main(rounds: int, only: str) -> None:
    cfg = load_config(ROOT / "playwright.config.toml", env={})
    docs = runpy.run_path(str(SITE / "docpages.py"))
    real = docs["real_doc_pages"]()
    if not real:
        print("no real documentation pages installed: run scripts/setup --test", file=sys.stderr)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        runpy.run_path(str(SITE / "bigdoc.py"))["write_big_document"](tmp)
        docs["write_doc_like"](tmp)
        store = stack.enter_context(store_process())
        site = stack.enter_context(page_server(SITE, IncludingHandler))
        made = stack.enter_context(page_server(tmp, IncludingHandler))
        pages = [
            ("table.html (500 rows)", f"{site}/table.html"),
            ("big.html (>= 1 MB generated)", f"{made}/big.html"),
            ("docs.html (generated docs)", f"{made}/docs.html"),
        ]
        roots: dict[Path, str] = {}
        for name, root, path in real:
            if root not in roots:
                roots[root] = stack.enter_context(page_server(root, IncludingHandler))
            pages.append((name, f"{roots[root]}/{path}"))
        pages = [(name, url) for name, url in pages if only in name]
        time_box = cfg.capture.time_box.total_seconds()
        print(
            f"capture benchmark: {rounds} rounds per page, viewport "
            f"{cfg.context.viewport_width}x{cfg.context.viewport_height}, preset "
            f"{cfg.capture.preset}, {cfg.capture.image_format} q{cfg.capture.quality}, time box "
            f"{time_box * MS:.0f} ms; load average {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} cores at the start\n"
            "floor: raw CDP JPEG + document.body.innerText, alternating with the captures"
        )
        table_head()
        results = []
        async with (
            open_browser(cfg.browser, cfg.context) as session,
            AsyncSessionClient(store) as client,
        ):
            page = session.page
            cdp = await page.context.new_cdp_session(page)
            async with Recorder(page, client, "bench", config=cfg.capture) as rec:
                for name, url in pages:
                    result = await bench_page(rec, page, cdp, url, rounds, cfg.capture.quality)
                    table_line(name, result, time_box)
                    results.append((name, result))
    print(f"dropped writes: {rec.stats.dropped}; load average {os.getloadavg()[0]:.1f} at the end")
    report(results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--pages", default="", help="only the pages whose name has this")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.pages))
