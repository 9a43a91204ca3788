"""The docs are checked: every CLI command and every config key is documented."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main

from capture.cli import app
from capture.config import Config

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _walk(command: Any, prefix: str = "capture") -> Iterator[tuple[str, Any]]:
    """(path, command) for the command and every subcommand (typer vendors click's types)."""
    yield prefix, command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _walk(sub, f"{prefix} {name}")


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    paths = [path for path, _ in _walk(typer.main.get_command(app))][1:]
    assert {"capture values set", "capture parts image", "capture sessions"} <= set(paths)
    missing = [path for path in paths if f"`{path}" not in text]
    assert not missing, f"undocumented in docs/cli.md: {missing}"


def test_every_cli_option_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    missing = []
    for path, command in _walk(typer.main.get_command(app)):
        for param in command.params:
            if param.param_type_name != "option":
                continue
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help" and f"`{opt}" not in text:
                    missing.append(f"{path} {opt}")
    assert not missing, f"options undocumented in docs/cli.md: {sorted(set(missing))}"


def test_every_config_key_is_documented() -> None:
    text = (DOCS / "config.md").read_text()
    missing = []
    for section, field in Config.model_fields.items():
        assert field.annotation is not None
        if f"`[{section}]`" not in text:
            missing.append(f"[{section}]")
        for key in field.annotation.model_fields:
            if f"| `{key}` |" not in text:
                missing.append(f"{section}.{key}")
    assert not missing, f"undocumented in docs/config.md: {missing}"
