"""The observation half of the recorder: what the page says, as text an agent can act on.

`read_page_state` walks every frame (same- and cross-origin) and open shadow root in one
page.js call per frame and returns a viewport-first outline with stable element refs,
never holding a sensitive field's value; `read_sensitive` is its fast path for pixel
masking. `diff_outline`, `Scrubber`, `PageEvents` and `format_observation` are the pure
pieces the recorder assembles the observation text from; `find_text`, `element_text`
and `css_ref` search and read the page's text itself (find.js); `resolve_ref` turns a ref back
into a Playwright Locator, `frame_numbered` a frame ref like `f1` into its Frame. The
`*_sync` functions are the same for Playwright's sync API.

An outline reads like this (refs are written to the page as `data-capture-ref`, so an
element keeps its ref from one capture to the next; "f1e3" is element 3 of frame 1):

    - main
      - heading "Sign in" [level=1] [ref=e3]
      - text: New here? [link "Create an account" [ref=e9]] first.
      - textbox "Username" [ref=e4]: ada
      - textbox "Password" [password] [ref=e5]: [redacted]
      - checkbox "Remember me" [checked] [ref=e11]
      - clickable "Forgot password?" [listener] [ref=e10]
      - iframe "Payment" [ref=e12]
        - textbox "Card number" [ref=f1e2]: [redacted]
    --- below or beside the viewport (scroll to see) ---
    - main
      - button "Sign in" [ref=e13]
"""

from capture.recorder.observe._diff import diff_outline
from capture.recorder.observe._events import PageEvents
from capture.recorder.observe._find import Found, Match, css_ref, element_text, find_text
from capture.recorder.observe._format import format_observation
from capture.recorder.observe._mark import mark_secret_text
from capture.recorder.observe._model import EventsSnapshot, PageState, Rect
from capture.recorder.observe._outline import ABOVE_MARKER, BELOW_MARKER, short_error
from capture.recorder.observe._read import (
    is_sensitive,
    read_page_state,
    read_sensitive,
    resolve_ref,
)
from capture.recorder.observe._read_sync import (
    read_page_state_sync,
    read_sensitive_sync,
    resolve_ref_sync,
)
from capture.recorder.observe._script import (
    FOCUSED_SENSITIVE_JS,
    REF_ATTR,
    SENSITIVE_FIELD,
    SENSITIVE_FIELD_JS,
    frame_for_ref,
    frame_numbered,
    ref_prefix,
)
from capture.recorder.observe._scrub import MIN_SECRET_LENGTH, REDACTED, Scrubber

__all__ = [
    "ABOVE_MARKER",
    "BELOW_MARKER",
    "FOCUSED_SENSITIVE_JS",
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "REF_ATTR",
    "SENSITIVE_FIELD",
    "SENSITIVE_FIELD_JS",
    "EventsSnapshot",
    "Found",
    "Match",
    "PageEvents",
    "PageState",
    "Rect",
    "Scrubber",
    "css_ref",
    "diff_outline",
    "element_text",
    "find_text",
    "format_observation",
    "frame_for_ref",
    "frame_numbered",
    "is_sensitive",
    "mark_secret_text",
    "read_page_state",
    "read_page_state_sync",
    "read_sensitive",
    "read_sensitive_sync",
    "ref_prefix",
    "resolve_ref",
    "resolve_ref_sync",
    "short_error",
]
