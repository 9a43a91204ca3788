"""Step and run records stay tiny and scrubbed whatever the page throws at them."""

from __future__ import annotations

from datetime import UTC, datetime

from capture.recorder._records import RECORD_LIMIT, run_record, step_key, step_record
from capture.session import encode_json

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _scrub(text: str) -> str:
    return text.replace("hunter2-secret", "[redacted]")


def test_step_keys_sort_in_step_order() -> None:
    assert step_key(7) == "capture.step.000007"
    assert sorted([step_key(10), step_key(9), step_key(100)]) == [
        step_key(9),
        step_key(10),
        step_key(100),
    ]


def test_step_record_stays_under_one_kilobyte_and_scrubbed() -> None:
    record = step_record(
        step=3,
        action="fill #password hunter2-secret " + "x" * 5000,
        url="http://127.0.0.1/login?token=hunter2-secret&" + "q=€" * 3000,
        title="Ünïcödé " * 500,
        time=NOW,
        status="error",
        error="Timeout: " + "stack " * 1000,
        changed=False,
        image_hash="a" * 64,
        outline_hash="b" * 64,
        image_bytes=123_456,
        observation_chars=9000,
        timings={"screenshot": 0.0412, "outline": 0.1, "total": 0.2},
        notes=["screenshot unchanged since step 2 hunter2-secret", "n" * 900, "x", "y", "z"],
        scrub=_scrub,
    )
    body = encode_json(record)
    assert len(body) < RECORD_LIMIT
    assert b"hunter2-secret" not in body
    assert record["unchanged"] is True
    assert record["step"] == 3
    assert record["image_sha256"] == "a" * 64
    assert record["time"] == "2026-11-25T12:00:00.000Z"
    assert record["timings_ms"]["screenshot"] == 41.2


def test_run_record_scrubs_info() -> None:
    record = run_record(
        name="login hunter2-secret",
        status="passed",
        steps=4,
        started=NOW,
        finished=None,
        dropped=1,
        failed=2,
        info={"file": "task.yaml", "password": "hunter2-secret", "n": 3, "obj": ["hunter2-secret"]},
        scrub=_scrub,
    )
    assert b"hunter2-secret" not in encode_json(record)
    assert record["steps"] == 4
    assert record["dropped"] == 1
    assert record["failed"] == 2
    assert record["finished"] is None
    assert record["n"] == 3
    assert record["name"] == "login [redacted]"


def test_masked_boxes_are_listed_for_the_viewer_within_the_limit() -> None:
    def record(masks: list[tuple[int, int, int, int]], action: str = "fill") -> dict[str, object]:
        return step_record(
            step=1,
            action=action,
            url="http://127.0.0.1/",
            title="t",
            time=NOW,
            status="ok",
            error=None,
            changed=True,
            image_hash=None,
            outline_hash=None,
            image_bytes=0,
            observation_chars=0,
            timings={},
            notes=[],
            scrub=_scrub,
            masks=masks,
        )

    assert "masks" not in record([])  # nothing masked: no field at all
    assert record([(16, 24, 216, 56)])["masks"] == [[16, 24, 200, 32]]
    many = record([(n, n, n + 1000, n + 1000) for n in range(100)], action="x" * 5000)
    assert len(encode_json(many)) < RECORD_LIMIT
    assert 1 <= len(many["masks"]) <= 12  # type: ignore[arg-type]
