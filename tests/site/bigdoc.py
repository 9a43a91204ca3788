"""Write a static HTML document of at least 1 MB (the "big document" benchmark page).

Not committed as a file: the tests' `big_document` fixture and scripts/bench write it into a
temporary directory. Load with `runpy.run_path(".../tests/site/bigdoc.py")["write_big_document"]`
(a `site` package name would clash with the standard library's `site` module), or run
`python tests/site/bigdoc.py OUT_DIR`.

The content mixes what makes accessibility snapshots slow: thousands of headings, links,
buttons, table cells and form controls, deterministically (same bytes every run).
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["big_document_html", "write_big_document"]

FILE_NAME = "big.html"
_WORDS = [
    "capture",
    "observation",
    "browser",
    "agent",
    "session",
    "store",
    "outline",
    "viewport",
    "screenshot",
    "budget",
    "redaction",
    "frame",
    "shadow",
    "element",
    "heading",
    "button",
    "link",
    "table",
    "row",
    "column",
    "value",
    "step",
    "record",
    "change",
    "event",
    "request",
    "console",
    "dialog",
    "token",
    "image",
    "text",
    "part",
    "expiry",
    "thread",
]


def _sentence(seed: int, length: int) -> str:
    words = [_WORDS[(seed * 7 + i * 13) % len(_WORDS)] for i in range(length)]
    return " ".join(words).capitalize() + "."


def _section(n: int) -> str:
    paragraphs = "".join(
        f"<p>{_sentence(n + k, 18)} See <a href='#s{(n + k) % 400}'>section {(n + k) % 400}</a>"
        f" and {_sentence(n * 3 + k, 14)}</p>"
        for k in range(4)
    )
    items = "".join(
        f"<li><a href='#item-{n}-{k}'>Item {n}.{k}</a> {_sentence(k, 6)}</li>" for k in range(6)
    )
    rows = "".join(
        f"<tr><td>{n}.{k}</td><td>{_sentence(n + k, 4)}</td><td>{(n * k) % 97}</td>"
        f"<td><button type='button'>Edit {n}.{k}</button></td></tr>"
        for k in range(5)
    )
    return (
        f"<section id='s{n}' aria-labelledby='h{n}'><h2 id='h{n}'>Section {n}</h2>{paragraphs}"
        f"<h3>Details {n}</h3><ul>{items}</ul>"
        f"<table><thead><tr><th>Id</th><th>Name</th><th>Score</th><th>Action</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f"<form><label>Comment {n} <input name='c{n}'></label>"
        f"<label><input type='checkbox' name='k{n}'> Follow {n}</label>"
        f"<button type='submit'>Send {n}</button></form></section>"
    )


def big_document_html(min_bytes: int = 1_100_000) -> str:
    """Return the document: as many sections as it takes to reach `min_bytes` (UTF-8)."""
    head = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Big document</title>"
        "<style>body{font-family:sans-serif;margin:1rem}td,th{border:1px solid #ccc}</style>"
        "</head><body><header><nav aria-label='Main'><a href='#s0'>Start</a> "
        "<a href='#s100'>Middle</a></nav></header><main><h1>Big document</h1>"
    )
    tail = "</main><footer><a href='#s0'>Back to top</a></footer></body></html>"
    parts = [head]
    size = len(head) + len(tail)
    n = 0
    while size < min_bytes:
        section = _section(n)
        parts.append(section)
        size += len(section.encode())
        n += 1
    parts.append(tail)
    return "".join(parts)


def write_big_document(directory: Path, min_bytes: int = 1_100_000) -> Path:
    """Write `big.html` into `directory` and return its path."""
    path = Path(directory) / FILE_NAME
    path.write_text(big_document_html(min_bytes), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_big_document(Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
