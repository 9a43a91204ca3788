"""How `capture` commands print their help: click's conventions, which typer's defaults
lose.

Usage lines name arguments in capitals (`capture run [OPTIONS] TASK_FILE`, optional ones in
brackets) rather than typer's `{task_file}`, and a group's list of commands shows each
command's whole first paragraph rather than cutting it at a width with `...`. The `capture`
command itself is a `LazyGroup` (with `root`, the `--version` option), which lists its
commands by what they are for and imports a command's module only when that command runs
or help lists it, so `capture values get` starts without loading the browser driver, the
MCP SDK and the server (most of a second, paid by every command and every script that calls
one).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Annotated, Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandInfo, TyperInfo

from capture._version import __version__

__all__ = ["Command", "Group", "LazyGroup", "root"]


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


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands by name, each built from `"module:attribute"` (a command function
    or a `typer.Typer` group) on first use; click and typer read it as their `commands`."""

    def __init__(self, table: dict[str, str]) -> None:
        self._table = table
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = _build(name, self._table[name])
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._table[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter({**self._table, **self._built})

    def __len__(self) -> int:
        return len({**self._table, **self._built})


def _build(name: str, where: str) -> Any:
    module, _, attribute = where.partition(":")
    target = getattr(importlib.import_module(module), attribute)
    # Plain help text: "[config: session.server]" in an option's help is text, not markup.
    modes: dict[str, Any] = {"pretty_exceptions_short": True, "rich_markup_mode": None}
    if isinstance(target, typer.Typer):
        for info in target.registered_commands:
            info.cls = Command
        group = TyperInfo(target, name=name, cls=Group)
        return typer.main.get_group_from_info(group, suggest_commands=True, **modes)
    return typer.main.get_command_from_info(
        CommandInfo(name=name, callback=target, cls=Command), **modes
    )


class LazyGroup(Group):
    """A group whose commands are listed under `sections` (title → name →
    `"module:attribute"`) and built from their modules on first use."""

    sections: ClassVar[dict[str, dict[str, str]]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(
            {name: where for table in self.sections.values() for name, where in table.items()}
        )

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """Each section's commands under its title, the descriptions in one column."""
        width = max(len(name) for table in self.sections.values() for name in table)
        for title, table in self.sections.items():
            rows = [(name.ljust(width), self.commands[name].get_short_help_str()) for name in table]
            with formatter.section(title):
                formatter.write_dl(rows)


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
