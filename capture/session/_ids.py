"""What the Session Store API accepts as a thread id or a key: one rule, applied by the
embedded store to every request and by the front doors (`run`, `snap`, `record`, `mcp`,
`agent-context`, through `capture.entry.check_thread`) before anything starts, so a thread
id the store would refuse is a usage error at once rather than every write of a finished
run dropped."""

from __future__ import annotations

import unicodedata

from capture.errors import UsageError

__all__ = ["check_thread_id", "id_problem", "is_unicode"]


def id_problem(text: str, limit: int) -> str | None:
    """Why the store refuses `text` as a thread id or key (None when it takes it)."""
    if not text:
        return "is empty"
    if len(text) > limit:
        return f"is longer than {limit} characters"
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        return "contains a control character"
    if not is_unicode(text):
        return "contains a lone surrogate (\\ud800-\\udfff): not Unicode text"
    return None


def is_unicode(text: str) -> bool:
    """False for lone surrogates (JSON-escaped ones, or undecodable bytes of a command-line
    argument), which no backend can encode as UTF-8."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_thread_id(thread: str, limit: int, *, source: str = "--thread") -> str:
    """`thread` when the store would take it, else a `UsageError` naming where it came from
    (`limit` is `store.max_thread_id_length`)."""
    problem = id_problem(thread, limit)
    if problem is None:
        return thread
    shown = thread if len(thread) <= 40 else f"{thread[:37]}..."
    raise UsageError(f"{source}: thread id {shown!r} {problem}; the store would refuse it")
