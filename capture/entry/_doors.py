"""The front-door rules, decided once: the config a door runs with, which store it writes
into, and which thread ids it takes.

Every door (`capture run`, `record`, `snap`, `mcp`, `agent-context`, the pytest plugin and
its task items) calls these instead of restating them, so a bad option, a bad config file, a
store that must answer and a thread id the store would refuse read the same from each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from capture._cli_options import config_from
from capture.config import Config
from capture.entry._store import StoreChoice
from capture.session import check_thread_id

__all__ = ["check_thread", "default_thread", "door_config", "store_choice"]


def door_config(
    config_file: str | None, *, server: str | None, token: str | None, **overrides: Any
) -> Config:
    """The config a door runs with: the file (or the default one), then the door's
    `--server` and `--token`, then its own dotted `overrides` (None: not given).

    A bad value from an option is a `UsageError`, one from the file or the environment a
    `ConfigError` naming the key and where it came from (`config_from`).
    """
    return config_from(
        config_file, **{"session.server": server, "session.token": token, **overrides}
    )


def store_choice(named: str | None) -> StoreChoice:
    """The one store rule: a store the door was given by name (`--server`,
    `--capture-server`, the plugin's own) must answer; otherwise the configured store when it
    answers, else the embedded one (`resolve_store` says which in one line)."""
    return "fallback" if named is None else "required"


def check_thread(thread: str, config: Config, *, source: str = "--thread") -> str:
    """`thread` when the configured store would take it, else a `UsageError` naming where it
    came from (`source`), raised before anything starts."""
    return check_thread_id(thread, config.store.max_thread_id_length, source=source)


def default_thread(door: str) -> str:
    """The thread a door captures into when none is named: `<door>-<date>-<time>`, new for
    each start, so two runs never mix their steps."""
    return datetime.now().strftime(f"{door}-%Y%m%d-%H%M%S")
