"""The docs are checked: every CLI command and every config key is documented."""

from __future__ import annotations

from pathlib import Path

import click
import typer.main

from capture.cli import app
from capture.config import Config

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _command_paths(command: click.Command, prefix: str = "capture") -> list[str]:
    paths = [prefix]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            paths.extend(_command_paths(sub, f"{prefix} {name}"))
    return paths


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    root = typer.main.get_command(app)
    missing = [path for path in _command_paths(root)[1:] if f"`{path}" not in text]
    assert not missing, f"undocumented in docs/cli.md: {missing}"


def test_every_cli_option_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    root = typer.main.get_command(app)
    missing = []
    assert isinstance(root, click.Group)
    stack: list[click.Command] = [root]
    while stack:
        command = stack.pop()
        if isinstance(command, click.Group):
            stack.extend(command.commands.values())
            continue
        for param in command.params:
            if isinstance(param, click.Option):
                for opt in param.opts:
                    if opt.startswith("--") and opt != "--help" and f"`{opt}" not in text:
                        missing.append(f"{command.name} {opt}")
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
