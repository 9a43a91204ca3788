"""Names: the plugin's, thread ids from pytest node ids (and a thread's viewer URL, from the
store)."""

from __future__ import annotations

import hashlib
import re

from capture.store import viewer_root, viewer_url

__all__ = ["MAX_THREAD_ID", "PLUGIN_NAME", "thread_id_for", "viewer_root", "viewer_url"]

PLUGIN_NAME = "capture-session-plugin"
"""The name the enabled plugin is registered under (`capture_pytest` looks it up)."""

MAX_THREAD_ID = 120
"""Well under the embedded store's default limit (256) and short enough to read."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_.:/\[\]=-]+")


def thread_id_for(node_id: str, prefix: str = "", rerun: int = 0) -> str:
    """`prefix` + the node id, readable, unique and at most `MAX_THREAD_ID` characters.

    Characters outside a plain set (spaces, quotes, non-ASCII in parameter ids) become `_`;
    when that or the length cut loses information, a short hash of the full node id keeps
    two tests from sharing a thread. A rerun (pytest-rerunfailures) ends in `-retry<N>`, as
    Playwright Test names its retries' folders, so it does not replace the failed attempt.
    """
    if rerun:
        node_id = f"{node_id}-retry{rerun}"
    readable = _UNSAFE.sub("_", node_id)
    whole = prefix + readable
    if readable == node_id and len(whole) <= MAX_THREAD_ID:
        return whole
    digest = "~" + hashlib.sha1(node_id.encode()).hexdigest()[:10]
    return whole[: MAX_THREAD_ID - len(digest)] + digest
