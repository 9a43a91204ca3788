"""`scripts/bench pytest`: what the pytest plugin costs a test file of 30 Playwright actions.

It writes a plain pytest-playwright test file (one test, 30 actions on the test site's
sign-in form: fills, a password, checkboxes, selects, keys, expects, navigations) and runs it
in a child pytest, one process each time, alternating four ways:

- `no plugin`: `-p no:capture_session` (capture not even loaded),
- `off`: the plugin loaded but not enabled (how every run without the flag looks),
- `capture`: `--capture-session`, with the embedded store (SQLite) started by the run,
- `screenshot only`: the same hooks, but each action is followed by nothing except one bare
  CDP `Page.captureScreenshot` (the JPEG the recorder asks Chromium for): the floor of any
  design that shows the page after every action with a screenshot taken then.

It prints the median wall time of each (whole child process: Python, pytest, Chromium) and
the ratios to `no plugin`. Target (issue 10): capture/no plugin <= 1.3.
Usage: scripts/bench pytest [--rounds N]
"""

from __future__ import annotations

import argparse
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

from capture.browser import find_browser, launch_args  # noqa: E402
from capture.config import load_config  # noqa: E402
from tests.conftest import free_port, serve_dir  # noqa: E402

WAYS = {
    "no plugin": ["-p", "no:capture_session"],
    "off": [],
    "capture": ["--capture-session"],
    "screenshot only": ["-p", "screenshot_only"],
}

# The `screenshot only` way: capture's own action hooks, each followed by one bare CDP
# screenshot with the recorder's parameters for a 1280x800 page and nothing else.
SCREENSHOT_ONLY = """
import pytest
from playwright.sync_api import Page

from capture.pytest_plugin import _calls

PARAMS = {"format": "jpeg", "quality": 70, "captureBeyondViewport": False, "optimizeForSpeed": True}


class Shots:
    busy = False
    cdp = None
    count = 0

    def after_sync(self, call, error):
        self.cdp.send("Page.captureScreenshot", PARAMS)
        self.count += 1


SHOTS = Shots()


def pytest_configure(config):
    _calls.install()
    _calls.use(SHOTS)


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"{SHOTS.count} bare screenshots")


@pytest.fixture(autouse=True)
def _screenshot_session(page: Page):
    SHOTS.cdp = page.context.new_cdp_session(page)
    yield
"""


def actions() -> list[str]:
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
    lines = [*lines[:29], 'page.goto("/table.html")']
    assert len(lines) == 30
    return lines


def write_project(folder: Path) -> None:
    config = load_config(ROOT / "playwright.config.toml", env={})
    launch = {
        "executable_path": find_browser(config.browser.executable),
        "args": launch_args(config.browser.args),
        "headless": True,
    }
    (folder / "conftest.py").write_text(
        "import pytest\n\n\n"
        '@pytest.fixture(scope="session")\n'
        "def browser_type_launch_args(browser_type_launch_args):\n"
        f"    return {{**browser_type_launch_args, **{launch!r}}}\n"
    )
    (folder / "screenshot_only.py").write_text(SCREENSHOT_ONLY)
    (folder / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    body = "\n".join(f"    {line}" for line in actions())
    (folder / "test_thirty.py").write_text(
        "from playwright.sync_api import Page, expect\n\n\n"
        f"def test_thirty_actions(page: Page) -> None:\n{body}\n"
    )


def run_once(folder: Path, base_url: str, extra: list[str], env: dict[str, str]) -> float:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["--base-url", base_url, *extra, "test_thirty.py"]
    begun = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - begun
    if done.returncode != 0:
        raise SystemExit(f"the child pytest failed ({extra}):\n{done.stdout}\n{done.stderr}")
    if "--capture-session" in extra and "30 captures from 1 tests" not in done.stdout:
        raise SystemExit(f"the capture run did not capture 30 steps:\n{done.stdout}")
    if "screenshot_only" in extra and "30 bare screenshots" not in done.stdout:
        raise SystemExit(f"the screenshot-only run did not take 30:\n{done.stdout}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each way (default 5)")
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPTURE_")}
    # Nothing answers here, so every capture run starts its embedded store, as on a fresh
    # machine (and never writes into a store someone else is running on 8787).
    env["CAPTURE_SESSION_SERVER"] = f"http://127.0.0.1:{free_port()}/api/v1"
    server = serve_dir(ROOT / "tests" / "site")
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pytest-") as tmp:
            folder = Path(tmp)
            write_project(folder)
            run_once(folder, base_url, WAYS["off"], env)  # warm the disk cache
            for round_ in range(args.rounds):
                for way, extra in WAYS.items():
                    times[way].append(run_once(folder, base_url, extra, env))
                print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        server.shutdown()
        server.server_close()

    median = {way: statistics.median(values) for way, values in times.items()}
    print(f"30-action test file, {args.rounds} runs each, one process per run (wall time)")
    for way, value in median.items():
        runs = ", ".join(f"{t:.2f}" for t in times[way])
        print(f"  {way:<15} median {value:6.2f} s   ({runs})")
    ratios = {way: median[way] / median["no plugin"] for way in WAYS if way != "no plugin"}
    print(f"ratio capture / no plugin:         {ratios['capture']:.2f}  (target <= 1.3)")
    print(f"ratio off / no plugin:             {ratios['off']:.2f}  (the flag not given)")
    print(f"ratio screenshot only / no plugin: {ratios['screenshot only']:.2f}  (the floor)")
    rounded = {way: round(value, 3) for way, value in ratios.items()}
    print(json.dumps({"median_s": median, "ratios": rounded}))


if __name__ == "__main__":
    main()
