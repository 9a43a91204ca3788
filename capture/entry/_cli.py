"""`capture snap URL --thread T`: open a page, capture it once, print a short summary.

The smallest front door: `open_capture`, one capture, close; so it lives beside the entry.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from playwright.async_api import Error as PlaywrightError

from capture._cli_options import ConfigOption, ServerOption, TokenOption, config_from
from capture.config import Config
from capture.entry._open import open_capture
from capture.errors import BrowserError, StoreUnavailableError
from capture.recorder import CaptureResult
from capture.recorder.observe._outline import short_error
from capture.session._ids import check_thread_id

__all__ = ["snap"]


def snap(
    url: Annotated[str, typer.Argument(help="The page to open")],
    thread: Annotated[str, typer.Option("--thread", help="Thread id to store the capture in")],
    wait_for: Annotated[
        str | None,
        typer.Option("--wait-for", help="CSS selector to wait for before capturing"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write screenshot.jpg and observation.txt here"),
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    headed: Annotated[bool, typer.Option("--headed", help="Show the browser window")] = False,
    config_file: ConfigOption = None,
) -> None:
    """Open URL, capture it once into the thread, and print what was stored."""
    cfg = config_from(config_file, **{"session.server": server, "session.token": token})
    check_thread_id(thread, cfg.store.max_thread_id_length)
    result, dropped, base_url = asyncio.run(
        _snap(cfg, url, thread, wait_for, headed, explicit_server=server is not None)
    )
    if dropped:
        raise StoreUnavailableError(
            f"the store at {base_url} did not take the capture "
            f"({dropped} write(s) dropped); is `capture serve` running?"
        )
    image = result.image
    if image is not None:
        kind = image.mime_type.split("/")[1].upper()
        shot = f"{image.width}x{image.height} {kind} {len(image.data) / 1024:.1f} KB"
    else:
        shot = "no screenshot"
    typer.echo(
        f"thread {thread} step {result.step}: {shot}, observation {len(result.observation)} "
        f"chars, captured in {result.timings.get('total', 0.0) * 1000:.0f} ms"
    )
    for note in result.notes:
        typer.echo(f"note: {note}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        written = [out / "observation.txt"]
        written[0].write_text(result.observation + "\n", encoding="utf-8")
        if image is not None:
            written.append(out / f"screenshot.{image.extension}")
            written[-1].write_bytes(image.data)
        typer.echo("wrote " + ", ".join(str(path) for path in written))


async def _snap(
    cfg: Config, url: str, thread: str, wait_for: str | None, headed: bool, *, explicit_server: bool
) -> tuple[CaptureResult, int, str]:
    async with open_capture(
        cfg,
        store="required" if explicit_server else "fallback",
        launch=True,
        headless=False if headed else None,
    ) as capture:
        page = capture.page
        assert page is not None
        rec = capture.recorder(page, thread)
        try:
            await page.goto(url)
            if wait_for:
                await page.wait_for_selector(wait_for)
        except PlaywrightError as exc:
            raise BrowserError(f"could not open {url}: {short_error(exc)}") from exc
        result = await rec.capture(f"open {url}")
        await capture.close_recorders(rec)
    return result, rec.stats.dropped, capture.base_url
