"""`store_or_embedded`: a store that answers, or the embedded one for as long as it is needed.

`capture run` and `capture record` should just work on a fresh machine: when nothing answers
at the configured URL (and the user did not name one), they start the embedded store
in-process, on a free port, with the configured backend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from capture.config import Config
from capture.errors import AuthError, StoreUnavailableError
from capture.session import AsyncSessionClient
from capture.store._serve import serve_in_background, store_for

__all__ = ["answers", "store_or_embedded"]


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
async def store_or_embedded(
    config: Config, *, explicit: bool, announce: Callable[[str], None] | None = None
) -> AsyncIterator[str]:
    """Yield the base URL of a store that answers: the configured one, else an embedded one.

    `explicit` (the user named `--server`) turns "nothing answers" into an error instead.
    `announce` is told where the embedded store's data lives.
    """
    url = config.session.server
    if await answers(config):
        yield url
        return
    if explicit:
        raise StoreUnavailableError(f"no session store answers at {url}")
    store = store_for(config.store)
    async with serve_in_background(config.store, port=0, store=store) as embedded:
        if announce is not None:
            announce(
                f"no session store at {url}; running the embedded store in-process "
                f"({embedded}, data: {store.describe()})"
            )
        yield embedded
