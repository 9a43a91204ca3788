"""Large documentation pages for the capture benchmark and tests: real ones, and one made.

Real: HTML documentation that Debian packages install (`scripts/setup --test` installs
them): the Python library reference (python3-doc), and rustdoc and mdBook pages of the
Rust documentation (rust-doc). `real_doc_pages()` lists those present.

Made: `write_doc_like(directory)` writes `docs.html`, a generated page built like those:
syntax-highlighted code with thousands of spans, nested lists, a long fixed sidebar,
collapsed sections, many links, and a fixed "back to top" button at the end of the
document, deterministically (same bytes every run).

Load with `runpy.run_path(".../tests/site/docpages.py")` (as bigdoc.py), or run
`python tests/site/docpages.py OUT_DIR`.
"""

from __future__ import annotations

import glob
import sys
from pathlib import Path

__all__ = ["DOC_LIKE_FILE", "DocPage", "real_doc_pages", "write_doc_like"]

DOC_LIKE_FILE = "docs.html"

# (name, glob of the documentation root, page under it)
_REAL = [
    ("python stdtypes.html", "/usr/share/doc/python3*/html", "library/stdtypes.html"),
    ("python os.html", "/usr/share/doc/python3*/html", "library/os.html"),
    ("rustdoc Vec.html", "/usr/share/doc/rust-doc/html", "std/vec/struct.Vec.html"),
    ("mdBook print.html", "/usr/share/doc/rust-doc/html", "book/print.html"),
]

DocPage = tuple[str, Path, str]  # (name, root directory to serve, page path under it)


def real_doc_pages() -> list[DocPage]:
    """The real documentation pages installed on this machine, as (name, root, path)."""
    found: list[DocPage] = []
    for name, pattern, page in _REAL:
        for root in sorted(glob.glob(pattern)):
            if (Path(root) / page).is_file():
                found.append((name, Path(root), page))
                break
    return found


_WORDS = [
    "vector", "capacity", "element", "slice", "iterator", "allocate", "buffer", "length",
    "index", "panic", "borrow", "clone", "default", "range", "drain", "retain", "extend",
    "truncate", "reserve", "shrink", "insert", "remove", "push", "pop", "sort", "dedup",
]  # fmt: skip
_KEYWORDS = ["let", "fn", "pub", "impl", "for", "mut", "return", "match", "if", "use"]


def _words(seed: int, n: int) -> str:
    return " ".join(_WORDS[(seed * 7 + i * 11) % len(_WORDS)] for i in range(n))


def _code(seed: int) -> str:
    """A highlighted code block: every token its own span, as highlighters write them."""
    lines = []
    for k in range(12):
        w = _WORDS[(seed + k) % len(_WORDS)]
        kw = _KEYWORDS[(seed + k) % len(_KEYWORDS)]
        lines.append(
            f'<span class="kw">{kw}</span> <span class="ident">{w}</span>'
            f'<span class="op">.</span><span class="fn">{_WORDS[(seed * 3 + k) % len(_WORDS)]}'
            f'</span><span class="punct">(</span><span class="num">{seed * k % 97}</span>'
            f'<span class="punct">)</span><span class="op">;</span> '
            f'<span class="comment">// {_words(seed + k, 4)}</span>'
        )
    return '<pre class="code"><code>' + "\n".join(lines) + "</code></pre>"


def _section(n: int) -> str:
    nested = "".join(
        f"<li><a href='#m{n}-{k}'>{_words(n + k, 2)}</a><ul>"
        + "".join(
            f"<li><code>{_words(n * k + j, 1)}()</code> {_words(j, 5)}</li>" for j in range(3)
        )
        + "</ul></li>"
        for k in range(3)
    )
    return (
        f"<section id='s{n}'><h2 id='h{n}'><a class='anchor' href='#h{n}'>§</a>"
        f"Method <code>{_words(n, 1)}_{n}</code></h2>"
        f"<p>{_words(n, 20)} <a href='#s{(n * 7) % 150}'>see {n * 7 % 150}</a> "
        f"<code>{_words(n + 1, 1)}</code> {_words(n + 2, 16)}.</p>"
        f"{_code(n)}<ul>{nested}</ul>"
        f"<details class='toggle'><summary>Show implementation {n}</summary>"
        f"{_code(n + 1000)}<p>{_words(n + 3, 30)}</p></details>"
        f"<div class='hidden-docs' style='display:none'><p>{_words(n + 4, 40)}</p>"
        f"<a href='#x{n}'>hidden link {n}</a></div></section>"
    )


def doc_like_html(sections: int = 150) -> str:
    """The generated documentation page (about 1.3 MB with the default 150 sections)."""
    sidebar = "".join(
        f"<li><a href='#mod{m}'>module_{m}</a><ul>"
        + "".join(f"<li><a href='#mod{m}-{k}'>{_words(m + k, 1)}_{k}</a></li>" for k in range(12))
        + "</ul></li>"
        for m in range(60)
    )
    head = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Generated documentation</title><style>"
        "body{font-family:sans-serif;margin:0}"
        ".topbar{position:fixed;top:0;left:0;right:0;height:40px;background:#eee;z-index:2}"
        ".sidebar{position:fixed;top:40px;bottom:0;left:0;width:260px;overflow:auto}"
        ".content{margin:50px 20px 0 280px}"
        ".code .kw{color:#a0a}.code .fn{color:#07a}.code .comment{color:#888}"
        ".anchor{position:absolute;margin-left:-1em}"
        ".to-top{position:fixed;right:16px;bottom:16px}"
        "</style></head><body>"
        "<header class='topbar'><nav aria-label='Site'><a href='#top'>Docs home</a> "
        "<input type='search' aria-label='Search the docs' placeholder='Search'></nav></header>"
        f"<nav class='sidebar' aria-label='Modules'><ul>{sidebar}</ul></nav>"
        "<main class='content'><h1 id='top'>Struct <code>Vec</code></h1>"
    )
    body = "".join(_section(n) for n in range(sections))
    tail = (
        "</main><footer><p>Generated for the capture benchmark.</p>"
        "<button type='button' class='to-top'>Back to top</button></footer></body></html>"
    )
    return head + body + tail


def write_doc_like(directory: Path, sections: int = 150) -> Path:
    """Write `docs.html` into `directory` and return its path."""
    path = Path(directory) / DOC_LIKE_FILE
    path.write_text(doc_like_html(sections), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_doc_like(Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
