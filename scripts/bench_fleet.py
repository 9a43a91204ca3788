"""`scripts/bench fleet`: many demo-shop tasks on one browser, side by side.

It writes N task files (default 24; a shopper's errand of 9 steps each: search, open a
product, pick a size, add to the cart, open the cart) named `test_shop_NN.task.yaml`, so the
same folder also runs as pytest items. Against the demo shop with no latency and with
150 ms before every response (`capture demo --latency`), it runs them with
`capture run DIR --parallel P --json` for each P, into one `capture serve --store memory://`,
and prints per run: tasks per second (tasks / the run's own wall time, browser start
excluded), the 95th percentile of a step's time (the step itself, without its capture), and
the ratio to parallel 1, and how many of the machine's cores were busy meanwhile (all
processes: when a run keeps every core busy, the CPU, not the server, is what tasks wait
on). Then the same folder through `pytest -n 2` over the task items (whole pytest process,
start included). Last, the memory of each extra browser context: the PSS of the browser's
processes with 1 and with 8 contexts open on the shop, per context.

Runs alternate (latency, then parallel in an interleaved order) so a machine that gets
busier mid-run skews every column alike. Goal (issue 20): with 150 ms latency, parallel 4
>= 2.5x parallel 1, since pages wait on the server.
Usage: scripts/bench fleet [--tasks N] [--parallel 1,2,4,8] [--latency 0,150ms] [--no-pytest]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from capture.browser import context_options, find_browser, start_browser  # noqa: E402
from capture.config import load_config, parse_duration  # noqa: E402
from capture.demo_site import serve_demo_site  # noqa: E402
from tests.conftest import ServeProcess, descendants  # noqa: E402

CAPTURE = str(Path(sys.executable).with_name("capture"))

ERRAND = """\
name: shopper {n:02d}
base_url: {url}
timeout: 30s
steps:
  - goto: /
  - type: {{label: Search, value: mug}}
  - press: Enter
  - expect: {{test_id: result-count}}
  - click: {{role: link, name: Blue Mug}}
  - select: {{label: Size, option: Large}}
  - click: {{role: button, name: Add to cart}}
  - expect: {{text: Added Blue Mug to your cart.}}
  - click: {{role: link, name: Cart}}
"""


def write_tasks(folder: Path, count: int, url: str) -> None:
    for old in folder.glob("test_shop_*.task.yaml"):
        old.unlink()
    for n in range(count):
        (folder / f"test_shop_{n:02d}.task.yaml").write_text(ERRAND.format(n=n, url=url))


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cores_busy(since: tuple[int, int]) -> float:
    """How many cores were busy on average since `since` (a `cpu_ticks()`): the whole
    machine, so the browser's processes, the driver, the runner and the servers all count."""
    busy, total = cpu_ticks()
    share = (busy - since[0]) / max(1, total - since[1])
    return share * (os.cpu_count() or 1)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def run_fleet(folder: Path, parallel: int, store: str) -> dict[str, float]:
    began = cpu_ticks()
    done = subprocess.run(
        [CAPTURE, "run", str(folder), "--parallel", str(parallel), "--json", "--server", store],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=3600,
    )
    if done.returncode != 0:
        raise SystemExit(f"capture run --parallel {parallel} failed:\n{done.stderr[-2000:]}")
    summary = json.loads(done.stdout)
    steps = [s["seconds"] for r in summary["results"] for s in r["steps"]]
    return {
        "tasks_per_s": summary["tasks"] / summary["seconds"],
        "step_p95": p95(steps),
        "seconds": summary["seconds"],
        "cores_busy": cores_busy(began),
    }


def run_pytest(folder: Path, workers: int, store: str) -> dict[str, float]:
    began, ticks = time.monotonic(), cpu_ticks()
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", str(workers)),
            *("--capture-session", "--capture-server", store, "-W", "ignore::DeprecationWarning"),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=3600,
    )
    seconds = time.monotonic() - began
    if done.returncode != 0:
        raise SystemExit(f"pytest -n {workers} failed:\n{done.stdout[-2000:]}")
    tasks = len(list(folder.glob("test_shop_*.task.yaml")))
    return {"tasks_per_s": tasks / seconds, "seconds": seconds, "cores_busy": cores_busy(ticks)}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CAPTURE_")}


def _browser_pss_kb() -> int:
    """PSS of every Chromium process below this one (the Playwright driver excluded)."""
    total = 0
    for pid in descendants(os.getpid()):
        try:
            if "chrom" not in Path(f"/proc/{pid}/comm").read_text():
                continue
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


async def context_memory(url: str, most: int = 8) -> float:
    """MB of PSS each extra context adds, each with a page on the shop's product page."""
    config = load_config(env={})
    async with start_browser(config.browser) as browser:
        contexts = []
        sizes: dict[int, int] = {}
        for count in range(1, most + 1):
            context = await browser.new_context(**context_options(config.context))
            page = await context.new_page()
            await page.goto(f"{url}/product/blue-mug")
            contexts.append(context)
            if count in (1, most):
                await asyncio.sleep(1.0)  # let the renderers settle
                sizes[count] = _browser_pss_kb()
        for context in contexts:
            await context.close()
    return (sizes[most] - sizes[1]) / (most - 1) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=24)
    parser.add_argument("--parallel", default="1,2,4,8")
    parser.add_argument("--latency", default="0,150ms")
    parser.add_argument("--no-pytest", action="store_true", help="skip the pytest -n 2 run")
    args = parser.parse_args()
    levels = [int(p) for p in args.parallel.split(",")]
    order = levels[::2] + levels[1::2]  # interleaved: 1, 4, 2, 8
    latencies = [parse_duration(value) for value in args.latency.split(",")]
    loads = os.getloadavg()
    print(
        f"{args.tasks} tasks of 9 steps; {os.cpu_count()} cores, load average "
        f"{loads[0]:.1f} at the start; browser "
        f"{find_browser(load_config(env={}).browser.executable, headless=True)}",
        flush=True,
    )
    store = ServeProcess(Path(tempfile.mkdtemp()), "--store", "memory://")
    rows: list[tuple[str, str, dict[str, float]]] = []
    memory: float | None = None
    try:
        for latency in latencies:
            with (
                serve_demo_site(latency=latency) as shop,
                tempfile.TemporaryDirectory() as folder,
            ):
                write_tasks(Path(folder), args.tasks, shop.url)
                label = f"{latency.total_seconds() * 1000:.0f} ms"
                for parallel in order:
                    row = run_fleet(Path(folder), parallel, store.base_url)
                    rows.append((label, f"--parallel {parallel}", row))
                    print(f"  {label} --parallel {parallel}: {row}", flush=True)
                if not args.no_pytest:
                    row = run_pytest(Path(folder), 2, store.base_url)
                    rows.append((label, "pytest -n 2", row))
                    print(f"  {label} pytest -n 2: {row}", flush=True)
                if memory is None:  # once, on the first shop
                    memory = asyncio.run(context_memory(shop.url))
    finally:
        store.stop()
    print(
        f"{'latency':>8}  {'run':<14} {'tasks/s':>8} {'× p1':>6} {'step p95':>9} {'wall':>7} "
        f"{'cores busy':>10}"
    )
    for label, how, row in sorted(rows, key=lambda r: (r[0], r[1])):
        base = next(r for lab, h, r in rows if lab == label and h == "--parallel 1")
        ratio = row["tasks_per_s"] / base["tasks_per_s"]
        p95_text = f"{row['step_p95'] * 1000:7.0f}ms" if "step_p95" in row else "        —"
        print(
            f"{label:>8}  {how:<14} {row['tasks_per_s']:8.2f} {ratio:5.2f}x {p95_text:>9} "
            f"{row['seconds']:6.1f}s {row['cores_busy']:6.2f} of {os.cpu_count()}"
        )
    if memory is not None:
        print(f"memory of each extra context (PSS, a product page open): {memory:.1f} MB")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
