"""Running the app on uvicorn: `serve` in this process (`capture serve`; `_workers` runs it
in worker processes) or embedded in a running event loop (`serve_in_background`, the store
`open_capture` starts when no store answers)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator, Callable, Generator

import uvicorn

from capture.config import StoreConfig
from capture.errors import ConfigError, StorageError
from capture.store._app import create_app
from capture.store._base import Clock, Store, utc_now
from capture.store._factory import store_from_url

__all__ = [
    "StoreServer",
    "bind_socket",
    "check_exposure",
    "listen_url",
    "serve",
    "serve_in_background",
    "store_for",
]

Announce = Callable[[str, Store], None]


def store_for(cfg: StoreConfig, *, clock: Clock = utc_now) -> Store:
    """The (unopened) store a `[store]` config section names."""
    return store_from_url(
        cfg.url, clock=clock, history_versions=cfg.history_versions, history_age=cfg.history_age
    )


def check_exposure(host: str, token: str, *, insecure: bool) -> None:
    """Refuse to serve a non-loopback address without a token, unless told `insecure`.

    Anyone who can reach the port could read every screenshot and observation.
    """
    if token or insecure or host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost: assume it is reachable
        loopback = False
    if not loopback:
        raise ConfigError(
            f"refusing to listen on {host} without a token: anyone who can reach it could read "
            "every capture; set --token (or CAPTURE_TOKEN), or pass --insecure"
        )


def bind_socket(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every two-write response waits out a 40 ms delayed ACK.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StorageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


class StoreServer(uvicorn.Server):
    """A uvicorn server for one store; `embedded=True` leaves signal handling to the host."""

    def __init__(
        self, cfg: StoreConfig, store: Store, *, host: str, port: int, embedded: bool
    ) -> None:
        app = create_app(
            store,
            token=cfg.token or None,
            max_body_bytes=cfg.max_body_bytes,
            max_key_length=cfg.max_key_length,
            max_thread_id_length=cfg.max_thread_id_length,
            body_timeout=cfg.body_timeout,
            sweep_interval=cfg.sweep_interval,
        )
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="on", access_log=False
        )
        super().__init__(config)
        self.store = store
        self.embedded = embedded
        self.port = port  # the bound port once started (the real one when asked for 0)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if self.embedded:
            yield
        else:
            with super().capture_signals():
                yield

    async def start(self, sock: socket.socket | None = None) -> asyncio.Task[None]:
        """Run `serve()` as a task and return it once the server listens.

        The socket is bound (unless given, as a worker gets its parent's) and the store opened
        here first, so a busy port or an unusable store is a clear `StorageError` (uvicorn
        itself would `sys.exit` from inside the loop).
        """
        sock = sock or bind_socket(self.config.host, self.config.port)
        self.port = int(sock.getsockname()[1])
        try:
            await self.store.open()
        except BaseException:
            sock.close()
            raise
        task = asyncio.create_task(self.serve(sockets=[sock]))
        while not self.started:
            if task.done():
                await self.store.close()
                task.result()  # re-raises what stopped it
                raise StorageError("the store server stopped during startup")
            await asyncio.sleep(0.01)
        return task


def listen_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/api/v1" if ":" in host else f"http://{host}:{port}/api/v1"


async def serve(
    cfg: StoreConfig, *, announce: Announce | None = None, sock: socket.socket | None = None
) -> None:
    """Serve `cfg` in this process until SIGINT/SIGTERM; `announce(base_url, store)` runs
    once listening. `sock`: an already bound socket (a worker's, shared with its siblings)."""
    server = StoreServer(cfg, store_for(cfg), host=cfg.host, port=cfg.port, embedded=False)
    task = await server.start(sock)
    if announce is not None:
        announce(listen_url(cfg.host, server.port), server.store)
    await task


@contextlib.asynccontextmanager
async def serve_in_background(
    store_cfg: StoreConfig, *, port: int | None = None, store: Store | None = None
) -> AsyncIterator[str]:
    """Run the store on 127.0.0.1 inside the current event loop; yield its base URL.

    `port` defaults to the configured one; 0 picks a free port. `store` defaults to the one
    `store_cfg` names (pass it when the caller also wants to `describe()` it). The server
    stops (and the store closes) when the block exits.
    """
    chosen = store_cfg.port if port is None else port
    store = store if store is not None else store_for(store_cfg)
    server = StoreServer(store_cfg, store, host="127.0.0.1", port=chosen, embedded=True)
    task = await server.start()
    try:
        yield listen_url("127.0.0.1", server.port)
    finally:
        server.should_exit = True
        await task
