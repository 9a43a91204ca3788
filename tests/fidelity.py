"""Live-recording fidelity: scenarios a person performs, recorded, exported and replayed.

Shared by tests/test_live_fidelity.py (which asserts) and scripts/bench_record.py (which
prints the table for docs/live.md). A scenario drives the test site or the demo shop only
through Playwright's input APIs -- `page.mouse`, `page.keyboard` and the file chooser a click
opens, never `element.click()` or `fill()` -- and every `Person` method is one intended
action, so the count of intended actions is what the scenario does, not a number written down.

`record_and_replay` records a scenario with the real `LiveRecorder` into an embedded store
(SQLite, over HTTP), exports the task file, replays it with the runner in a fresh browser
(and a fresh demo shop on the same port: its order numbers and carts start over) and
compares the final URL and the page outline (refs left out).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.async_api import Locator, Page

from capture.browser import open_browser
from capture.config import Config, StoreConfig
from capture.demo_site import DEMO_PASSWORD, DEMO_USER, DemoSite
from capture.entry import open_capture
from capture.errors import BrowserError
from capture.live import LiveRecorder, record_session
from capture.recorder.observe import read_page_state
from capture.session import AsyncSessionClient
from capture.store import SqliteStore, serve_in_background
from capture.tasks import load_task, run_task
from tests.conftest import SITE_DIR, free_port, serve_dir

__all__ = [
    "SCENARIOS",
    "Outcome",
    "Person",
    "Scenario",
    "Sites",
    "aim",
    "final_state",
    "fresh_shop",
    "record_and_replay",
    "sites",
    "store",
    "stored_text",
]

CARD = "4242 4242 4242 4242"
LOGIN_PASSWORD = "Hunter2-very-secret-pw"
FRAME_PASSWORD = "Nested-frame-secret-77"
_REF = re.compile(r"\s*\[ref=[^\]]*\]")


# -- the person ---------------------------------------------------------------------------


_TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


async def aim(page: Page, target: Locator) -> tuple[float, float]:
    """Where the target is on screen; a scenario scrolls to it first, as a person does."""
    await target.wait_for()
    # A person aims at the page as rendered: after a navigation the element exists before
    # the stylesheet has moved it into place (a click there lands on its container).
    await page.wait_for_load_state()
    box = await target.bounding_box()
    for _ in range(20):
        await page.evaluate(_TWO_FRAMES)
        again = await target.bounding_box()
        if again == box:
            break
        box = again
    size = page.viewport_size
    assert box is not None, f"{target} has no box"
    assert size is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    assert 0 <= x < size["width"], f"{target} is out of view"
    assert 0 <= y < size["height"], f"{target} is out of view"
    return x, y


class Person:
    """Acts on a page with the mouse and the keyboard; each method is one intended action.

    After each action it waits until the recorder has heard everything the page reported and
    captured the action (`LiveRecorder.settled`), as a person looks before the next step.
    """

    def __init__(self, page: Page, live: LiveRecorder, files: Path) -> None:
        self.page = page
        self.live = live
        self.files = files
        self.intents = 1  # opening the start URL
        self._menu = 0  # a hover the next action's click will report

    async def _centre(self, target: Locator) -> tuple[float, float]:
        return await aim(self.page, target)

    async def _move(self, target: Locator) -> tuple[float, float]:
        x, y = await self._centre(target)
        await self.page.mouse.move(x, y, steps=4)
        return x, y

    @asynccontextmanager
    async def _action(self, reports: int = 1) -> AsyncIterator[None]:
        """One intended action: complete once the listener's `reports` of it (plus the hover
        a menu opened before it) reached the recorder, and the recorder captured it."""
        before = self.live.reports
        yield
        self.intents += 1
        expected = before + reports + self._menu
        self._menu = 0
        loop = asyncio.get_running_loop()
        end = loop.time() + 15
        while self.live.reports < expected:  # reports cross the binding asynchronously
            if loop.time() > end:
                got = self.live.reports - before
                done = [action.kind for action in self.live.actions]
                raise AssertionError(
                    f"the listener did not report the action: {got} of {expected - before} "
                    f"reports; the actions so far: {done}"
                )
            await asyncio.sleep(0.02)
        await self.page.wait_for_load_state()
        await self.live.settled()

    async def _press(self, target: Locator) -> None:
        await self._move(target)
        await self.page.mouse.down()
        await self.page.mouse.up()

    async def click(self, target: Locator) -> None:
        async with self._action():
            await self._press(target)

    async def dblclick(self, target: Locator) -> None:
        async with self._action(2):  # the first click, the dblclick
            x, y = await self._move(target)
            await self.page.mouse.dblclick(x, y)

    async def type(self, target: Locator, text: str) -> None:
        """Click into a field and type key by key."""
        async with self._action(2):  # the click, the first keystroke (the rest follows)
            await self._press(target)
            await self.page.keyboard.type(text, delay=20)

    async def press(self, key: str) -> None:
        async with self._action():
            await self.page.keyboard.press(key)

    async def choose(self, label: Locator, down: int) -> None:
        """Pick an option of a <select>: click its label (which focuses it), then arrow keys
        (a headless select opens no popup a mouse could pick from)."""
        async with self._action():  # the change
            await self._press(label)
            for _ in range(down):
                await self.page.keyboard.press("ArrowDown")

    async def wheel(self, dy: int, over: Locator | None = None) -> None:
        """Turn the mouse wheel over an element (else the middle of the page)."""
        if over is not None:
            await self._move(over)
        else:
            size = self.page.viewport_size or {"width": 800, "height": 600}
            await self.page.mouse.move(size["width"] / 2, size["height"] / 2, steps=4)
        async with self._action():  # the (debounced) scroll
            await self.page.mouse.wheel(0, dy)

    async def drag(self, source: Locator, target: Locator) -> None:
        async with self._action():
            await self._move(source)
            await self.page.mouse.down()
            x, y = await self._centre(target)
            await self.page.mouse.move(x, y, steps=12)
            await self.page.mouse.up()

    async def open_menu(self, trigger: Locator) -> None:
        """Rest the pointer on a menu trigger (the menu opens); the hover is an action, which
        the recorder hears of with the click that needed it."""
        await self._move(trigger)
        self.intents += 1
        self._menu = 1

    async def upload(self, chooser: Locator, *names: str) -> None:
        """Click a file input (or a button that opens one); pick files in the chooser."""
        direct = await chooser.evaluate("el => el.type === 'file'")
        async with self._action(1 if direct else 3):  # [the click, the chooser,] the files
            async with self.page.expect_file_chooser() as opened:
                await self._press(chooser)
            await (await opened.value).set_files([self.files / name for name in names])


# -- scenarios ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """What a person does, from `start` (a path on the test site, or on the shop)."""

    name: str
    site: str  # "test" or "shop"
    start: str
    drive: Callable[[Person, Page], Awaitable[None]]
    secrets: tuple[str, ...] = ()  # typed into sensitive fields, in the order typed
    files: dict[str, str] = field(default_factory=dict)  # name -> content, for uploads


async def _search_by_enter(p: Person, page: Page) -> None:
    await p.type(page.get_by_role("searchbox", name="Search"), "mug")
    await p.press("Enter")


async def _search_by_button(p: Person, page: Page) -> None:
    await p.type(page.get_by_role("searchbox", name="Search"), "kettle")
    await p.click(page.get_by_role("button", name="Search"))


async def _shop_login(p: Person, page: Page) -> None:
    await p.click(page.get_by_role("link", name="Sign in"))
    await p.type(page.get_by_label("Username"), DEMO_USER)
    await p.type(page.get_by_label("Password"), DEMO_PASSWORD)
    await p.click(page.get_by_role("button", name="Sign in"))


async def _shop_checkout(p: Person, page: Page) -> None:
    await p.open_menu(page.get_by_role("link", name="Categories"))
    await p.click(page.get_by_role("menu").get_by_role("link", name="Mugs"))
    await p.click(page.get_by_role("link", name="Blue Mug"))
    await p.choose(page.locator("label[for=size]"), 1)
    await p.click(page.get_by_role("button", name="Add to cart"))
    await p.click(page.get_by_role("link", name="Cart"))
    await p.click(page.get_by_role("link", name="Proceed to checkout"))
    await p.type(page.get_by_label("Username"), DEMO_USER)
    await p.type(page.get_by_label("Password"), DEMO_PASSWORD)
    await p.press("Enter")
    await p.type(page.get_by_label("Full name"), "Ada Lovelace")
    await p.type(page.get_by_label("Address"), "12 Analytical Way")
    await p.type(page.get_by_label("Card number"), CARD)
    await p.upload(page.get_by_label("Gift card image (optional)"), "giftcard.txt")
    await p.click(page.get_by_text("Send me the newsletter"))  # its label: unchecks
    await p.click(page.get_by_text("I accept the terms"))
    await p.click(page.get_by_role("button", name="Place order"))


async def _login_form(p: Person, page: Page) -> None:
    await p.type(page.get_by_label("Username"), "alice")
    await p.type(page.get_by_label("Password", exact=True), LOGIN_PASSWORD)
    await p.click(page.get_by_text("Remember me"))  # the label around the checkbox
    await p.choose(page.locator("label[for=country]"), 1)
    await p.click(page.get_by_label("Username"))  # back into a field, then Enter submits
    await p.press("Enter")


async def _iframe_payment(p: Person, page: Page) -> None:
    pay = page.frame_locator("iframe[name=pay]")
    await p.type(pay.get_by_label("Card holder"), "Ada Lovelace")
    await p.type(pay.get_by_label("Card number"), CARD)
    await p.click(pay.get_by_text("Save this card"))
    await p.click(pay.get_by_role("button", name="Pay now"))


async def _nested_iframes(p: Person, page: Page) -> None:
    inner = page.frame_locator("#outer").frame_locator("#nested")
    await p.type(inner.get_by_label("Frame password"), FRAME_PASSWORD)
    await p.click(inner.get_by_role("button", name="Press inner"))


async def _scroll_container(p: Person, page: Page) -> None:
    seats = page.get_by_role("list", name="Seats")
    await p.wheel(900, seats)
    await p.click(page.get_by_role("button", name="Seat 27", exact=True))
    await p.wheel(-400, seats)
    await p.click(page.get_by_role("button", name="Seat 16", exact=True))


async def _hover_menus(p: Person, page: Page) -> None:
    await p.open_menu(page.get_by_text("Products", exact=True))
    await p.click(page.get_by_role("link", name="Mugs"))
    await p.open_menu(page.get_by_role("button", name="Account"))
    await p.click(page.get_by_role("link", name="Settings"))


async def _drag_and_double_click(p: Person, page: Page) -> None:
    await p.drag(page.get_by_text("Fix bug"), page.get_by_role("region", name="Done"))
    await p.drag(page.get_by_role("button", name="Token"), page.get_by_role("region", name="Slot"))
    await p.dblclick(page.get_by_role("heading", name="Sprint board"))


async def _upload(p: Person, page: Page) -> None:
    await p.upload(page.get_by_label("Receipt"), "receipt.txt", "notes.txt")
    await p.upload(page.get_by_role("button", name="Attach a photo"), "photo.txt")
    await p.type(page.locator("label[for=comment]"), "for March")  # into it by its label
    await p.click(page.get_by_role("button", name="Send"))


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("shop: search by Enter", "shop", "/", _search_by_enter),
    Scenario("shop: search by button", "shop", "/", _search_by_button),
    Scenario("shop: sign in", "shop", "/", _shop_login, secrets=(DEMO_PASSWORD,)),
    Scenario(
        "shop: checkout",
        "shop",
        "/",
        _shop_checkout,
        secrets=(DEMO_PASSWORD, CARD),
        files={"giftcard.txt": "a gift card\n"},
    ),
    Scenario("site: login form", "test", "/login.html", _login_form, secrets=(LOGIN_PASSWORD,)),
    Scenario("site: iframe payment", "test", "/payframe.html", _iframe_payment, secrets=(CARD,)),
    Scenario(
        "site: nested iframes", "test", "/nested.html", _nested_iframes, secrets=(FRAME_PASSWORD,)
    ),
    Scenario("site: scroll container", "test", "/scrollbox.html", _scroll_container),
    Scenario("site: hover menus", "test", "/menu.html", _hover_menus),
    Scenario("site: drag and double click", "test", "/board.html", _drag_and_double_click),
    Scenario(
        "site: upload",
        "test",
        "/upload.html",
        _upload,
        files={
            "receipt.txt": "total 12.50\n",
            "notes.txt": "paid in cash\n",
            "photo.txt": "(a photo)\n",
        },
    ),
)


# -- running one ------------------------------------------------------------------------


@dataclass
class Sites:
    """The test site's base URL, and the port the demo shop is served on for each run."""

    test: str
    shop_port: int

    @property
    def shop(self) -> str:
        return f"http://127.0.0.1:{self.shop_port}"


@contextmanager
def sites() -> Iterator[Sites]:
    """The test site on a loopback port; a port for the demo shops (one per recording/replay)."""
    server = serve_dir(SITE_DIR)
    try:  # the shops reuse one free port (their server sets SO_REUSEADDR)
        yield Sites(f"http://127.0.0.1:{server.server_address[1]}", free_port())
    finally:
        server.shutdown()
        server.server_close()


@asynccontextmanager
async def store(path: Path) -> AsyncIterator[str]:
    """The embedded store on SQLite at `path`, served over HTTP in this loop; its base URL."""
    async with serve_in_background(StoreConfig(), port=0, store=SqliteStore(path)) as base_url:
        yield base_url


async def stored_text(base_url: str) -> str:
    """Every thread's values and the session list, as the store serves them over HTTP."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        listing = await http.get("/sessions", params={"limit": 1000})
        listing.raise_for_status()
        texts = [listing.text]
        for session in listing.json():
            values = await http.get(f"/sessions/{session['thread_id']}/values")
            values.raise_for_status()
            texts.append(values.text)
    return "\n".join(texts)


@contextmanager
def fresh_shop(sites: Sites, site: str) -> Iterator[None]:
    """A fresh demo shop for a shop scenario (nothing for the test site)."""
    if site != "shop":
        yield
        return
    shop = DemoSite(sites.shop_port).start()
    try:
        yield
    finally:
        shop.stop()


@dataclass
class Outcome:
    """One scenario recorded and replayed; `output` is every line shown to the person."""

    name: str
    intended: int
    recorded: int
    task_file: Path
    url: str
    replay_url: str
    outline: list[str]
    replay_outline: list[str]
    replay_errors: list[str]
    output: str

    @property
    def matches(self) -> bool:
        return (
            not self.replay_errors
            and self.url == self.replay_url
            and self.outline == self.replay_outline
        )


async def final_state(page: Page) -> tuple[str, list[str]]:
    """The page's URL and outline (refs left out) once a navigation the last action started
    has loaded (a document that goes away while it is read is read again)."""
    for attempt in range(3):
        await page.wait_for_load_state()
        try:
            state = await read_page_state(page)
            break
        except BrowserError:
            if attempt == 2:
                raise
    return page.url, [_REF.sub("", line) for line in state.outline]


async def replay(
    task_file: Path,
    secrets: tuple[str, ...],
    sites: Sites,
    site: str,
    config: Config,
    base_url: str,
    slug: str,
) -> tuple[list[str], tuple[str, list[str]]]:
    """Replay a recorded task file as `capture run` does, in a fresh browser and a fresh
    shop, its secrets given as SECRET_1...: the failed steps, and the final (URL, outline)."""
    async with AsyncSessionClient(base_url) as client:
        variables = {f"SECRET_{n}": value for n, value in enumerate(secrets, 1)}
        with fresh_shop(sites, site):
            async with open_browser(config.browser, config.context, headless=True) as fresh:
                run = await run_task(
                    load_task(task_file),
                    client=client,
                    thread=f"replay-{slug}",
                    config=config,
                    variables=variables,
                    page=fresh.page,
                )
                final = await final_state(fresh.page)
    return [f"step {s.number}: {s.error}" for s in run.steps if s.error], final


async def record_and_replay(
    scenario: Scenario, config: Config, sites: Sites, base_url: str, workdir: Path
) -> Outcome:
    """Record `scenario` into the store at `base_url`, export it to `workdir`, replay it."""
    slug = re.sub(r"[^a-z0-9]+", "-", scenario.name.lower()).strip("-")
    sources = workdir / f"{slug}-chosen"  # where the person's files are
    sources.mkdir(parents=True, exist_ok=True)
    for name, content in scenario.files.items():
        (sources / name).write_text(content, encoding="utf-8")
    root = sites.shop if scenario.site == "shop" else sites.test
    task_file = workdir / f"{slug}.yaml"
    stop = asyncio.Event()
    driving: list[asyncio.Task[tuple[Person, str, list[str]]]] = []

    async def drive(live: LiveRecorder) -> tuple[Person, str, list[str]]:
        """The person at work, then the page as they left it; the recording stops after."""
        try:
            assert live.page is not None
            person = Person(live.page, live, sources)
            await scenario.drive(person, live.page)
            return (person, *await final_state(live.page))
        finally:
            stop.set()

    # What `capture record` shows: each action as it happens, then its report.
    shown: list[str] = []
    with fresh_shop(sites, scenario.site):
        async with (
            AsyncSessionClient(base_url) as recording_client,
            open_capture(config, client=recording_client, launch=True, headless=True) as opened,
        ):
            done = await record_session(
                opened,
                thread=f"record-{slug}",
                stop=stop,
                url=root + scenario.start,
                out=task_file,
                name=scenario.name,
                quiet=0.5,
                ready=lambda live: driving.append(asyncio.ensure_future(drive(live))),
                on_action=lambda action: shown.append(f"  {action.text}"),
            )
    person, url, outline = await driving[0]
    export = done.export
    assert export is not None, done.result.problems
    output = "\n".join([*shown, *done.report(f"record-{slug}", base_url)])
    for name in export.files:  # "place the files next to the task file"
        (workdir / name).write_bytes((sources / name).read_bytes())
    errors, (replay_url, replay_outline) = await replay(
        task_file, scenario.secrets, sites, scenario.site, config, base_url, slug
    )
    return Outcome(
        name=scenario.name,
        intended=person.intents,
        recorded=len(export.task.steps),
        task_file=task_file,
        url=url,
        replay_url=replay_url,
        outline=outline,
        replay_outline=replay_outline,
        replay_errors=errors,
        output=output,
    )
