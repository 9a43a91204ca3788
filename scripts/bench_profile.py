"""`scripts/bench profile`: where a set+get spends the store server's time, per backend.

For each backend it starts a real `capture serve --port 0` subprocess (as `scripts/bench
store` does) and, under the same load of 16 keep-alive clients:

1. reads the server's own CPU time (Linux /proc/PID/stat) over a run of GET /healthz and a
   run of set+get, and prints the CPU microseconds per request of each;
2. attaches py-spy (the dev extra has it) to the server during another set+get run and gives
   each stack sample to the most specific *owner* on it (storage backend, else app
   endpoints, else HTTP layer, else the event loop), printing each owner's share.

The figures in docs/store.md ("Throughput") come from this script.
Usage: scripts/bench profile [--seconds 6] [--backends memory,sqlite,redis]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_store import backend_url, healthz, load, set_get, start_server, stop

OWNERS = [  # (owner, markers in a py-spy frame "function (path:line)"), the last one found wins
    (
        "HTTP layer (uvicorn + h11, starlette, response writes)",
        ("(uvicorn/", "(h11/", "(starlette/"),
    ),
    ("app endpoints (parse, validate, JSON, respond)", ("capture/store/_app.py", "_query.py")),
    (
        "storage backend (store code, client or driver, its I/O)",
        ("capture/store/_redis", "_memory.py", "_sqlite.py", "(redis/", "(sqlite3/", "(hiredis"),
    ),
]
LOOP = "event loop (polling, scheduling)"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def owner(frames: list[str]) -> str:
    found, rank = LOOP, -1
    for frame in frames:
        for n, (name, marks) in enumerate(OWNERS):
            if n > rank and any(mark in frame for mark in marks):
                found, rank = name, n
    return found


def shares(raw_profile: Path) -> dict[str, float]:
    """Each owner's share of py-spy's collapsed stacks (start-up imports left out)."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw_profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any("<frozen importlib" in frame for frame in frames):
            counts[owner(frames)] += int(count)
    total = sum(counts.values()) or 1
    return {name: count / total for name, count in counts.most_common()}


def profile(pid: int, server: tuple[str, int], seconds: float, out: Path) -> None:
    spy = subprocess.Popen(
        [
            *("py-spy", "record", "--pid", str(pid), "--rate", "250", "--format", "raw"),
            *("--duration", str(int(seconds)), "-o", str(out), "--nonblocking"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # attached
    asyncio.run(load([server], [set_get], 16, seconds))
    spy.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--backends", default="memory,sqlite,redis")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if py_spy:
        os.environ["PATH"] = f"{Path(py_spy).parent}{os.pathsep}{os.environ['PATH']}"
    print(f"16 clients, {args.seconds:g} s per run, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as cwd, contextlib.ExitStack() as cleanup:
        urls = {"memory": "memory://", "sqlite": "sqlite:///profile.db"}
        for backend in args.backends.split(","):
            process, host, port = start_server(backend_url(backend, urls, cwd, cleanup), cwd)
            try:
                for op in (healthz, set_get):
                    before, start = cpu_seconds(process.pid), time.perf_counter()
                    [rate] = asyncio.run(load([(host, port)], [op], 16, args.seconds))
                    used, spent = cpu_seconds(process.pid) - before, time.perf_counter() - start
                    print(
                        f"{backend:>7} {op.__name__:>8}: {rate:6.0f} req/s, server CPU "
                        f"{1e6 * used / (rate * spent):4.0f} µs per request "
                        f"({100 * used / spent:.0f}% of a core)"
                    )
                if py_spy:
                    out = Path(cwd) / f"{backend}.txt"
                    profile(process.pid, (host, port), args.seconds, out)
                    for name, share in shares(out).items():
                        print(f"{'':>18}{100 * share:5.1f}%  {name}")
            finally:
                stop(process)
        if not py_spy:
            print("(py-spy is not installed: no sampled profile; pip install py-spy)")


if __name__ == "__main__":
    main()
