"""Serving the demo shop on 127.0.0.1 from a thread.

The standard library's threaded HTTP server is enough for a demo and, unlike an ASGI app, runs
beside any caller: a sync CLI command, an asyncio runner, or a pytest fixture, without touching
their event loop. State lives in memory per server, keyed by a cookie, so two test runs on two
servers never share a cart. An optional latency delays every response (each connection has
its own thread, so delays overlap as they would on a real server), to model a remote shop in
benchmarks.
"""

from __future__ import annotations

import email.parser
import email.policy
import hmac
import itertools
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from capture.demo_site import _pages as pages
from capture.errors import CaptureError

__all__ = ["DEMO_PASSWORD", "DEMO_USER", "DemoSite", "serve_demo_site"]

DEMO_USER = "demo"
# The demo account's password. It is deliberately not in the example task file: the task
# declares it as a secret variable, and scripts/demo.py supplies it, as a real run would.
DEMO_PASSWORD = "correct-horse-battery"
_STATIC = Path(__file__).resolve().parent / "static"
_COOKIE = "shop_sid"


class _ShopServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], latency: float) -> None:
        super().__init__(address, _Handler)
        self.latency = latency
        self.visitors: dict[str, pages.Visitor] = {}
        self.order_numbers = itertools.count(1001)
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that drops a kept-alive connection (a reset, a broken pipe) is how
        HTTP goes, not an error; anything else still prints its traceback."""
        if not isinstance(sys.exception(), ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _ShopServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the demo's output is the run, not an access log."""

    # -- plumbing ------------------------------------------------------------------------

    def _visitor(self) -> tuple[str, pages.Visitor, bool]:
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        sid = cookie[_COOKIE].value if _COOKIE in cookie else ""
        with self.server.lock:
            if sid in self.server.visitors:
                return sid, self.server.visitors[sid], False
            sid = secrets.token_urlsafe(16)
            visitor = self.server.visitors[sid] = pages.Visitor()
            return sid, visitor, True

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        if self.server.latency:
            time.sleep(self.server.latency)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    @staticmethod
    def _cookie(sid: str, new: bool) -> dict[str, str]:
        """The session cookie header, for a visitor seen for the first time."""
        return {"Set-Cookie": f"{_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax"} if new else {}

    def _page(self, html: str, sid: str, new: bool, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(status, html.encode(), headers=self._cookie(sid, new))

    def _redirect(self, location: str, sid: str, new: bool) -> None:
        headers = {"Location": location, **self._cookie(sid, new)}
        self._send(HTTPStatus.SEE_OTHER, b"", headers=headers)

    def _form(self) -> tuple[dict[str, str], dict[str, str]]:
        """Fields and uploaded file names of a urlencoded or multipart POST body."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        kind = self.headers.get("Content-Type", "")
        if not kind.startswith("multipart/form-data"):
            fields = parse_qs(raw.decode(), keep_blank_values=True)
            return {k: v[0] for k, v in fields.items()}, {}
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {kind}\r\n\r\n".encode() + raw
        )
        values: dict[str, str] = {}
        files: dict[str, str] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            if not isinstance(name, str):
                continue
            if filename:
                files[name] = filename
            elif filename is None:
                payload = part.get_payload(decode=True)
                values[name] = payload.decode() if isinstance(payload, bytes) else ""
        return values, files

    # -- routes --------------------------------------------------------------------------

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path.startswith("/static/"):
            self._static(url.path.removeprefix("/static/"))
            return
        sid, visitor, new = self._visitor()
        path = url.path.rstrip("/") or "/"
        if path == "/":
            self._page(pages.home_page(visitor), sid, new)
        elif path == "/search":
            self._page(pages.search_page(visitor, query.get("q", "")), sid, new)
        elif path.startswith("/product/") and (p := pages.PRODUCTS.get(path.split("/")[2])):
            self._page(pages.product_page(visitor, p, added="added" in query), sid, new)
        elif path == "/cart":
            self._page(pages.cart_page(visitor), sid, new)
        elif path == "/size-guide":
            self._page(pages.size_guide_page(visitor), sid, new)
        elif path == "/login":
            self._page(pages.login_page(visitor, query.get("next", "/")), sid, new)
        elif path == "/logout":
            visitor.user = None
            self._redirect("/", sid, new)
        elif path == "/checkout":
            if visitor.user is None:
                self._redirect("/login?next=/checkout", sid, new)
            else:
                self._page(pages.checkout_page(visitor), sid, new)
        else:
            self._page(pages.not_found_page(visitor), sid, new, HTTPStatus.NOT_FOUND)

    def do_POST(self) -> None:
        sid, visitor, new = self._visitor()
        fields, files = self._form()
        path = urlsplit(self.path).path
        if path == "/cart/add" and (product := pages.PRODUCTS.get(fields.get("slug", ""))):
            qty = max(1, min(9, int(fields.get("qty") or 1)))
            key = (product.slug, fields.get("size", "m"))
            visitor.cart[key] = visitor.cart.get(key, 0) + qty
            self._redirect(f"/product/{product.slug}?added=1", sid, new)
        elif path == "/login":
            user_ok = hmac.compare_digest(fields.get("username", ""), DEMO_USER)
            pass_ok = hmac.compare_digest(fields.get("password", ""), DEMO_PASSWORD)
            next_url = fields.get("next", "/")
            if user_ok and pass_ok:
                visitor.user = DEMO_USER
                self._redirect(next_url if next_url.startswith("/") else "/", sid, new)
            else:
                error = "Wrong username or password."
                self._page(pages.login_page(visitor, next_url, error), sid, new)
        elif path == "/checkout" and visitor.user is not None:
            self._checkout(visitor, fields, files, sid, new)
        else:
            self._page(pages.not_found_page(visitor), sid, new, HTTPStatus.NOT_FOUND)

    def _checkout(
        self,
        visitor: pages.Visitor,
        fields: dict[str, str],
        files: dict[str, str],
        sid: str,
        new: bool,
    ) -> None:
        missing = [k for k in ("fullname", "address", "card") if not fields.get(k, "").strip()]
        if not visitor.cart:
            error = "Your cart is empty."
        elif missing:
            error = f"Please fill in: {', '.join(missing)}."
        elif "terms" not in fields:
            error = "Please accept the terms."
        else:
            with self.server.lock:
                number = next(self.server.order_numbers)
            visitor.cart.clear()
            extras = [
                f"Gift card image: {files['giftcard']}." if "giftcard" in files else "",
                "Newsletter: yes." if "newsletter" in fields else "Newsletter: no.",
            ]
            html = pages.order_page(
                visitor,
                number,
                fields["fullname"],
                fields.get("shipping", "standard"),
                " ".join(e for e in extras if e),
            )
            self._page(html, sid, new)
            return
        self._page(pages.checkout_page(visitor, error), sid, new)

    def _static(self, name: str) -> None:
        file = (_STATIC / name).resolve()
        if file.parent != _STATIC or not file.is_file():
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
            return
        self._send(HTTPStatus.OK, file.read_bytes(), "text/css; charset=utf-8")


class DemoSite:
    """A running demo shop: `url` is its base URL (`http://127.0.0.1:PORT`); every response
    waits `latency` first."""

    def __init__(self, port: int = 0, *, latency: timedelta = timedelta(0)) -> None:
        try:
            self._server = _ShopServer(("127.0.0.1", port), latency.total_seconds())
        except OSError as exc:
            reason = exc.strerror or exc
            raise CaptureError(f"cannot serve the demo shop on 127.0.0.1:{port}: {reason}") from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="demo-shop", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> DemoSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (`capture demo`)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()


@contextmanager
def serve_demo_site(port: int = 0, *, latency: timedelta = timedelta(0)) -> Iterator[DemoSite]:
    """The demo shop on 127.0.0.1 (port 0: a free one) for the duration of the block."""
    site = DemoSite(port, latency=latency).start()
    try:
        yield site
    finally:
        site.stop()
