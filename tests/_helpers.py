"""Helpers shared by the test modules (conftest.py holds the fixtures): the test site's
server-side includes, and running a command the way a user would.
"""

from __future__ import annotations

import html
import io
import re
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

from capture.recorder.observe import PageState

# -- server-side includes for the test site's pages -------------------------------------

_DIRECTIVE = re.compile(r'<!--#(set|include|echo)((?: \w+="[^"]*")+) -->(\n?)')


def expand_includes(text: str, directory: Path, variables: dict[str, str] | None = None) -> str:
    """`text` with its server-side include directives done, the subset of Apache's and
    nginx's SSI that the test pages use: `<!--#set var="title" value="Board" -->`,
    `<!--#include virtual="_head.html" -->` (a file beside the page, itself expanded) and
    `<!--#echo var="title" -->` (HTML-escaped). A directive alone on its line leaves no line."""
    variables = {} if variables is None else variables

    def directive(match: re.Match[str]) -> str:
        kind, newline = match.group(1), match.group(3)
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
        if kind == "set":
            variables[attrs["var"]] = attrs["value"]
            return ""
        if kind == "include":
            included = (directory / attrs["virtual"]).read_text(encoding="utf-8")
            return expand_includes(included, directory, variables)
        return html.escape(variables[attrs["var"]]) + newline

    return _DIRECTIVE.sub(directive, text)


class IncludingHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler that serves an .html file with directives expanded
    (`expand_includes`), so the test pages share one head instead of each repeating it."""

    def send_head(self) -> io.BufferedIOBase | None:  # type: ignore[override]
        target = self.translate_path(self.path)  # ends in "/" where the URL does: not a file
        path = Path(target)
        plain = target.endswith("/") or path.suffix != ".html" or not path.is_file()
        if plain or b"<!--#" not in path.read_bytes():
            return super().send_head()  # type: ignore[return-value]
        body = expand_includes(path.read_text(encoding="utf-8"), path.parent).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


# -- what the recorder reads from a page --------------------------------------------------


def page_state(outline: list[str], **fields: Any) -> PageState:
    """A `PageState` of a 1280x800 page seen whole, with no field to mask, every `outline`
    line in view; `fields` override any of that (url, title, scroll, secret_values, ...)."""
    defaults: dict[str, Any] = {
        "url": "http://127.0.0.1/app",
        "title": "App",
        "viewport": (1280, 800),
        "scroll": (0, 0),
        "page_size": (1280, 800),
        "omitted": 0,
        "sensitive_rects": [],
        "secret_values": [],
        "in_viewport": len(outline),
    }
    return PageState(outline=outline, **{**defaults, **fields})


ROOMY_BOX = "10s"
"""A time box for captures whose image or observation a test checks: the machine running the
suite may be busy (several workers a core), and a part left out of the default box fails it."""

SHOT = "__user_part_screenshot"
"""The key of the screenshot the recorder stores (a Distri user part)."""
OBS = "__user_part_observation"
"""The key of the observation text the recorder stores (a Distri user part)."""
