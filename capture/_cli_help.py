"""How `capture` commands print their help: click's conventions, which typer's defaults
lose.

Usage lines name arguments in capitals (`capture run [OPTIONS] TASK_FILE`, optional ones in
brackets) rather than typer's `{task_file}`, and a group's list of commands shows each
command's whole first paragraph rather than cutting it at a width with `...`. `cli.py`
gives every command and group these classes when it registers them, and `root` (the
`--version` option) to the `capture` command itself.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from capture._version import __version__

__all__ = ["Command", "Group", "root"]


def _summary(help_text: str | None) -> str:
    """The first paragraph of a docstring, on one line."""
    return " ".join((help_text or "").strip().split("\n\n")[0].split())


def _no_type(ctx: Any) -> None:
    return None


class Command(TyperCommand):
    """A command whose arguments and option values read `NAME` in its usage line and help
    (`--thread THREAD`), unless the option names its own (`--var NAME=VALUE`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.metavar is None and param.name and not getattr(param, "is_flag", False):
                longest = max(param.opts, key=len).lstrip("-")  # `--max-edge` → MAX_EDGE
                param.metavar = longest.replace("-", "_").upper()
            if param.param_type_name == "argument" and param.nargs != 1:
                # `TASK_FILE...` says it repeats; typer would add `<list[str]>` after it.
                param.display_type_rich = _no_type  # type: ignore[attr-defined]

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = param.metavar or (param.name or "").upper()
                name = name if param.required else f"[{name}]"
                pieces.append(name if param.nargs == 1 else f"{name}...")
        return pieces

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.short_help or _summary(self.help)


class Group(TyperGroup):
    """A group of commands (`capture values`, `capture parts`) listed with its whole
    description."""

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.short_help or _summary(self.help)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"capture {__version__}")
        raise typer.Exit()


def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit"
        ),
    ] = False,
) -> None:
    """The `capture` command's own options (before a command)."""
