"""The `capture` command: it only names the commands, each of which lives in the package it
commands (`serve` in `store/`, `run` in `tasks/`, `record` in `live/`, ...) and is imported
when it runs (`LazyGroup`, capture/_cli_help.py).

A `CaptureError` (or a `ValueError` from bad input) becomes one line on stderr and exit code 1;
usage mistakes exit 2 (click's convention): click's own, and capture's `UsageError` (a bad
option value, a thread id the store would refuse). No traceback for user mistakes.
"""

from __future__ import annotations

import sys

import typer

from capture._cli_help import LazyGroup, root
from capture.errors import CaptureError

__all__ = ["COMMANDS", "SECTIONS", "app", "main"]

# What `capture --help` lists, by what the commands are for: name → the module and the
# command function (or typer group) in it. Every command and group prints click-style usage
# lines and its whole description (capture/_cli_help.py).
SECTIONS = {
    "Do (a browser, every step captured)": {
        "run": "capture.tasks.cli:run",
        "record": "capture.live.cli:record",
        "snap": "capture.entry.cli:snap",
        "mcp": "capture.mcp.cli:mcp",
        "schema": "capture.tasks.cli:schema",
    },
    "Look (the store and its viewer)": {
        "serve": "capture.store.cli:serve",
    },
    "Read (a thread's parts and values)": {
        "agent-context": "capture.agent.cli:agent_context",
        "sessions": "capture.shell.cli:sessions",
        "parts": "capture.shell.cli:parts_app",
        "values": "capture.shell.cli:values_app",
    },
    "Try (the demo shop)": {
        "demo": "capture.demo_site.cli:demo",
    },
}
COMMANDS = {name: where for table in SECTIONS.values() for name, where in table.items()}


class _Commands(LazyGroup):
    sections = SECTIONS


app = typer.Typer(
    name="capture",
    help="Screenshots and page-state observations of every browser step, stored as Distri "
    "session user parts so the next agent iteration sees the page as it is now.",
    cls=_Commands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help text: "[config: session.server]" in an option's help is text, not markup.
    rich_markup_mode=None,
)
app.callback()(root)


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
