"""`capture values`, `capture parts` and `capture sessions`: the session store from a shell.

Each command gets a `SessionClient` on the store the entry finds (`--server`, which must
answer; else the configured one when it answers; else the embedded store on disk, which it
names on stderr) and makes one call; what comes back is printed as JSON on a pipe and as a
table on a terminal.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import mimetypes
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from capture._cli_options import ConfigOption, ServerOption, TokenOption
from capture._output import emit, table
from capture.config import parse_duration
from capture.session import ImagePart, ImageUrl, SessionClient, TextPart

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
Key = Annotated[str, typer.Argument(help="Key")]

# The options every command here shares, appended to each command's own by `_with_client`.
_STORE_OPTIONS = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
    for name, annotation in (
        ("server", ServerOption),
        ("token", TokenOption),
        ("config_file", ConfigOption),
    )
]


def _with_client(command: Callable[..., None]) -> Callable[..., None]:
    """Turn `command(client, ...)` into a CLI command with `--server`, `--token` and
    `--config` after its own options, run with a client built from them and closed after.

    Typer reads the parameters from `__signature__`, so the options are declared once here
    instead of in every command, and the command line stays `capture values get T K --server
    URL`."""
    signature = inspect.signature(command, eval_str=True)
    own = list(signature.parameters.values())[1:]  # all but `client`

    def run(*, server: str | None, token: str | None, config_file: str | None, **args: Any) -> None:
        # The store machinery (the embedded server among it) loads when a command runs, not
        # for `capture --help` (capture/_cli_help.py).
        from capture.entry import door_config, open_capture_sync, store_choice

        config = door_config(config_file, server=server, token=token)
        with open_capture_sync(config, store=store_choice(server)) as opened:
            if opened.store.embedded:
                typer.echo(opened.store.embedded, err=True)
            command(opened.client, **args)

    # name and docstring (the help text) from the command; the parameters typer reads:
    functools.update_wrapper(run, command, ("__module__", "__name__", "__qualname__", "__doc__"))
    run.__signature__ = signature.replace(parameters=[*own, *_STORE_OPTIONS])  # type: ignore[attr-defined]
    return run


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


def _preview(text: str, limit: int = 80) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def _describe(part: TextPart | ImagePart) -> tuple[str, str]:
    """(type, content) columns of a user part in `capture parts list`."""
    if isinstance(part, TextPart):
        return "text", _preview(part.data)
    data = part.data
    content = (
        data.url if isinstance(data, ImageUrl) else f"{len(data.bytes.rstrip('=')) * 3 // 4} bytes"
    )
    return f"image ({data.mime_type})", content


def _done(message: str) -> None:
    """Confirmations go to stderr: stdout carries only results."""
    typer.echo(message, err=True)


@values_app.command("set")
@_with_client
def values_set(
    client: SessionClient,
    thread: Thread,
    key: Key,
    value: Annotated[
        str, typer.Argument(help="A JSON value; text that is not JSON is a string; - reads stdin")
    ],
    expires: ExpiresOption = None,
    string: Annotated[
        bool, typer.Option("--string", help="Store VALUE as a string, never as JSON")
    ] = False,
) -> None:
    """Set KEY of THREAD to VALUE."""
    parsed: Any = _read_text(value)
    if not string:
        with contextlib.suppress(ValueError):
            parsed = json.loads(parsed)
    client.set_session_value(thread, key, parsed, _expiry(expires))
    _done(f"set {key!r} in thread {thread!r}")


@values_app.command("get")
@_with_client
def values_get(client: SessionClient, thread: Thread, key: Key) -> None:
    """Print the value of KEY (null when it is missing or expired)."""
    emit(client.get_session_value(thread, key))


@values_app.command("list")
@_with_client
def values_list(client: SessionClient, thread: Thread, as_json: JsonOption = False) -> None:
    """Print every live value of THREAD."""
    values = client.get_session_values(thread)
    rows = [
        (key, _preview(json.dumps(value, ensure_ascii=False)))
        for key, value in sorted(values.items())
    ]
    emit(values, table(f"thread {thread}", ["key", "value"], rows), force_json=as_json)


@values_app.command("delete")
@_with_client
def values_delete(client: SessionClient, thread: Thread, key: Key) -> None:
    """Delete KEY (not an error when it is absent)."""
    client.delete_session_value(thread, key)
    _done(f"deleted {key!r} from thread {thread!r}")


@values_app.command("clear")
@_with_client
def values_clear(client: SessionClient, thread: Thread) -> None:
    """Delete every value of THREAD."""
    client.clear_session(thread)
    _done(f"cleared thread {thread!r}")


@parts_app.command("text")
@_with_client
def parts_text(
    client: SessionClient,
    thread: Thread,
    name: Annotated[
        str, typer.Argument(help="Part name ('observation' or '__user_part_observation')")
    ],
    text: Annotated[str, typer.Argument(help="The text; - reads stdin")],
    expires: ExpiresOption = None,
) -> None:
    """Set a text user part."""
    client.set_user_part_text(thread, name, _read_text(text), _expiry(expires))
    _done(f"set text part {name!r} in thread {thread!r}")


@parts_app.command("image")
@_with_client
def parts_image(
    client: SessionClient,
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
) -> None:
    """Set an image user part from FILE."""
    mime = mime_type or mimetypes.guess_type(file.name)[0] or ""
    if not mime.startswith("image/"):
        raise ValueError(
            f"{file} does not look like an image ({mime or 'unknown type'}); "
            "pass --mime-type image/..."
        )
    image = file.read_bytes()
    client.set_user_part_image(
        thread, name, image, mime_type=mime, filename=file.name, expiry=_expiry(expires)
    )
    _done(f"set image part {name!r} ({len(image)} bytes) in thread {thread!r}")


@parts_app.command("list")
@_with_client
def parts_list(client: SessionClient, thread: Thread, as_json: JsonOption = False) -> None:
    """Print the user parts of THREAD as an agent would receive them."""
    parts = client.get_user_parts(thread)
    emit(
        {name: part.model_dump(mode="json") for name, part in parts.items()},
        table(
            f"user parts of {thread}",
            ["name", "type", "content"],
            [(name, *_describe(part)) for name, part in parts.items()],
        ),
        force_json=as_json,
    )


@parts_app.command("delete")
@_with_client
def parts_delete(
    client: SessionClient, thread: Thread, name: Annotated[str, typer.Argument(help="Part name")]
) -> None:
    """Delete one user part."""
    client.delete_user_part(thread, name)
    _done(f"deleted part {name!r} from thread {thread!r}")


@parts_app.command("clear")
@_with_client
def parts_clear(client: SessionClient, thread: Thread) -> None:
    """Delete every user part of THREAD (other values stay)."""
    client.clear_user_parts(thread)
    _done(f"cleared user parts of thread {thread!r}")


@_with_client
def sessions(
    client: SessionClient,
    thread: Annotated[str | None, typer.Option("--thread", help="Only this thread")] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="Sessions to list at most (1-1000)")
    ] = 50,
    offset: Annotated[
        int, typer.Option("--offset", min=0, help="Skip this many of the newest first")
    ] = 0,
    as_json: JsonOption = False,
) -> None:
    """List sessions, newest first."""
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
