"""capture's page reads run in an isolated world of their own, as Playwright's injected
scripts do: a page that replaces `JSON.stringify` or `Map`, adds `Array.prototype.toJSON`,
or makes `getBoundingClientRect` return zeros changes its own world only, and the reads
(the outline, the sensitive fields the screenshot masks, the text search) see the real
DOM through untouched built-ins.

Playwright's public `evaluate` runs in the page's main world and takes no world, so this
goes through a CDP session of the page (and of each out-of-process frame): `Page.
createIsolatedWorld` names one world per document ("capture"; asking again returns the
same one while the document lives, so what page.js keeps on its window, the ref counter,
stays), and `Runtime.callFunctionOn` runs a function there, its answer returned by value.
A Playwright frame is matched with its CDP frame id once: an out-of-process frame has a
session of its own; a frame in its parent's process is the child whose owner element
carries a tag set through the frame's own `frame_element()`.

A browser without CDP (never the case for the Chromium capture drives) is read in the
main world, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from playwright.async_api import Error as PlaywrightError

from capture.browser._internals import impl_of

__all__ = ["evaluate_isolated", "evaluate_on_owner"]

WORLD = "capture"
# What the frame tag is called on the owner element (main world, set and read once).
_TAG = "__captureFrameTag"
# `function(owner, arg)` called with the owner element as `this` (Runtime.callFunctionOn).
_ON_THIS = "function (arg) {{ return ({function})(this, arg); }}"
# A context, frame or session that went away since it was looked up: look again, once.
_STALE = (
    "Cannot find context",
    "context was destroyed",
    "No frame",
    "Frame with the given id",
    "not found",
    "closed",
    "detached",
)


@dataclass(frozen=True)
class _Where:
    """Where a frame is reached: a CDP session, and the frame's id there."""

    session: Any
    frame_id: str


class _PageWorlds:
    """The CDP sessions of one page and the isolated worlds of its frames."""

    def __init__(self, page: Any) -> None:
        self._page = page
        self._where: WeakKeyDictionary[Any, _Where] = WeakKeyDictionary()
        self._lock = asyncio.Lock()
        self.usable = True

    async def call(self, frame: Any, function: str, arg: Any) -> Any:
        """`function(arg)` in `frame`'s isolated world; its answer by value."""

        async def once() -> Any:
            where = await self._locate(frame)
            target = {"executionContextId": await self._context(where)}
            return await _call_function(where.session, target, function, arg)

        return await self._twice([frame], once)

    async def call_on_owner(self, frame: Any, function: str, arg: Any) -> Any:
        """`function(owner, arg)` in the isolated world of `frame`'s parent, where `owner` is
        the iframe element that holds `frame`."""

        async def once() -> Any:
            parent = await self._locate(frame.parent_frame)
            where = await self._locate(frame)
            context = await self._context(parent)
            object_id = await _owner(parent.session, where.frame_id, context)
            try:
                on_owner = _ON_THIS.format(function=function)
                return await _call_function(parent.session, {"objectId": object_id}, on_owner, arg)
            finally:
                await _release(parent.session, object_id)

        return await self._twice([frame, frame.parent_frame], once)

    async def _twice(self, frames: list[Any], attempt: Callable[[], Awaitable[Any]]) -> Any:
        """`attempt()`; once more, `frames` looked up again, when what it used went away (a
        navigation, a frame swapped to another process)."""
        try:
            return await attempt()
        except PlaywrightError as exc:
            if not _is_stale(exc):
                raise
            for frame in frames:
                self._forget(frame)
        return await attempt()

    def _forget(self, frame: Any) -> None:
        self._where.pop(frame, None)

    async def _context(self, where: _Where) -> int:
        """The id of the isolated world of the frame's current document. Asked every time:
        a document left for the back-forward cache keeps its contexts alive, so an id kept
        from before a navigation would quietly read the old document."""
        made = await where.session.send(
            "Page.createIsolatedWorld", {"frameId": where.frame_id, "worldName": WORLD}, None
        )
        return int(made["executionContextId"])

    async def _locate(self, frame: Any) -> _Where:
        where = self._where.get(frame)
        if where is not None:
            return where
        async with self._lock:
            where = self._where.get(frame)
            if where is None:
                where = await self._find(frame)
                self._where[frame] = where
        return where

    async def _find(self, frame: Any) -> _Where:
        context = self._page.context
        if frame.parent_frame is None:
            try:
                session = await context.new_cdp_session(self._page)
            except PlaywrightError as exc:
                if self._page.is_closed():
                    raise
                raise _NoCdp(str(exc)) from exc
            return _Where(session, await _root_id(session))
        try:  # a frame in a process of its own has a session of its own
            session = await context.new_cdp_session(frame)
        except PlaywrightError:
            pass
        else:
            return _Where(session, await _root_id(session))
        parent = self._where.get(frame.parent_frame)
        if parent is None:
            parent = await self._find(frame.parent_frame)
            self._where[frame.parent_frame] = parent
        return _Where(parent.session, await _child_id(frame, parent))


async def _root_id(session: Any) -> str:
    tree = await session.send("Page.getFrameTree", None, None)
    return str(tree["frameTree"]["frame"]["id"])


async def _child_id(frame: Any, parent: _Where) -> str:
    """The CDP id of `frame`, a child of `parent` in the same process: its owner element is
    tagged through Playwright, then found among the parent's children through CDP."""
    tag = secrets.token_hex(8)
    owner = await frame.frame_element()
    try:
        await owner.evaluate(f"(e, t) => {{ e.{_TAG} = t; }}", tag)
    finally:
        await owner.dispose()
    tree = await parent.session.send("Page.getFrameTree", None, None)
    for child in _children(tree["frameTree"], parent.frame_id):
        object_id = await _owner(parent.session, child)  # in the page's own world
        try:
            read = f"function () {{ return this.{_TAG}; }}"
            found = await _call_function(parent.session, {"objectId": object_id}, read, None)
        finally:
            await _release(parent.session, object_id)
        if found == tag:
            return child
    raise PlaywrightError("frame not found: it was detached")


async def _owner(session: Any, frame_id: str, context: int | None = None) -> str:
    """The object id of the iframe element that holds `frame_id`, in the world `context`
    (None: the page's own); release it after."""
    owner = await session.send("DOM.getFrameOwner", {"frameId": frame_id}, None)
    resolve: dict[str, Any] = {"backendNodeId": owner["backendNodeId"]}
    if context is not None:
        resolve["executionContextId"] = context
    node = await session.send("DOM.resolveNode", resolve, None)
    return str(node["object"]["objectId"])


def _children(tree: dict[str, Any], frame_id: str) -> list[str]:
    """The ids of the child frames of `frame_id` in a `Page.getFrameTree` answer."""
    if tree["frame"]["id"] == frame_id:
        return [str(child["frame"]["id"]) for child in tree.get("childFrames", [])]
    for child in tree.get("childFrames", []):
        found = _children(child, frame_id)
        if found:
            return found
    return []


async def _release(session: Any, object_id: str) -> None:
    # (its document may have gone away, and the object with it)
    with contextlib.suppress(PlaywrightError):
        await session.send("Runtime.releaseObject", {"objectId": object_id}, None)


async def _call_function(session: Any, target: dict[str, Any], function: str, arg: Any) -> Any:
    """`Runtime.callFunctionOn` of `function(arg)` on `target` (an execution context or an
    object); its answer by value, a thrown error as PlaywrightError."""
    answer = await session.send(
        "Runtime.callFunctionOn",
        {
            **target,
            "functionDeclaration": function,
            "arguments": [{"value": arg}],
            "returnByValue": True,
            "awaitPromise": True,
        },
        None,
    )
    return _value(answer)


def _value(answer: dict[str, Any]) -> Any:
    """The value of a `Runtime.callFunctionOn` answer; a thrown error as PlaywrightError."""
    details = answer.get("exceptionDetails")
    if details is not None:
        thrown = details.get("exception") or {}
        raise PlaywrightError(str(thrown.get("description") or details.get("text")))
    return answer["result"].get("value")


def _is_stale(exc: BaseException) -> bool:
    text = str(exc)
    return any(word in text for word in _STALE)


_worlds: WeakKeyDictionary[Any, _PageWorlds] = WeakKeyDictionary()


def _worlds_of(frame: Any) -> _PageWorlds:
    page = frame.page
    worlds = _worlds.get(page)
    if worlds is None:
        worlds = _worlds[page] = _PageWorlds(page)
    return worlds


async def _isolated_or(
    frame: Any,
    isolated: Callable[[_PageWorlds, Any], Awaitable[Any]],
    main_world: Callable[[Any], Awaitable[Any]],
) -> Any:
    """`isolated(worlds, frame)`, or `main_world(frame)` on a browser without CDP."""
    impl = impl_of(frame)
    worlds = _worlds_of(impl)
    if worlds.usable:
        try:
            return await isolated(worlds, impl)
        except _NoCdp:
            worlds.usable = False
    return await main_world(impl)


async def evaluate_isolated(frame: Any, function: str, arg: Any) -> Any:
    """`function(arg)` (a function expression) in `frame`'s isolated world; its answer by
    value. `frame` is a Frame of either Playwright API. Errors are PlaywrightErrors, as
    `frame.evaluate`'s are."""
    return await _isolated_or(
        frame,
        lambda worlds, impl: worlds.call(impl, function, arg),
        lambda impl: impl.evaluate(function, arg),
    )


async def evaluate_on_owner(frame: Any, function: str, arg: Any) -> Any:
    """`function(owner, arg)` in the isolated world of `frame`'s parent frame, `owner` being
    the iframe element that holds `frame`."""

    async def main_world(impl: Any) -> Any:
        owner = await impl.frame_element()
        try:
            return await owner.evaluate(function, arg)
        finally:
            await owner.dispose()

    return await _isolated_or(
        frame, lambda worlds, impl: worlds.call_on_owner(impl, function, arg), main_world
    )


class _NoCdp(Exception):
    """The browser has no CDP sessions (not Chromium)."""
