"""What `capture run` checks before a store or a browser starts, and how it reports an error
when its output is JSON.

Everything a user can get wrong in the file or on the command line is found here, so a bad
thread id or variable costs no browser and no store: the task file (errors name
`file:line`), the `--var` values, the variables the steps use, and the thread id the store
would have to take.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from capture.config import Config
from capture.entry import check_thread
from capture.errors import CaptureError
from capture.tasks._load import load_task
from capture.tasks._runner import default_thread
from capture.tasks._schema import TaskFile
from capture.tasks._vars import parse_var_options, resolve_vars

__all__ = ["errors_as_json", "prepare_run"]

Command = TypeVar("Command", bound=Callable[..., None])


def prepare_run(
    task_file: Path, var: list[str], thread: str | None, config: Config
) -> tuple[TaskFile, dict[str, str], str]:
    """The task, its `--var` values and the thread to capture into, all checked.

    `--thread ""` is an error, not "the default"; a default thread (the task's `thread`, else
    its name) that the store would refuse names the task file.
    """
    task = load_task(task_file)
    variables = parse_var_options(var)
    resolved = resolve_vars(task, variables)  # unset variables fail here
    if thread is not None:
        return task, variables, check_thread(thread, config)
    chosen = resolved.expand(default_thread(task))
    where = "its thread" if task.thread else "its name"
    return task, variables, check_thread(chosen, config, source=f"{task.source} ({where})")


def errors_as_json(command: Command) -> Command:
    """With `--json`, an error also prints a JSON object on stdout (`status`, `error`,
    `exit_code`), so a script reading stdout gets JSON whatever happened; the one error line
    still goes to stderr."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except (CaptureError, ValueError) as exc:
            if kwargs.get("as_json"):
                code = exc.exit_code if isinstance(exc, CaptureError) else 1
                error = {"status": "error", "error": str(exc), "exit_code": code}
                sys.stdout.write(json.dumps(error, ensure_ascii=False) + "\n")
            raise

    return run  # type: ignore[return-value]
