"""`capture mcp`: the MCP server, over stdio (default) or streamable HTTP.

Parses the options, opens the store and client (a browser on the first call), and serves.
stdout belongs to the protocol in stdio mode: every message of ours goes to stderr.
"""

from __future__ import annotations

import asyncio
import re
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from capture._cli_options import ConfigOption, ServerOption, TokenOption
from capture.entry import (
    check_thread,
    default_thread,
    door_config,
    open_capture,
    store_choice,
)
from capture.errors import ConfigError
from capture.mcp._glance import ImageMode
from capture.mcp._server import create_server, serve_http, serve_stdio
from capture.mcp._state import ERROR_ROOM
from capture.mcp._tools import BrowserTools
from capture.store import check_exposure

__all__ = ["mcp", "read_dotenv"]

DEFAULT_MAX_CHARS = 16_000  # about 4k tokens
MIN_MAX_CHARS = 1_000 + ERROR_ROOM  # the recorder's smallest observation, plus an error line
MCP_TIME_BOX = timedelta(seconds=10)
_DOTENV = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def _say(message: str) -> None:
    typer.echo(f"capture mcp: {message}", err=True)


def read_dotenv(path: Path) -> dict[str, str]:
    """`NAME=value` lines (quotes optional, `#` comments, `export` allowed) as a dict."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--secrets {path}: {exc.strerror or exc}") from exc
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _DOTENV.match(line)
        if match is None:
            # Never echo the line: it may hold a secret.
            raise ConfigError(f"--secrets {path}:{number}: not a NAME=value line")
        name, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"--http {value!r}: write it as HOST:PORT, e.g. 127.0.0.1:8931")
    return host.strip("[]"), int(port)


def mcp(
    http: Annotated[
        str | None,
        typer.Option("--http", help="Serve streamable HTTP on HOST:PORT (at /mcp), not stdio"),
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    thread: Annotated[
        str | None,
        typer.Option("--thread", help="Thread to capture into [default: mcp-<date>-<time>]"),
    ] = None,
    headed: Annotated[bool, typer.Option("--headed", help="Show the browser window")] = False,
    cdp: Annotated[
        str | None,
        typer.Option(
            "--cdp", help="Attach to a running browser over CDP [config: browser.cdp_url]"
        ),
    ] = None,
    image: Annotated[
        str,
        typer.Option(
            "--image",
            help="Send a small glance of the screenshot: always, when it changed, or never",
        ),
    ] = "changed",
    max_chars: Annotated[
        int,
        typer.Option("--max-chars", help="Characters of text per response at most (~4 per token)"),
    ] = DEFAULT_MAX_CHARS,
    secrets: Annotated[
        Path | None,
        typer.Option(
            "--secrets",
            help="A dotenv file of secrets: scrubbed from every text, masked in pixels; "
            "a client types one by its NAME",
        ),
    ] = None,
    http_token: Annotated[
        str | None,
        typer.Option(
            "--http-token",
            envvar="CAPTURE_MCP_TOKEN",
            help="With --http: require this bearer token (needed off loopback)",
        ),
    ] = None,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure", help="With --http: allow a non-loopback address without a token"
        ),
    ] = False,
    config_file: ConfigOption = None,
) -> None:
    """Serve an MCP server whose browser tools (Playwright MCP's names and parameters)
    answer with capture's observation and screenshot, capturing every step into a thread.

    Add it to a client with one line, e.g. `claude mcp add capture -- capture mcp`.
    Without --server, a store at the configured URL is used when one answers; otherwise
    the embedded store runs in-process.
    """
    if image not in ("always", "changed", "never"):
        raise typer.BadParameter("choose always, changed or never", param_hint="--image")
    if max_chars < MIN_MAX_CHARS:
        raise typer.BadParameter(f"at least {MIN_MAX_CHARS}", param_hint="--max-chars")
    listen = _host_port(http) if http is not None else None
    if listen is not None:
        check_exposure(listen[0], http_token or "", insecure=insecure)
    config = door_config(
        config_file,
        server=server,
        token=token,
        **{
            "browser.headless": False if headed else None,
            "capture.observation_chars": max_chars - ERROR_ROOM,
        },
    )
    if config.capture.time_box < MCP_TIME_BOX:
        # The client waits for the answer anyway: a look without its outline is worth
        # less to it than a few more seconds on a heavy page (there is no step loop to keep
        # going, which is what the short default protects).
        config = config.model_copy(
            update={"capture": config.capture.model_copy(update={"time_box": MCP_TIME_BOX})}
        )
    named = read_dotenv(secrets) if secrets is not None else {}
    thread = check_thread(default_thread("mcp") if thread is None else thread, config)
    mode: ImageMode = image  # type: ignore[assignment]

    async def serve() -> None:
        async with open_capture(config, store=store_choice(server), say=_say) as opened:
            tools = BrowserTools(
                opened, thread, image=mode, max_chars=max_chars, secrets=named, cdp_url=cdp
            )
            app = create_server(tools, opened.client)
            where = f"http://{listen[0]}:{listen[1]}/mcp" if listen else "stdio"
            _say(f"serving on {where}; capturing into thread {thread!r} at {opened.base_url}")
            try:
                if listen is None:
                    await serve_stdio(app)
                else:
                    await serve_http(app, listen[0], listen[1], http_token)
            finally:
                await tools.close()

    with suppress(KeyboardInterrupt):
        asyncio.run(serve())
