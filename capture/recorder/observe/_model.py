"""What one read of the page yields: the data the recorder turns into an observation."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["EventsSnapshot", "PageState", "Rect"]


@dataclass(frozen=True)
class Rect:
    """A rectangle in CSS pixels of the top-level viewport (iframe offsets already added)."""

    x: float
    y: float
    width: float
    height: float


@dataclass
class PageState:
    """One read of the page: header facts, the outline, and what must be masked.

    `outline` is viewport-first: its first `in_viewport` lines describe what the person sees;
    the lines after a marker line describe what lies below/beside or above. It never holds
    the value of a sensitive field. `partial`: the walk of some frame stopped at its
    deadline, so what it had not read yet is not listed (the viewport is read first).
    `secret_values` are the current values of sensitive fields, only for scrubbing other
    texts (console messages, URLs); never store them.
    """

    url: str
    title: str
    viewport: tuple[int, int]
    scroll: tuple[int, int]
    page_size: tuple[int, int]
    outline: list[str]
    omitted: int
    sensitive_rects: list[Rect]
    secret_values: list[str]
    notes: list[str] = field(default_factory=list)
    in_viewport: int = 0
    partial: bool = False


@dataclass
class EventsSnapshot:
    """What the page reported since the previous drain, as short one-line texts."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    open_dialogs: list[str] = field(default_factory=list)
    dropped: int = 0

    def __bool__(self) -> bool:
        return bool(
            self.console_errors
            or self.page_errors
            or self.failed_requests
            or self.dialogs
            or self.open_dialogs
            or self.dropped
        )
