"""`capture run` and `capture schema`.

`run` checks everything it can before a browser starts (the task file, its variables, the
store), then runs the task with a live display on a terminal, plain lines on a pipe, or only a
JSON summary with `--json`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel

from capture._cli_options import ConfigOption, ServerOption, TokenOption, config_from
from capture.config import Config
from capture.entry import open_capture
from capture.errors import TaskError
from capture.tasks._preflight import errors_as_json, prepare_run
from capture.tasks._progress import listener_for, print_summary
from capture.tasks._runner import RunResult, config_for, run_task
from capture.tasks._schema import TaskFile

__all__ = ["run", "schema"]


def _say(message: str) -> None:
    """Progress on stderr, so a --json summary on stdout stays clean."""
    typer.echo(message, err=True)


async def _run_cli(
    task: TaskFile,
    config: Config,
    *,
    explicit_server: bool,
    thread: str | None,
    variables: dict[str, str],
    continue_on_error: bool,
    as_json: bool,
) -> tuple[RunResult, str]:
    async with open_capture(
        config_for(task, config),
        store="required" if explicit_server else "fallback",
        say=_say,
        launch=True,
    ) as capture:
        with listener_for(as_json=as_json) as listener:
            result = await run_task(
                task,
                capture=capture,
                thread=thread,
                variables=variables,
                continue_on_error=continue_on_error,
                listener=listener,
            )
    return result, capture.base_url


def _write_out(out: Path, result: RunResult, base_url: str) -> None:
    """--out: the JSON summary and every step's observation, for reading without a store."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        summary = json.dumps({**result.to_dict(), "store": base_url}, indent=2) + "\n"
        (out / "result.json").write_text(summary, encoding="utf-8")
        for step in result.steps:
            if step.observation:
                name = f"step-{step.number:03d}.txt"
                (out / name).write_text(step.observation, encoding="utf-8")
    except OSError as exc:
        raise TaskError(f"cannot write to --out {out}: {exc.strerror or exc}") from exc


@errors_as_json
def run(
    task_file: Annotated[Path, typer.Argument(help="The task file (YAML)", show_default=False)],
    thread: Annotated[
        str | None,
        typer.Option(
            "--thread",
            help="Thread to capture into (default: the task's thread, else its name)",
        ),
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    headed: Annotated[bool, typer.Option("--headed", help="Show the browser window")] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="Also write result.json and each step's observation here"
        ),
    ] = None,
    var: Annotated[
        list[str] | None,
        typer.Option(
            "--var",
            metavar="NAME=VALUE",
            help="Set a variable (repeatable; wins over the task's vars and the environment)",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only a machine-readable JSON summary")
    ] = False,
    continue_on_error: Annotated[
        bool, typer.Option("--continue-on-error", help="Run the remaining steps after a failure")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 3 when store writes were dropped (config: capture.strict)",
        ),
    ] = False,
    config_file: ConfigOption = None,
) -> None:
    """Run a task file's steps in a browser, capturing every step into a thread.

    The task file and its variables are checked before anything starts (errors
    name file:line). Without --server, a store at the configured URL is used
    when one answers; otherwise the embedded store runs in-process for the
    length of the run (SQLite under .capture/ by default; look at it
    afterwards with `capture serve`).

    Exit codes: 0 every step passed; 1 a step failed (or the task file, a
    variable or the store is unusable); 2 bad usage; 3 with --strict (or
    capture.strict) every step passed but store writes were dropped. A store
    that goes away mid-run never stops the task: its writes are retried, then
    dropped and counted in the summary, and the exit code stays 0 unless strict.
    """
    config = config_from(
        config_file,
        **{
            "session.server": server,
            "session.token": token,
            "browser.headless": False if headed else None,
            "capture.strict": True if strict else None,
        },
    )
    task, variables, thread = prepare_run(task_file, var or [], thread, config)
    result, base_url = asyncio.run(
        _run_cli(
            task,
            config,
            explicit_server=server is not None,
            thread=thread,
            variables=variables,
            continue_on_error=continue_on_error,
            as_json=as_json,
        )
    )
    code = result.exit_code(strict=config.capture.strict)
    if out is not None:
        _write_out(out, result, base_url)
    if as_json:
        summary = {**result.to_dict(), "store": base_url, "exit_code": code}
        sys.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    else:
        embedded = config.store if base_url != config.session.server else None
        print_summary(result, base_url, embedded=embedded)
    for failure in result.failures:
        typer.echo(f"error: {failure.error}", err=True)
    raise typer.Exit(code)


def schema(
    what: Annotated[str, typer.Argument(help="task (the task-file format) or config")] = "task",
) -> None:
    """Print a JSON Schema: `task` for task files (point your editor at it), or `config`."""
    models: dict[str, type[BaseModel]] = {"task": TaskFile, "config": Config}
    if what not in models:
        raise typer.BadParameter(f"choose one of: {', '.join(models)}", param_hint="WHAT")
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **models[what].model_json_schema(),
    }
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
