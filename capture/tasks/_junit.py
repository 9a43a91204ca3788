"""`capture run --junit FILE`: the runs as JUnit XML, the report format every CI reads.

One `<testcase>` per task (classname: the task file, name: the task), a `<failure>` with the
failing step's `file:line` and reason, and the thread in `<system-out>` so a CI page links a
red test to its captures. Everything written comes from results the runner already masked.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from capture.errors import TaskError
from capture.tasks._runner import RunResult

__all__ = ["junit_xml", "write_junit"]


def junit_xml(results: Sequence[RunResult], *, name: str = "capture run") -> bytes:
    """The JUnit XML document for `results` (UTF-8, with an XML declaration)."""
    failed = sum(1 for r in results if r.status == "failed")
    total = sum(r.seconds for r in results)
    suites = ET.Element("testsuites", name=name, tests=str(len(results)), failures=str(failed))
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=name,
        tests=str(len(results)),
        failures=str(failed),
        errors="0",
        skipped="0",
        time=f"{total:.3f}",
    )
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=result.source,
            name=result.task,
            file=result.source,
            time=f"{result.seconds:.3f}",
        )
        if result.failures:
            first = result.failures[0]
            failure = ET.SubElement(case, "failure", message=first.error or "failed")
            failure.text = "\n".join(step.error or "" for step in result.failures)
        ok = sum(1 for s in result.steps if s.status == "ok")
        out = ET.SubElement(case, "system-out")
        out.text = (
            f"thread: {result.thread}\n"
            f"steps ok: {ok}/{len(result.steps)}, captures: {result.captures}, "
            f"dropped writes: {result.dropped}\n"
        )
    ET.indent(suites)
    document: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def write_junit(path: Path, results: Sequence[RunResult]) -> None:
    """Write `junit_xml(results)` to `path`; a path that cannot be written is a `TaskError`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(junit_xml(results))
    except OSError as exc:
        raise TaskError(f"cannot write --junit {path}: {exc.strerror or exc}") from exc
