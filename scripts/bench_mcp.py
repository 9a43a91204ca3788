"""`scripts/bench mcp`: the same tool calls through `capture mcp` and `@playwright/mcp`.

Both servers run over stdio with the SDK's client, at the same time, on the same Chromium
binary and viewport; every call goes to one and then the other (the order alternating), so
a loaded machine slows both alike. Two sequences:

- the demo shop: a whole checkout by refs read from each server's own responses, ending
  with a screenshot;
- a large document (>= 1 MB of HTML: tests/site/bigdoc.py's, plus any `--doc FILE`, e.g.
  the Rust book's print.html): navigate, then snapshot ("one look"), `--rounds` times.

It prints characters per response (text, and image as base64), seconds per call, the
totals and the ratios capture / Playwright MCP. @playwright/mcp comes from .playwright-mcp/
(scripts/setup --test) or is installed with npm into a scratch folder; without node the
comparison is skipped with a line saying so.

Targets (issue 16): on the large document one look <= 1/100 of Playwright MCP's characters
and navigate + snapshot <= 0.5x its time; on the demo shop the whole drive, screenshots
included, within 1.5x of its total characters.

Usage: scripts/bench mcp [--rounds N] [--doc FILE ...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import runpy
import sys
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from _mcp_sides import (
    ROOT,
    VERSION,
    Side,
    capture_command,
    page_server,
    playwright_mcp,
    sandbox_args,
    stdio_side,
)

from capture.browser import find_browser
from capture.config import load_config
from capture.demo_site import DEMO_PASSWORD, DemoSite


async def both(sides: list[Side], step: int, label: str, tool: str, **args: Any) -> None:
    """The call on every side, in an order that alternates from one step to the next."""
    order = sides if step % 2 == 0 else list(reversed(sides))
    for side in order:
        try:
            resolved = {k: (v(side) if callable(v) else v) for k, v in args.items()}
        except LookupError:
            # The last response shows no refs (Playwright MCP's action answers point to a
            # snapshot file): look at the page first, as an agent would have to.
            await side.call(f"{label}: snapshot for refs", "browser_snapshot")
            try:
                resolved = {k: (v(side) if callable(v) else v) for k, v in args.items()}
            except LookupError as exc:
                raise SystemExit(str(exc)) from None
        await side.call(label, tool, **resolved)


def _field(role: str, name: str, kind: str, value: str) -> Any:
    return lambda side: {"target": side.ref(role, name), "name": name, "type": kind, "value": value}


async def shop_drive(sides: list[Side], shop: str) -> None:
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("navigate home", "browser_navigate", {"url": f"{shop}/"}),
        ("type search + Enter", "browser_type",
         {"target": lambda s: s.ref("searchbox", "Search"), "text": "mug", "submit": True}),
        ("click product", "browser_click", {"target": lambda s: s.ref("link", "Blue Mug")}),
        ("select size", "browser_select_option",
         {"target": lambda s: s.ref("combobox", "Size"), "values": ["Large"]}),
        ("type quantity", "browser_type",
         {"target": lambda s: s.ref("spinbutton", "Quantity"), "text": "2"}),
        ("click add to cart", "browser_click",
         {"target": lambda s: s.ref("button", "Add to cart")}),
        ("click cart", "browser_click", {"target": lambda s: s.ref("link", "Cart")}),
        ("click checkout", "browser_click",
         {"target": lambda s: s.ref("link", "Proceed to checkout")}),
        ("type username", "browser_type",
         {"target": lambda s: s.ref("textbox", "Username"), "text": "demo"}),
        ("type password + Enter", "browser_type",
         {"target": lambda s: s.ref("textbox", "Password"), "text": DEMO_PASSWORD,
          "submit": True}),
        ("fill checkout form", "browser_fill_form",
         {"fields": lambda s: [f(s) for f in (
             _field("textbox", "Full name", "textbox", "Ada Lovelace"),
             _field("textbox", "Address", "textbox", "12 Analytical Way"),
             _field("combobox", "Shipping", "combobox", "Express ($9.00)"),
             _field("textbox", "Card number", "textbox", "4242 4242 4242 4242"),
             _field("checkbox", "I accept the terms", "checkbox", "true"),
         )]}),
        ("click place order", "browser_click",
         {"target": lambda s: s.ref("button", "Place order")}),
        ("take screenshot", "browser_take_screenshot", {"scale": "css"}),
    ]  # fmt: skip
    for number, (label, tool, args) in enumerate(steps):
        await both(sides, number, label, tool, **args)
    for side in sides:
        ended = side.texts.get("click place order", "")
        if not re.search(r"Title: Order", ended):
            print(f"  ! {side.name}: the drive did not end on the order page", file=sys.stderr)


async def document_looks(sides: list[Side], url: str, name: str, rounds: int) -> None:
    for number in range(rounds):
        await both(sides, number, f"{name}: navigate", "browser_navigate", url=url)
        await both(sides, number + 1, f"{name}: snapshot", "browser_snapshot")


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def report(sides: list[Side], labels: list[str], title: str) -> dict[str, tuple[int, int, float]]:
    """Print per call: text and image characters (medians over rounds) and seconds, per
    side, with ratios; return the totals per side."""
    names = [s.name for s in sides]
    print(f"\n## {title}")
    head = f"{'call':32}" + "".join(
        f"{n + ' text':>16}{n + ' image':>14}{n + ' s':>10}" for n in names
    )
    print(head)
    totals: dict[str, tuple[int, int, float]] = {n: (0, 0, 0.0) for n in names}
    for label in labels:
        row = f"{label:32}"
        for side in sides:
            calls = side.calls.get(label, [])
            text = int(_median([c.text for c in calls])) if calls else 0
            image = int(_median([c.image for c in calls])) if calls else 0
            seconds = _median([c.seconds for c in calls]) if calls else 0.0
            t, i, s = totals[side.name]
            totals[side.name] = (t + text, i + image, s + seconds)
            mark = "!" if any(c.error for c in calls) else ""
            row += f"{text:>16,}{image:>14,}{seconds:>9.2f}{mark or ' '}"
        print(row)
    row = f"{'total':32}"
    for name in names:
        t, i, s = totals[name]
        row += f"{t:>16,}{i:>14,}{s:>9.2f} "
    print(row)
    return totals


def ratios(totals: dict[str, tuple[int, int, float]], a: str, b: str, what: str) -> None:
    (ta, ia, sa), (tb, ib, sb) = totals[a], totals[b]
    both_ratio = (ta + ia) / max(tb + ib, 1)
    print(
        f"{what}: {a}/{b} text {ta / max(tb, 1):.4f}, text+image {both_ratio:.3f}, "
        f"seconds {sa / max(sb, 1e-9):.2f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="looks per large document")
    parser.add_argument("--doc", action="append", default=[], help="another large HTML file")
    options = parser.parse_args()
    config = load_config(ROOT / "playwright.config.toml", env={})
    chromium = find_browser(config.browser.executable, headless=True)
    viewport = f"{config.context.viewport_width}x{config.context.viewport_height}"
    with tempfile.TemporaryDirectory() as scratch_name, tempfile.TemporaryFile("w+") as log:
        scratch = Path(scratch_name)
        cli = playwright_mcp(scratch / "npm")
        runpy.run_path(str(ROOT / "tests" / "site" / "bigdoc.py"))["write_big_document"](scratch)
        shop = DemoSite(0).start()
        async with AsyncExitStack() as stack:
            sides = [
                await stack.enter_async_context(
                    stdio_side(
                        "capture",
                        capture_command(),
                        ["mcp", "--thread", "bench-mcp"],
                        scratch,  # the embedded store's SQLite file goes there
                        log,
                    )
                )
            ]
            if cli is None:
                print("@playwright/mcp: skipped (no node/npm on this machine)")
            else:
                sides.append(
                    await stack.enter_async_context(
                        stdio_side(
                            "playwright",
                            "node",
                            [str(cli), "--headless", "--isolated", "--executable-path",
                             chromium, "--viewport-size", viewport, "--timeout-action", "10000",
                             *sandbox_args()],
                            scratch,
                            log,
                        )
                    )
                )  # fmt: skip
            load = os.getloadavg()[0]
            print(f"# capture mcp vs @playwright/mcp {VERSION}; load average {load:.1f}")
            await shop_drive(sides, shop.url)
            docs = [("bigdoc", scratch / "big.html")]
            docs += [(Path(d).name, Path(d)) for d in options.doc]
            for name, path in docs:
                with page_server(path.parent) as origin:
                    size = path.stat().st_size
                    print(f"# {name}: {size / 1e6:.2f} MB of HTML")
                    await document_looks(sides, f"{origin}/{path.name}", name, options.rounds)
        shop.stop()
    labels = [
        label for label in dict.fromkeys(x for s in sides for x in s.calls) if label != "warm-up"
    ]
    doc_names = [name for name, _ in docs]
    shop_labels = [label for label in labels if label.split(":")[0] not in doc_names]
    totals = report(sides, shop_labels, "demo shop: a whole checkout by refs, then a screenshot")
    if len(sides) == 2:
        ratios(totals, "capture", "playwright", "demo shop drive")
    for name, _ in docs:
        doc_labels = [label for label in labels if label.startswith(f"{name}:")]
        totals = report(sides, doc_labels, f"{name}: one look (medians of {options.rounds} rounds)")
        if len(sides) == 2:
            ratios(totals, "capture", "playwright", f"{name} navigate + snapshot")
            looks = {s.name: s.calls[f"{name}: snapshot"] for s in sides}
            snap = {
                side: (
                    int(_median([c.text for c in calls])),
                    int(_median([c.image for c in calls])),
                    _median([c.seconds for c in calls]),
                )
                for side, calls in looks.items()
            }
            ratios(snap, "capture", "playwright", f"{name} snapshot alone")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (2 cores shared)")


if __name__ == "__main__":
    asyncio.run(main())
