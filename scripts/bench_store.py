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
Usage: scripts/bench store [--clients 16] [--seconds 5] [--backends sqlite,sqlite-full,...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

CAPTURE = str(Path(sys.executable).with_name("capture"))


Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter
Op = Callable[[Reader, Writer, int, int], Awaitable[int]]


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


async def load(
    servers: list[tuple[str, int]], ops: list[Op], clients: int, seconds: float
) -> list[float]:
    """Requests per second of each op over `seconds` in total, from `clients` connections
    spread evenly over `servers` (host, port).

    The ops take turns in short slices rather than one long run each, so that a machine
    whose load changes during the run skews every op alike and the ratio stays fair.
    """
    connections = [
        await asyncio.open_connection(*servers[c % len(servers)]) for c in range(clients)
    ]
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


def start_server(store: str, cwd: str) -> tuple[subprocess.Popen[bytes], str, int]:
    process = subprocess.Popen(
        [CAPTURE, "serve", "--port", "0", "--store", store], cwd=cwd, stdout=subprocess.PIPE
    )
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--backends", default="sqlite,sqlite-full,memory,redis,redis-x2")
    args = parser.parse_args()
    urls = {
        "sqlite": "sqlite:///bench.db",
        "sqlite-full": "sqlite:///bench-full.db?synchronous=full",
        "memory": "memory://",
    }
    print(f"{args.clients} clients, {args.seconds:g} s per measurement, one request = one op")
    measured: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as cwd, contextlib.ExitStack() as cleanup:
        for backend in args.backends.split(","):
            name, _, times = backend.partition("-x")  # redis-x2: two processes, one Redis
            if name == "redis" and name not in urls:
                redis, urls[name] = start_redis(cwd)
                cleanup.callback(stop, redis)
            started = [start_server(urls[name], cwd) for _ in range(int(times or 1))]
            try:
                ops: list[Op] = [healthz, set_get]
                servers = [(host, port) for _, host, port in started]
                health, store = asyncio.run(load(servers, ops, args.clients, args.seconds))
            finally:
                for process, _, _ in started:
                    stop(process)
            measured[backend] = store
            one = measured.get(name)
            scaling = f" | x{times}/x1 {store / one:.2f}" if times and one else ""
            print(
                f"{backend:>11}: healthz {health:8.0f} req/s | set+get {store:8.0f} req/s"
                f" ({store / 2:.0f} pairs/s) | ratio {store / health:.2f}{scaling}"
            )


if __name__ == "__main__":
    main()
