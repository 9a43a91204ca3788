"""`scripts/bench store`: store throughput against the same server's /healthz, per backend.

For each backend it starts a real `capture serve --port 0` subprocess, then for a fixed time
runs N concurrent keep-alive clients that do (a) GET /healthz and (b) set + get of a small
value, and prints requests per second of each and their ratio (store / healthz). One request
is one operation, so a set+get pair counts two. The clients are a minimal raw HTTP/1.1 loop,
not httpx, so that the load generator costs little next to the server it measures.

Targets: ratio >= 0.5 on SQLite (issue 2) and on Redis (issue 11).
`sqlite-full` is SQLite with `?synchronous=full` (an fsync per commit). `redis` runs on a
redis-server the script starts (append-only, fsync every second: like SQLite's default, it
survives a crashed process); `redis-x2` is two server processes on that one Redis, the
clients split between them, also compared with one process (`x2/x1`).

`--workers 1,2,4` runs every backend once per count as `capture serve --workers N` (one
socket, N processes; the connections spread evenly over the workers, see `connect`) and
prints each against one worker (`w4/w1`), with the machine's core count: workers cannot
scale past the cores, which the server, Redis and the load generator share.
`--load-processes P` splits the clients over P generator processes, so that on a big
machine the generator is not what limits the figure. memory:// is skipped past one worker
(each process would hold its own data, so `capture serve` refuses it). `--rounds R` repeats
the whole run R times and then prints each figure's median, so that on a shared machine a
burst of someone else's load skews one round, not the comparison.
Usage: scripts/bench store [--clients 16] [--seconds 5] [--backends sqlite,sqlite-full,...]
       [--workers 1,2,4] [--load-processes 1] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

CAPTURE = str(Path(sys.executable).with_name("capture"))


Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter
Op = Callable[[Reader, Writer, int, int], Awaitable[int]]
Conn = tuple[Reader, Writer]


async def request(reader: Reader, writer: Writer, method: str, path: str, body: bytes) -> int:
    """One keep-alive request; returns the status (the body is read and dropped)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n"
    if body:
        head += "Content-Type: application/json\r\n"
    writer.write(head.encode() + b"\r\n" + body)
    headers = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
    length = 0
    for line in headers.split("\r\n"):
        if line.startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    await reader.readexactly(length)
    return int(headers.split(" ", 2)[1])


async def healthz(reader: Reader, writer: Writer, client: int, i: int) -> int:
    assert await request(reader, writer, "GET", "/healthz", b"") == 200
    return 1


async def set_get(reader: Reader, writer: Writer, client: int, i: int) -> int:
    path, key = f"/api/v1/sessions/bench{client}/values", f"k{i % 100}"
    body = json.dumps({"key": key, "value": {"client": client, "i": i}, "expiry": None})
    assert await request(reader, writer, "POST", path, body.encode()) == 204
    assert await request(reader, writer, "GET", f"{path}/{key}", b"") == 200
    return 2


async def connect(servers: list[tuple[str, int]], clients: int, workers: int) -> list[Conn]:
    """`clients` connections spread evenly over `servers` and over each one's `workers`.

    The kernel gives a new connection to whichever worker accepts first, which can leave one
    of them most of a few long-lived connections (14 of 16 was seen), and the figure would
    then measure that imbalance rather than the workers. So each connection asks /healthz
    which process it reached, and one over its worker's share is closed and tried again.
    """
    connections: list[Conn] = []
    for s, server in enumerate(servers):
        share = clients // len(servers) + (s < clients % len(servers))
        per_pid: dict[int, int] = {}
        for _ in range(50 * share):
            if sum(per_pid.values()) == share:
                break
            reader, writer = await asyncio.open_connection(*server)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n")
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            length = int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
            pid = json.loads(await reader.readexactly(length))["pid"]
            if per_pid.get(pid, 0) < -(-share // workers):  # ceil: at most this many each
                per_pid[pid] = per_pid.get(pid, 0) + 1
                connections.append((reader, writer))
            else:
                writer.close()
        else:
            sys.exit(f"could not spread {share} connections over {workers} workers")
    return connections


async def load(
    servers: list[tuple[str, int]], ops: list[Op], clients: int, seconds: float, workers: int = 1
) -> list[float]:
    """Requests per second of each op over `seconds` in total, from `clients` connections
    spread evenly over `servers` (host, port) and their `workers` processes.

    The ops take turns in short slices rather than one long run each, so that a machine
    whose load changes during the run skews every op alike and the ratio stays fair.
    """
    connections = await connect(servers, clients, workers)
    slices = max(1, round(seconds / 0.5))
    done, spent = [0] * len(ops), [0.0] * len(ops)
    for _ in range(slices):
        for n, op in enumerate(ops):
            deadline = time.perf_counter() + seconds / slices

            async def client(c: int, op: Op = op, deadline: float = deadline) -> int:
                reader, writer = connections[c]
                count = i = 0
                while time.perf_counter() < deadline:
                    count += await op(reader, writer, c, i)
                    i += 1
                return count

            start = time.perf_counter()
            done[n] += sum(await asyncio.gather(*(client(c) for c in range(clients))))
            spent[n] += time.perf_counter() - start
    for _, writer in connections:
        writer.close()
    return [count / elapsed for count, elapsed in zip(done, spent, strict=True)]


def load_in_process(
    servers: list[tuple[str, int]], clients: int, seconds: float, workers: int
) -> list[float]:
    """`load` of healthz and set+get in a process of its own (see --load-processes)."""
    return asyncio.run(load(servers, [healthz, set_get], clients, seconds, workers))


def load_split(
    servers: list[tuple[str, int]], clients: int, seconds: float, workers: int, processes: int
) -> list[float]:
    """The clients split over `processes` generator processes; their rates add up."""
    if processes == 1:
        return load_in_process(servers, clients, seconds, workers)
    shares = [clients // processes + (p < clients % processes) for p in range(processes)]
    with ProcessPoolExecutor(processes) as pool:
        runs = [pool.submit(load_in_process, servers, n, seconds, workers) for n in shares if n]
        rates = [run.result() for run in runs]
    return [sum(column) for column in zip(*rates, strict=True)]


def start_server(
    store: str, cwd: str, workers: int = 1
) -> tuple[subprocess.Popen[bytes], str, int]:
    command = [CAPTURE, "serve", "--port", "0", "--store", store, "--workers", str(workers)]
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE)
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    if "listening on" not in line:
        process.kill()
        sys.exit(f"capture serve did not start: {line!r}")
    url = urlsplit(line.split("listening on ", 1)[1].split()[0])
    return process, str(url.hostname), int(url.port or 0)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def start_redis(cwd: str) -> tuple[subprocess.Popen[bytes], str]:
    """A private redis-server on a free loopback port; returns it and its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", cwd]
    command += ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]
    try:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    except FileNotFoundError:
        sys.exit("redis-server is not installed (scripts/setup --test installs it)")
    for _ in range(500):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16) == b"+PONG\r\n":
                    return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            pass
        time.sleep(0.02)
    process.kill()
    sys.exit("redis-server did not start")


def backend_url(name: str, urls: dict[str, str], cwd: str, cleanup: contextlib.ExitStack) -> str:
    """`urls[name]`; for `redis`, a redis-server started on first use and stopped by `cleanup`."""
    if name == "redis" and name not in urls:
        redis, urls[name] = start_redis(cwd)
        cleanup.callback(stop, redis)
    return urls[name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--backends", default="sqlite,sqlite-full,memory,redis,redis-x2")
    parser.add_argument("--workers", default="1", help="comma-separated worker counts")
    parser.add_argument("--load-processes", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1, help="repeat all; print medians")
    args = parser.parse_args()
    worker_counts = [int(count) for count in args.workers.split(",")]
    urls = {
        "sqlite": "sqlite:///bench.db",
        "sqlite-full": "sqlite:///bench-full.db?synchronous=full",
        "memory": "memory://",
    }
    print(
        f"{args.clients} clients in {args.load_processes} generator process(es), "
        f"{args.seconds:g} s per measurement, one request = one op; "
        f"{os.cpu_count()} cores (os.cpu_count()), load average {os.getloadavg()[0]:.1f}"
    )
    rates: dict[str, list[float]] = {}

    def latest(label: str) -> float | None:
        """This round's figure for `label`, if it was measured."""
        return rates[label][-1] if label in rates else None

    with tempfile.TemporaryDirectory() as cwd, contextlib.ExitStack() as cleanup:
        for _ in range(args.rounds):
            for backend in args.backends.split(","):
                name, _, times = backend.partition("-x")  # redis-x2: two processes, one Redis
                url = backend_url(name, urls, cwd, cleanup)
                for workers in worker_counts:
                    label = backend if worker_counts == [1] else f"{backend} w{workers}"
                    if name == "memory" and workers > 1:
                        print(f"{label:>14}: skipped (memory:// cannot be shared by workers)")
                        continue
                    started = [start_server(url, cwd, workers) for _ in range(int(times or 1))]
                    try:
                        servers = [(host, port) for _, host, port in started]
                        health, store = load_split(
                            servers, args.clients, args.seconds, workers, args.load_processes
                        )
                    finally:
                        for process, _, _ in started:
                            stop(process)
                    rates.setdefault(label, []).append(store)
                    one = latest(name + label[len(backend) :])  # x1 at this worker count
                    scaling = f" | x{times}/x1 {store / one:.2f}" if times and one else ""
                    first = latest(f"{backend} w1")
                    if workers > 1 and first:
                        scaling += f" | w{workers}/w1 {store / first:.2f}"
                    print(
                        f"{label:>14}: healthz {health:8.0f} req/s | set+get {store:8.0f} req/s"
                        f" ({store / 2:.0f} pairs/s) | ratio {store / health:.2f}{scaling}"
                    )
    if args.rounds > 1:
        print_medians(rates, args.rounds)


def print_medians(rates: dict[str, list[float]], rounds: int) -> None:
    """Each figure's median over the rounds, and each worker count's against one worker."""
    print(f"medians of {rounds} rounds, set+get req/s:")
    for label, values in rates.items():
        backend, _, workers = label.partition(" w")
        median = statistics.median(values)
        first = rates.get(f"{backend} w1")
        vs = f" | w{workers}/w1 {median / statistics.median(first):.2f}" if first else ""
        print(f"{label:>14}: {median:8.0f}{vs if workers not in ('', '1') else ''}")


if __name__ == "__main__":
    main()
