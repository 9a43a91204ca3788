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
        for last in (False, True):
            where = await self._locate(frame)
            try:
                context = await self._context(where)
                answer = await where.session.send(
                    "Runtime.callFunctionOn",
                    {
                        "functionDeclaration": function,
                        "executionContextId": context,
                        "arguments": [{"value": arg}],
                        "returnByValue": True,
                        "awaitPromise": True,
                    },
                    None,
                )
            except PlaywrightError as exc:
                if last or not _is_stale(exc):
                    raise
                self._forget(frame)
                continue
            return _value(answer)
        raise AssertionError("unreachable")  # pragma: no cover

    async def call_on_owner(self, frame: Any, function: str, arg: Any) -> Any:
        """`function(owner, arg)` in the isolated world of `frame`'s parent, where `owner` is
        the iframe element that holds `frame`."""
        for last in (False, True):
            parent = await self._locate(frame.parent_frame)
            where = await self._locate(frame)
            try:
                context = await self._context(parent)
                owner = await parent.session.send(
                    "DOM.getFrameOwner", {"frameId": where.frame_id}, None
                )
                node = await parent.session.send(
                    "DOM.resolveNode",
                    {"backendNodeId": owner["backendNodeId"], "executionContextId": context},
                    None,
                )
                object_id = node["object"]["objectId"]
                try:
                    answer = await parent.session.send(
                        "Runtime.callFunctionOn",
                        {
                            "functionDeclaration": _ON_THIS.format(function=function),
                            "objectId": object_id,
                            "arguments": [{"value": arg}],
                            "returnByValue": True,
                            "awaitPromise": True,
                        },
                        None,
                    )
                finally:
                    await _release(parent.session, object_id)
            except PlaywrightError as exc:
                if last or not _is_stale(exc):
                    raise
                self._forget(frame)
                self._forget(frame.parent_frame)
                continue
            return _value(answer)
        raise AssertionError("unreachable")  # pragma: no cover

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
        owner_node = await parent.session.send("DOM.getFrameOwner", {"frameId": child}, None)
        node = await parent.session.send(
            "DOM.resolveNode", {"backendNodeId": owner_node["backendNodeId"]}, None
        )
        object_id = node["object"]["objectId"]
        try:
            answer = await parent.session.send(
                "Runtime.callFunctionOn",
                {
                    "functionDeclaration": f"function () {{ return this.{_TAG}; }}",
                    "objectId": object_id,
                    "returnByValue": True,
                },
                None,
            )
        finally:
            await _release(parent.session, object_id)
        if _value(answer) == tag:
            return child
    raise PlaywrightError("frame not found: it was detached")


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


async def evaluate_isolated(frame: Any, function: str, arg: Any) -> Any:
    """`function(arg)` (a function expression) in `frame`'s isolated world; its answer by
    value. `frame` is a Frame of either Playwright API. Errors are PlaywrightErrors, as
    `frame.evaluate`'s are."""
    impl = impl_of(frame)
    worlds = _worlds_of(impl)
    if worlds.usable:
        try:
            return await worlds.call(impl, function, arg)
        except _NoCdp:
            worlds.usable = False
    return await impl.evaluate(function, arg)


async def evaluate_on_owner(frame: Any, function: str, arg: Any) -> Any:
    """`function(owner, arg)` in the isolated world of `frame`'s parent frame, `owner` being
    the iframe element that holds `frame`."""
    impl = impl_of(frame)
    worlds = _worlds_of(impl)
    if worlds.usable:
        try:
            return await worlds.call_on_owner(impl, function, arg)
        except _NoCdp:
            worlds.usable = False
    owner = await impl.frame_element()
    try:
        return await owner.evaluate(function, arg)
    finally:
        await owner.dispose()


class _NoCdp(Exception):
    """The browser has no CDP sessions (not Chromium)."""
