"""`capture record --stop`: find running recordings through state files, and stop them.

A running `capture record` writes `.capture/recording-<pid>.json` (pid, thread, task file) and
removes it once the task file is written, so `--stop` sends SIGTERM and waits for that file
to go: when it returns, the recording's captures are flushed and its task file exists.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from capture.errors import LiveError

__all__ = ["DATA_DIR", "Recording", "registered", "running", "stop_recordings"]

DATA_DIR = Path(".capture")
_PATTERN = "recording-*.json"


@dataclass(frozen=True)
class Recording:
    """A running `capture record`, as its state file describes it."""

    pid: int
    thread: str
    out: str | None
    started: str


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, not ours to judge
    return True


@contextmanager
def registered(thread: str, out: Path | None, data_dir: Path = DATA_DIR) -> Iterator[Path]:
    """Announce this process as a running recording until the block exits."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"recording-{os.getpid()}.json"
    started = datetime.now(UTC).isoformat(timespec="seconds")
    state = Recording(os.getpid(), thread, str(out) if out else None, started)
    path.write_text(json.dumps(asdict(state)), encoding="utf-8")
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def running(data_dir: Path = DATA_DIR) -> dict[Path, Recording]:
    """The recordings whose process is alive (state files of dead ones are removed)."""
    found: dict[Path, Recording] = {}
    for path in sorted(data_dir.glob(_PATTERN)):
        try:
            recording = Recording(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue
        if _alive(recording.pid):
            found[path] = recording
        else:
            path.unlink(missing_ok=True)
    return found


def stop_recordings(
    data_dir: Path = DATA_DIR, *, thread: str | None = None, timeout: float = 60.0
) -> list[Recording]:
    """SIGTERM the running recordings (of `thread`, if given); wait until they wrote up."""
    targets = {
        path: rec
        for path, rec in running(data_dir).items()
        if thread is None or rec.thread == thread
    }
    if not targets:
        where = f" for thread {thread!r}" if thread else ""
        raise LiveError(f"no running recording{where} (state files in {data_dir}/)")
    for recording in targets.values():
        os.kill(recording.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(path.exists() for path in targets) and time.monotonic() < deadline:
        time.sleep(0.1)
    late = [rec for path, rec in targets.items() if path.exists() and _alive(rec.pid)]
    if late:
        pids = ", ".join(str(rec.pid) for rec in late)
        raise LiveError(f"recording(s) {pids} did not finish within {timeout:.0f}s")
    return list(targets.values())
