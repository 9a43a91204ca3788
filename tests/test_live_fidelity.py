"""Live recording replays faithfully: each scenario of tests/fidelity.py is performed with the
mouse and keyboard, recorded with the real LiveRecorder into the embedded store on SQLite,
exported, and replayed by the runner in a fresh browser. The replay must end on the same URL
with the same outline (refs aside), from one step per intended action, and no secret typed
on the way may be in a stored byte (raw HTTP and the SQLite file), the task file or the output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from capture.config import Config
from tests.fidelity import (
    SCENARIOS,
    Outcome,
    Scenario,
    record_and_replay,
    sites,
    store,
    stored_text,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
async def test_a_recorded_session_replays_to_the_same_page(
    scenario: Scenario, config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "store" / "capture.db"
    database.parent.mkdir()
    with sites() as where:
        async with store(database) as base_url:
            outcome: Outcome = await record_and_replay(
                scenario, config, where, base_url, tmp_path / "work"
            )
            print(outcome.output)
            stored = await stored_text(base_url)

    assert outcome.replay_errors == []
    assert outcome.recorded == outcome.intended, outcome.task_file.read_text(encoding="utf-8")
    assert outcome.replay_url == outcome.url
    assert outcome.replay_outline == outcome.outline
    assert f"record-{outcome.task_file.stem}" in stored  # both threads were written
    assert f"replay-{outcome.task_file.stem}" in stored

    task_text = outcome.task_file.read_text(encoding="utf-8")
    database_bytes = b"".join(p.read_bytes() for p in database.parent.iterdir())
    printed = capsys.readouterr()
    for secret in scenario.secrets:
        assert secret not in stored
        assert secret.encode() not in database_bytes
        assert secret not in task_text
        assert secret not in printed.out + printed.err
    for n in range(1, len(scenario.secrets) + 1):
        assert f"${{SECRET_{n}}}" in task_text  # typed, and exported as a variable
