"""`scripts/bench record`: live-recording fidelity, as the table in docs/live.md.

Runs every scenario of tests/fidelity.py (the ones the test suite asserts on): performed with
the mouse and keyboard on the test site and the demo shop, recorded with the real live
recorder into an embedded store on SQLite, exported, and replayed by the runner in a fresh
browser. Prints per scenario the intended actions, the recorded steps, whether the replay
reached the same URL and outline, and the seconds it took; then whether any secret typed in
a scenario is in the store (raw HTTP and the SQLite file), a task file or the output.

Usage: scripts/bench record [--only TEXT] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the scenarios live with the tests

from capture.config import load_config  # noqa: E402
from tests.fidelity import (  # noqa: E402
    SCENARIOS,
    Outcome,
    record_and_replay,
    sites,
    store,
    stored_text,
)


def _row(outcome: Outcome, seconds: float) -> str:
    verdict = "yes" if outcome.matches else "NO"
    if not outcome.matches:
        why = outcome.replay_errors[:1] or (
            ["other URL"] if outcome.url != outcome.replay_url else ["other outline"]
        )
        verdict += f" ({why[0][:60]})"
    return (
        f"| {outcome.name} | {outcome.intended} | {outcome.recorded} | {verdict} | {seconds:.1f} |"
    )


async def main(only: str | None, keep: Path | None) -> int:
    config = load_config(ROOT / "playwright.config.toml", env={})
    chosen = [s for s in SCENARIOS if only is None or only in s.name]
    if not chosen:
        print(f"bench record: no scenario name contains {only!r}", file=sys.stderr)
        return 2
    work = keep or Path(tempfile.mkdtemp(prefix="bench-record-"))
    work.mkdir(parents=True, exist_ok=True)
    database = work / "store" / "capture.db"
    database.parent.mkdir(exist_ok=True)
    print("| scenario | intended actions | recorded steps | replay matches | seconds |")
    print("|---|---:|---:|---|---:|")
    outcomes: list[Outcome] = []
    with sites() as where:
        async with store(database) as base_url:
            for scenario in chosen:
                started = time.perf_counter()
                outcome = await record_and_replay(scenario, config, where, base_url, work)
                outcomes.append(outcome)
                print(_row(outcome, time.perf_counter() - started), flush=True)
            stored = await stored_text(base_url)
    secrets = {secret for scenario in chosen for secret in scenario.secrets}
    database_bytes = b"".join(p.read_bytes() for p in database.parent.iterdir())
    places = {
        "the store over HTTP": lambda s: s in stored,
        "the SQLite file": lambda s: s.encode() in database_bytes,
        "a task file": lambda s: any(s in o.task_file.read_text("utf-8") for o in outcomes),
        "the output": lambda s: any(s in o.output for o in outcomes),
    }
    leaks = [f"{where}" for where, holds in places.items() for s in secrets if holds(s)]
    matched = sum(o.matches and o.recorded == o.intended for o in outcomes)
    print(
        f"\n{matched}/{len(outcomes)} scenarios replay to the same URL and outline with one "
        f"step per intended action; {len(secrets)} typed secrets found in: "
        f"{', '.join(sorted(set(leaks))) or 'nothing stored, written or printed'}"
    )
    if keep is not None:
        print(f"task files and store kept in {work}")
    return 0 if matched == len(outcomes) and not leaks else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the scenarios whose name contains this")
    parser.add_argument("--keep", type=Path, help="keep the task files and the store here")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.only, args.keep)))
