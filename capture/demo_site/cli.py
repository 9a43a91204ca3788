"""`capture demo`: the bundled demo shop on 127.0.0.1, for examples/shop.yaml."""

from __future__ import annotations

from typing import Annotated

import typer

from capture.config import parse_duration
from capture.demo_site._server import DEMO_PASSWORD, DEMO_USER, DemoSite

__all__ = ["demo"]


def demo(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1, 0 for any")
    ] = 8800,
    latency: Annotated[
        str,
        typer.Option(
            "--latency",
            help="Delay every response this long (e.g. 150ms), to model a remote shop",
        ),
    ] = "0",
) -> None:
    """Serve the bundled demo shop on 127.0.0.1 until Ctrl+C (for examples/shop.yaml)."""
    try:
        delay = parse_duration(latency)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--latency") from None
    site = DemoSite(port, latency=delay)
    typer.echo(f"demo shop: {site.url}/")
    typer.echo(f"sign in as {DEMO_USER} / {DEMO_PASSWORD}")
    typer.echo(
        f"run the example: SHOP_PASSWORD={DEMO_PASSWORD} capture run examples/shop.yaml "
        f"--var SHOP_URL={site.url}"
    )
    if delay:
        typer.echo(f"every response waits {delay.total_seconds() * 1000:.0f} ms (--latency)")
    typer.echo("Ctrl+C stops it.")
    site.serve_forever()
