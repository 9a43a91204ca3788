"""`capture record`: record a person's browser session; `capture record --stop` ends it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from capture._cli_options import ConfigOption, ServerOption, TokenOption
from capture.config import Config
from capture.entry import StoreChoice, check_thread, door_config, open_capture, store_choice
from capture.errors import LiveError, UsageError

__all__ = ["record"]


def record(
    url: Annotated[
        str | None,
        typer.Argument(help="The page to open first (the task's first goto)", show_default=False),
    ] = None,
    thread: Annotated[
        str | None, typer.Option("--thread", help="Thread to capture into (needed to record)")
    ] = None,
    cdp: Annotated[
        str | None,
        typer.Option(
            "--cdp",
            help="Attach to a running Chromium started with --remote-debugging-port, e.g. "
            "http://127.0.0.1:9222 (every tab, and tabs opened later) [config: browser.cdp_url]",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="On stop, write the actions as a task file (YAML)"),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="The exported task's name")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Let --out replace a file that exists")
    ] = False,
    stop: Annotated[
        bool,
        typer.Option(
            "--stop",
            help="Stop the recording(s) running from this directory (only --thread's, if "
            "given); returns once they flushed and wrote their task file",
        ),
    ] = False,
    server: ServerOption = None,
    token: TokenOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Record a person's actions: one capture per action, and a task file that replays them.

    Launches a visible Chromium (on a machine without a display, run it under a virtual one:
    `xvfb-run -a capture record URL --thread T`), or attaches with --cdp to a browser the
    person already runs. Closing the last tab (attached: every recorded tab) or the browser,
    Ctrl+C, or `capture record --stop` ends the recording: the captures are flushed, the task
    file written and a summary printed. What is typed into password and other redacted fields
    becomes a ${SECRET_n} variable of the task; the value itself is never stored, written or
    printed.
    """
    from capture.live._control import registered, stop_recordings

    if stop:
        for stopped in stop_recordings(thread=thread):
            written = f", task file {stopped.out}" if stopped.out else ""
            typer.echo(f"stopped recording {stopped.pid} (thread {stopped.thread!r}{written})")
        return
    if thread is None:
        raise UsageError("--thread is required to record (or use --stop)")
    if out is not None and out.exists() and not force:
        raise UsageError(f"--out {out} exists: name another file, or give --force to replace it")
    config = door_config(config_file, server=server, token=token, **{"browser.cdp_url": cdp})
    check_thread(thread, config)
    if not config.browser.cdp_url and _no_display():
        raise LiveError(
            "no display to show the browser on: run `xvfb-run -a capture record ...`, "
            "or attach to a running browser with --cdp"
        )
    with registered(thread, out):
        asyncio.run(_record(config, url, thread, out, name, store=store_choice(server)))


def _no_display() -> bool:
    """Linux without X11 or Wayland: a headed browser cannot start (macOS/Windows always can)."""
    return sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


async def _record(
    config: Config,
    url: str | None,
    thread: str,
    out: Path | None,
    name: str | None,
    *,
    store: StoreChoice,
) -> None:
    from capture.live._recording import record_session

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with open_capture(
        config,
        store=store,
        say=lambda m: typer.echo(m, err=True),
        launch=True,
        headless=False,
        cdp_url=config.browser.cdp_url,
    ) as capture:
        done = await record_session(
            capture,
            thread=thread,
            stop=stop,
            url=url,
            out=out,
            name=name,
            ready=lambda live: typer.echo(
                f"recording into thread {thread!r} from {live.page.url if live.page else '-'}; "
                "stop by closing the last tab or the browser, with Ctrl+C here, or with "
                "`capture record --stop`",
                err=True,
            ),
            on_action=lambda action: typer.echo(f"  {action.text}", err=True),
        )
    embedded = config.store if capture.base_url != config.session.server else None
    for line in done.report(thread, capture.base_url, embedded=embedded):
        typer.echo(line)
