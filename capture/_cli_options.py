"""Options and helpers every `capture` command shares, below all command modules.

`capture/cli.py` imports the command modules and the command modules import this one, so
imports run one way (cli → commands → options). Every front door, the pytest plugin
included, loads its config through the entry's `door_config`, which calls `config_from`:
the plugin's `--capture-server/--capture-token/--capture-config` override the same keys as
`--server/--token/--config` here.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from capture.config import Config, load_config
from capture.errors import ConfigError, UsageError

__all__ = [
    "ConfigOption",
    "ConnectOption",
    "ServerOption",
    "TokenOption",
    "config_from",
    "fail",
]

SERVER_HELP = "Session store base URL [config: session.server]"
TOKEN_HELP = "Bearer token for the store [config: session.token, env CAPTURE_TOKEN]"
CONFIG_HELP = "Config file [default: ./playwright.config.toml, env CAPTURE_CONFIG]"
CONNECT_HELP = (
    "Use a Playwright browser server (ws://host:port/, `playwright run-server`) instead of "
    "launching a browser [config: browser.connect_url]"
)

ServerOption = Annotated[str | None, typer.Option("--server", metavar="URL", help=SERVER_HELP)]
TokenOption = Annotated[str | None, typer.Option("--token", metavar="TOKEN", help=TOKEN_HELP)]
ConfigOption = Annotated[str | None, typer.Option("--config", metavar="FILE", help=CONFIG_HELP)]
ConnectOption = Annotated[
    str | None, typer.Option("--connect", metavar="WS_URL", help=CONNECT_HELP)
]


def config_from(config_file: str | None, **overrides: Any) -> Config:
    """Load the config with dotted CLI overrides (None means 'not given on the command line').

    A bad value that came from an option (`--port 99999`) is bad usage, exit 2; a bad value
    in the file or the environment stays a config error.
    """
    try:
        return load_config(config_file, overrides=overrides)
    except ConfigError as exc:
        if exc.command_line:
            raise UsageError(str(exc)) from exc
        raise


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one error line and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)
