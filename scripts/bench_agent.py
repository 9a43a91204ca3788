"""`scripts/bench agent`: what an agent sees and can do on MiniWoB++'s 130 task pages.

Through `capture mcp` and through `@playwright/mcp`, in the same run.

The `miniwob` package's `html/` folder is served on 127.0.0.1; each server drives its own
headless Chromium (same binary, flags and viewport), attached over CDP (`capture mcp
--cdp`, `@playwright/mcp --cdp-endpoint`), and the bench attaches to the same browser to
start episodes (`core.startEpisodeReal()`) and read the page's own ground truth and reward.

1. **Pages**: for each of the 130 task pages, one episode started and one look
   (`browser_snapshot`): whether the instruction (#query) is in it; the standard controls
   and the script-clickable elements (handlers and pointer cursors, read from the page;
   scripts/_wob.py) that got a ref in the answer; its characters.
2. **Agent**: a scripted agent (scripts/_wob_agent.py, no model) acting only through MCP
   tool calls with refs read from each server's answers, `--episodes` seeds per task kind,
   the same seeds on both servers; success is the page's own raw reward > 0.

A page or an episode that errors counts as a failure with its one-line reason. A whole run
(defaults) took 7.5 minutes on 2 cores at load average 13; `--episodes 1`, `--kinds`,
`--no-pages` or `--no-agent` for less. The tables in docs/mcp.md and docs/agent.md come
from `scripts/bench agent --rows`.

Usage: scripts/bench agent [--episodes N] [--kinds a,b] [--pages N] [--rows] [--worst N]
       [--no-pages] [--no-agent] [--dump DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _mcp_sides import (
    ROOT,
    VERSION,
    Side,
    capture_command,
    cdp_chromium,
    page_server,
    playwright_mcp,
    stdio_side,
)
from _wob import GROUND_TRUTH, RECORD_LISTENERS, REF, holds, miniwob_html
from _wob_agent import PAGES, POLICIES, Agent, Failure
from playwright.async_api import Browser, Page, async_playwright

from capture.browser import find_browser
from capture.config import load_config

# Each server's refs as the ground truth reads them: capture writes its own on the page;
# @playwright/mcp's are written there by the bench, through the server itself (its refs
# resolve only in its own Playwright): one browser_run_code_unsafe call per look.
REF_ATTRIBUTE = {"capture": "data-capture-ref", "playwright": "data-bench-ref"}
TAG = """async (page) => {
  for (const ref of %s) {
    await page.locator(`aria-ref=${ref}`)
      .evaluate((el, r) => el.setAttribute("data-bench-ref", r), ref, { timeout: 1000 })
      .catch(() => {});
  }
}"""
START = """async ([seed, ms]) => {
  Math.seedrandom(seed);
  core.EPISODE_MAX_TIME = ms;
  core.startEpisodeReal();
  for (let i = 0; i < 100 && !WOB_TASK_READY; i++) await new Promise((r) => setTimeout(r, 50));
  const said = core.getUtterance();
  return typeof said === "string" ? said : JSON.stringify(said);
}"""
REWARD = "({done: WOB_DONE_GLOBAL, raw: WOB_RAW_REWARD_GLOBAL, reason: WOB_REWARD_REASON})"


def one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:160]


@dataclass
class Server:
    """One server under test and the bench's own connection to its browser."""

    side: Side
    browser: Browser

    @property
    def name(self) -> str:
        return self.side.name

    def page(self, url: str) -> Page:
        """The tab the server drives: the one showing `url`."""
        pages = [p for c in self.browser.contexts for p in c.pages]
        return next((p for p in pages if p.url.split("#")[0] == url), pages[0])

    async def start(self, url: str, seed: str, seconds: float) -> tuple[Page, str]:
        """Go to `url` through the server, start a seeded episode; the instruction."""
        await self.side.call("browser_navigate", "browser_navigate", url=url)
        page = self.page(url)
        said = await page.evaluate(START, [seed, int(seconds * 1000)])
        return page, str(said)


@dataclass
class Look:
    """One server's first look at one task page."""

    instruction: bool = False
    controls: tuple[int, int] = (0, 0)  # with a ref, of all
    clickables: tuple[int, int] = (0, 0)
    missing: list[str] = field(default_factory=list)  # clickables without a ref
    chars: int = 0
    error: str = ""
    answer: str = ""


async def look(server: Server, url: str, seconds: float) -> Look:
    try:
        page, _ = await server.start(url, Path(url).stem, seconds)  # the task's name as seed
        answer = await server.side.call("browser_snapshot", "browser_snapshot")
        shown = PAGES[server.name](answer) or ""
        refs = set(REF.findall(shown))
        if server.name == "playwright":
            await server.side.call(
                "tag", "browser_run_code_unsafe", code=TAG % json.dumps(sorted(refs))
            )
        truth: dict[str, Any] = await page.evaluate(GROUND_TRUTH, REF_ATTRIBUTE[server.name])

        def count(kind: str) -> tuple[int, int]:
            elements = truth[kind]
            return sum(bool(refs & set(e["refs"])) for e in elements), len(elements)

        return Look(
            instruction=holds(shown, truth["instruction"]),
            controls=count("controls"),
            clickables=count("clickables"),
            missing=[e["what"] for e in truth["clickables"] if not refs & set(e["refs"])],
            chars=len(answer),
            answer=answer,
        )
    except Exception as exc:  # the page counts as failed, the run goes on
        return Look(error=one_line(exc))


@dataclass
class Episode:
    success: bool
    reason: str = ""


async def episode(server: Server, url: str, kind: str, seed: str, seconds: float) -> Episode:
    agent = Agent(server.side, PAGES[server.name])
    page: Page | None = None
    reason = ""
    try:
        page, instruction = await server.start(url, seed, seconds)
        await agent.look(fresh=True)  # the navigation's answer shows the page before the start
        await asyncio.wait_for(POLICIES[kind](agent, instruction), seconds)
    except Failure as failure:
        reason = str(failure)
    except Exception as exc:
        reason = one_line(exc)
    if page is None:
        return Episode(False, reason)
    try:
        for _ in range(20):  # the page ends the episode on its own time (an animation)
            reward = await page.evaluate(REWARD)
            if reward["done"]:
                break
            await asyncio.sleep(0.05)
    except Exception as exc:
        return Episode(False, reason or one_line(exc))
    if reward["done"] and reward["raw"] > 0:
        return Episode(True)
    return Episode(False, reason or f"reward {reward['raw']} ({reward['reason'] or 'not done'})")


def progress(line: str) -> None:
    """Where the run is, on stderr (the results go to stdout at the end of each part)."""
    print(line, file=sys.stderr, flush=True)


def pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / max(whole, 1):.1f}%)"


def report_pages(looks: dict[str, dict[str, Look]], rows: bool, worst: int) -> None:
    names = list(looks)
    pages = list(looks[names[0]])
    print(f"\n## MiniWoB++ pages: the first look after the episode starts ({len(pages)} pages)")
    if rows:
        head = f"{'page':30}" + "".join(f"{n[:4] + ' instr/ctl/clk/chars':>30}" for n in names)
        print(head)
        for page in pages:
            row = f"{page:30}"
            for name in names:
                s = looks[name][page]
                cell = (
                    f"ERROR {s.error[:22]}"
                    if s.error
                    else f"{'yes' if s.instruction else 'NO'} {s.controls[0]}/{s.controls[1]} "
                    f"{s.clickables[0]}/{s.clickables[1]} {s.chars:,}"
                )
                row += f"{cell:>30}"
            print(row)
    print(f"{'':34}" + "".join(f"{n:>26}" for n in names))
    totals: dict[str, int] = {}
    for label, measure in (
        ("instruction found", lambda s: (int(s.instruction), 1)),
        ("controls with a ref", lambda s: s.controls),
        ("clickable elements with a ref", lambda s: s.clickables),
    ):
        row = f"{label:34}"
        for name in names:
            got = [measure(s) for s in looks[name].values()]
            row += f"{pct(sum(g[0] for g in got), sum(g[1] for g in got)):>26}"
        print(row)
    row = f"{'characters':34}"
    for name in names:
        totals[name] = sum(s.chars for s in looks[name].values())
        row += f"{totals[name]:>26,}"
    print(row)
    row = f"{'pages that errored':34}"
    for name in names:
        row += f"{sum(bool(s.error) for s in looks[name].values()):>26}"
    print(row)
    if {"capture", "playwright"} <= set(names):
        # An errored page has no characters: the ratio is taken over the pages both answered.
        both = [
            p for p in pages if not looks["capture"][p].error and not looks["playwright"][p].error
        ]
        ours, theirs = (sum(looks[n][p].chars for p in both) for n in ("capture", "playwright"))
        print(
            f"characters capture/playwright, the {len(both)} pages both answered: "
            f"{ours / max(theirs, 1):.3f}"
        )
    for name in names:
        ranked = sorted(looks[name].items(), key=lambda kv: -len(kv[1].missing))
        ranked = [(p, s) for p, s in ranked if s.missing or s.error or not s.instruction]
        if not ranked:
            continue
        print(f"\n{name}: worst pages (clickables without a ref; instruction missing; errors)")
        for page, s in ranked[:worst]:
            what = s.error or ", ".join(s.missing[:4]) + (" …" if len(s.missing) > 4 else "")
            flag = "" if s.instruction or s.error else " [no instruction]"
            print(f"  {page:28} {s.clickables[0]}/{s.clickables[1]}{flag} {what}")


def dump(folder: Path, looks: dict[str, dict[str, Look]]) -> None:
    """Each server's answer for each page, as `<folder>/<server>/<page>.txt`."""
    for name, pages in looks.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for page, seen in pages.items():
            (folder / name / f"{page}.txt").write_text(seen.answer or seen.error)
    progress(f"answers written to {folder}")


def report_agent(results: dict[str, dict[str, list[Episode]]]) -> None:
    names = list(results)
    kinds = list(results[names[0]])
    print(f"\n## Scripted agent: success per task kind ({len(kinds)} kinds)")
    print(f"{'task kind':28}" + "".join(f"{n:>14}" for n in names) + "   first failure")
    for kind in kinds:
        row = f"{kind:28}"
        reasons = []
        for name in names:
            runs = results[name][kind]
            row += f"{sum(r.success for r in runs):>10}/{len(runs):<3}"
            failed = next((r.reason for r in runs if not r.success), "")
            if failed:
                reasons.append(f"{name}: {failed[:70]}")
        print(row + "   " + "; ".join(reasons))
    row = f"{'overall':28}"
    for name in names:
        runs = [r for kind in kinds for r in results[name][kind]]
        row += f"{pct(sum(r.success for r in runs), len(runs)):>14}"
    print(row)


def alternate(servers: list[Server], step: int) -> Iterator[Server]:
    """Both servers, the order alternating from one step to the next (a loaded machine
    slows both alike)."""
    yield from servers if step % 2 == 0 else reversed(servers)


async def main() -> None:
    parser = argparse.ArgumentParser(
        prog="scripts/bench agent",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--episodes", type=int, default=3, help="seeds per task kind")
    parser.add_argument("--kinds", default="", help="comma-separated task kinds (default all)")
    parser.add_argument("--pages", type=int, default=0, help="only the first N task pages")
    parser.add_argument("--rows", action="store_true", help="print a row per page")
    parser.add_argument("--worst", type=int, default=12, help="worst pages listed per server")
    parser.add_argument("--seconds", type=float, default=60, help="time limit of an episode")
    parser.add_argument("--no-pages", action="store_true", help="skip the pages part")
    parser.add_argument("--no-agent", action="store_true", help="skip the agent part")
    parser.add_argument(
        "--dump", type=Path, help="write each server's answer per page into this folder"
    )
    options = parser.parse_args()
    kinds = [k for k in options.kinds.split(",") if k] or list(POLICIES)
    if unknown := [k for k in kinds if k not in POLICIES]:
        parser.error(f"no policy for {', '.join(unknown)}; known: {', '.join(POLICIES)}")
    html = miniwob_html()
    tasks = sorted(p.stem for p in (html / "miniwob").glob("*.html"))
    tasks = tasks[: options.pages] if options.pages else tasks
    config = load_config(ROOT / "playwright.config.toml", env={})
    chromium = find_browser(config.browser.executable, headless=True)
    viewport = (config.context.viewport_width, config.context.viewport_height)
    with ExitStack() as resources:
        scratch = Path(resources.enter_context(tempfile.TemporaryDirectory()))
        log = resources.enter_context(tempfile.TemporaryFile("w+"))
        cli = playwright_mcp(scratch / "npm")
        if cli is None:
            raise SystemExit("@playwright/mcp needs node and npm: run scripts/setup --test")
        origin = resources.enter_context(page_server(html))
        cdp = {
            name: resources.enter_context(cdp_chromium(chromium, scratch / name, viewport))
            for name in ("capture", "playwright")
        }
        commands = {
            "capture": (capture_command(), ["mcp", "--thread", "bench-agent",
                                            "--cdp", cdp["capture"]]),
            "playwright": ("node", [str(cli), "--cdp-endpoint", cdp["playwright"],
                                    "--timeout-action", "5000"]),
        }  # fmt: skip
        async with async_playwright() as pw, AsyncExitStack() as stack:
            servers = []
            for name, (command, args) in commands.items():
                browser = await pw.chromium.connect_over_cdp(cdp[name])
                await browser.contexts[0].add_init_script(RECORD_LISTENERS)
                side = await stack.enter_async_context(
                    stdio_side(name, command, args, scratch, log)
                )
                side.quiet = True
                servers.append(Server(side, browser))
            print(
                f"# capture mcp vs @playwright/mcp {VERSION} on MiniWoB++ ({len(tasks)} pages, "
                f"{len(kinds)} task kinds x {options.episodes} episodes); "
                f"load average {os.getloadavg()[0]:.1f}"
            )
            if not options.no_pages:
                looks: dict[str, dict[str, Look]] = {s.name: {} for s in servers}
                for step, task in enumerate(tasks):
                    url = f"{origin}/miniwob/{task}.html"
                    for server in alternate(servers, step):
                        looks[server.name][task] = await look(server, url, options.seconds)
                    if (step + 1) % 10 == 0 or step + 1 == len(tasks):
                        progress(f"pages: {step + 1}/{len(tasks)}")
                report_pages(looks, options.rows, options.worst)
                if options.dump:
                    dump(options.dump, looks)
            if not options.no_agent:
                results: dict[str, dict[str, list[Episode]]] = {
                    s.name: {k: [] for k in kinds} for s in servers
                }
                step = 0
                for kind in kinds:
                    url = f"{origin}/miniwob/{kind}.html"
                    for number in range(options.episodes):
                        for server in alternate(servers, step):
                            results[server.name][kind].append(
                                await episode(
                                    server, url, kind, f"{kind}-{number}", options.seconds
                                )
                            )
                        step += 1
                    progress(f"agent: {kind} done")
                report_agent(results)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
