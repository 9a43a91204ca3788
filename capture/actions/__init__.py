"""The action engine: the one place that performs a step on a page.

Every front door that acts on a page goes through it: task runs (`capture run`, the pytest
task items, a recording's replay) and the MCP tools. It resolves a target (a ref, CSS,
role + name, label, text, test id, placeholder, `nth`, inside a frame), acts within the
step's time limit, settles (a navigation to load, a new tab to follow), and describes the
step in words for the action line and the step record. The step models are declared here,
once; `capture.tasks` wraps them in a task file.
"""

from capture.actions import _step, _target
from capture.actions._describe import describe
from capture.actions._perform import StepContext, StepFailed, locate, perform
from capture.actions._step import *  # noqa: F403 - the step models, in _step.__all__
from capture.actions._tabs import Tabs, may_navigate
from capture.actions._target import *  # noqa: F403 - targets and field types, in _target.__all__
from capture.actions._vars import REFERENCE, Vars

__all__ = [
    "REFERENCE",
    "StepContext",
    "StepFailed",
    "Tabs",
    "Vars",
    "describe",
    "locate",
    "may_navigate",
    "perform",
]
__all__ += _step.__all__
__all__ += _target.__all__
