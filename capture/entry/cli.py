"""`capture snap URL`: open a page, capture it once, print what was stored.

The smallest front door: `open_capture`, one capture, close; so it lives beside the entry.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Annotated

import typer
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from capture._cli_options import ConfigOption, ConnectOption, ServerOption, TokenOption
from capture.config import Config, parse_duration
from capture.entry._doors import check_thread, default_thread, door_config, store_choice
from capture.entry._open import open_capture
from capture.entry._store import StoreChoice
from capture.errors import BrowserError, StoreUnavailableError, UsageError
from capture.recorder import CaptureResult, step_key
from capture.recorder.observe import short_error

__all__ = ["snap"]


def snap(
    url: Annotated[str, typer.Argument(help="The page to open")],
    thread: Annotated[
        str | None,
        typer.Option(
            "--thread", help="Thread to store the capture in [default: snap-<date>-<time>]"
        ),
    ] = None,
    wait_for: Annotated[
        str | None,
        typer.Option("--wait-for", help="CSS selector to wait for before capturing"),
    ] = None,
    timeout: Annotated[
        str,
        typer.Option(
            "--timeout",
            help="How long opening the page and --wait-for may take ('30s', '2m')",
        ),
    ] = "30s",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write screenshot.jpg and observation.txt here"),
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    headed: Annotated[bool, typer.Option("--headed", help="Show the browser window")] = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 1 when the page answered 4xx or 5xx (after storing)"),
    ] = False,
    connect: ConnectOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Open URL, capture it once into the thread, and print what was stored."""
    cfg = door_config(config_file, server=server, token=token, **{"browser.connect_url": connect})
    thread = check_thread(default_thread("snap") if thread is None else thread, cfg)
    try:
        limit = parse_duration(timeout).total_seconds()
    except ValueError as exc:
        raise UsageError(f"--timeout: {exc}") from None
    page = _Page(url, wait_for, limit)
    result, status, dropped, base_url = asyncio.run(
        _snap(cfg, page, thread, headed, store=store_choice(server))
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
    stored = [cfg.capture.observation_key, step_key(result.step)]
    if image is not None:
        stored.insert(0, cfg.capture.screenshot_key)
    typer.echo(f"stored in thread {thread!r} at {base_url}: {', '.join(stored)}")
    answered = _status_line(status)
    typer.echo(f"status: {answered}")
    failed = status is not None and status >= 400
    notes = [f"the page answered {answered}", *result.notes] if failed else result.notes
    for note in notes:
        typer.echo(f"note: {note}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        written = [out / "observation.txt"]
        written[0].write_text(result.observation + "\n", encoding="utf-8")
        if image is not None:
            written.append(out / f"screenshot.{image.extension}")
            written[-1].write_bytes(image.data)
        typer.echo("wrote " + ", ".join(str(path) for path in written))
    typer.echo(f"\n{result.observation}")
    if failed and strict:
        raise BrowserError(f"{url} answered {answered} (--strict)")


def _status_line(status: int | None) -> str:
    """`404 Not Found`; a page with no HTTP response of its own (`about:`, `data:`) says so."""
    if status is None:
        return "no HTTP response (not an http(s) page)"
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


@dataclass(frozen=True)
class _Page:
    """What to open, what to wait for there, and for how long (seconds) each may take."""

    url: str
    wait_for: str | None
    timeout: float

    async def open(self, page: Page) -> int | None:
        """Open the page, then wait for the selector; each failure says which it was. The
        main document's HTTP status, if it had one."""
        try:
            response = await page.goto(self.url, timeout=self.timeout * 1000)
        except PlaywrightError as exc:
            raise BrowserError(f"could not open {self.url}: {short_error(exc)}") from exc
        status = response.status if response is not None else None
        if not self.wait_for:
            return status
        try:
            await page.wait_for_selector(self.wait_for, timeout=self.timeout * 1000)
        except PlaywrightError as exc:
            raise BrowserError(
                f"opened {self.url}, but --wait-for {self.wait_for!r} never appeared "
                f"(waited {self.timeout:g}s; --timeout sets how long): {short_error(exc)}"
            ) from exc
        return status


async def _snap(
    cfg: Config, target: _Page, thread: str, headed: bool, *, store: StoreChoice
) -> tuple[CaptureResult, int | None, int, str]:
    async with open_capture(
        cfg,
        store=store,
        launch=True,
        headless=False if headed else None,
    ) as capture:
        page = capture.page
        assert page is not None
        rec = capture.recorder(page, thread)
        status = await target.open(page)
        result = await rec.capture(f"open {target.url}")
        await capture.close_recorders(rec)
    return result, status, rec.stats.dropped, capture.base_url
