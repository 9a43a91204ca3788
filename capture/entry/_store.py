"""Which store a capture writes into: the one named, else the configured one when it
answers, else the embedded store for as long as the capture lasts.

`capture run`, `record`, `snap`, `mcp` and the pytest plugin should just work on a fresh
machine: when nothing answers at the configured URL (and the user did not name one), the
embedded store starts in-process, on a free port, with the configured backend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from capture.config import Config
from capture.errors import AuthError, StoreUnavailableError
from capture.session import AsyncSessionClient
from capture.store import legacy_store_note, serve_in_background, store_for, viewer_root

__all__ = ["ResolvedStore", "StoreChoice", "answers", "resolve_store"]

# "fallback": the configured store when it answers, else the embedded one (the CLI default);
# "required": the configured store must answer (the user named it with --server);
# "as_is": use the configured URL without asking (the Python API: a store that is down only
# costs dropped writes, as the recorder promises).
StoreChoice = Literal["fallback", "required", "as_is"]


@dataclass(frozen=True)
class ResolvedStore:
    """Where the captures go: `base_url`, and what the embedded store said (None when a
    running store answered, so its viewer outlives the capture)."""

    base_url: str
    embedded: str | None = None


async def answers(config: Config) -> bool:
    """Whether the configured store answers (quickly, without retries).

    A store that answers but refuses the token is an `AuthError`, not a reason to start
    another store beside it.
    """
    url = config.session.server
    async with AsyncSessionClient.from_config(config.session, retries=0, timeout=2.0) as probe:
        try:
            await probe.list_sessions(limit=1)
        except AuthError as exc:
            raise AuthError(f"the store at {url} refused the token: {exc}", status=401) from exc
        except StoreUnavailableError:
            return False
    return True


@asynccontextmanager
async def resolve_store(config: Config, choice: StoreChoice) -> AsyncIterator[ResolvedStore]:
    """Yield the store to write into, per `choice`; an embedded one says where its data
    lives in `ResolvedStore.embedded`."""
    url = config.session.server
    if choice == "as_is" or await answers(config):
        yield ResolvedStore(url)
        return
    if choice == "required":
        raise StoreUnavailableError(f"no session store answers at {url}")
    store = store_for(config.store)
    async with serve_in_background(config.store, port=0, store=store) as embedded:
        said = (
            f"no session store at {url}; running the embedded store in-process "
            f"({embedded}, data: {store.describe()}; viewer: {viewer_root(embedded)}/ "
            "while this run lasts)"
        )
        note = legacy_store_note(config.store.url)
        yield ResolvedStore(embedded, f"{said}\n{note}" if note else said)
