"""The `capture values|parts|sessions` commands against a real server, as a user runs them."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from capture.cli import main
from capture.errors import UsageError

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run `capture ARGS` in-process through the real entry point; returns (code, out, err)."""
    monkeypatch.delenv("CAPTURE_TOKEN", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["capture", *args])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _raw(store: Any, thread: str) -> dict[str, Any]:
    values: dict[str, Any] = httpx.get(f"{store.base_url}/sessions/{thread}/values").json()[
        "values"
    ]
    return values


def test_values_commands(cli: Run, store_server: Any, tmp_path: Path) -> None:
    s = ("--server", store_server.base_url)
    assert cli("values", "set", "t1", "pref", '{"theme": "dark"}', *s)[0] == 0
    assert cli("values", "set", "t1", "word", "hello", *s)[0] == 0
    assert cli("values", "set", "t1", "num", "42", "--string", *s)[0] == 0
    assert cli("values", "set", "t1", "tmp", "1", "--expires", "10m", *s)[0] == 0
    assert _raw(store_server, "t1") == {
        "pref": {"theme": "dark"},
        "word": "hello",
        "num": "42",
        "tmp": 1,
    }
    code, out, _ = cli("values", "get", "t1", "pref", *s)
    assert (code, json.loads(out)) == (0, {"theme": "dark"})
    code, out, _ = cli("values", "get", "t1", "nope", *s)
    assert (code, json.loads(out)) == (0, None)
    code, out, _ = cli("values", "list", "t1", *s)
    assert json.loads(out)["word"] == "hello"
    assert cli("values", "delete", "t1", "word", *s)[0] == 0
    assert "word" not in _raw(store_server, "t1")
    code, out, _ = cli("sessions", *s)
    assert [row["thread_id"] for row in json.loads(out)] == ["t1"]
    config_file = tmp_path / "c.toml"
    config_file.write_text(f'[session]\nserver = "{store_server.base_url}"\n')
    code, out, _ = cli("values", "get", "t1", "num", "--config", str(config_file))
    assert (code, json.loads(out)) == (0, "42")
    assert cli("values", "clear", "t1", *s)[0] == 0
    assert _raw(store_server, "t1") == {}


def test_parts_commands(cli: Run, store_server: Any, tmp_path: Path) -> None:
    s = ("--server", store_server.base_url)
    image = tmp_path / "shot.png"
    image.write_bytes(PNG_1x1)
    assert cli("parts", "text", "t2", "observation", "Page: Cart", *s)[0] == 0
    assert cli("parts", "image", "t2", "screenshot", str(image), "--expires", "5m", *s)[0] == 0
    raw = _raw(store_server, "t2")
    assert raw["__user_part_observation"] == {"part_type": "text", "data": "Page: Cart"}
    assert raw["__user_part_screenshot"]["data"] == {
        "type": "bytes",
        "bytes": base64.b64encode(PNG_1x1).decode(),
        "mime_type": "image/png",
        "name": "shot.png",
    }
    _code, out, _ = cli("parts", "list", "t2", *s)
    assert set(json.loads(out)) == {"observation", "screenshot"}
    assert cli("parts", "delete", "t2", "observation", *s)[0] == 0
    assert cli("parts", "clear", "t2", *s)[0] == 0
    assert _raw(store_server, "t2") == {}


def test_a_terminal_gets_tables_with_inert_markup(
    cli: Run, store_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = ("--server", store_server.base_url)
    thread = "[/weird] [bold]id"  # markup in a title used to raise rich's MarkupError
    assert cli("values", "set", thread, "k", "[red]v[/red]", *s)[0] == 0
    assert cli("parts", "text", thread, "note", "hello", *s)[0] == 0
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = cli("values", "list", thread, *s)
    assert code == 0, err
    assert thread in out
    assert '"[red]v[/red]"' in out
    code, out, _ = cli("parts", "list", thread, *s)
    assert "text" in out
    assert "hello" in out
    code, out, _ = cli("sessions", *s)
    assert "thread" in out
    code, out, _ = cli("values", "list", thread, "--json", *s)
    assert json.loads(out)["k"] == "[red]v[/red]"


def test_bad_input_gets_one_line_and_exit_1(cli: Run, store_server: Any, tmp_path: Path) -> None:
    s = ("--server", store_server.base_url)
    code, _, err = cli("values", "set", "t3", "k", "1", "--expires", "2030-01-01T00:00:00", *s)
    assert code == 1
    assert err.strip().splitlines() == [
        "error: expiry '2030-01-01T00:00:00' has no UTC offset (add 'Z' or '+00:00')"
    ]
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hi")
    code, _, err = cli("parts", "image", "t3", "shot", str(text_file), *s)
    assert code == 1
    assert "does not look like an image" in err
    assert "Traceback" not in err
    code, _, err = cli("values", "get", "t3", "k", "--server", "localhost:1")
    assert code == 1
    assert err.startswith("error: server URL 'localhost:1' must look like http://")


def test_unreachable_server_and_wrong_token(
    cli: Run, start_store_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPTURE_SESSION_RETRIES", "0")
    code, _, err = cli("values", "list", "t", "--server", "http://127.0.0.1:9/api/v1")
    assert code == 1
    assert "no session store answers at http://127.0.0.1:9/api/v1" in err  # named: must answer
    assert len(err.strip().splitlines()) == 1
    guarded = start_store_server(token="s3cret")
    code, _, err = cli("values", "list", "t", "--server", guarded.base_url)
    assert code == 1
    assert "401" in err
    code, _, err = cli("values", "list", "t", "--server", guarded.base_url, "--token", "s3cret")
    assert code == 0, err


def test_bad_config_names_the_key(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTURE_SESSION_TIMEOUT", "forever")
    code, _, err = cli("values", "list", "t")
    assert code == 1
    assert "session.timeout" in err
    assert "CAPTURE_SESSION_TIMEOUT" in err


def test_usage_errors_exit_2(cli: Run) -> None:
    code, _, err = cli("values", "set", "only-thread")
    assert code == 2
    assert "Missing argument" in err


def test_entry_point_runs_as_a_program() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "capture", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert "values" in done.stdout
    assert "sessions" in done.stdout


@pytest.mark.parametrize(
    "module",
    [
        "capture.shell.cli",
        "capture.store.cli",
        "capture.demo_site.cli",
        "capture.entry.cli",
        "capture.agent.cli",
        "capture.live.cli",
        "capture.tasks.cli",
        "capture.pytest_plugin",
    ],
)
def test_command_modules_do_not_import_the_cli(module: str) -> None:
    """Imports run one way: cli.py imports the commands, the commands import _cli_options."""
    probe = f"import sys, {module}; print('capture.cli' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


# -- usage errors: found before anything starts, one line, exit 2 --------------------------

TASK = "name: t\nbase_url: http://127.0.0.1:9\nsteps:\n  - goto: /\n"
NOWHERE = ("--server", "http://127.0.0.1:9/api/v1")  # a store that never answers


def _command(command: str, thread: str, tmp_path: Path) -> list[str]:
    task = tmp_path / "task.yaml"
    task.write_text(TASK)
    return {
        "run": ["run", str(task), "--thread", thread, *NOWHERE],
        "snap": ["snap", "http://127.0.0.1:9/", "--thread", thread, *NOWHERE],
        "record": ["record", "http://127.0.0.1:9/", "--thread", thread, *NOWHERE],
        "agent-context": ["agent-context", thread, *NOWHERE],
        "mcp": ["mcp", "--thread", thread, *NOWHERE],
    }[command]


DOORS = ["run", "snap", "record", "agent-context", "mcp"]


@pytest.mark.parametrize("command", DOORS)
@pytest.mark.parametrize(
    ("thread", "problem"),
    [
        ("", "is empty"),
        ("t" * 257, "is longer than 256 characters"),
        ("line\nbreak", "contains a control character"),
        ("bad\udcffbyte", "contains a lone surrogate"),
    ],
    ids=["empty", "too-long", "control", "surrogate"],
)
def test_a_thread_id_the_store_refuses_is_bad_usage(
    cli: Run, tmp_path: Path, command: str, thread: str, problem: str
) -> None:
    code, out, err = cli(*_command(command, thread, tmp_path))
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1, err
    assert problem in err
    assert "the store would refuse it" in err


@pytest.mark.parametrize("command", DOORS)
def test_every_door_asks_the_entry_about_thread_ids(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """One rule for every door: change it in the entry and every door follows."""
    from capture.entry import _doors

    def refuse(thread: str, limit: int, *, source: str = "--thread") -> str:
        raise UsageError(f"{source}: refused by the entry's rule")

    monkeypatch.setattr(_doors, "check_thread_id", refuse)
    code, out, err = cli(*_command(command, "fine", tmp_path))
    source = "THREAD" if command == "agent-context" else "--thread"
    assert (code, out, err) == (2, "", f"error: {source}: refused by the entry's rule\n")


def test_mcp_refuses_an_empty_thread(cli: Run) -> None:
    code, out, err = cli("mcp", "--thread", "", *NOWHERE)
    assert (code, out) == (2, "")
    assert err == "error: --thread: thread id '' is empty; the store would refuse it\n"


@pytest.mark.parametrize("command", ["run", "snap", "mcp"])
def test_every_door_reports_a_refused_token_alike(
    cli: Run, tmp_path: Path, start_store_server: Any, command: str
) -> None:
    guarded = start_store_server(token="s3cret")
    args = [a if a != NOWHERE[1] else guarded.base_url for a in _command(command, "t", tmp_path)]
    code, out, err = cli(*args, "--token", "wrong")
    assert (code, out) == (1, "")
    assert err.startswith(f"error: the store at {guarded.base_url} refused the token: ")
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("command", DOORS)
def test_every_door_reports_a_config_error_alike(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("CAPTURE_SESSION_TIMEOUT", "forever")
    code, out, err = cli(*_command(command, "t", tmp_path))
    assert (code, out) == (1, "")
    assert err.startswith("error: invalid configuration: session.timeout: ")
    assert "CAPTURE_SESSION_TIMEOUT" in err
    assert len(err.strip().splitlines()) == 1, err


def test_the_thread_limit_is_the_stores(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPTURE_STORE_MAX_THREAD_ID_LENGTH", "8")
    code, _, err = cli("snap", "http://127.0.0.1:9/", "--thread", "123456789", *NOWHERE)
    assert code == 2
    assert "longer than 8 characters" in err


def test_a_task_name_too_long_for_a_thread_names_the_file(cli: Run, tmp_path: Path) -> None:
    task = tmp_path / "long.yaml"
    task.write_text(TASK.replace("name: t", "name: " + "n" * 300))
    code, _, err = cli("run", str(task), *NOWHERE)
    assert code == 2
    assert f"{task} (its name): thread id 'nnn" in err
    assert "longer than 256" in err


def test_bad_option_values_exit_2(cli: Run, tmp_path: Path) -> None:
    task = tmp_path / "task.yaml"
    task.write_text(TASK)
    code, _, err = cli("run", str(task), "--var", "bad", *NOWHERE)
    assert (code, err.strip()) == (2, "error: --var 'bad': write it as NAME=VALUE")
    code, _, err = cli("serve", "--port", "99999")
    assert code == 2
    assert err.strip().splitlines() == [
        "error: invalid configuration: store.port: Input should be less than or equal to "
        "65535 (from command-line option)"
    ]
    code, _, err = cli("serve", "--workers", "-1", "--store", "memory://")
    assert code == 2
    assert "store.workers" in err
    code, _, _ = cli("demo", "--port", "99999")
    assert code == 2
    code, _, err = cli("agent-context", *NOWHERE)
    assert code == 2
    assert "THREAD" in err


def test_a_config_file_error_names_the_file(cli: Run, tmp_path: Path) -> None:
    """A misspelt section or key says which file, and which names exist."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[captur]\npytest = true\n\n[session]\nservr = 'x'\n")
    code, _, err = cli("sessions", "--config", str(bad))
    assert code == 1  # the file is wrong, not the command line
    assert len(err.strip().splitlines()) == 1
    sections = "browser, context, capture, session, store"
    assert f"captur: no such section; the sections are {sections} (from {bad})" in err
    assert "session.servr: no such key; [session] has server, token" in err
    assert f"(from {bad})" in err.split("session.servr")[1]


def test_run_json_prints_a_json_error_object(cli: Run, tmp_path: Path) -> None:
    task = tmp_path / "broken.yaml"
    task.write_text("name: t\nsteps:\n  - clik: {css: a}\n")
    code, out, err = cli("run", str(task), "--json", *NOWHERE)
    assert code == 1
    error = json.loads(out)
    assert error["status"] == "error"
    assert error["exit_code"] == 1
    assert error["error"] == err.strip().removeprefix("error: ")
    assert str(task) in error["error"]
    task.write_text(TASK)
    code, out, _ = cli("run", str(task), "--json", "--thread", "", *NOWHERE)
    assert (code, json.loads(out)["exit_code"]) == (2, 2)


# -- what a user reads: help, version, counts ------------------------------------------------


def test_version(cli: Run) -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    code, out, _ = cli("--version")
    assert (code, out) == (0, f"capture {project['project']['version']}\n")


def test_a_command_imports_only_its_own_machinery() -> None:
    """`capture values get` loads neither the browser driver, the MCP SDK nor the server
    (most of a second that every command and every script calling one would pay)."""
    heavy = ["mcp", "playwright", "uvicorn", "capture.mcp", "capture.tasks", "capture.live"]
    probe = (
        "import sys\n"
        "sys.argv = ['capture', 'values', 'get', '--help']\n"
        "from capture.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {heavy!r} if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


def test_every_option_and_argument_has_help() -> None:
    import typer

    from capture.cli import app

    def walk(command: Any, path: str) -> Iterator[tuple[str, Any]]:
        yield path, command
        for name, sub in (getattr(command, "commands", None) or {}).items():
            yield from walk(sub, f"{path} {name}")

    bare = [
        f"{path} {param.opts[0]}"
        for path, command in walk(typer.main.get_command(app), "capture")
        for param in command.params
        if not getattr(param, "help", None) and param.opts != ["--help"]
    ]
    assert bare == []


def test_the_top_level_help_groups_the_commands_by_what_they_are_for(cli: Run) -> None:
    from capture.cli import SECTIONS

    code, out, _ = cli("--help")
    assert code == 0
    titles = [title.split(" (")[0] for title in SECTIONS]
    assert titles == ["Do", "Look", "Read", "Try"]
    assert {"run", "record", "snap", "mcp"} <= set(SECTIONS[next(iter(SECTIONS))])
    starts = [out.index(f"\n{title}:\n") for title in SECTIONS]
    assert starts == sorted(starts)
    ends = [*starts[1:], len(out)]
    for (title, table), start, end in zip(SECTIONS.items(), starts, ends, strict=True):
        block = out[start:end]
        for name in table:
            assert f"\n  {name} " in block, (title, name)


def test_the_top_level_help_shows_whole_descriptions(cli: Run) -> None:
    import typer

    from capture.cli import app

    code, out, _ = cli("--help")
    assert code == 0
    listed = " ".join(out.split("Show this message and exit.", 1)[1].split())
    assert "..." not in listed
    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        assert command.help is not None
        first = " ".join(command.help.split("\n\n")[0].split())
        assert f"{name} {first}" in listed


def _usage_line(cli: Run, *command: str) -> str:
    code, out, _ = cli(*command, "--help")
    assert code == 0
    return out.splitlines()[0]


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        (("run",), "Usage: capture run [OPTIONS] TASK_FILE..."),
        (("snap",), "Usage: capture snap [OPTIONS] URL"),
        (("record",), "Usage: capture record [OPTIONS] [URL]"),
        (("agent-context",), "Usage: capture agent-context [OPTIONS] [THREAD]"),
        (("values", "set"), "Usage: capture values set [OPTIONS] THREAD KEY VALUE"),
        (("parts", "image"), "Usage: capture parts image [OPTIONS] THREAD NAME FILE"),
    ],
)
def test_usage_lines_name_arguments_in_capitals(
    cli: Run, command: tuple[str, ...], usage: str
) -> None:
    assert _usage_line(cli, *command) == usage


def test_option_values_have_names_not_types(cli: Run) -> None:
    _, out, _ = cli("run", "--help")
    assert "--var NAME=VALUE" in out
    assert "--thread THREAD" in out
    assert "<list[str]>" not in out
    _, out, _ = cli("serve", "--help")
    assert "[default: 8787; config: store.port]" in " ".join(out.split())
    assert "[default: 127.0.0.1; config: store.host]" in " ".join(out.split())


def test_counts_read_as_english(capsys: pytest.CaptureFixture[str]) -> None:
    from capture.tasks import RunResult, StepResult, print_summary

    one = StepResult(number=1, kind="goto", line=3, action="goto /", status="ok")
    result = RunResult("t", "t.yaml", "t", "passed", [one], 1.0, captures=1, dropped=1)
    print_summary(result, "http://127.0.0.1:9/api/v1")
    out = capsys.readouterr().out
    assert "passed: 1/1 step ok in 1.0s, 1 capture into thread 't'" in out
    assert "warning: 1 store write was dropped" in out
