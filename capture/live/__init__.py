"""Live recording: capture every action of a person driving a browser, export a task file."""

from capture.live._actions import Action, ActionBuilder, ActionKind
from capture.live._export import Export, export_task
from capture.live._listener import ElementInfo, PageEvent, listener_script, parse_event
from capture.live._recorder import LiveRecorder
from capture.live._recording import Recording, record_session
from capture.live._result import LiveResult

__all__ = [
    "Action",
    "ActionBuilder",
    "ActionKind",
    "ElementInfo",
    "Export",
    "LiveRecorder",
    "LiveResult",
    "PageEvent",
    "Recording",
    "export_task",
    "listener_script",
    "parse_event",
    "record_session",
]
