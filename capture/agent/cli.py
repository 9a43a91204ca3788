"""`capture agent-context`: print a thread's user parts as model input, or the Distri snippet."""

from __future__ import annotations

import json
from typing import Annotated, cast

import typer

from capture._cli_options import ConfigOption, ServerOption, TokenOption, fail
from capture.agent._distri import distri_snippet
from capture.agent._render import FORMATS, Format, render_parts, user_message
from capture.entry import check_thread, door_config, open_capture_sync, store_choice
from capture.session import SessionClient, rfc3339, user_part_key

__all__ = ["agent_context"]


def agent_context(
    thread: Annotated[
        str | None, typer.Argument(help="Thread id whose user parts to render")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-f", help=f"Output format: {', '.join(FORMATS)}", show_default=True
        ),
    ] = "anthropic",
    max_edge: Annotated[
        int | None,
        typer.Option("--max-edge", min=1, help="Scale images so the long edge is at most N px"),
    ] = None,
    message: Annotated[
        bool, typer.Option("--message", help="Wrap the blocks in a user message")
    ] = False,
    snippet: Annotated[
        bool,
        typer.Option(
            "--distri-snippet",
            help="Print the Distri agent-definition TOML that attaches the parts",
        ),
    ] = False,
    server: ServerOption = None,
    token: TokenOption = None,
    config_file: ConfigOption = None,
) -> None:
    """Print a thread's current user parts as model input (JSON), exactly as an agent gets them.

    Anthropic Messages content blocks, OpenAI Chat content parts (`openai`), OpenAI Responses
    input parts (`openai-responses`) or Distri parts, screenshot first. With
    --distri-snippet, print the `user_message_overrides.parts` entries of a Distri agent
    definition (TOML) that attach the same parts instead.
    """
    cfg = door_config(config_file, server=server, token=token)
    keys = (cfg.capture.screenshot_key, cfg.capture.observation_key)
    if snippet:
        typer.echo(distri_snippet(keys), nl=False)
        return
    if thread is None:
        raise fail("give a THREAD id, or --distri-snippet", code=2)
    check_thread(thread, cfg, source="THREAD")
    if fmt not in FORMATS:
        raise fail(f"unknown --format {fmt!r}; use one of {', '.join(FORMATS)}", code=2)
    chosen = cast(Format, fmt)  # checked against FORMATS just above
    with open_capture_sync(cfg, store=store_choice(server)) as opened:
        if opened.store.embedded:
            typer.echo(opened.store.embedded, err=True)
        parts = opened.client.get_user_parts(thread)
        if not parts:
            typer.echo(f"note: {_no_parts(opened.client, thread, keys)}", err=True)
    blocks = render_parts(parts, chosen, max_edge=max_edge, order=keys)
    typer.echo(json.dumps(user_message(blocks, chosen) if message else blocks, indent=2))


def _no_parts(client: SessionClient, thread: str, keys: tuple[str, ...]) -> str:
    """Why a thread has no parts to give: they expired (and when: the store's history
    knows), or none was ever stored there as far as the store can tell."""
    expired = [
        entry.expiry
        for key in keys
        for entry in client.get_history(thread, user_part_key(key))
        if entry.expiry is not None
    ]
    if expired:
        return (
            f"thread {thread!r} has no live user parts: the last expired at {rfc3339(max(expired))}"
        )
    return f"thread {thread!r} has no live user parts"
