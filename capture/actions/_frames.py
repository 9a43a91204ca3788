"""Where a target lives: URL patterns, and the frame a target's `frame` names.

Frames are Playwright `Frame` objects found among `page.frames`, so cross-origin frames
(their own renderer process) are found like same-origin ones, and a frame ref (`f1`) maps
through the recorder's own frame numbering to the frame the observation called f1. A frame
loads after its page, so the lookup polls until the step's time limit; a frame that does
not turn up fails with the frames there are, so the reader sees what to write instead.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Page

from capture.actions._target import FrameSpec, FrameWhere, describe_frame
from capture.errors import NEW_CAPTURE, TaskError
from capture.recorder.observe import frame_numbered

__all__ = ["find_frame", "url_pattern"]

_POLL = 0.05  # seconds between looks for a frame that is not there yet
_LISTED = 6  # frames named in a "no such frame" message


def url_pattern(pattern: str, base_url: str) -> re.Pattern[str]:
    """A URL pattern from a task file as a regex: a path is resolved against base_url; `**`
    matches anything, `*` anything but `/`; without wildcards the URL must be equal."""
    if pattern.startswith("/"):
        parts = urlsplit(base_url)
        pattern = f"{parts.scheme}://{parts.netloc}{pattern}"
    out = []
    for token in re.split(r"(\*\*|\*)", pattern):
        out.append(".*" if token == "**" else "[^/]*" if token == "*" else re.escape(token))
    return re.compile("^" + "".join(out) + "$")


class _Ambiguous(TaskError):
    """Several frames match: waiting will not make the file say which one."""


class _Missing(Exception):
    """No frame matches yet; raised while polling, where the listing would be wasted work."""


async def _title(frame: Frame) -> str:
    try:
        return await frame.title()
    except PlaywrightError:  # detached or navigating meanwhile: not this frame, for now
        return ""


async def _matches(frame: Frame, spec: FrameSpec, base_url: str) -> bool:
    if spec.name is not None:
        return frame.name == spec.name
    if spec.url is not None:
        return url_pattern(spec.url, base_url).match(frame.url) is not None
    return spec.title is not None and spec.title in await _title(frame)


def _phrase(spec: FrameSpec) -> str:
    """`frame named 'pay'`, `frame at '**/pay'`, `frame titled 'Card'`: for complaints."""
    if spec.name is not None:
        return f"frame named {spec.name!r}"
    return spec.describe()


async def _listing(frames: Sequence[Frame], spec: FrameSpec) -> str:
    """The frames there are, shown by the key the file used: `'shop' (http://...)`."""
    if not frames:
        return "none"
    shown = []
    for frame in frames[:_LISTED]:
        if spec.url is not None:
            shown.append(frame.url)
            continue
        if spec.title is not None:
            label = repr(await _title(frame))
        else:
            label = repr(frame.name) if frame.name else "(no name)"
        shown.append(f"{label} at {frame.url}")
    more = f", and {len(frames) - _LISTED} more" if len(frames) > _LISTED else ""
    return ", ".join(shown) + more


async def _pick(
    frames: Sequence[Frame], spec: FrameSpec, base_url: str, where: str, explain: bool
) -> Frame:
    found = [frame for frame in frames if await _matches(frame, spec, base_url)]
    if len(found) == 1:
        return found[0]
    if found:
        urls = ", ".join(frame.url for frame in found[:_LISTED])
        raise _Ambiguous(
            f"{len(found)} frames match {spec.describe()} {where} ({urls}); "
            "name it by another key, or give the path from the outermost frame as a list"
        )
    if not explain:
        raise _Missing
    label = "frames" if where == "on the page" else "its frames"
    raise TaskError(f"no {_phrase(spec)} {where}; {label}: {await _listing(frames, spec)}")


def _children(frame: Frame) -> list[Frame]:
    return [child for child in frame.child_frames if not child.is_detached()]


async def _look(page: Page, frame: FrameWhere, base_url: str, explain: bool) -> Frame:
    """The frame as the page is now; when it is not there, TaskError naming the frames there
    are (`explain`) or _Missing; _Ambiguous when several match."""
    if isinstance(frame, str):
        found: Frame | None = frame_numbered(page, frame)
        if found is None:
            raise TaskError(
                f"no frame {frame} on the page (frame refs are numbered by the captures of "
                f"this page; {NEW_CAPTURE})"
            )
        return found
    if isinstance(frame, FrameSpec):  # anywhere on the page
        anywhere = [f for f in page.frames if f != page.main_frame and not f.is_detached()]
        return await _pick(anywhere, frame, base_url, "on the page", explain)
    here = page.main_frame
    for depth, spec in enumerate(frame):
        where = "on the page" if depth == 0 else f"inside {describe_frame(frame[:depth])}"
        here = await _pick(_children(here), spec, base_url, where, explain)
    return here


async def find_frame(page: Page, frame: FrameWhere, base_url: str, seconds: float) -> Frame:
    """The frame `frame` names, waiting up to `seconds` for it; TaskError naming the frames
    there are when it does not appear, or at once when several match."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return await _look(page, frame, base_url, explain=False)
        except _Ambiguous:
            raise
        except (_Missing, TaskError):
            await asyncio.sleep(_POLL)
    return await _look(page, frame, base_url, explain=True)  # a last look, with the listing
