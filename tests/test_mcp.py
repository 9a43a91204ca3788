"""`capture mcp` driven by the official SDK's real client, over stdio and streamable HTTP.

The server runs as a real `capture mcp` subprocess with a real Chromium, capturing into a
real store server on loopback; the demo shop and the test site are served on 127.0.0.1.
Every element is reached by a ref read from the latest response, as an agent would.
"""

from __future__ import annotations

import base64
import contextlib
import re
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, ImageContent, TextContent

from capture.demo_site import DEMO_PASSWORD, DemoSite
from capture.mcp.cli import DEFAULT_MAX_CHARS
from tests.conftest import (
    CAPTURE,
    RunningStore,
    clean_env,
    dead_port,
    free_port,
    run_command,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

THREAD = "mcp-test"


def ref(text: str, role: str, name: str) -> str:
    """The ref of the element `role "name..."` in a response (the name may be a prefix)."""
    match = re.search(rf'- {role} "{re.escape(name)}[^"\n]*"[^\n]*?\[ref=([^\]]+)\]', text)
    assert match, f'no {role} "{name}" in:\n{text}'
    return match.group(1)


def form_field(
    text: str, role: str, label: str, name: str, value: str, kind: str = ""
) -> dict[str, str]:
    """One browser_fill_form field: the element `role "label"` of a response, as Playwright
    MCP's `{target, name, type, value}`; the type is the role unless `kind` says otherwise."""
    return {"target": ref(text, role, label), "name": name, "type": kind or role, "value": value}


@dataclass
class Session:
    """One MCP client session; every response is kept for the checks at the end."""

    client: Client
    responses: list[CallToolResult] = field(default_factory=list)

    async def call(self, name: str, **arguments: Any) -> str:
        result = await self.client.call_tool(name, arguments)
        self.responses.append(result)
        return text_of(result)

    async def ok(self, name: str, **arguments: Any) -> str:
        text = await self.call(name, **arguments)
        assert not self.responses[-1].is_error, text
        return text

    async def error(self, name: str, **arguments: Any) -> str:
        text = await self.call(name, **arguments)
        assert self.responses[-1].is_error, text
        return text


def text_of(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


def images_of(result: CallToolResult) -> list[ImageContent]:
    return [c for c in result.content if isinstance(c, ImageContent)]


def server_args(store: RunningStore, *extra: str) -> list[str]:
    return ["mcp", "--server", store.base_url, "--thread", THREAD, *extra]


@asynccontextmanager
async def over_stdio(
    store: RunningStore, cwd: Path, *extra: str, errlog: Any = None
) -> AsyncIterator[Session]:
    params = StdioServerParameters(
        command=CAPTURE, args=server_args(store, *extra), env=clean_env(), cwd=cwd
    )
    with contextlib.ExitStack() as stack:
        log = errlog or stack.enter_context(tempfile.TemporaryFile("w+"))
        async with Client(stdio_client(params, errlog=log)) as client:
            yield Session(client)


def stored_bytes(store: RunningStore, thread: str = THREAD) -> str:
    """Every value the thread holds now and every version in the store's history."""
    values = store.call(store.store.get_all(thread))
    out = list(values.values())
    for key in values:
        out += [entry.value_json for entry in store.call(store.store.history(thread, key, 1000))]
    return "\n".join(out)


# -- the whole checkout, by refs ----------------------------------------------------------


async def checkout(s: Session, shop: DemoSite) -> str:
    """Search, add two mugs, sign in (the password typed with browser_type), check out."""
    page = await s.ok("browser_navigate", url=f"{shop.url}/")
    page = await s.ok(
        "browser_type", target=ref(page, "searchbox", "Search"), text="mug", submit=True
    )
    assert "results for" in page
    page = await s.ok("browser_click", target=ref(page, "link", "Blue Mug"))
    page = await s.ok(
        "browser_select_option", target=ref(page, "combobox", "Size"), values=["Large"]
    )
    page = await s.ok(
        "browser_fill_form",
        fields=[form_field(page, "spinbutton", "Quantity", "Quantity", "2", "textbox")],
    )
    page = await s.ok("browser_click", target=ref(page, "button", "Add to cart"))
    assert "Added Blue Mug to your cart." in page
    page = await s.ok("browser_click", target=ref(page, "link", "Cart"))
    page = await s.ok("browser_click", target=ref(page, "link", "Proceed to checkout"))
    assert "/login" in page
    page = await s.ok("browser_type", target=ref(page, "textbox", "Username"), text="demo")
    page = await s.ok(
        "browser_type", target=ref(page, "textbox", "Password"), text=DEMO_PASSWORD, submit=True
    )
    assert "Title: Checkout" in page, page
    page = await s.ok(
        "browser_fill_form",
        fields=[
            form_field(page, "textbox", "Full name", "name", "Ada Lovelace"),
            form_field(page, "textbox", "Address", "address", "12 Analytical Way"),
            form_field(page, "combobox", "Shipping", "shipping", "express"),
            form_field(page, "textbox", "Card number", "card", "4242 4242 4242 4242"),
            form_field(page, "checkbox", "Send me the newsletter", "news", "false"),
            form_field(page, "checkbox", "I accept the terms", "terms", "true"),
        ],
    )
    page = await s.ok("browser_click", target=ref(page, "button", "Place order"))
    assert "Thank you, Ada Lovelace!" in page, page
    return page


def check_sizes(s: Session, max_chars: int) -> None:
    """Every response within the budget; a screenshot whenever the page changed."""
    for result in s.responses:
        assert len(text_of(result)) <= max_chars
    navigations = [r for r in s.responses if "# Step 1: goto" in text_of(r)]
    assert navigations
    assert images_of(navigations[0]), "the first look comes with a screenshot"
    image = images_of(navigations[0])[0]
    assert image.mime_type == "image/jpeg"
    assert base64.b64decode(image.data)[:2] == b"\xff\xd8"


def check_no_secret(s: Session, store: RunningStore, secret: str, *logs: str) -> None:
    for result in s.responses:
        assert secret not in result.model_dump_json()
    stored = stored_bytes(store)
    assert "Place order" in stored or "Thank you" in stored  # the thread holds the drive
    assert secret not in stored
    for log in logs:
        assert secret not in log


async def test_checkout_over_stdio_by_refs(
    store_server: RunningStore, shop: DemoSite, tmp_path: Path
) -> None:
    max_chars = 4000
    with tempfile.TemporaryFile("w+") as log:
        async with over_stdio(
            store_server, tmp_path, "--max-chars", str(max_chars), errlog=log
        ) as s:
            await checkout(s, shop)
            tools = await s.client.list_tools()
        log.seek(0)
        stderr = log.read()
    assert len(tools.tools) >= 20
    check_sizes(s, max_chars)
    check_no_secret(s, store_server, DEMO_PASSWORD, stderr)
    assert "with [redacted]; press Enter" in text_of(s.responses[9]).splitlines()[0]
    stored = stored_bytes(store_server)
    # Step records name the element a ref stood for, as the observation before called it.
    assert re.search(r'"action": ?"click link \\"Blue Mug\\" \(e\d+\)"', stored), stored[:2000]


async def test_secrets_file_values_never_come_back(
    store_server: RunningStore, shop: DemoSite, tmp_path: Path
) -> None:
    """A --secrets value typed by its name into a plain field (which the page echoes) is in
    no response and no stored byte."""
    secret = "s3cr3t-searchword"
    (tmp_path / "secrets.env").write_text(f"# test\nSEARCH_WORD='{secret}'\n")
    async with over_stdio(store_server, tmp_path, "--secrets", "secrets.env") as s:
        page = await s.ok("browser_navigate", url=f"{shop.url}/")
        page = await s.ok(
            "browser_type",
            target=ref(page, "searchbox", "Search"),
            text="SEARCH_WORD",
            submit=True,
        )
        assert re.search(
            r"fill searchbox \"Search\" \(e\d+\) with '\$\{SEARCH_WORD\}'; press Enter", page
        )
        # Where the page shows it (the search box, the results heading), it is a redacted
        # area: masked in the screenshot and left out of the outline.
        assert re.search(r'searchbox "Search" \[ref=e\d+\]: \[redacted\]', page), page
        assert 'heading "[redacted]"' in page
        found = await s.ok("browser_find", text="results for")
        assert "No match" in found
        await s.ok("browser_console_messages", level="debug", all=True)
        await s.ok("browser_network_requests", static=True)
    for result in s.responses:
        assert secret not in result.model_dump_json()
    assert secret not in stored_bytes(store_server)


async def test_errors_are_one_line_and_the_server_keeps_answering(
    store_server: RunningStore, site: Any, tmp_path: Path
) -> None:
    async with over_stdio(store_server, tmp_path) as s:
        page = await s.ok("browser_navigate", url=f"{site.origin}/login.html")
        stale = await s.error("browser_click", target="e999")
        assert stale.splitlines()[0].startswith("Error: ref e999 is not on the page")
        assert "[ref=" in stale  # the outline as it is now follows
        bad = await s.error("browser_navigate", url="not a url")
        assert bad.startswith("Error: ")
        assert "\n" not in bad.split("\n\n")[0]
        refused = await s.error("browser_navigate", url=f"http://127.0.0.1:{dead_port()}/")
        assert "ERR_CONNECTION_REFUSED" in refused.splitlines()[0]
        tab = await s.error("browser_tabs", action="select", index=7)
        assert tab == "Error: no tab 7: there are 1 (0 to 0)"
        missing = await s.error("browser_click")
        assert missing == "Error: missing required argument 'target'"
        unknown = await s.error("browser_fly")
        assert unknown == "Error: unknown tool 'browser_fly'"
        closed = await s.ok("browser_close")
        assert "next call opens a new one" in closed
        page = await s.ok("browser_navigate", url=f"{site.origin}/login.html")
        assert "Title:" in page
        assert "[ref=" in page
        page = await s.ok("browser_snapshot")
        assert "[ref=" in page


async def test_a_crashed_browser_is_relaunched(
    store_server: RunningStore, site: Any, tmp_path: Path
) -> None:
    """The browser process killed under the server: the next call still answers (an error
    or a fresh page), and the one after it works on a new browser."""
    async with over_stdio(store_server, tmp_path) as s:
        await s.ok("browser_navigate", url=f"{site.origin}/login.html")
        killed = _kill_browser_of_children()
        assert killed, "found no browser to kill"
        await s.call("browser_snapshot")
        page = await s.ok("browser_navigate", url=f"{site.origin}/login.html")
        assert "[ref=" in page


def _kill_browser_of_children() -> list[int]:
    """SIGKILL the Chromium main process this test's `capture mcp` started (its
    grandchild: capture mcp -> playwright driver -> chromium), and no other: the worker's
    pytest-playwright browser descends from this process too, and later tests use it."""
    import os
    import signal

    mine = os.getpid()
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        commands[int(entry.name)] = command

    def descends(pid: int, root: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == root:
                return True
        return False

    servers = [
        pid for pid, command in commands.items() if " mcp" in command and descends(pid, mine)
    ]
    browsers = [
        pid
        for pid, command in commands.items()
        if "chrom" in command and "--type=" not in command
        if any(descends(pid, server) for server in servers)
    ]
    for pid in browsers:
        os.kill(pid, signal.SIGKILL)
    return browsers


async def test_whole_page_reach_beyond_the_budget(
    store_server: RunningStore, big_document: str, tmp_path: Path
) -> None:
    """On a 1 MB document the look fits the budget; browser_snapshot with a depth or a
    target reaches what it left out, each page within the budget too."""
    async with over_stdio(store_server, tmp_path) as s:
        look = await s.ok("browser_navigate", url=big_document)
        assert len(look) <= DEFAULT_MAX_CHARS
        refs = re.findall(r"\[ref=(e\d+)\]", look)
        assert refs, look
        last_seen = max(int(r[1:]) for r in refs)
        whole = await s.ok("browser_snapshot", depth=2)
        assert len(whole) <= DEFAULT_MAX_CHARS
        assert "continue with browser_snapshot depth=2 page=2" in whole
        far = [int(r[1:]) for r in re.findall(r"- heading .*\[ref=(e\d+)\]", whole)]
        assert max(far) > last_seen, "the whole page reaches headings the look left out"
        target = f"e{max(far)}"
        part = await s.ok("browser_snapshot", target=target)
        assert part.splitlines()[1].startswith("- heading")
        assert f"[ref={target}]" in part
        assert len(part) <= DEFAULT_MAX_CHARS
        gone = await s.error("browser_snapshot", target="e999999")
        assert gone.startswith("Error: ref e999999 is not on the page")


async def test_resources_are_the_thread_as_stored(
    store_server: RunningStore, site: Any, tmp_path: Path
) -> None:
    async with over_stdio(store_server, tmp_path, "--image", "always") as s:
        page = await s.ok("browser_navigate", url=f"{site.origin}/login.html")
        listed = await s.client.list_resources()
        uris = {str(r.uri) for r in listed.resources}
        observation = f"capture://threads/{THREAD}/observation"
        assert uris == {observation, f"capture://threads/{THREAD}/screenshot"}

        def stored() -> bool:
            return store_server.call(store_server.store.get(THREAD, "__user_part_observation"))

        wait_until(stored, "the observation stored")
        read = await s.client.read_resource(observation)
        assert read.contents[0].text == page  # type: ignore[union-attr]
        shot = await s.client.read_resource(f"capture://threads/{THREAD}/screenshot")
        assert base64.b64decode(shot.contents[0].blob)[:2] == b"\xff\xd8"  # type: ignore[union-attr]


# -- streamable HTTP ------------------------------------------------------------------------


@contextlib.contextmanager
def http_server(store: RunningStore, cwd: Path, *extra: str) -> Iterator[str]:
    """`capture mcp --http` on a free loopback port; yields its /mcp URL."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(
        [CAPTURE, *server_args(store, "--http", f"127.0.0.1:{port}", *extra)],
        cwd=cwd,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}/mcp"

    def listening() -> bool:
        assert process.poll() is None, log.seek(0) or log.read()
        try:
            httpx.get(url, timeout=1)
        except httpx.TransportError:
            return False
        return True

    try:
        wait_until(listening, "capture mcp --http listening")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


async def test_checkout_over_streamable_http(
    store_server: RunningStore, shop: DemoSite, tmp_path: Path
) -> None:
    with http_server(store_server, tmp_path) as url:
        async with Client(url) as client:
            s = Session(client)
            await checkout(s, shop)
    check_sizes(s, DEFAULT_MAX_CHARS)
    check_no_secret(s, store_server, DEMO_PASSWORD)


async def test_http_token_is_required_when_given(
    store_server: RunningStore, site: Any, tmp_path: Path
) -> None:
    with http_server(store_server, tmp_path, "--http-token", "tok-123") as url:
        async with httpx.AsyncClient() as anonymous:
            ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
            refused = await anonymous.post(url, json=ping)
        assert refused.status_code == 401
        headers = {"Authorization": "Bearer tok-123"}
        async with httpx.AsyncClient(headers=headers, timeout=60) as http:
            from mcp.client.streamable_http import streamable_http_client

            async with Client(streamable_http_client(url, http_client=http)) as client:
                s = Session(client)
                page = await s.ok("browser_navigate", url=f"{site.origin}/login.html")
                assert "[ref=" in page


def test_off_loopback_without_token_is_refused(tmp_path: Path) -> None:
    done = run_command([CAPTURE, "mcp", "--http", "0.0.0.0:0"], tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("error: refusing to listen on 0.0.0.0 without a token")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--image", "sometimes"], "choose always, changed or never"),
        (["--max-chars", "10"], "at least"),
        (["--http", "nowhere"], "write it as HOST:PORT"),
        (["--secrets", "missing.env"], "missing.env"),
    ],
)
def test_bad_options_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    done = run_command([CAPTURE, "mcp", *args], tmp_path, stdin=subprocess.DEVNULL)
    assert done.returncode in (1, 2)
    assert message in done.stderr
    assert "Traceback" not in done.stderr


# -- browser_click's button and modifiers -----------------------------------------------------


@asynccontextmanager
async def on_clicks_page(
    store: RunningStore, site: Any, cwd: Path
) -> AsyncIterator[tuple[Session, str]]:
    """A session on tests/site/clicks.html, and the ref of its button that says how it was
    pressed."""
    async with over_stdio(store, cwd) as s:
        page = await s.ok("browser_navigate", url=f"{site.origin}/clicks.html")
        yield s, ref(page, "button", "Press me")


async def test_click_with_the_right_and_middle_buttons(
    store_server: RunningStore, site: Any, tmp_path: Path
) -> None:
    async with on_clicks_page(store_server, site, tmp_path) as (s, target):
        page = await s.ok("browser_click", target=target, button="right")
        assert f'click button "Press me" ({target}) with the right button' in page.splitlines()[0]
        assert "pressed with button 2" in page
        page = await s.ok("browser_click", target=target, button="middle")
        assert "pressed with button 1" in page
        bad = await s.error("browser_click", target=target, button="up")
        assert bad.startswith("Error: bad argument: ")


async def test_click_holding_modifiers(
    store_server: RunningStore, site: Any, tmp_path: Path
) -> None:
    async with on_clicks_page(store_server, site, tmp_path) as (s, target):
        page = await s.ok("browser_click", target=target, modifiers=["Shift", "Alt"])
        assert f'click button "Press me" ({target}) holding Shift+Alt' in page.splitlines()[0]
        assert "pressed with button 0 holding alt+shift" in page
        page = await s.ok("browser_click", target=target, doubleClick=True, modifiers=["Control"])
        assert f'dblclick button "Press me" ({target}) holding Control' in page.splitlines()[0]
        assert "pressed with button 0 holding ctrl" in page
