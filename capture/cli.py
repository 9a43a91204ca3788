"""The `capture` command. Each command parses its options, builds objects, and runs them.

A `CaptureError` (or a `ValueError` from bad input) becomes one line on stderr and exit code 1;
usage mistakes exit 2 (click's convention). No traceback for user mistakes.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from capture._cli_options import ConfigOption, config_from
from capture._cli_store import parts_app, sessions, values_app
from capture.agent._cli import agent_context
from capture.errors import CaptureError
from capture.live._cli import record
from capture.mcp._cli import mcp
from capture.recorder._cli import snap
from capture.tasks._cli import demo, run, schema

__all__ = ["app", "main"]

app = typer.Typer(
    name="capture",
    help="Screenshots and page-state observations of every browser step, stored as Distri "
    "session user parts so the next agent iteration sees the page as it is now.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help text: "[config: session.server]" in an option's help is text, not markup.
    rich_markup_mode=None,
)


def main() -> None:
    """Console-script entry point: turns expected errors into one line and an exit code.

    Typer's standalone mode already prints usage errors (exit 2) and handles Ctrl+C; what
    reaches us are capture's own errors and bad values, which get one line and exit 1.
    """
    try:
        app()
    except (CaptureError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on [config: store.host]")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port, 0 for any free one [config: store.port]")
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="memory://, sqlite:///path.db, redis://host:port/db or redis+cluster://host:port"
            " [config: store.url]",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="Require this token [config: store.token, env CAPTURE_TOKEN]"),
    ] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Allow a non-loopback address without a token")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Server processes sharing the port, 0 for one per core; sqlite or redis only"
            " [config: store.workers]",
        ),
    ] = None,
    config_file: ConfigOption = None,
) -> None:
    """Run the embedded session store (the Distri Session Store API under /api/v1 and /v1)."""
    from capture.store import Store, check_exposure, serve_foreground

    overrides = {
        "store.host": host,
        "store.port": port,
        "store.url": store,
        "store.token": token,
        "store.workers": workers,
    }
    cfg = config_from(config_file, **overrides).store
    check_exposure(cfg.host, cfg.token, insecure=insecure)

    def announce(base_url: str, opened: Store) -> None:
        typer.echo(f"capture store listening on {base_url} (also /v1; /healthz, /openapi.json)")
        typer.echo(f"data: {opened.describe()}")
        typer.echo(f"viewer: {base_url.removesuffix('/api/v1')}/")

    serve_foreground(cfg, announce=announce)


# The command groups and commands of their own modules (which take the shared options from
# `_cli_options`, so imports run one way).
app.add_typer(values_app, name="values")
app.add_typer(parts_app, name="parts")
app.command("sessions")(sessions)
app.command("agent-context")(agent_context)
app.command("run")(run)
app.command("schema")(schema)
app.command("demo")(demo)
app.command("record")(record)
app.command("snap")(snap)
app.command("mcp")(mcp)
