"""`scripts/bench pytest`: what the pytest plugin costs a test file of 30 Playwright actions,
next to what Playwright's own tracing costs the same file.

It writes two plain pytest-playwright test files of one test and 30 actions each:

- `form`: the test site's sign-in form (fills, a password, checkboxes, selects, keys,
  expects, two navigations), actions back to back;
- `shop`: the bundled demo shop (a search submitted with Enter, product pages, a form posted
  to the cart, a login and a checkout form submitted, expects): navigations and submits.

and runs each in a child pytest, one process each time, alternating six ways in one window:

- `no plugin`: `-p no:capture_session` (capture not even loaded),
- `off`: the plugin installed but not enabled (how every run without the flag looks),
- `tracing on`: no capture, pytest-playwright's `--tracing on` (a screencast and DOM
  snapshots of every action, written to a trace.zip): what a user would switch on instead,
- `capture on`: `--capture-session`, with the embedded store (SQLite) the run starts,
- `tracing retain`: `--tracing retain-on-failure` (the test passes: no trace is kept),
- `capture retain`: `--capture-mode retain-on-failure` (the test passes: nothing is sent).

It prints the median wall time of each (the whole child process: Python, pytest, Chromium)
and its CPU seconds (the child and everything it waited for), and the three ratios of issue
29's Done-when: capture on / tracing on, capture retain / tracing retain (each <= 1.0) and
off / no plugin (<= 1.02): the ratio of the medians, and the median of the ratios of the
two runs of each round (the two ways run back to back: a pair shares the machine's mood,
as `farm-bench --vs` pairs them).
Usage: scripts/bench pytest [--rounds N] [--file form|shop]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from capture.browser import find_browser, launch_args  # noqa: E402
from capture.config import load_config  # noqa: E402
from capture.demo_site import DEMO_PASSWORD, serve_demo_site  # noqa: E402
from tests.conftest import free_port, serve_dir  # noqa: E402

WAYS = {
    "no plugin": ["-p", "no:capture_session"],
    "off": [],
    "tracing on": ["-p", "no:capture_session", "--tracing", "on"],
    "capture on": ["--capture-session"],
    "tracing retain": ["-p", "no:capture_session", "--tracing", "retain-on-failure"],
    "capture retain": ["--capture-mode", "retain-on-failure"],
}
# The Done-when's ratios: (name, numerator, denominator, target).
RATIOS = [
    ("capture on / tracing on", "capture on", "tracing on", 1.0),
    ("capture retain / tracing retain", "capture retain", "tracing retain", 1.0),
    ("off / no plugin", "off", "no plugin", 1.02),
]
# What each way's summary must say: it did what it is named for.
EXPECTED = {
    "capture on": "30 captures from 1 test, one thread per test",
    "capture retain": "30 captures from 1 test, 0 threads kept",
}


def form_actions() -> list[str]:
    """30 action lines: one navigation, then rounds over the form, then another page."""
    lines = ['page.goto("/login.html")']
    countries = ["de", "fr", "it"]
    i = 0
    while len(lines) < 29:
        lines += [
            f'page.get_by_label("Username").fill("user{i}")',
            f'page.get_by_label("Password", exact=True).fill("pw-{i}-Secret")',
            f'page.get_by_label("Remember me").set_checked({i % 2 == 0})',
            f'page.get_by_label("Country").select_option("{countries[i % 3]}")',
            'page.get_by_label("Username").click()',
            'page.keyboard.press("End")',
            f'expect(page.get_by_label("Username")).to_have_value("user{i}")',
        ]
        i += 1
    return [*lines[:29], 'page.goto("/table.html")']


def shop_actions() -> list[str]:
    """30 action lines on the demo shop, as a person shops: search, two products into the
    cart, sign in at checkout (Enter submits), fill and place the order."""
    return [
        'page.goto("/")',
        'page.get_by_label("Search").click()',
        'page.keyboard.type("mug")',
        'page.keyboard.press("Enter")',
        'expect(page.get_by_test_id("result-count")).to_contain_text("4 results")',
        'page.get_by_role("link", name="Blue Mug").click()',
        'page.get_by_label("Size").select_option("l")',
        'page.get_by_label("Quantity").fill("2")',
        'page.get_by_role("button", name="Add to cart").click()',
        'expect(page.get_by_role("status")).to_contain_text("Added Blue Mug")',
        'page.goto("/search?q=kettle")',
        'page.get_by_role("link", name="Tea Kettle").click()',
        'page.get_by_role("button", name="Add to cart").click()',
        'expect(page.get_by_test_id("cart-count")).to_have_text("3")',
        'page.get_by_role("link", name="Cart").click()',
        'expect(page.get_by_test_id("total")).to_have_text("$69.00")',
        'page.get_by_role("link", name="Proceed to checkout").click()',
        'page.get_by_label("Username").fill("demo")',
        f'page.get_by_label("Password").fill("{DEMO_PASSWORD}")',
        'page.get_by_label("Password").press("Enter")',
        'expect(page.get_by_role("heading", name="Checkout")).to_be_visible()',
        'page.get_by_label("Full name").fill("Ada Lovelace")',
        'page.get_by_label("Address").fill("12 Analytical Row, London")',
        'page.get_by_label("Shipping").select_option("express")',
        'page.get_by_label("Card number").fill("4242 4242 4242 4242")',
        'page.get_by_label("Send me the newsletter").uncheck()',
        'page.get_by_label("I accept the terms").check()',
        'page.get_by_role("button", name="Place order").click()',
        'expect(page.get_by_role("heading", name="Thank you, Ada Lovelace!")).to_be_visible()',
        'page.get_by_role("link", name="Continue shopping").click()',
    ]


FILES: dict[str, Callable[[], list[str]]] = {"form": form_actions, "shop": shop_actions}
CHILD_TIMEOUT = 300.0  # seconds; one run takes a few, so this is a hang


def write_project(folder: Path) -> None:
    config = load_config(ROOT / "playwright.config.toml", env={})
    launch = {
        "executable_path": find_browser(config.browser.executable, headless=True),
        "args": launch_args(config.browser.args),
        "headless": True,
    }
    (folder / "conftest.py").write_text(
        "import pytest\n\n\n"
        '@pytest.fixture(scope="session")\n'
        "def browser_type_launch_args(browser_type_launch_args):\n"
        f"    return {{**browser_type_launch_args, **{launch!r}}}\n"
    )
    (folder / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    for name, actions in FILES.items():
        lines = actions()
        assert len(lines) == 30, (name, len(lines))
        body = "\n".join(f"    {line}" for line in lines)
        (folder / f"test_{name}.py").write_text(
            "from playwright.sync_api import Page, expect\n\n\n"
            f"def test_thirty_actions(page: Page) -> None:\n{body}\n"
        )


def run_once(
    folder: Path, name: str, base_url: str, way: str, env: dict[str, str]
) -> tuple[float, float]:
    """One child pytest: its wall time and CPU seconds (user + system, with its children)."""
    extra = WAYS[way]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["--base-url", base_url, "--output", str(folder / "results"), *extra]
    shutil.rmtree(folder / "results", ignore_errors=True)
    cpu_before = _children_cpu()
    begun = time.perf_counter()
    try:
        done = subprocess.run(
            [*command, f"test_{name}.py"],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        raise SystemExit(f"the child pytest ({name}, {way}) hung for {exc.timeout:.0f} s") from None
    seconds = time.perf_counter() - begun
    cpu = _children_cpu() - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"the child pytest failed ({name}, {way}):\n{done.stdout}\n{done.stderr}")
    expected = EXPECTED.get(way)
    if expected is not None and expected not in done.stdout:
        raise SystemExit(f"the {way} run of {name} did not do what it should:\n{done.stdout}")
    traces = any((folder / "results").rglob("trace.zip"))
    if traces != (way == "tracing on"):
        raise SystemExit(f"the {way} run of {name} left trace.zip: {traces}\n{done.stdout}")
    return seconds, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each way (default 5)")
    parser.add_argument("--file", choices=sorted(FILES), action="append", help="default: both")
    parser.add_argument(
        "--way", choices=list(WAYS), action="append", help="default: all (the ratios need them)"
    )
    args = parser.parse_args()
    names: list[str] = args.file or list(FILES)
    chosen: list[str] = args.way or list(WAYS)

    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPTURE_")}
    # Nothing answers here, so every capture run starts its embedded store, as on a fresh
    # machine (and never writes into a store someone else is running on 8787).
    env["CAPTURE_SESSION_SERVER"] = f"http://127.0.0.1:{free_port()}/api/v1"
    server = serve_dir(ROOT / "tests" / "site")
    times: dict[tuple[str, str], list[float]] = {(n, w): [] for n in names for w in chosen}
    cpus: dict[tuple[str, str], list[float]] = {(n, w): [] for n in names for w in chosen}
    try:
        with serve_demo_site() as shop, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            folder = Path(tmp)
            write_project(folder)
            urls = {"form": f"http://127.0.0.1:{server.server_address[1]}", "shop": shop.url}
            for name in names:
                run_once(folder, name, urls[name], "capture on", env)  # warm caches
            for round_ in range(args.rounds):
                for name in names:
                    # Each round in another order, so no way always follows the same one.
                    ways = chosen if round_ % 2 == 0 else chosen[::-1]
                    for way in ways:
                        wall, cpu = run_once(folder, name, urls[name], way, env)
                        times[name, way].append(wall)
                        cpus[name, way].append(cpu)
                print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        server.shutdown()
        server.server_close()

    print(f"30-action test files, {args.rounds} runs of each way, one process per run")
    verdicts: dict[str, dict[str, float]] = {}
    for name in names:
        median = {way: statistics.median(times[name, way]) for way in chosen}
        cpu = {way: statistics.median(cpus[name, way]) for way in chosen}
        print(f"{name}:")
        for way, value in median.items():
            runs = ", ".join(f"{t:.2f}" for t in times[name, way])
            print(f"  {way:<15} median {value:6.2f} s  cpu {cpu[way]:5.2f} s   ({runs})")
        verdicts[name] = {}
        for label, top, bottom, target in RATIOS:
            if top not in median or bottom not in median:
                continue
            verdicts[name][label] = ratio = median[top] / median[bottom]
            paired = statistics.median(
                a / b for a, b in zip(times[name, top], times[name, bottom], strict=True)
            )
            verdicts[name][f"{label}, paired"] = paired
            by_cpu = cpu[top] / cpu[bottom]
            print(
                f"  {label}: {ratio:.3f}  (paired {paired:.3f}; target <= {target}; "
                f"cpu {by_cpu:.3f})"
            )
    medians = {f"{n}/{w}": round(statistics.median(times[n, w]), 3) for n, w in times}
    print(json.dumps({"median_s": medians, "ratios": verdicts}))


if __name__ == "__main__":
    main()
