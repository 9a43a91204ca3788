"""`capture run` and `capture schema`.

`run` checks everything it can before a browser starts (every task file, its variables, the
store), then runs the task with a live display on a terminal, plain lines on a pipe, or only a
JSON summary with `--json`. Several files (or a directory, or a glob) run side by side on one
browser, a context and a thread each, with a board of one line per task.
"""

from __future__ import annotations

import asyncio
import glob
import json
import re
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel

from capture._cli_options import ConfigOption, ConnectOption, ServerOption, TokenOption
from capture.config import Config
from capture.entry import Capture, StoreChoice, door_config, open_capture, store_choice
from capture.errors import TaskError
from capture.tasks._fleet import FleetResult, check_threads, expand_task_paths, run_tasks
from capture.tasks._junit import write_junit
from capture.tasks._load import load_task
from capture.tasks._preflight import errors_as_json, prepare_run
from capture.tasks._progress import board_for, listener_for, print_fleet_summary, print_summary
from capture.tasks._runner import RunResult, config_for, run_task
from capture.tasks._schema import TaskFile
from capture.tasks._vars import load_env_file, parse_var_options, resolve_vars

__all__ = ["run", "schema"]


def _say(message: str) -> None:
    """Progress on stderr, so a --json summary on stdout stays clean."""
    typer.echo(message, err=True)


@dataclass(frozen=True)
class _Asked:
    """What `run` was asked that the one-task and the many-task paths both act on: one value,
    so that both open their capture, and report what came of it, the same way."""

    config: Config
    store: StoreChoice
    continue_on_error: bool
    as_json: bool
    out: Path | None
    junit: Path | None

    def open(self, config: Config) -> AbstractAsyncContextManager[Capture]:
        """The capture a run writes through: the store asked for (`store_choice`), a client
        on it, and a launched browser."""
        return open_capture(config, store=self.store, say=_say, launch=True)

    def report(
        self,
        results: list[RunResult],
        base_url: str,
        summary: dict[str, Any],
        code: int,
        show: Callable[[], None],
        *,
        folders: bool,
    ) -> NoReturn:
        """The end of a run: --out (a folder per thread with `folders`), --junit, the JSON
        `summary` or the human one (`show`), each failure on stderr, and the exit `code`."""
        if self.out is not None:
            for result in results:
                folder = self.out / folder_for(result.thread) if folders else self.out
                _write_out(folder, result, base_url)
        if self.junit is not None:
            write_junit(self.junit, results)
        if self.as_json:
            summary = {**summary, "store": base_url, "exit_code": code}
            sys.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        else:
            show()
        for failure in (step for result in results for step in result.failures):
            typer.echo(f"error: {failure.error}", err=True)
        raise typer.Exit(code)


async def _run_cli(
    task: TaskFile, asked: _Asked, *, thread: str | None, variables: dict[str, str]
) -> tuple[RunResult, str]:
    async with asked.open(config_for(task, asked.config)) as capture:
        with listener_for(as_json=asked.as_json) as listener:
            result = await run_task(
                task,
                capture=capture,
                thread=thread,
                variables=variables,
                continue_on_error=asked.continue_on_error,
                listener=listener,
            )
    return result, capture.base_url


async def _run_many(
    tasks: list[TaskFile], asked: _Asked, *, variables: dict[str, str], parallel: int
) -> tuple[FleetResult, str]:
    """Many tasks through one capture: one store, one client, one browser."""
    async with asked.open(asked.config) as capture:
        assert capture.browser is not None
        with board_for(tasks, as_json=asked.as_json) as board:
            fleet = await run_tasks(
                tasks,
                browser=capture.browser.browser,
                client=capture.client,
                config=asked.config,
                variables=variables,
                parallel=parallel,
                continue_on_error=asked.continue_on_error,
                board=board,
            )
    return fleet, capture.base_url


def _many(arguments: list[str]) -> bool:
    """Several files, a directory or a glob: the many-tasks run, with its board and JSON."""
    return len(arguments) > 1 or any(Path(a).is_dir() or glob.has_magic(a) for a in arguments)


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
    task_files: Annotated[
        list[str],
        typer.Argument(
            metavar="TASK_FILE",
            help="Task files (YAML), directories of them, or globs",
            show_default=False,
        ),
    ],
    thread: Annotated[
        str | None,
        typer.Option(
            "--thread",
            help="Thread to capture into (default: the task's thread, else its name); "
            "one task only",
        ),
    ] = None,
    parallel: Annotated[
        int,
        typer.Option("--parallel", min=1, help="Run up to N tasks at once, a context each"),
    ] = 1,
    server: ServerOption = None,
    token: TokenOption = None,
    headed: Annotated[bool, typer.Option("--headed", help="Show the browser window")] = False,
    connect: ConnectOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Also write result.json and each step's observation here "
            "(a folder per thread with many tasks)",
        ),
    ] = None,
    junit: Annotated[
        Path | None,
        typer.Option("--junit", help="Also write the results as JUnit XML to this file, for CI"),
    ] = None,
    var: Annotated[
        list[str] | None,
        typer.Option(
            "--var",
            metavar="NAME=VALUE",
            help="Set a variable (repeatable; wins over the task's vars and the environment)",
        ),
    ] = None,
    env_file: Annotated[
        Path | None,
        typer.Option(
            "--env-file",
            metavar="FILE",
            help="Read NAME=value lines (a dotenv file) into the environment first; variables "
            "already set win. Secrets stay out of the command line and shell history",
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
    """Run task files' steps in a browser, capturing every step into a thread.

    Every task file and its variables are checked before anything starts
    (errors name file:line). Without --server, a store at the configured URL
    is used when one answers; otherwise the embedded store runs in-process for
    the length of the run (SQLite under .capture/ by default; look at it
    afterwards with `capture serve`).

    Several files, a directory (every *.yaml and *.yml below it) or a glob run
    on one browser, each task in its own context and thread, up to --parallel
    at once; a failing task does not stop the others.

    Exit codes (the worst of all tasks): 0 every step passed; 1 a step failed
    (or a task file, a variable or the store is unusable); 2 bad usage; 3 with
    --strict (or capture.strict) every step passed but store writes were
    dropped. A store that goes away mid-run never stops a task: its writes are
    retried, then dropped and counted in the summary, and the exit code stays 0
    unless strict.
    """
    if env_file is not None:
        load_env_file(env_file)
    config = door_config(
        config_file,
        server=server,
        token=token,
        **{
            "browser.headless": False if headed else None,
            "browser.connect_url": connect,
            "capture.strict": True if strict else None,
        },
    )
    variables = parse_var_options(var or [])
    asked = _Asked(
        config,
        store=store_choice(server),
        continue_on_error=continue_on_error,
        as_json=as_json,
        out=out,
        junit=junit,
    )
    if _many(task_files):
        if thread is not None:
            raise typer.BadParameter(
                "names one task's thread; with many tasks each writes its own "
                "(its `thread:`, else its name)",
                param_hint="--thread",
            )
        _run_fleet(task_files, asked, variables, parallel)
    task, variables, thread = prepare_run(Path(task_files[0]), var or [], thread, config)
    result, base_url = asyncio.run(_run_cli(task, asked, thread=thread, variables=variables))
    embedded = config.store if base_url != config.session.server else None
    asked.report(
        [result],
        base_url,
        result.to_dict(),
        result.exit_code(strict=config.capture.strict),
        lambda: print_summary(result, base_url, embedded=embedded),
        folders=False,
    )


def _run_fleet(
    arguments: list[str], asked: _Asked, variables: dict[str, str], parallel: int
) -> NoReturn:
    """`capture run` with many tasks: every file checked first, then the fleet, then the
    summary (or JSON), the JUnit file, and the worst exit code."""
    tasks = [load_task(path) for path in expand_task_paths(arguments)]
    for task in tasks:
        resolve_vars(task, variables)  # every task's variables, before a browser starts
    check_threads(tasks, variables)
    fleet, base_url = asyncio.run(_run_many(tasks, asked, variables=variables, parallel=parallel))
    strict = asked.config.capture.strict
    embedded = base_url != asked.config.session.server
    asked.report(
        fleet.results,
        base_url,
        fleet.to_dict(strict=strict),
        fleet.exit_code(strict=strict),
        lambda: print_fleet_summary(fleet.results, fleet.seconds, base_url, embedded=embedded),
        folders=True,
    )


def folder_for(thread: str) -> str:
    """A thread id as one folder name (ids may hold `/`)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", thread).strip("._") or "thread"


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
