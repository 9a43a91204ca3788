"""The Distri agent-definition snippet that attaches capture's user parts to every prompt.

Distri reads the key from `source` (a `key` field is silently ignored), so the snippet is
generated here rather than retyped in docs where that mistake would creep in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

__all__ = ["DEFAULT_KEYS", "distri_snippet"]

DEFAULT_KEYS: tuple[str, ...] = ("__user_part_screenshot", "__user_part_observation")


def distri_snippet(keys: Sequence[str] = DEFAULT_KEYS) -> str:
    """TOML `[[user_message_overrides.parts]]` entries, one `session_key` source per key."""
    entries = [
        f'[[user_message_overrides.parts]]\ntype = "session_key"\nsource = {json.dumps(key)}\n'
        for key in keys
    ]
    header = "# Attach capture's latest screenshot and observation to every user message.\n"
    return header + "\n".join(entries)
