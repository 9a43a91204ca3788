"""`scripts/bench record`: person-like drives, recorded by capture and by codegen, replayed.

Runs every drive of tests/drives.py (the ones tests/test_live_drives.py asserts on): the
mouse and keyboard at a person's pace on the demo shop and the test site, typing often ended
by Enter, Tab or a click at once, each drive ended by closing the tab. capture records it as
`capture record` does (`record_session`, embedded store on SQLite), the task is replayed by
`capture run`'s runner in a fresh browser and shop. Per drive it prints the steps per
intent, whether the replay passed and reached the same page (URL and outline), whether any
capture shows a later step than its own (a URL the page had only after the next intent
began, or text a later intent typed), and whether closing the tab ended the recording.

The same drive is then recorded by Playwright's recorder, the engine `playwright codegen`
runs, started in a headless browser of its own (the `codegen` command itself opens a headed
Inspector window this script cannot drive; the recorder is the part that turns input into
code). Its Python code is replayed in a fresh browser and shop: steps per intent, replay
passed, same page. Codegen takes no captures.

Usage: scripts/bench record [--only TEXT] [--keep DIR] [--no-codegen]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the drives live with the tests

from playwright.async_api import Page  # noqa: E402

from capture.browser import open_browser  # noqa: E402
from capture.config import Config, load_config  # noqa: E402
from tests.drives import DRIVES, Drive, DriveOutcome, Hand, drive_and_replay  # noqa: E402
from tests.fidelity import Sites, final_state, fresh_shop, sites, store, stored_text  # noqa: E402

_NOT_STEPS = {"openPage", "closePage"}  # codegen's lines that are not an intent's step


class _Code:
    """Playwright's recorder events: one line of code per action, the last one updated as
    typing goes on (as codegen's window shows it)."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, str]] = []  # (action name, code)

    def action_added(self, page: Any, data: dict[str, Any], code: str) -> None:
        self.actions.append((str(data.get("name")), code))

    def action_updated(self, page: Any, data: dict[str, Any], code: str) -> None:
        if self.actions:
            self.actions[-1] = (str(data.get("name")), code)

    def signal_added(self, page: Any, data: dict[str, Any], code: str) -> None:
        pass

    @property
    def steps(self) -> int:
        return sum(1 for name, _ in self.actions if name not in _NOT_STEPS)

    def program(self) -> str:
        body = "\n".join(textwrap.dedent(code) for _, code in self.actions)
        return (
            "async def replay(context):\n" + textwrap.indent(body, "    ") + "\n    return page\n"
        )


@dataclass
class Codegen:
    steps: int
    intents: int
    passed: bool
    same_page: bool
    secrets_in_code: int
    error: str = ""


async def codegen_drive(drive: Drive, config: Config, where: Sites) -> Codegen:
    """The drive recorded by Playwright's recorder (python-async), its code replayed."""
    root = where.shop if drive.site == "shop" else where.test
    code = _Code()
    async with open_browser(config.browser, config.context, headless=True) as opened:
        browser = opened.browser
        with fresh_shop(where, drive.site):
            context = await browser.new_context()
            # Playwright's private entry to its recorder (what `codegen` enables).
            await context._impl_obj._start_recording({"language": "python-async"}, code)
            page = await context.new_page()
            await page.goto(root + drive.start)
            hand = Hand(page, await context.new_cdp_session(page))
            await drive.act(hand, page)
            await hand.leave()
            url, outline = await final_state(page)
            await page.close()
            await asyncio.sleep(0.3)  # the recorder's last events
            await context.close()
        intents = len(hand.intents)
        program = code.program()
        leaked = sum(1 for secret in drive.secrets if secret in program)
        with fresh_shop(where, drive.site):
            context = await browser.new_context()
            context.set_default_timeout(5000)
            namespace: dict[str, Any] = {}
            try:
                exec(program, namespace)
                replayed: Page = await namespace["replay"](context)
                replay_url, replay_outline = await final_state(replayed)
            except Exception as exc:  # a replay that fails is the figure, not a crash
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                return Codegen(code.steps, intents, False, False, leaked, first[:60])
            finally:
                await context.close()
    same = (replay_url, replay_outline) == (url, outline)
    return Codegen(code.steps, intents, True, same, leaked)


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


def _row(outcome: DriveOutcome, cg: Codegen | None, seconds: float) -> str:
    ratio = f"{outcome.steps}/{outcome.intents} = {outcome.steps / outcome.intents:.2f}"
    replay = f"{_yes(outcome.replay_passed)}, {_yes(outcome.same_page)}"
    later = "no" if not outcome.later else f"YES ({outcome.later[0][:60]})"
    cells = [outcome.name, ratio, replay, later, _yes(outcome.closed_tab_ended_it)]
    if cg is not None:
        cells.append(f"{cg.steps}/{cg.intents} = {cg.steps / cg.intents:.2f}")
        cells.append(
            f"{_yes(cg.passed)}, {_yes(cg.same_page)}" + (f" ({cg.error})" if cg.error else "")
        )
    cells.append(f"{seconds:.1f}")
    return "| " + " | ".join(cells) + " |"


async def main(only: str | None, keep: Path | None, codegen: bool) -> int:
    config = load_config(ROOT / "playwright.config.toml", env={})
    chosen = [d for d in DRIVES if only is None or only in d.name]
    if not chosen:
        print(f"bench record: no drive name contains {only!r}", file=sys.stderr)
        return 2
    work = keep or Path(tempfile.mkdtemp(prefix="bench-record-"))
    work.mkdir(parents=True, exist_ok=True)
    database = work / "store" / "capture.db"
    database.parent.mkdir(exist_ok=True)
    head = ["drive", "capture: steps/intent", "replay passed, same page"]
    head += ["a capture shows a later step", "closing the tab ended it"]
    if codegen:
        head += ["codegen: steps/intent", "codegen: replay passed, same page"]
    head.append("seconds")
    if codegen:
        print(
            "codegen figures: Playwright's recorder, the engine of `playwright codegen`, in a "
            "headless browser driven by the same hand; the `codegen` command itself needs a "
            "headed browser (xvfb-run here) and shows its code in an Inspector window, which "
            "this bench cannot drive with the same input\n"
        )
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    outcomes: list[DriveOutcome] = []
    generated: list[Codegen] = []
    with sites() as where:
        async with store(database) as base_url:
            for drive in chosen:
                started = time.perf_counter()
                outcome = await drive_and_replay(drive, config, where, base_url, work)
                seconds = time.perf_counter() - started
                cg = await codegen_drive(drive, config, where) if codegen else None
                outcomes.append(outcome)
                if cg is not None:
                    generated.append(cg)
                print(_row(outcome, cg, seconds), flush=True)
            stored = await stored_text(base_url)
    secrets = {secret for drive in chosen for secret in drive.secrets}
    database_bytes = b"".join(p.read_bytes() for p in database.parent.iterdir())
    places = {
        "the store over HTTP": lambda s: s in stored,
        "the SQLite file": lambda s: s.encode() in database_bytes,
        "a task file": lambda s: any(s in o.task_file.read_text("utf-8") for o in outcomes),
        "the output": lambda s: any(s in o.output for o in outcomes),
    }
    leaks = sorted({where for where, holds in places.items() for s in secrets if holds(s)})
    good = [
        o
        for o in outcomes
        if o.steps == o.intents
        and o.replay_passed
        and o.same_page
        and not o.later
        and o.closed_tab_ended_it
    ]
    intents = sum(o.intents for o in outcomes)
    nowhere = "nothing stored, written or printed"
    print(
        f"\ncapture: {len(good)}/{len(outcomes)} drives with one step per intent, a replay that "
        f"passed and reached the same page, no capture showing a later step, ended by closing "
        f"the tab ({sum(o.steps for o in outcomes)} steps for {intents} intents); "
        f"{len(secrets)} typed secrets found in: {', '.join(leaks) or nowhere}"
    )
    if generated:
        same = sum(c.passed and c.same_page for c in generated)
        typed = sum(len(d.secrets) for d in chosen)
        print(
            f"codegen: {sum(c.steps for c in generated)} steps "
            f"for {intents} intents; {same}/{len(generated)} replays passed and reached the same "
            f"page; {sum(c.secrets_in_code for c in generated)} of the {typed} typed secrets are "
            "in its code; it takes no captures"
        )
    else:
        print("codegen: not run (--no-codegen)")
    if keep is not None:
        print(f"task files and store kept in {work}")
    return 0 if len(good) == len(outcomes) and not leaks else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the drives whose name contains this")
    parser.add_argument("--keep", type=Path, help="keep the task files and the store here")
    parser.add_argument(
        "--no-codegen", action="store_true", help="skip Playwright's recorder (codegen)"
    )
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.only, args.keep, not args.no_codegen)))
