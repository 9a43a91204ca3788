"""The one entry that opens a capture: store, session client, browser and recorders.

Every front door (`capture run`, `record`, `snap`, `mcp`, the pytest plugin) opens its
captures through `open_capture` (or its sync face `open_capture_sync`) and builds none of
these pieces itself; the rules every door follows before that (its config, which store,
which thread ids) are `door_config`, `store_choice` and `check_thread`; see
docs/architecture.md.
"""

from capture.entry._doors import check_thread, default_thread, door_config, store_choice
from capture.entry._open import Capture, open_capture
from capture.entry._store import ResolvedStore, StoreChoice, answers, resolve_store
from capture.entry._sync import SyncCapture, open_capture_sync

__all__ = [
    "Capture",
    "ResolvedStore",
    "StoreChoice",
    "SyncCapture",
    "answers",
    "check_thread",
    "default_thread",
    "door_config",
    "open_capture",
    "open_capture_sync",
    "resolve_store",
    "store_choice",
]
