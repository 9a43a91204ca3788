"""What `scripts/bench mcp` and `scripts/bench agent` share: a folder served on 127.0.0.1,
@playwright/mcp found or installed, a server under test over stdio (`Side`), and a headless
Chromium that both a server and the bench attach to over CDP.

Not a benchmark itself (the leading underscore keeps it out of `scripts/bench`'s list).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, ImageContent, TextContent

from capture.browser import launch_args

ROOT = Path(__file__).resolve().parent.parent
VERSION = "0.0.83"
PACKAGE = Path("node_modules") / "@playwright" / "mcp" / "cli.js"


@contextmanager
def page_server(
    directory: Path, handler: type[SimpleHTTPRequestHandler] = SimpleHTTPRequestHandler
) -> Iterator[str]:
    """Serve `directory` on a free loopback port, quietly (`handler` serves each request:
    the test pages want server-side includes)."""
    quiet = type("Quiet", (handler,), {"log_message": lambda self, format, *args: None})
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(quiet, directory=str(directory))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def playwright_mcp(scratch: Path) -> Path | None:
    """cli.js of @playwright/mcp: the repository's .playwright-mcp/, else npm-installed
    into `scratch`; None without node and npm."""
    if shutil.which("node") is None:
        return None
    for folder in (ROOT / ".playwright-mcp", scratch):
        if (folder / PACKAGE).is_file():
            return folder / PACKAGE
    if shutil.which("npm") is None:
        return None
    subprocess.run(
        ["npm", "install", "--prefix", str(scratch), "--no-audit", "--no-fund", "--silent",
         f"@playwright/mcp@{VERSION}"],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return scratch / PACKAGE


@dataclass
class Call:
    text: int
    image: int
    seconds: float
    error: bool


@dataclass
class Side:
    """One server under test and what each of its calls cost."""

    name: str
    client: Client
    calls: dict[str, list[Call]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    last: str = ""
    quiet: bool = False  # errors are the caller's to report

    async def call(self, label: str, tool: str, **arguments: Any) -> str:
        began = time.perf_counter()
        result: CallToolResult = await self.client.call_tool(tool, arguments)
        seconds = time.perf_counter() - began
        text = "\n".join(c.text for c in result.content if isinstance(c, TextContent))
        image = sum(len(c.data) for c in result.content if isinstance(c, ImageContent))
        self.calls.setdefault(label, []).append(
            Call(len(text), image, seconds, bool(result.is_error))
        )
        if result.is_error and not self.quiet:
            print(f"  ! {self.name} {label}: {text[:200]}", file=sys.stderr)
        self.last = self.texts[label] = text
        return text

    def ref(self, role: str, name: str) -> str:
        """The ref of `role "name..."` in this server's latest response."""
        pattern = rf'{role} "{re.escape(name)}[^"\n]*"[^\n]*?\[ref=([^\]]+)\]'
        match = re.search(pattern, self.last)
        if match is None:
            raise LookupError(f"{self.name}: no {role} {name!r} in its response:\n{self.last}")
        return match.group(1)


@asynccontextmanager
async def stdio_side(
    name: str, command: str, args: list[str], cwd: Path, log: Any
) -> AsyncIterator[Side]:
    params = StdioServerParameters(command=command, args=args, cwd=cwd, env=dict(os.environ))
    async with Client(stdio_client(params, errlog=log), read_timeout_seconds=300) as client:
        side = Side(name, client)
        await side.call("warm-up", "browser_navigate", url="about:blank")
        yield side


def capture_command() -> str:
    """The `capture` entry point of the venv running the bench."""
    return str(Path(sys.executable).with_name("capture"))


def sandbox_args() -> list[str]:
    """`--no-sandbox` where capture's own launches need it (as root)."""
    return ["--no-sandbox"] if "--no-sandbox" in launch_args([]) else []


@contextmanager
def cdp_chromium(executable: str, profile: Path, viewport: tuple[int, int]) -> Iterator[str]:
    """A headless Chromium with `--remote-debugging-port` on a free loopback port; yields its
    CDP URL, so an MCP server and the bench can attach to the same browser."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    width, height = viewport
    process = subprocess.Popen(
        [executable, "--headless", *sandbox_args(), f"--remote-debugging-port={port}",
         f"--user-data-dir={profile}", f"--window-size={width},{height}",
         "--no-first-run", "--no-default-browser-check", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a group of its own: see the end
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/json/version", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"Chromium ({executable}) did not open {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        # The whole group: Debian's /usr/bin/chromium* are scripts that start the real
        # browser as a child, which ending the script alone would leave running.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
