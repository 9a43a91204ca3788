"""Literal-secret redaction of any text the recorder produces.

Structural redaction (page.js) keeps sensitive field values out of the outline; this is the
second net, for configured secrets and for values that surface elsewhere (a console message,
a URL, a title). It replaces whole occurrences only where that cannot corrupt the text:

- secrets shorter than `MIN_SECRET_LENGTH` (4, not counting surrounding blanks) are
  ignored: "ab" or "12" occur in ordinary words, numbers and refs, and replacing them (or a
  run of spaces, the outline's indentation) would wreck the text;
- secrets shorter than `ANYWHERE_LENGTH` (8) are replaced only where they stand alone (not
  inside a longer run of letters and digits), so a PIN "1234" leaves the ref "e1234" and
  the year "12345" intact;
- longer secrets are replaced wherever they occur.

Each secret is also matched URL-encoded and JSON-escaped, the forms it takes in URLs and
step records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

__all__ = ["ANYWHERE_LENGTH", "MIN_SECRET_LENGTH", "REDACTED", "Scrubber"]

MIN_SECRET_LENGTH = 4
ANYWHERE_LENGTH = 8
REDACTED = "[redacted]"
_WORD = "0-9A-Za-z"


def _variants(secret: str) -> set[str]:
    return {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }


def _pattern(variant: str, short: bool) -> str:
    body = re.escape(variant)
    if not short:
        return body
    before = f"(?<![{_WORD}])" if re.match(f"[{_WORD}]", variant) else ""
    after = f"(?![{_WORD}])" if re.search(f"[{_WORD}]$", variant) else ""
    return before + body + after


class Scrubber:
    """Replaces every known secret in a text with "[redacted]"; see the module docstring."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._regex: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Learn more secrets; too-short or blank ones are ignored (see the module doc)."""
        new = {s for s in secrets if len(s.strip()) >= MIN_SECRET_LENGTH} - self._secrets
        if not new:
            return
        self._secrets |= new
        patterns = {
            (len(variant), _pattern(variant, len(secret) < ANYWHERE_LENGTH))
            for secret in self._secrets
            for variant in _variants(secret)
        }
        # Longest first, so a secret containing another is replaced whole.
        self._regex = re.compile("|".join(p for _, p in sorted(patterns, reverse=True)))

    @property
    def secrets(self) -> list[str]:
        """The secrets known so far (for masking them in the page's pixels; never store)."""
        return sorted(self._secrets)

    def __call__(self, text: str) -> str:
        if self._regex is None:
            return text
        return self._regex.sub(REDACTED, text)
