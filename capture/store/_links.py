"""Links to the viewer that keep working: a thread's viewer page, and how to get it back
once an embedded store (which lives only as long as its run) has stopped."""

from __future__ import annotations

import shlex
from urllib.parse import quote

from capture.config import StoreConfig
from capture.store._factory import sqlite_path

__all__ = ["serve_afterwards", "viewer_root", "viewer_url"]


def viewer_root(base_url: str) -> str:
    """The store's root, where the viewer is served, from its API base URL (no `/` at the end)."""
    return base_url.rstrip("/").removesuffix("/api/v1").removesuffix("/v1")


def viewer_url(base_url: str, thread_id: str) -> str:
    """The viewer page of one thread (served at the store's root)."""
    return f"{viewer_root(base_url)}/#/thread/{quote(thread_id, safe='')}"


def _lasting_url(url: str) -> str:
    """The store URL with its SQLite path expanded and made absolute, so the command works
    from any directory."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.startswith(prefix + "/"):
        return url
    path, _, query = url[len(prefix) :].partition("?")
    return prefix + str(sqlite_path(path).resolve()) + (f"?{query}" if query else "")


def serve_afterwards(store: StoreConfig, thread_id: str) -> str:
    """One line saying how to see `thread_id` once the embedded store of a run has stopped:
    `capture serve` on the same data, and the thread's page there."""
    if store.url.startswith("memory:"):
        return "afterwards: gone (the embedded store kept its data in memory, store.url)"
    host = "127.0.0.1" if store.host in ("0.0.0.0", "::", "") else store.host
    command = f"capture serve --store {shlex.quote(_lasting_url(store.url))}"
    if not store.port:  # the configured port is "any": name one, to name the page
        command += f" --port {StoreConfig().port}"
    served = viewer_url(f"http://{host}:{store.port or StoreConfig().port}", thread_id)
    return f"afterwards: {command}  then open {served}"
