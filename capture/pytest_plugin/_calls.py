"""Which Playwright calls count as a test's steps, how they are hooked, and how they read.

How: while a capture-enabled pytest run lasts, the action methods of Playwright's public API
classes (`Page`, `Frame`, `Locator`, `ElementHandle`, `Keyboard`, `Mouse`, `PageAssertions`,
`LocatorAssertions`, in both `playwright.sync_api` and `playwright.async_api`) are replaced
by wrappers that call the original and then tell a `StepHook` what ran. They are restored
when the run ends.

Why this way: the public method names are Playwright's documented, stable surface; its
internals (the channel, the connection's API zones) are not. Page events and
tracing miss fills and keyboard input entirely, and a proxy around the `page` fixture would
miss every `Locator` (made fresh by each `get_by_*`), every page a test opens itself, and
break `isinstance` checks inside `expect`. The generated public methods call the private
implementation directly, never each other, so one user call is exactly one step; the
recorder's own page reads use methods that are not wrapped (`evaluate`, `screenshot`), and
the hook is additionally told when it is busy so nothing it does is counted.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Protocol

from capture.browser import actual_locator
from capture.recorder.observe import REDACTED

__all__ = [
    "ASSERTIONS",
    "QUIET_ASSERTIONS",
    "Call",
    "StepHook",
    "describe_call",
    "install",
    "uninstall",
    "use",
]

# Methods that change or check the page, by class (same names in both APIs).
ACTIONS: dict[str, tuple[str, ...]] = {
    "Page": (
        "goto", "reload", "go_back", "go_forward", "click", "dblclick", "tap", "fill",
        "type", "press", "check", "uncheck", "set_checked", "select_option",
        "set_input_files", "hover", "drag_and_drop",
    ),
    "Locator": (
        "click", "dblclick", "tap", "fill", "clear", "type", "press_sequentially", "press",
        "check", "uncheck", "set_checked", "select_option", "set_input_files", "hover",
        "drag_to",
    ),
    "Frame": (
        "goto", "click", "dblclick", "tap", "fill", "type", "press", "check", "uncheck",
        "set_checked", "select_option", "set_input_files", "hover", "drag_and_drop",
    ),
    "ElementHandle": (
        "click", "dblclick", "tap", "fill", "type", "press", "check", "uncheck", "set_checked",
        "select_option", "set_input_files", "hover",
    ),
    "Keyboard": ("press", "type", "insert_text"),
    "Mouse": ("click", "dblclick", "wheel"),
}  # fmt: skip
# Classes whose methods take a selector first, as `Page`'s do.
SELECTOR_FIRST = ("Page", "Frame")
ASSERTIONS = ("PageAssertions", "LocatorAssertions")

# (position, keyword) of the argument that carries typed input, by (class, method): its
# value is named only when the field it went to is not sensitive.
_TYPED = (("fill", "value"), ("type", "text"), ("press", "key"), ("select_option", "value"))
VALUE_ARGS: dict[tuple[str, str], tuple[int, str]] = {
    **{(kind, method): (1, keyword) for kind in SELECTOR_FIRST for method, keyword in _TYPED},
    **{
        (kind, method): (0, keyword)
        for kind in ("Locator", "ElementHandle")
        for method, keyword in _TYPED
    },
    ("Locator", "press_sequentially"): (0, "text"),
    ("Keyboard", "type"): (0, "text"),
    ("Keyboard", "insert_text"): (0, "text"),
    ("Keyboard", "press"): (0, "key"),
}
# Locator assertions whose expected values may repeat what was typed into a field.
QUIET_ASSERTIONS = re.compile(r"^(not_)?to_have_(values?|attribute|js_property)$")


@dataclass
class Call:
    """One hooked call: `kind` is the class name, `owner` the object it ran on."""

    kind: str
    method: str
    owner: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def typed_value(self) -> Any:
        """The typed input of this call, or None when it has none (a named key is none)."""
        where = VALUE_ARGS.get((self.kind, self.method))
        if where is None:
            return None
        position, keyword = where
        value = self.args[position] if len(self.args) > position else self.kwargs.get(keyword)
        if keyword == "key" and isinstance(value, str) and len(value) > 1:
            return None  # "Enter", "Control+A": a key name, not input
        return value

    @property
    def selector(self) -> str | None:
        """The selector argument of a `Page` or `Frame` method, if it has one."""
        navigations = ("goto", "reload", "go_back", "go_forward")
        if self.kind in SELECTOR_FIRST and self.method not in navigations:
            first = self.args[0] if self.args else self.kwargs.get("selector")
            return first if isinstance(first, str) else None
        return None


class StepHook(Protocol):
    """Told when a hooked call begins, and once it returned or raised (`error`)."""

    busy: bool

    def began(self) -> None: ...

    def after_sync(self, call: Call, error: BaseException | None) -> None: ...

    async def after_async(self, call: Call, error: BaseException | None) -> None: ...


def _short(value: Any) -> str:
    if isinstance(value, re.Pattern):
        return f"/{value.pattern}/"
    if isinstance(value, PurePath):
        return repr(value.name)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_short(item) for item in value) + "]"
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    if isinstance(value, int | float | bool) or value is None:
        return repr(value)
    return type(value).__name__


def _target(owner: Any) -> str:
    """`locator('<selector>')`, read from the locator's repr.

    `LocatorAssertions` has no public way back to its locator; the seam reads it for the
    text only, with a plain `locator` when it is gone.
    """
    if type(owner).__name__ == "LocatorAssertions":
        owner = actual_locator(owner)
    match = re.search(r"selector='(.*)'>$", repr(owner))
    return f"locator({match.group(1)!r})" if match else "locator"


def describe_call(call: Call, *, hide_value: bool) -> str:
    """The call as one line, e.g. `locator('#q').fill('mug')` or `keyboard.press('Enter')`;
    typed input reads `[redacted]` when `hide_value`. Keyword options are left out."""
    value = call.typed_value
    args = [
        REDACTED if hide_value and value is not None and arg is value else _short(arg)
        for arg in call.args
    ]
    if value is not None and all(arg is not value for arg in call.args):
        args.append(REDACTED if hide_value else _short(value))
    text = f"{call.method}({', '.join(args)})"
    if call.kind == "LocatorAssertions":
        shown = "" if QUIET_ASSERTIONS.match(call.method) else ", ".join(args)
        return f"expect({_target(call.owner)}).{call.method}({shown})"
    if call.kind == "PageAssertions":
        return f"expect(page).{text}"
    if call.kind == "Locator":
        return f"{_target(call.owner)}.{text}"
    if call.kind == "ElementHandle":
        return f"element_handle.{text}"
    return f"{call.kind.lower()}.{text}"


# -- installing the wrappers ---------------------------------------------------------------

_installed: list[tuple[type, str, Any]] = []
_hook: StepHook | None = None


def _sync_wrapper(kind: str, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True  # a failing test's traceback shows the test, not this
        hook = _hook
        if hook is None or hook.busy:
            return original(self, *args, **kwargs)
        call = Call(kind, name, self, args, kwargs)
        hook.began()
        try:
            result = original(self, *args, **kwargs)
        except Exception as exc:
            hook.after_sync(call, exc)
            raise
        hook.after_sync(call, None)
        return result

    return wrapper


def _async_wrapper(
    kind: str, name: str, original: Callable[..., Awaitable[Any]]
) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(original)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        hook = _hook
        if hook is None or hook.busy:
            return await original(self, *args, **kwargs)
        call = Call(kind, name, self, args, kwargs)
        hook.began()
        try:
            result = await original(self, *args, **kwargs)
        except Exception as exc:
            await hook.after_async(call, exc)
            raise
        await hook.after_async(call, None)
        return result

    return wrapper


def _targets() -> Iterator[tuple[type, str, str, bool]]:
    """(class, class name, method, is async) for every method to wrap."""
    import playwright.async_api as async_api
    import playwright.sync_api as sync_api

    for module, is_async in ((sync_api, False), (async_api, True)):
        for kind, methods in ACTIONS.items():
            for method in methods:
                yield getattr(module, kind), kind, method, is_async
        for kind in ASSERTIONS:
            cls = getattr(module, kind)
            for method in vars(cls):
                if method.startswith(("to_", "not_to_")):
                    yield cls, kind, method, is_async


def install() -> None:
    """Wrap every action method (once); calls go to the hook set with `use`."""
    if _installed:
        return
    for cls, kind, method, is_async in _targets():
        original = vars(cls)[method]
        if is_async != inspect.iscoroutinefunction(original):
            continue  # not an action after all (a Playwright change): leave it alone
        wrap = _async_wrapper if is_async else _sync_wrapper
        _installed.append((cls, method, original))
        setattr(cls, method, wrap(kind, method, original))


def use(hook: StepHook | None) -> None:
    """Send hooked calls to `hook` (one test's captures) from now on; None: to nobody."""
    global _hook
    _hook = hook


def uninstall() -> None:
    """Put the original methods back."""
    use(None)
    while _installed:
        cls, method, original = _installed.pop()
        setattr(cls, method, original)
