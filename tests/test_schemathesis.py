"""Property-based tests of the live server against its own /openapi.json (schemathesis CLI):
no 5xx, and every status, content type, header and body as the document says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from capture.store import SqliteStore
from tests.conftest import StartStore

CHECKS = [
    "not_a_server_error",
    "positive_data_acceptance",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]


@pytest.mark.slow
def test_the_served_api_matches_its_openapi_document(
    start_store_server: StartStore, tmp_path: Path
) -> None:
    # The default backend (SQLite), so the generated input reaches real storage.
    served = start_store_server(SqliteStore(tmp_path / "store.db"))
    command = [str(Path(sys.executable).with_name("schemathesis")), "run"]
    command += [f"{served.root}/openapi.json", "--checks", ",".join(CHECKS)]
    # A fixed seed and a bounded number of examples per operation keep this under a minute;
    # one worker, as schemathesis' coverage phase trips over itself with several on 3.11.
    command += ["--max-examples", "10", "--seed", "7", "--workers", "1"]
    command += ["--phases", "coverage,fuzzing,stateful", "--request-timeout", "10"]
    command += ["--report", "json", "--report-json-path", str(tmp_path / "report.json")]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=110, check=False
    )
    report = json.loads((tmp_path / "report.json").read_text())
    cases = report["test_cases"]
    print(f"\nschemathesis: {report['operations']['tested']} operations, {cases}")
    assert result.returncode == 0, result.stdout[-6000:]
    assert report["operations"]["tested"] == report["operations"]["total"] >= 14
    assert cases["generated"] > 200
    assert cases["with_failures"] == cases["errored"] == 0
    assert report["failures"] == report["errors"] == []
