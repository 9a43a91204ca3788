"""scripts/demo.py end to end, as `scripts/demo` runs it after setup: headless, no display, on
the embedded store, printing the step table and the final observation read from the store."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from capture.demo_site import DEMO_PASSWORD
from tests.conftest import ROOT, clean_env, default_store_file, run_command


@pytest.mark.browser
@pytest.mark.slow
def test_demo_runs_the_example_and_prints_the_final_observation(tmp_path: Path) -> None:
    env = clean_env()
    env.pop("DISPLAY", None)  # no display needed
    done = run_command(
        [sys.executable, str(ROOT / "scripts" / "demo.py")], tmp_path, env=env, timeout=110
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "passed: 30/30 steps" in out
    assert "the final observation, as the agent receives it" in out
    final = out.split("the final observation", 1)[1]
    assert "# Step 30: expect text 'Thank you, Ada Lovelace!' visible" in final
    assert 'heading "Thank you, Ada Lovelace!"' in final
    assert "capture parts list demo-shop" in out
    assert "fill label 'Password' with '${SHOP_PASSWORD}'" in out
    for secret in (DEMO_PASSWORD, "4242 4242 4242 4242"):
        assert secret not in done.stdout + done.stderr
        for file in default_store_file().parent.iterdir():
            assert secret.encode() not in file.read_bytes()


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_the_demo_script_prints_usage_without_running(flag: str, tmp_path: Path) -> None:
    done = run_command([str(ROOT / "scripts" / "demo"), flag], tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("usage: scripts/demo [-h]\n")


def test_the_demo_script_refuses_an_unknown_argument(tmp_path: Path) -> None:
    done = run_command([str(ROOT / "scripts" / "demo"), "--fast"], tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == "scripts/demo: unexpected argument: --fast"


def test_setup_prints_plain_lines_when_its_output_is_not_a_terminal(tmp_path: Path) -> None:
    """Set up already (the suite runs after it), so this only checks and says so."""
    done = run_command([str(ROOT / "scripts" / "setup")], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines
    assert all(line.startswith("setup: ") for line in lines), done.stderr
    assert "\x1b" not in done.stdout + done.stderr
