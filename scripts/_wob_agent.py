"""The scripted agent of `scripts/bench agent`: no model, one policy per MiniWoB++ task kind,
written once against `Agent`, which acts only through MCP tool calls with refs read from
the server's own answers (`scripts/_wob.py` parses both formats).

A policy gets the episode's instruction (MiniWoB hands it to an agent as the utterance) and
raises `Failure` with a one-line reason when the page does not offer what it needs.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from _mcp_sides import Side
from _wob import Node, capture_page, parse_outline, playwright_page


class Failure(Exception):
    """The agent could not go on: a one-line reason."""


@dataclass
class Agent:
    """A server under test: its answers' page part (`page`), and its tools by ref."""

    side: Side
    page: Callable[[str], str | None]

    async def call(self, tool: str, **arguments: Any) -> str:
        try:
            return await self.side.call(tool, tool, **arguments)
        except Exception as exc:  # a transport error is this episode's failure, not the run's
            raise Failure(f"{tool}: {' '.join(str(exc).split())[:120]}") from exc

    async def look(self, fresh: bool = False) -> list[Node]:
        """The page as the latest answer shows it; a snapshot when that shows none (an
        @playwright/mcp action answer) or when `fresh`."""
        shown = None if fresh else self.page(self.side.last)
        if shown is None:
            shown = self.page(await self.call("browser_snapshot"))
        if shown is None:
            raise Failure(f"no page in the answer: {self.side.last[:120]!r}")
        return parse_outline(shown)

    async def act(self, tool: str, node: Node, **arguments: Any) -> None:
        assert node.ref is not None
        answer = await self.call(
            tool, target=node.ref, element=node.label or node.role, **arguments
        )
        if self.side.calls[tool][-1].error:
            raise Failure(f"{tool} {node.ref}: {answer.splitlines()[0][:120]}")

    async def click(self, node: Node) -> None:
        await self.act("browser_click", node)

    async def type(self, node: Node, text: str) -> None:
        await self.act("browser_type", node, text=text)

    async def select(self, node: Node, value: str) -> None:
        await self.act("browser_select_option", node, values=[value])


def clean(text: str) -> str:
    return " ".join(text.split()).casefold()


def find(nodes: list[Node], roles: tuple[str, ...] = (), label: str | None = None) -> list[Node]:
    """Nodes with a ref, of one of `roles` (any when empty), whose label is `label`."""
    return [
        n
        for n in nodes
        if n.ref is not None
        and (not roles or n.role in roles)
        and (label is None or clean(n.label) == clean(label))
    ]


def one(nodes: list[Node], roles: tuple[str, ...], label: str | None, what: str) -> Node:
    """The deepest match (a clickable child sits under its container's ref). Without one,
    for any role: the nearest element with a ref that holds a line reading `label` (a row
    a script made clickable, its texts listed under it), else the element with a ref and
    the shortest text that begins with `label`'s words (a row named by all its texts)."""
    found = find(nodes, roles, label)
    if not found and not roles and label is not None:
        for node in nodes:
            holder = node.parent if clean(node.label) == clean(label) else None
            while holder is not None and holder.ref is None:
                holder = holder.parent
            if holder is not None:
                return holder
        wanted = f"{clean(label)} "
        found = [n for n in nodes if n.ref is not None and f"{clean(n.label)} ".startswith(wanted)]
        if found:
            return min(found, key=lambda n: len(n.label))
    if not found:
        raise Failure(f"no ref for {what}")
    return max(found, key=lambda n: n.depth)


BUTTON = ("button",)
TEXTBOX = ("textbox", "searchbox")


def quoted(instruction: str) -> list[str]:
    return re.findall(r'"(.*?)"', instruction)


async def click_named(agent: Agent, label: str, roles: tuple[str, ...] = ()) -> None:
    """Click what carries `label`: a control of `roles`, or anything with a ref."""
    nodes = await agent.look()
    await agent.click(one(nodes, roles, label, f"{'/'.join(roles) or 'element'} {label!r}"))


async def submit(agent: Agent, label: str = "Submit") -> None:
    await click_named(agent, label, BUTTON)


async def click_button(agent: Agent, instruction: str) -> None:
    await click_named(agent, quoted(instruction)[0], BUTTON)


async def click_button_sequence(agent: Agent, instruction: str) -> None:
    for label in re.findall(r"button (\w+)", instruction):
        await click_named(agent, label, BUTTON)


async def click_test(agent: Agent, instruction: str) -> None:
    await agent.click(one(await agent.look(), BUTTON, None, "a button"))


async def click_link(agent: Agent, instruction: str) -> None:
    await click_named(agent, quoted(instruction)[-1])


async def click_tab(agent: Agent, instruction: str) -> None:
    number = re.findall(r"Tab #(\d+)", instruction)[0]
    await click_named(agent, f"Tab #{number}", ("tab", "link"))


async def click_tab_2(agent: Agent, instruction: str) -> None:
    """Open each tab in turn until the link shows."""
    wanted = quoted(instruction)[-1]
    tabs = [n.label for n in find(await agent.look(), ("tab",))]
    for tab in ["", *tabs]:
        if tab:
            await click_named(agent, tab, ("tab",))
        nodes = await agent.look()
        links = [n for n in find(nodes, (), wanted) if n.role != "tab"]
        if links:
            await agent.click(max(links, key=lambda n: n.depth))
            return
    raise Failure(f"no ref for link {wanted!r} in {len(tabs)} tabs")


async def tick(agent: Agent, instruction: str) -> None:
    """click-checkboxes, click-option: tick the named boxes, then Submit."""
    listed = re.match(r"Select (.*) and click Submit", instruction)
    names = [] if listed is None or listed[1] == "nothing" else listed[1].split(", ")
    nodes = await agent.look()
    for name in names:
        await agent.click(one(nodes, ("checkbox", "radio"), name, f"checkbox {name!r}"))
    await submit(agent)


async def choose_list(agent: Agent, instruction: str) -> None:
    wanted = re.findall(r"Select (.*) from the", instruction)[0]
    await agent.select(one(await agent.look(), ("combobox", "listbox"), None, "a list"), wanted)
    await submit(agent)


async def enter_text(agent: Agent, instruction: str) -> None:
    text = quoted(instruction)[0]
    if "lower case" in instruction:
        text = text.lower()
    elif "upper case" in instruction:
        text = text.upper()
    await agent.type(one(await agent.look(), TEXTBOX, None, "a textbox"), text)
    await submit(agent)


async def enter_password(agent: Agent, instruction: str) -> None:
    password = quoted(instruction)[0]
    boxes = find(await agent.look(), TEXTBOX)
    if len(boxes) < 2:
        raise Failure(f"{len(boxes)} textboxes with a ref, 2 wanted")
    for box in boxes[:2]:
        await agent.type(box, password)
    await submit(agent)


async def login_user(agent: Agent, instruction: str) -> None:
    username, password = quoted(instruction)[:2]
    boxes = find(await agent.look(), TEXTBOX)
    if len(boxes) < 2:
        raise Failure(f"{len(boxes)} textboxes with a ref, 2 wanted")
    await agent.type(boxes[0], username)
    await agent.type(boxes[1], password)
    await submit(agent, "Login")


async def focus_text(agent: Agent, instruction: str) -> None:
    nth = re.findall(r"(\d)(?:st|nd|rd|th)", instruction)
    boxes = find(await agent.look(), TEXTBOX)
    index = int(nth[0]) - 1 if nth else 0
    if len(boxes) <= index:
        raise Failure(f"{len(boxes)} textboxes with a ref, #{index + 1} wanted")
    await agent.click(boxes[index])


async def click_dialog(agent: Agent, instruction: str) -> None:
    """The "x" of a jQuery UI dialog is its button named Close."""
    label = quoted(instruction)[-1]
    await click_named(agent, "Close" if label == "x" else label, BUTTON)


WIDGETS = {
    "button": ("button",),
    "checkbox": ("checkbox",),
    "radio": ("radio",),
    "text": ("textbox",),
    "textarea": ("textbox", "textarea"),
}


def multiline(node: Node) -> bool:
    """A textarea, where the answer tells it from a one-line text field."""
    return node.role == "textarea" or any("multiline" in a or "textarea" in a for a in node.attrs)


async def click_widget(agent: Agent, instruction: str) -> None:
    kind = quoted(instruction)[0]
    nodes = await agent.look()
    if kind in ("text", "textarea"):
        nodes = [
            n for n in nodes if n.role not in WIDGETS[kind] or multiline(n) == (kind == "textarea")
        ]
    await agent.click(one(nodes, WIDGETS.get(kind, (kind,)), None, f"a {kind} widget"))


async def enter_date(agent: Agent, instruction: str) -> None:
    day = datetime.strptime(re.findall(r"\d\d/\d\d/\d{4}", instruction)[0], "%m/%d/%Y")
    field = one(await agent.look(), TEXTBOX, None, "the date field")
    await agent.type(field, day.strftime("%Y-%m-%d"))
    await submit(agent)


async def enter_time(agent: Agent, instruction: str) -> None:
    clock = re.findall(r"\d+:\d\d [AP]M", instruction)[0]
    value = datetime.strptime(clock, "%I:%M %p").strftime("%H:%M")
    await agent.type(one(await agent.look(), TEXTBOX, None, "the time field"), value)
    await submit(agent)


async def click_collapsible(agent: Agent, instruction: str) -> None:
    """Open the section by its header (jQuery UI marks it a tab), then Submit."""
    nodes = await agent.look()
    headers = find(nodes, ("tab", "button", "heading"))
    if not headers:
        raise Failure("no ref for the section header")
    await agent.click(headers[0])
    await submit(agent)


async def email_forward(agent: Agent, instruction: str) -> None:
    """Open the sender's email, Forward, fill `to:`, then the send icon: the last textless
    element with a ref before the `to:` field."""
    found = re.match(r"Find the email by (.*) and forward that email to (.*)\.", instruction)
    if found is None:
        raise Failure(f"unexpected instruction {instruction!r}")
    sender, recipient = found[1], found[2]
    await click_named(agent, sender)
    await click_named(agent, "Forward")
    nodes = await agent.look()
    field = one(nodes, TEXTBOX, None, "the to: field")
    await agent.type(field, recipient)
    before = nodes[: nodes.index(field)]
    icons = [n for n in before if n.ref is not None and not n.label and not n.children]
    if not icons:
        raise Failure("no ref for the send icon")
    await agent.click(icons[-1])


Policy = Callable[[Agent, str], Awaitable[None]]

# The task kinds the agent solves: MiniWoB page name -> policy.
POLICIES: dict[str, Policy] = {
    "click-button": click_button,
    "click-button-sequence": click_button_sequence,
    "click-test": click_test,
    "click-test-2": click_button_sequence,
    "click-test-transfer": click_button_sequence,
    "unicode-test": click_button,
    "click-link": click_link,
    "click-tab": click_tab,
    "click-tab-2": click_tab_2,
    "click-tab-2-easy": click_tab_2,
    "click-checkboxes": tick,
    "click-checkboxes-large": tick,
    "click-checkboxes-transfer": tick,
    "click-option": tick,
    "choose-list": choose_list,
    "enter-text": enter_text,
    "enter-text-dynamic": enter_text,
    "enter-text-2": enter_text,
    "enter-password": enter_password,
    "login-user": login_user,
    "focus-text": focus_text,
    "focus-text-2": focus_text,
    "click-dialog": click_dialog,
    "click-dialog-2": click_dialog,
    "click-widget": click_widget,
    "enter-date": enter_date,
    "enter-time": enter_time,
    "click-collapsible": click_collapsible,
    "email-inbox-forward": email_forward,
}

PAGES: dict[str, Callable[[str], str | None]] = {
    "capture": capture_page,
    "playwright": playwright_page,
}
