"""Person-like drives (tests/drives.py): the mouse and keyboard at a person's pace, typing
often ended by Enter, Tab or a click at once; every drive ends by closing the tab. Each must
give one step per intent, a replay that passes and reaches the same page, no capture that
shows a later step than its own, and a recording that the closed tab ended.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from capture.config import Config
from tests.drives import DRIVES, Drive, drive_and_replay
from tests.fidelity import sites, store

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.mark.parametrize("drive", DRIVES, ids=[d.name for d in DRIVES])
async def test_a_person_like_drive_is_recorded_moment_by_moment(
    drive: Drive, config: Config, tmp_path: Path
) -> None:
    with sites() as where:
        async with store(tmp_path / "store" / "capture.db") as base_url:
            outcome = await drive_and_replay(drive, config, where, base_url, tmp_path)
    task = outcome.task_file.read_text(encoding="utf-8")
    assert outcome.closed_tab_ended_it
    assert outcome.steps == outcome.intents, task
    assert outcome.replay_errors == [], task
    assert outcome.same_page, task
    assert outcome.later == [], outcome.output
    for secret in drive.secrets:
        assert secret not in task + outcome.output
