"""The Distri agent-definition snippet that attaches capture's user parts to every prompt.

Distri reads the key from `source` (a `key` field is silently ignored), so the snippet is
generated here rather than retyped in docs where that mistake would creep in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from capture.config import CaptureConfig

__all__ = ["DEFAULT_KEYS", "distri_snippet"]

_DEFAULTS = CaptureConfig()
# The keys the recorder writes by default ([capture] screenshot_key / observation_key).
DEFAULT_KEYS: tuple[str, ...] = (_DEFAULTS.screenshot_key, _DEFAULTS.observation_key)


def distri_snippet(keys: Sequence[str] = DEFAULT_KEYS) -> str:
    """TOML `[[user_message_overrides.parts]]` entries, one `session_key` source per key."""
    entries = [
        f'[[user_message_overrides.parts]]\ntype = "session_key"\nsource = {json.dumps(key)}\n'
        for key in keys
    ]
    header = "# Attach capture's latest screenshot and observation to every user message.\n"
    return header + "\n".join(entries)
