"""Person-like drives of the demo shop and the test site, recorded by `capture record`'s own
`record_session`, ended by closing the tab, replayed, and checked moment by moment.

Shared by tests/test_live_drives.py (which asserts) and scripts/bench_record.py (which prints
the table for docs/live.md). A `Hand` acts only with the mouse and the keyboard (`page.mouse`,
`page.keyboard`, and CDP `Input` for the mouse's back button) at a person's pace: it does not
wait for the recorder, only for what it is about to act on to be on screen, so typing is often
followed by Enter, Tab or a click well within the recorder's quiet time. Every `Hand` method
is one intent; at the start of each the hand notes the page as it is (its URL and outline):
the capture of the intent before must show that moment, not a later one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import CDPSession, Locator, Page

from capture.config import Config
from capture.demo_site import DEMO_PASSWORD, DEMO_USER
from capture.entry import open_capture
from capture.live import LiveRecorder, record_session
from capture.recorder.observe import read_page_state
from capture.session import AsyncSessionClient
from tests.fidelity import Sites, aim, final_state, fresh_shop, replay

__all__ = ["DRIVES", "Drive", "DriveOutcome", "Hand", "Moment", "drive_and_replay"]

PACE = 0.25  # seconds a person takes between two things, looking
QUICK = 0.03  # ... when the next is already under their fingers (Enter after typing)
LOOK = 1.0  # a look at the result before closing the tab
TABBED = "Tabbed-secret-pw-3"
_REF = re.compile(r"\s*\[ref=[^\]]*\]")


@dataclass
class Moment:
    """The page as it was when the person began an intent (or left the page)."""

    url: str
    outline: str


@dataclass
class Intent:
    """One thing the person meant to do, and the text it typed (None: none, or secret)."""

    what: str
    typed: str | None = None
    before: Moment | None = None  # the page when it began
    after: Moment | None = None  # the page when the next began: what its capture must show


class Hand:
    """A person's mouse and keyboard on `page`; each public method is one intent."""

    def __init__(self, page: Page, cdp: CDPSession) -> None:
        self.page = page
        self.cdp = cdp
        self.intents: list[Intent] = [Intent("open the start page")]

    async def _moment(self) -> Moment:
        try:
            state = await read_page_state(self.page)
        except Exception:  # a document going away while read: read again once it loaded
            await self.page.wait_for_load_state()
            state = await read_page_state(self.page)
        return Moment(self.page.url, "\n".join(_REF.sub("", line) for line in state.outline))

    async def _begin(
        self,
        what: str,
        typed: str | None = None,
        pause: float = PACE,
        target: Locator | None = None,
    ) -> None:
        """The next intent begins once the person sees its `target` (a link the step before
        brings, on a page still loading when the pause is over) and has paused."""
        if target is not None:
            await target.wait_for()
        await asyncio.sleep(pause)
        moment = await self._moment()
        self.intents[-1].after = moment
        self.intents.append(Intent(what, typed, before=moment))

    async def _press_at(self, target: Locator) -> None:
        x, y = await aim(self.page, target)
        await self.page.mouse.move(x, y, steps=5)
        await self.page.mouse.down()
        await self.page.mouse.up()

    async def click(self, target: Locator, *, pause: float = PACE) -> None:
        await self._begin(f"click {target}", pause=pause, target=target)
        await self._press_at(target)

    async def dblclick(self, target: Locator) -> None:
        await self._begin(f"double-click {target}", target=target)
        x, y = await aim(self.page, target)
        await self.page.mouse.move(x, y, steps=5)
        await self.page.mouse.dblclick(x, y)

    async def type_in(
        self,
        target: Locator,
        text: str,
        *,
        secret: bool = False,
        pause: float = PACE,
        fix: str = "",
    ) -> None:
        """Click into a field and type, key by key (`fix`: see `type_on`)."""
        await self._begin(f"type into {target}", None if secret else text, pause, target)
        await self._press_at(target)
        await self._type(text, fix)

    async def type_on(self, text: str, *, secret: bool = False, fix: str = "") -> None:
        """Type into the focused field; `fix` is first typed wrong and taken back with
        Backspace (a typo fixed is still the one intent of typing `text`)."""
        await self._begin(f"type {'***' if secret else text!r}", None if secret else text)
        await self._type(text, fix)

    async def _type(self, text: str, fix: str) -> None:
        if fix:
            await self.page.keyboard.type(fix, delay=35)
            for _ in fix:
                await self.page.keyboard.press("Backspace")
        await self.page.keyboard.type(text, delay=35)

    async def press(self, key: str, *, pause: float = PACE) -> None:
        await self._begin(f"press {key}", pause=pause)
        await self.page.keyboard.press(key)

    async def choose(self, label: Locator, down: int) -> None:
        """Pick an option: click the select's label (focusing it), then arrow keys."""
        await self._begin(f"choose with {down} x ArrowDown")
        await self._press_at(label)
        for _ in range(down):
            await asyncio.sleep(0.08)
            await self.page.keyboard.press("ArrowDown")

    async def wheel(self, dy: int, over: Locator | None = None) -> None:
        await self._begin(f"scroll {dy}")
        if over is not None:
            x, y = await aim(self.page, over)
        else:
            size = self.page.viewport_size or {"width": 800, "height": 600}
            x, y = size["width"] / 2, size["height"] / 2
        await self.page.mouse.move(x, y, steps=3)
        await self.page.mouse.wheel(0, dy)
        await asyncio.sleep(0.6)  # the page scrolls smoothly; a person watches it stop

    async def back(self) -> None:
        """The mouse's back button (Chromium goes back in history on it)."""
        await self._begin("go back")
        for kind, buttons in (("mousePressed", 8), ("mouseReleased", 0)):
            await self.cdp.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": 5, "y": 5, "button": "back", "buttons": buttons},
            )

    async def leave(self) -> Moment:
        """Done: the page as left (what the last capture must show), after a look at it."""
        await asyncio.sleep(LOOK)
        await self.page.wait_for_load_state()
        moment = await self._moment()
        self.intents[-1].after = moment
        return moment


@dataclass(frozen=True)
class Drive:
    name: str
    site: str  # "test" or "shop"
    start: str
    act: Callable[[Hand, Page], Awaitable[None]]
    secrets: tuple[str, ...] = ()


async def _quick_search(h: Hand, page: Page) -> None:
    await h.type_in(page.get_by_role("searchbox", name="Search"), "mug")
    await h.press("Enter", pause=QUICK)


async def _search_button(h: Hand, page: Page) -> None:
    await h.type_in(page.get_by_role("searchbox", name="Search"), "kettle")
    await h.click(page.get_by_role("button", name="Search"), pause=QUICK)


async def _typo(h: Hand, page: Page) -> None:
    await h.type_in(page.get_by_role("searchbox", name="Search"), "beans", fix="bnea")
    await h.press("Enter", pause=QUICK)


async def _sign_in_by_tab(h: Hand, page: Page) -> None:
    await h.click(page.get_by_role("link", name="Sign in"))
    await h.type_in(page.get_by_label("Username"), DEMO_USER)
    await h.press("Tab", pause=QUICK)
    await h.type_on(DEMO_PASSWORD, secret=True)
    await h.press("Enter", pause=QUICK)


async def _size_by_arrows(h: Hand, page: Page) -> None:
    await h.click(page.get_by_role("link", name="Blue Mug"))
    await h.choose(page.locator("label[for=size]"), 1)
    await h.click(page.get_by_role("button", name="Add to cart"), pause=QUICK)
    await h.click(page.get_by_role("link", name="Cart (1)"))


async def _back(h: Hand, page: Page) -> None:
    await h.click(page.get_by_role("link", name="Tea Kettle"))
    await h.back()
    await h.click(page.get_by_role("link", name="French Press"))


async def _scroll_table(h: Hand, page: Page) -> None:
    await h.wheel(1200)
    await h.click(page.get_by_role("link", name="Open order 45", exact=True))


async def _login_form_tabs(h: Hand, page: Page) -> None:
    await h.type_in(page.get_by_label("Username"), "alice")
    await h.press("Tab", pause=QUICK)
    await h.type_on(TABBED, secret=True)
    await h.click(page.get_by_text("Remember me"), pause=QUICK)
    await h.choose(page.locator("label[for=country]"), 1)
    await h.click(page.get_by_role("button", name="Sign in"))


async def _todos(h: Hand, page: Page) -> None:
    await h.type_in(page.get_by_label("New todo"), "buy milk")
    await h.click(page.get_by_role("button", name="Add todo"), pause=QUICK)
    await h.type_in(page.get_by_label("New todo"), "call mum")
    await h.click(page.get_by_role("button", name="Add todo"), pause=QUICK)
    await h.click(page.get_by_role("button", name="Increment"), pause=QUICK)


async def _double_click(h: Hand, page: Page) -> None:
    await h.dblclick(page.get_by_role("heading", name="Sprint board"))
    await h.click(page.get_by_role("button", name="Token"))


async def _seats(h: Hand, page: Page) -> None:
    seats = page.get_by_role("list", name="Seats")
    await h.wheel(900, seats)
    await h.click(page.get_by_role("button", name="Seat 27", exact=True))


DRIVES: tuple[Drive, ...] = (
    Drive("shop: type, Enter at once", "shop", "/", _quick_search),
    Drive("shop: type, click Search at once", "shop", "/", _search_button),
    Drive("shop: typo fixed with Backspace", "shop", "/", _typo),
    Drive("shop: sign in, Tab between fields", "shop", "/", _sign_in_by_tab, (DEMO_PASSWORD,)),
    Drive("shop: size by arrow keys, Cart (1)", "shop", "/", _size_by_arrows),
    Drive("shop: a product, Back, another", "shop", "/", _back),
    Drive("site: scroll a long table, open an order", "test", "/table.html", _scroll_table),
    Drive("site: login form by Tab", "test", "/login.html", _login_form_tabs, (TABBED,)),
    Drive("site: todos typed and added at once", "test", "/spa.html", _todos),
    Drive("site: double-click, then a click", "test", "/board.html", _double_click),
    Drive("site: scroll a list, pick a seat", "test", "/scrollbox.html", _seats),
)


@dataclass
class DriveOutcome:
    """One drive recorded (ended by closing the tab), replayed, and its captures checked."""

    name: str
    intents: int
    steps: int
    task_file: Path
    closed_tab_ended_it: bool
    replay_errors: list[str]
    same_page: bool
    later: list[str]  # captures that show a later step than their own: "step N: why"
    output: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def replay_passed(self) -> bool:
        return not self.replay_errors


async def _observations(base_url: str, thread: str) -> dict[int, str]:
    """Every observation the recording stored, by step (the store's history extension)."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        answer = await http.get(
            f"/sessions/{thread}/history",
            params={"key": "__user_part_observation", "limit": 1000},
        )
        answer.raise_for_status()
    found: dict[int, str] = {}
    for entry in answer.json()["history"]:
        text = str(entry["value"]["data"])
        head = re.match(r"# Step (\d+):", text)
        if head:
            found.setdefault(int(head.group(1)), text)  # newest first: the step's own capture
    return found


def later_captures(intents: list[Intent], observations: dict[int, str]) -> list[str]:
    """The captures that show a later moment than their own: a URL the page had only after
    the next intent began, or text typed by a later intent that the moment did not show."""
    problems: list[str] = []
    for number, intent in enumerate(intents, 1):
        text, moment = observations.get(number), intent.after
        if text is None or moment is None:
            continue
        url = re.search(r"^URL: (\S+)", text, re.MULTILINE)
        if url and url.group(1) != moment.url:
            problems.append(f"step {number}: shows {url.group(1)}, the page was {moment.url}")
            continue
        for later in intents[number:]:
            typed = later.typed
            if typed and typed in text and typed not in moment.outline:
                problems.append(f"step {number}: shows {typed!r}, typed in a later step")
                break
    return problems


async def drive_and_replay(
    drive: Drive, config: Config, sites: Sites, base_url: str, workdir: Path
) -> DriveOutcome:
    """Record `drive` as `capture record` does, end it by closing the tab, replay the task."""
    slug = re.sub(r"[^a-z0-9]+", "-", drive.name.lower()).strip("-")
    root = sites.shop if drive.site == "shop" else sites.test
    task_file = workdir / f"{slug}.yaml"
    thread = f"drive-{slug}"
    stop = asyncio.Event()
    hands: list[Hand] = []
    finals: list[tuple[str, list[str]]] = []
    driving: list[asyncio.Task[None]] = []
    started = asyncio.Event()

    def ready(live: LiveRecorder) -> None:
        driving.append(asyncio.ensure_future(act(live)))
        started.set()

    async def act(live: LiveRecorder) -> None:
        page = live.page
        assert page is not None
        hand = Hand(page, await page.context.new_cdp_session(page))
        hands.append(hand)
        await drive.act(hand, page)
        await hand.leave()
        finals.append(await final_state(page))
        await page.close()  # the person closes the tab: that ends the recording

    shown: list[str] = []
    with fresh_shop(sites, drive.site):
        async with (
            AsyncSessionClient(base_url) as recording_client,
            open_capture(config, client=recording_client, launch=True, headless=True) as opened,
        ):
            session = asyncio.ensure_future(
                record_session(
                    opened,
                    thread=thread,
                    stop=stop,
                    url=root + drive.start,
                    out=task_file,
                    name=drive.name,
                    ready=ready,
                    on_action=lambda action: shown.append(f"  {action.text}"),
                )
            )
            begun = asyncio.ensure_future(started.wait())
            await asyncio.wait({session, begun}, return_when=asyncio.FIRST_COMPLETED)
            await driving[0]
            done, _ = await asyncio.wait({session}, timeout=30)
            ended = bool(done)
            stop.set()  # not needed when closing the tab ended it
            recording = await session
    export = recording.export
    assert export is not None, recording.result.problems
    output = "\n".join([*shown, *recording.report(thread, base_url)])
    observations = await _observations(base_url, thread)
    url, outline = finals[0]
    errors, final = await replay(
        task_file, drive.secrets, sites, drive.site, config, base_url, slug
    )
    intents = hands[0].intents
    return DriveOutcome(
        name=drive.name,
        intents=len(intents),
        steps=len(export.task.steps),
        task_file=task_file,
        closed_tab_ended_it=ended,
        replay_errors=errors,
        same_page=final == (url, outline),
        later=later_captures(intents, observations),
        output=output,
    )
