"""`scripts/bench read`: reading a whole book through `capture mcp`, as a new user would.

Serves a folder of HTML (default: the Rust book of Debian's rust-doc package) on
127.0.0.1 and drives `capture mcp` over stdio with the SDK's client:

- browser_find for each phrase on `--page` (default print.html): whether it is found with
  a ref, how many matches, characters and seconds;
- browser_snapshot page=1 on it, then every continuation hint followed as written, to the
  end: pages, characters, seconds, and whether a ref came twice;
- a navigation to `--next` (default ch16-03-shared-state.html): the answer's characters
  and those of its "Changes since previous capture" part.

Usage: scripts/bench read [--root DIR] [--page FILE] [--next FILE] [--phrase TEXT ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from _mcp_sides import page_server
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import TextContent

ROOT = Path(__file__).resolve().parent.parent
BOOK = "/usr/share/doc/rust-doc/html/book"
PHRASES = [
    "locking and unlocking",
    "counter.lock().unwrap()",
    "Arc::clone",
    "Mutex<T>",
    "shared-state concurrency",
    "fearless concurrency",
    "RefCell<T>",
    "Rc<T>",
]
HINT = re.compile(r"continue with (browser_\w+)((?: \w+=(?:\"(?:[^\"\\]|\\.)*\"|[^ \"]+))*) …\]")
ARG = re.compile(r"(\w+)=(\"(?:[^\"\\]|\\.)*\"|[^ \"]+)")


async def _run(args: argparse.Namespace, base: str, scratch: str, log: TextIO) -> None:
    params = StdioServerParameters(
        command=str(ROOT / ".venv" / "bin" / "capture"),
        args=["mcp", "--thread", "bench-read", "--image", "never"],
        cwd=scratch,
    )
    async with Client(stdio_client(params, errlog=log)) as client:

        async def call(name: str, **arguments: Any) -> tuple[str, float]:
            began = time.perf_counter()
            result = await client.call_tool(name, arguments)
            text = "\n".join(c.text for c in result.content if isinstance(c, TextContent))
            return text, time.perf_counter() - began

        await call("browser_navigate", url=f"{base}/{args.page}")
        found = 0
        for phrase in args.phrase:
            text, seconds = await call("browser_find", text=phrase)
            refs = re.findall(r"^- \w+ \[ref=(\w+)\]", text, re.MULTILINE)
            head = re.match(r"# (?:\d+-\d+ of )?(\d+) match", text)
            found += bool(refs)
            print(
                f"find {phrase!r}: {head.group(1) if head else 0} matches, "
                f"{len(refs)} refs shown, {len(text)} chars, {seconds:.2f} s"
            )
        print(f"found with a ref: {found} of {len(args.phrase)}")

        name, arguments = "browser_snapshot", {"page": 1}
        pages, chars, seconds, refs = 0, 0, 0.0, []
        while True:
            text, spent = await call(name, **arguments)
            pages, chars, seconds = pages + 1, chars + len(text), seconds + spent
            refs += re.findall(r"\[ref=((?:f\d+)?e\d+)\]", text)
            hint = HINT.search(text)
            if hint is None:
                break
            name = hint.group(1)
            arguments = {k: json.loads(v) for k, v in ARG.findall(hint.group(2))}
        print(
            f"hints followed: {pages} pages, {chars} chars, {seconds:.1f} s, "
            f"{len(refs)} refs ({len(refs) - len(set(refs))} twice); last page: "
            f"{text.splitlines()[0][:80]!r}"
        )

        text, seconds = await call("browser_navigate", url=f"{base}/{args.next}")
        title = "## Changes since previous capture"
        part = title + text.split(title, 1)[1].split("\n\n## ", 1)[0] if title in text else ""
        print(
            f"navigate to {args.next}: {len(text)} chars, changes part {len(part)} "
            f"({len(part) / len(text):.1%}), {seconds:.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=BOOK, help="the folder to serve")
    parser.add_argument("--page", default="print.html")
    parser.add_argument("--next", default="ch16-03-shared-state.html")
    parser.add_argument("--phrase", action="append", help="a phrase to find (repeatable)")
    args = parser.parse_args()
    args.phrase = args.phrase or PHRASES
    if not Path(args.root, args.page).is_file():
        raise SystemExit(f"no {args.page} under {args.root} (apt-get install rust-doc)")
    with (
        page_server(Path(args.root)) as base,
        tempfile.TemporaryDirectory() as scratch,
        open(Path(scratch) / "err.log", "w") as log,
    ):
        asyncio.run(_run(args, base, scratch, log))


if __name__ == "__main__":
    main()
