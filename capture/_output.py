"""Printing results: JSON on a pipe (for scripts and agents), readable tables on a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["emit", "is_terminal", "table"]


def is_terminal() -> bool:
    return sys.stdout.isatty()


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    """A rich table; cells are shown as plain text (markup in stored data stays inert)."""
    out = Table(title=title, show_lines=False)
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*(cell if isinstance(cell, str) else json.dumps(cell) for cell in row))
    return out


def emit(data: Any, human: Table | str | None = None, *, force_json: bool = False) -> None:
    """Print `data` as JSON unless stdout is a terminal and a human rendering was given."""
    if human is not None and is_terminal() and not force_json:
        Console(highlight=False).print(human, markup=False)
    else:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
