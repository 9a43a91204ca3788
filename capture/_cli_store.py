"""`capture values`, `capture parts` and `capture sessions`: the session store from a shell.

Each command builds a `SessionClient` from the config (flags win) and makes one call; what
comes back is printed as JSON on a pipe and as a table on a terminal.
"""

from __future__ import annotations

import json
import mimetypes
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from capture._output import emit, table
from capture.cli import ConfigOption, ServerOption, TokenOption, config_from
from capture.config import parse_duration
from capture.session import ImagePart, SessionClient, TextPart

__all__ = ["parts_app", "sessions", "values_app"]

values_app = typer.Typer(help="Read and write session values.", no_args_is_help=True)
parts_app = typer.Typer(
    help="Read and write user parts (values named __user_part_*, attached to the agent's "
    "user messages).",
    no_args_is_help=True,
)

ExpiresOption = Annotated[
    str | None,
    typer.Option(
        "--expires",
        help="Expire after a duration ('90s', '10m', '6h') or at an RFC 3339 time "
        "('2026-11-25T12:00:00Z')",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON even on a terminal")]
Thread = Annotated[str, typer.Argument(help="Thread id (the session id)")]


def _client(server: str | None, token: str | None, config_file: str | None) -> SessionClient:
    config = config_from(config_file, **{"session.server": server, "session.token": token})
    return SessionClient.from_config(config.session)


def _expiry(text: str | None) -> timedelta | str | None:
    """A duration is relative to now; anything else must be an RFC 3339 timestamp."""
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError:
        return text


def _read_text(text: str) -> str:
    return sys.stdin.read() if text == "-" else text


@values_app.command("set")
def values_set(
    thread: Thread,
    key: Annotated[str, typer.Argument(help="Key")],
    value: Annotated[
        str, typer.Argument(help="A JSON value; text that is not JSON is a string; - reads stdin")
    ],
    expires: ExpiresOption = None,
    string: Annotated[
        bool, typer.Option("--string", help="Store VALUE as a string, never as JSON")
    ] = False,
    server: ServerOption = None,
    token: TokenOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Set KEY of THREAD to VALUE."""
    raw = _read_text(value)
    parsed: Any = raw
    if not string:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw
    with _client(server, token, config_file) as client:
        client.set_session_value(thread, key, parsed, _expiry(expires))
    typer.echo(f"set {key!r} in thread {thread!r}", err=True)


@values_app.command("get")
def values_get(
    thread: Thread,
    key: Annotated[str, typer.Argument(help="Key")],
    server: ServerOption = None,
    token: TokenOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Print the value of KEY (null when it is missing or expired)."""
    with _client(server, token, config_file) as client:
        emit(client.get_session_value(thread, key))


@values_app.command("list")
def values_list(
    thread: Thread,
    as_json: JsonOption = False,
    server: ServerOption = None,
    token: TokenOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Print every live value of THREAD."""
    with _client(server, token, config_file) as client:
        values = client.get_session_values(thread)
    rows = [
        (key, _preview(json.dumps(value, ensure_ascii=False)))
        for key, value in sorted(values.items())
    ]
    emit(values, table(f"thread {thread}", ["key", "value"], rows), force_json=as_json)


@values_app.command("delete")
def values_delete(
    thread: Thread,
    key: Annotated[str, typer.Argument(help="Key")],
    server: ServerOption = None,
    token: TokenOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Delete KEY (not an error when it is absent)."""
    with _client(server, token, config_file) as client:
        client.delete_session_value(thread, key)
    typer.echo(f"deleted {key!r} from thread {thread!r}", err=True)


@values_app.command("clear")
def values_clear(
    thread: Thread,
    server: ServerOption = None,
    token: TokenOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Delete every value of THREAD."""
    with _client(server, token, config_file) as client:
        client.clear_session(thread)
    typer.echo(f"cleared thread {thread!r}", err=True)


@parts_app.command("text")
def parts_text(
    thread: Thread,
    name: Annotated[
        str, typer.Argument(help="Part name ('observation' or '__user_part_observation')")
    ],
    text: Annotated[str, typer.Argument(help="The text; - reads stdin")],
    expires: ExpiresOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Set a text user part."""
    with _client(server, token, config_file) as client:
        client.set_user_part_text(thread, name, _read_text(text), _expiry(expires))
    typer.echo(f"set text part {name!r} in thread {thread!r}", err=True)


@parts_app.command("image")
def parts_image(
    thread: Thread,
    name: Annotated[
        str, typer.Argument(help="Part name ('screenshot' or '__user_part_screenshot')")
    ],
    file: Annotated[
        Path, typer.Argument(help="Image file", exists=True, dir_okay=False, readable=True)
    ],
    mime_type: Annotated[
        str | None, typer.Option("--mime-type", help="Default: from the file name")
    ] = None,
    expires: ExpiresOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Set an image user part from FILE."""
    mime = mime_type or mimetypes.guess_type(file.name)[0] or ""
    if not mime.startswith("image/"):
        raise ValueError(
            f"{file} does not look like an image ({mime or 'unknown type'}); "
            "pass --mime-type image/..."
        )
    with _client(server, token, config_file) as client:
        client.set_user_part_image(
            thread,
            name,
            file.read_bytes(),
            mime_type=mime,
            filename=file.name,
            expiry=_expiry(expires),
        )
    typer.echo(
        f"set image part {name!r} ({file.stat().st_size} bytes) in thread {thread!r}", err=True
    )


def _preview(text: str, limit: int = 80) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


@parts_app.command("list")
def parts_list(
    thread: Thread,
    as_json: JsonOption = False,
    server: ServerOption = None,
    token: TokenOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Print the user parts of THREAD as an agent would receive them."""
    with _client(server, token, config_file) as client:
        parts = client.get_user_parts(thread)
    rows = []
    for name, part in parts.items():
        if isinstance(part, TextPart):
            rows.append((name, "text", _preview(part.data)))
        elif isinstance(part, ImagePart):
            data = part.data
            detail = (
                getattr(data, "url", None) or f"{len(getattr(data, 'bytes', '')) * 3 // 4} bytes"
            )
            rows.append((name, f"image ({data.mime_type})", detail))
    emit(
        {name: part.model_dump(mode="json") for name, part in parts.items()},
        table(f"user parts of {thread}", ["name", "type", "content"], rows),
        force_json=as_json,
    )


@parts_app.command("delete")
def parts_delete(
    thread: Thread,
    name: Annotated[str, typer.Argument(help="Part name")],
    server: ServerOption = None,
    token: TokenOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Delete one user part."""
    with _client(server, token, config_file) as client:
        client.delete_user_part(thread, name)
    typer.echo(f"deleted part {name!r} from thread {thread!r}", err=True)


@parts_app.command("clear")
def parts_clear(
    thread: Thread,
    server: ServerOption = None,
    token: TokenOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Delete every user part of THREAD (other values stay)."""
    with _client(server, token, config_file) as client:
        client.clear_user_parts(thread)
    typer.echo(f"cleared user parts of thread {thread!r}", err=True)


def sessions(
    thread: Annotated[str | None, typer.Option("--thread", help="Only this thread")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    as_json: JsonOption = False,
    server: ServerOption = None,
    token: TokenOption = None,
    config_file: ConfigOption = None,
) -> None:
    """List sessions, newest first."""
    with _client(server, token, config_file) as client:
        rows = client.list_sessions(thread, limit=limit, offset=offset)
    emit(
        [row.model_dump(mode="json") for row in rows],
        table(
            "sessions",
            ["thread", "keys", "updated"],
            [(r.thread_id, str(r.key_count), r.updated_at or "") for r in rows],
        ),
        force_json=as_json,
    )
