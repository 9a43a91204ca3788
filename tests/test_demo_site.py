"""The bundled demo shop over real HTTP: the flows examples/shop.yaml relies on, and the
`capture demo` command that serves it."""

from __future__ import annotations

import contextlib
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO

import httpx
import pytest

from capture.demo_site import DEMO_PASSWORD, DEMO_USER, PRODUCTS, DemoSite, serve_demo_site
from capture.errors import CaptureError
from tests.conftest import CAPTURE, clean_env, run_command, wait_until


@pytest.fixture
def http(shop: DemoSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shop.url, follow_redirects=True) as client:
        yield client


def test_search_finds_by_name_and_category_and_escapes_the_query(http: httpx.Client) -> None:
    page = http.get("/search", params={"q": "mug"}).text
    mugs = [p for p in PRODUCTS.values() if "mug" in f"{p.name} {p.category} {p.blurb}".lower()]
    assert f"{len(mugs)} results for “mug”" in page
    assert all(p.name in page for p in mugs)
    hostile = http.get("/search", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert(1)</script>" not in hostile
    assert "&lt;script&gt;" in hostile


def test_cart_login_and_checkout(http: httpx.Client) -> None:
    added = http.post("/cart/add", data={"slug": "blue-mug", "qty": "2", "size": "l"})
    assert added.url.path == "/product/blue-mug"
    assert "Added Blue Mug to your cart." in added.text
    assert 'data-testid="cart-count">2<' in added.text
    assert http.get("/checkout").url.path == "/login"  # checkout is behind the login
    wrong = http.post("/login", data={"username": DEMO_USER, "password": "nope"})
    assert "Wrong username or password." in wrong.text
    signed_in = http.post(
        "/login", data={"username": DEMO_USER, "password": DEMO_PASSWORD, "next": "/checkout"}
    )
    assert signed_in.url.path == "/checkout"
    assert "$24.00" in signed_in.text
    form = {"fullname": "Ada", "address": "1 Way", "card": "4242", "shipping": "express"}
    refused = http.post("/checkout", data=form)
    assert "Please accept the terms." in refused.text
    placed = http.post(
        "/checkout",
        data={**form, "terms": "on"},
        files={"giftcard": ("card.txt", b"hello", "text/plain")},
    )
    assert "Thank you, Ada!" in placed.text
    assert "(express shipping)" in placed.text
    assert "Gift card image: card.txt. Newsletter: no." in placed.text
    assert 'data-testid="cart-count">0<' in placed.text


def test_visitors_do_not_share_carts(shop: DemoSite) -> None:
    with httpx.Client(base_url=shop.url, follow_redirects=True) as first:
        first.post("/cart/add", data={"slug": "red-mug"})
    with httpx.Client(base_url=shop.url) as second:
        assert "Your cart is empty." in second.get("/cart").text


def test_static_files_and_unknown_paths(http: httpx.Client) -> None:
    assert http.get("/static/shop.css").headers["content-type"].startswith("text/css")
    assert http.get("/static/../_server.py").status_code == 404
    assert http.get("/product/unicorn").status_code == 404


def test_latency_delays_every_response() -> None:
    with (
        serve_demo_site(latency=timedelta(milliseconds=200)) as site,
        httpx.Client(base_url=site.url) as http,
    ):
        for path in ("/", "/static/shop.css", "/nowhere"):
            began = time.monotonic()
            http.get(path)
            assert time.monotonic() - began >= 0.2, path
        began = time.monotonic()
        redirected = http.post("/cart/add", data={"slug": "red-mug"})
        assert redirected.status_code == 303
        assert time.monotonic() - began >= 0.2


def test_a_connection_the_browser_resets_prints_nothing(
    shop: DemoSite, capfd: pytest.CaptureFixture[str]
) -> None:
    """Chromium resets kept-alive connections it no longer needs; `capture demo` printed a
    ConnectionResetError traceback for each."""
    port = int(shop.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: shop\r\n\r\n")
        assert sock.recv(12) == b"HTTP/1.1 200"  # the server now waits for the next request
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    wait_until(
        lambda: not any("process_request" in t.name for t in threading.enumerate()),
        "the handler to see the reset",
    )
    assert capfd.readouterr().err == ""


def test_a_busy_port_is_a_clear_error(shop: DemoSite) -> None:
    port = int(shop.url.rsplit(":", 1)[1])
    with pytest.raises(CaptureError, match=f"cannot serve the demo shop on 127.0.0.1:{port}"):
        DemoSite(port)


@contextlib.contextmanager
def capture_demo(cwd: Path, *args: str) -> Iterator[tuple[str, IO[str]]]:
    """`capture demo --port 0 ARGS` running in `cwd`: the shop's URL, from the first line it
    prints, and its output to read on. Stopped with Ctrl-C (SIGINT) after."""
    command = [CAPTURE, "demo", "--port", "0", *args]
    with subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, text=True, env=clean_env()
    ) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            assert first.startswith("demo shop: http://127.0.0.1:")
            yield first.split(": ", 1)[1].strip().rstrip("/"), process.stdout
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)


def test_capture_demo_serves_the_shop_and_says_how_to_run_the_example(tmp_path: Path) -> None:
    with capture_demo(tmp_path) as (url, output):
        assert "Welcome to the Demo Shop" in httpx.get(url + "/").text
        lines = [output.readline() for _ in range(2)]
        assert f"capture run examples/shop.yaml --var SHOP_URL={url}" in lines[1]


def test_capture_demo_latency_delays_every_response(tmp_path: Path) -> None:
    with capture_demo(tmp_path, "--latency", "150ms") as (url, output):
        lines = [output.readline() for _ in range(3)]
        assert lines[2] == "every response waits 150 ms (--latency)\n"
        began = time.monotonic()
        assert "Welcome to the Demo Shop" in httpx.get(url + "/").text
        assert time.monotonic() - began >= 0.15


def test_capture_demo_refuses_a_latency_that_is_not_a_duration() -> None:
    done = run_command([CAPTURE, "demo", "--port", "0", "--latency", "soon"], timeout=30)
    assert done.returncode == 2
    assert "--latency" in done.stderr
    assert "'soon' is not a duration" in done.stderr
    assert "Traceback" not in done.stderr
