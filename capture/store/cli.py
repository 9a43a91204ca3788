"""`capture serve`: the embedded session store, in the foreground, until Ctrl+C."""

from __future__ import annotations

from typing import Annotated

import typer

from capture._cli_options import ConfigOption, config_from
from capture.config import StoreConfig
from capture.store._base import Store
from capture.store._factory import legacy_store_note
from capture.store._serve import check_exposure
from capture.store._workers import serve_foreground

__all__ = ["serve"]

_DEFAULTS = StoreConfig()  # what applies when neither a flag nor the config sets a value


def serve(
    host: Annotated[
        str | None,
        typer.Option(
            "--host", help=f"Address to listen on [default: {_DEFAULTS.host}; config: store.host]"
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            help=f"Port, 0 for any free one [default: {_DEFAULTS.port}; config: store.port]",
        ),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="memory://, sqlite:///path.db, redis://host:port/db or redis+cluster://host:port"
            f" [default: {_DEFAULTS.url}; config: store.url]",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="Require this token [config: store.token, env CAPTURE_TOKEN]"),
    ] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Allow a non-loopback address without a token")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Server processes sharing the port, 0 for one per core; sqlite or redis only"
            f" [default: {_DEFAULTS.workers}; config: store.workers]",
        ),
    ] = None,
    config_file: ConfigOption = None,
) -> None:
    """Run the embedded session store (the Distri Session Store API under /api/v1 and /v1)."""

    overrides = {
        "store.host": host,
        "store.port": port,
        "store.url": store,
        "store.token": token,
        "store.workers": workers,
    }
    cfg = config_from(config_file, **overrides).store
    check_exposure(cfg.host, cfg.token, insecure=insecure)

    def announce(base_url: str, opened: Store) -> None:
        typer.echo(f"capture store listening on {base_url} (also /v1; /healthz, /openapi.json)")
        typer.echo(f"data: {opened.describe()}")
        typer.echo(f"viewer: {base_url.removesuffix('/api/v1')}/")
        if note := legacy_store_note(cfg.url):
            typer.echo(note, err=True)

    serve_foreground(cfg, announce=announce)
