"""Printing results: JSON on a pipe (for scripts and agents), readable tables on a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["count", "emit", "table"]


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    """A rich table; title and cells are plain text (markup in stored data stays inert)."""
    out = Table(title=Text(title), show_lines=False)
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*row)
    return out


def emit(data: Any, human: Table | None = None, *, force_json: bool = False) -> None:
    """Print `data` as JSON unless stdout is a terminal and a human rendering was given."""
    if human is not None and sys.stdout.isatty() and not force_json:
        Console(highlight=False).print(human, markup=False)
    else:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def count(number: int, noun: str) -> str:
    """`1 capture`, `2 captures`, `0 captures`: a number with its noun in the right form."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
