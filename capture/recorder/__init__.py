"""The capture pipeline: after each step, a screenshot and an observation of the page,
stored as short-lived user parts, plus a tiny step record (README.md, "How it works").

`Recorder` works on Playwright's async API, `SyncRecorder` on the sync API; both share
`RecorderCore` (budgets, masking, hashing, records) and `capture.recorder.observe` (the page
outline, redaction of text, diffs, events)."""

from capture.recorder._core import CaptureResult, RecorderCore
from capture.recorder._image import EncodedImage, fit_scale, mask_boxes
from capture.recorder._recorder import Recorder
from capture.recorder._records import RUN_KEY, step_key
from capture.recorder._sync import SyncRecorder
from capture.recorder._upload import RecorderStats

__all__ = [
    "RUN_KEY",
    "CaptureResult",
    "EncodedImage",
    "Recorder",
    "RecorderCore",
    "RecorderStats",
    "SyncRecorder",
    "fit_scale",
    "mask_boxes",
    "step_key",
]
