"""The `capture` command: it only registers the commands, each of which lives in the package
it commands (`serve` in `store/`, `run` in `tasks/`, `record` in `live/`, ...).

A `CaptureError` (or a `ValueError` from bad input) becomes one line on stderr and exit code 1;
usage mistakes exit 2 (click's convention): click's own, and capture's `UsageError` (a bad
option value, a thread id the store would refuse). No traceback for user mistakes.
"""

from __future__ import annotations

import sys

import typer

from capture._cli_help import Command, Group, root
from capture.agent.cli import agent_context
from capture.demo_site.cli import demo
from capture.entry.cli import snap
from capture.errors import CaptureError
from capture.live.cli import record
from capture.mcp.cli import mcp
from capture.session.cli import parts_app, sessions, values_app
from capture.store.cli import serve
from capture.tasks.cli import run, schema

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
    reaches us are capture's own errors and bad values, which get one line and the error's
    exit code (2 for a `UsageError`, else 1).
    """
    try:
        app(prog_name="capture")  # not "python -m ...", whatever started us
    except CaptureError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


# In the order `capture --help` lists them; every command and group prints click-style
# usage lines and its whole description (capture/_cli_help.py).
app.callback()(root)
app.command("serve", cls=Command)(serve)
app.add_typer(values_app, name="values", cls=Group)
app.add_typer(parts_app, name="parts", cls=Group)
app.command("sessions", cls=Command)(sessions)
app.command("agent-context", cls=Command)(agent_context)
app.command("run", cls=Command)(run)
app.command("schema", cls=Command)(schema)
app.command("demo", cls=Command)(demo)
app.command("record", cls=Command)(record)
app.command("snap", cls=Command)(snap)
app.command("mcp", cls=Command)(mcp)
for group in (values_app, parts_app):
    for info in group.registered_commands:
        info.cls = Command
