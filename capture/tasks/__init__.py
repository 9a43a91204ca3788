"""Scripted browser tasks: the task-file format, loading it with line numbers, running it.

The steps a task file holds are the action engine's (`capture.actions`); this package adds
the file around them (name, base URL, variables) and the loop that runs them with a capture
after each.
"""

from capture.tasks import _runner, _schema
from capture.tasks._load import dump_task, load_task, parse_task
from capture.tasks._progress import print_summary, step_table
from capture.tasks._runner import *  # noqa: F403 - the runner's API, in _runner.__all__
from capture.tasks._schema import *  # noqa: F403 - the task-file models, in _schema.__all__
from capture.tasks._vars import load_env_file, parse_var_options, resolve_vars

__all__ = [
    "dump_task",
    "load_env_file",
    "load_task",
    "parse_task",
    "parse_var_options",
    "print_summary",
    "resolve_vars",
    "step_table",
]
__all__ += _runner.__all__
__all__ += _schema.__all__
