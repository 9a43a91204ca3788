"""The task-file format: schema, loading with line numbers, variables, YAML round trip, and
the `capture run` / `capture schema` checks that happen before any browser starts."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import jsonschema_rs
import pytest
import yaml

from capture.actions import (
    STEP_KINDS,
    ClickArgs,
    ClickStep,
    DragStep,
    FillStep,
    FrameSpec,
    GotoStep,
    ScrollStep,
    SleepStep,
    Target,
    describe,
    text_or_pattern,
)
from capture.errors import TaskError, UsageError
from capture.recorder.observe._outline import ref_names
from capture.tasks import (
    TaskFile,
    dump_task,
    load_env_file,
    load_task,
    parse_task,
    parse_var_options,
    resolve_vars,
)
from tests.conftest import CAPTURE, ROOT, run_command

EVERY_KIND = """\
name: every kind
base_url: http://127.0.0.1:1
viewport: {width: 800, height: 600}
timeout: 3s
capture: {quality: 60}
vars:
  Q: mug
  PW: {secret: true, value: s3cret-value-1}
steps:
  - goto: /
  - goto: {url: /cart, wait_until: domcontentloaded}
  - click: "#buy"
  - click: {role: button, name: Add to cart, exact: true}
  - fill: {label: Search, value: "${Q}"}
  - type: {placeholder: "mugs, kettles", value: tea, delay: 5}
  - press: Enter
  - press: {test_id: q, key: Tab}
  - select: {label: Size, option: [m, l]}
  - check: {text: I accept, nth: 0}
  - uncheck: {css: "#newsletter"}
  - hover: {ref: e12}
  - scroll: 600
  - scroll: {css: "#reviews"}
  - wait_for: {text: Added}
  - wait_for: {url: "**/cart"}
  - wait_for: {load_state: networkidle}
  - expect: {text: Thank you, url: /order, title: Order}
  - expect: {url_matches: "order/\\\\d+"}
  - capture: the cart
  - upload: {label: Photo, files: [a.png, b.png]}
  - dblclick: ".row"
  - drag: {from: {text: Task 1}, to: {test_id: done}}
  - click: {role: button, name: Pay, frame: {name: pay}}
  - fill: {label: Card, value: "4242", frame: [{url: "**/shop.html"}, {title: Card}]}
  - expect: {text: Paid, frame: f2}
  - scroll: {css: "#list", dy: 300}
  - scroll: {frame: {name: pay}, dx: -40}
  - drag: {from: {ref: f1e3}, to: {css: "#bin", frame: f1}}
  - sleep: 250ms
    timeout: 1s
"""


def problems(text: str) -> str:
    with pytest.raises(TaskError) as caught:
        parse_task(text, "task.yaml")
    return str(caught.value)


def test_every_step_kind_parses_with_its_line() -> None:
    task = parse_task(EVERY_KIND, "every.yaml")
    kinds = {step.kind for step in task.steps}
    assert kinds == set(STEP_KINDS)
    assert [step.line for step in task.steps[:3]] == [10, 11, 12]
    assert task.steps[-1].line == 39
    assert task.source == "every.yaml"
    click = task.steps[2]
    assert isinstance(click, ClickStep)
    assert click.click == ClickArgs(css="#buy")  # a bare string is a CSS selector
    scroll = task.steps[12]
    assert isinstance(scroll, ScrollStep)
    assert (scroll.scroll.dx, scroll.scroll.dy) == (0, 600)
    in_frame = task.steps[23]
    assert isinstance(in_frame, ClickStep)
    assert in_frame.click.frame == FrameSpec(name="pay")
    nested = task.steps[24]
    assert isinstance(nested, FillStep)
    assert nested.fill.frame == [FrameSpec(url="**/shop.html"), FrameSpec(title="Card")]
    drag = task.steps[22]
    assert isinstance(drag, DragStep)
    assert (drag.drag.from_, drag.drag.to) == (Target(text="Task 1"), Target(test_id="done"))
    sleep = task.steps[-1]
    assert isinstance(sleep, SleepStep)
    assert sleep.sleep.total_seconds() == 0.25
    assert sleep.timeout == timedelta(seconds=1)


def test_numbers_become_text_where_text_is_typed() -> None:
    task = parse_task("name: n\nbase_url: x\nsteps:\n  - fill: {label: Qty, value: 2}\n")
    step = task.steps[0]
    assert isinstance(step, FillStep)
    assert step.fill.value == "2"


def test_dump_reads_back_to_the_same_task() -> None:
    task = parse_task(EVERY_KIND)
    text = dump_task(task)
    assert "- goto: /\n" in text  # scalar shorthand where it fits
    assert "click: {role: button, name: Add to cart, exact: true}" in text
    assert parse_task(text).model_dump() == task.model_dump()


def test_models_build_and_dump_without_yaml() -> None:
    """What live recording does: build steps in Python, export YAML that loads back."""
    task = TaskFile(
        name="recorded",
        base_url="http://127.0.0.1:8800",
        vars={"SECRET_1": {"secret": True}},
        steps=[
            GotoStep(goto={"url": "/login"}),
            FillStep(fill={"label": "Password", "value": "${SECRET_1}"}),
            ClickStep(click={"role": "button", "name": "Sign in"}),
        ],
    )
    loaded = parse_task(dump_task(task))
    assert loaded.model_dump() == task.model_dump()
    assert [step.line for step in loaded.steps] == [6, 7, 8]


def test_example_task_is_valid() -> None:
    task = load_task(ROOT / "examples" / "shop.yaml")
    assert task.steps[0].line > 1
    assert {"SHOP_PASSWORD", "CARD"} <= {
        name for name, spec in task.vars.items() if not isinstance(spec, str) and spec.secret
    }


# -- invalid files: file:line and what is wrong ------------------------------------------


def test_bad_yaml_names_the_line() -> None:
    text = "name: t\nbase_url: x\nsteps:\n  - click: {role: button\n  - goto: /\n"
    message = problems(text)
    assert message.startswith("task.yaml:5: not valid YAML")
    assert "line 4" in message  # where the unclosed mapping began


def test_unknown_step_kind_suggests_the_near_one() -> None:
    message = problems("name: t\nbase_url: x\nsteps:\n  - goto: /\n  - clik: '#a'\n")
    assert message == (
        "task.yaml:5: steps[1].clik: unknown step kind 'clik' (did you mean 'click'?)"
    )


def test_missing_fields_are_named_with_their_lines() -> None:
    message = problems("name: t\nsteps:\n  - goto: /\n  - fill: {label: Search}\n")
    assert "task.yaml:4: steps[1].fill.value: missing required field 'value'" in message


def test_wrong_types_are_named_with_their_lines() -> None:
    message = problems(
        "name: t\nbase_url: x\nsteps:\n  - goto: /\n  - fill:\n      label: Search\n"
        "      value: [1, 2]\n  - sleep: soon\n  - scroll: {dy: down}\n"
    )
    assert "task.yaml:7: steps[1].fill.value: Input should be a valid string" in message
    assert "task.yaml:8: steps[2].sleep: 'soon' is not a duration" in message
    assert "task.yaml:9: steps[3].scroll.dy: Input should be a valid integer" in message


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("click: {css: a, text: b}", "give one target, not 2: css, text"),
        ("click: {name: Save}", "needs a target"),
        ("click: {ref: button}", "'button' is not an element ref like 'e12'"),
        ("scroll: {}", "scroll what? give a target to scroll into view, dx/dy"),
        ("scroll: {dy: 0}", "scroll what?"),
        ("click: {frame: {name: pay}}", "'frame' says where to look; also give what"),
        ("expect: {frame: f1}", "'frame' says where to look"),
        (
            "click: {css: a, frame: {nme: pay}}",
            "steps[0].click.frame.nme: unknown field 'nme' (did you mean 'name'?)",
        ),
        (
            "click: {lable: Email}",
            "steps[0].click.lable: unknown field 'lable' (did you mean 'label'?)",
        ),
        ("click: {css: a, frame: {}}", "a frame is named by one of name, url, title"),
        ("click: {css: a, frame: {name: a, title: b}}", "(not 2: name, title)"),
        ("click: {css: a, frame: g1}", "'g1' is not a frame ref like 'f1'"),
        ("click: {css: a, frame: 3}", "a frame is a frame ref like 'f1', a mapping with one"),
        ("click: {css: a, frame: [{name: a}, f2]}", "steps[0].click.frame[1]: Input should be"),
        ("click: {ref: f1e2, frame: f1}", "a ref already names its frame"),
        ("drag: {from: {css: a}, to: {css: b, frame: f1}}", "'from' is on the top page, 'to' is"),
        ("drag: {from: {ref: f2e1}, to: {ref: f1e1}}", "'from' is in frame f2, 'to' is in frame"),
        ("drag: {from: {css: a}}", "steps[0].drag.to: missing required field 'to'"),
        ("dblclick: {}", "needs a target"),
        ("wait_for: {url: /a, load_state: load}", "wait for one thing"),
        ("expect: {}", "expect what?"),
        ("expect: {url_matches: '('}", "not a regular expression"),
        ("goto: /\n    click: a", "one step with 2 kinds (goto, click): split it"),
        (
            "goto: /\n    tmeout: 2s",
            "steps[0].tmeout: unknown field 'tmeout' (did you mean 'timeout'?)",
        ),
        ("sleep: -1", "cannot be negative"),
    ],
)
def test_step_mistakes(step: str, expected: str) -> None:
    message = problems(f"name: t\nbase_url: x\nsteps:\n  - {step}\n")
    assert message.startswith("task.yaml:4") or message.startswith("task.yaml:5")
    assert expected in message


def test_top_level_mistakes() -> None:
    assert "a task file is a mapping" in problems("- goto: /\n")
    assert "at least 1 item" in problems("name: t\nbase_url: x\nsteps: []\n")
    assert "'bad-name' is not a variable name" in problems(
        "name: t\nbase_url: x\nvars:\n  bad-name: 1\nsteps:\n  - goto: /\n"
    )
    message = problems("name: t\nbase_url: x\ncapture: {quality: 5}\nsteps:\n  - goto: /\n")
    assert message.startswith("task.yaml:3: capture: quality: Input should be greater")
    message = problems("name: t\nbase_url: x\nvars:\n  P: {secrt: 1}\nsteps:\n  - goto: /\n")
    assert message == "task.yaml:4: vars.P.secrt: unknown field 'secrt' (did you mean 'secret'?)"


def test_missing_file() -> None:
    with pytest.raises(TaskError, match="does not exist"):
        load_task("/nonexistent/task.yaml")


# -- variables ------------------------------------------------------------------------------

VARS = """\
name: v
base_url: ${URL}
vars:
  URL: http://127.0.0.1:1
  PW: {secret: true}
  TOKEN: {env: MY_TOKEN}
steps:
  - fill: {label: Password, value: "${PW}"}
  - fill: {label: Token, value: "${TOKEN} $${literal} ${HOME_DIR}"}
"""


def test_variables_resolve_in_order_and_mark_secrets() -> None:
    task = parse_task(VARS)
    env = {"MY_TOKEN": "token-from-env-1", "HOME_DIR": "/home/someone", "URL": "ignored"}
    resolved = resolve_vars(task, {"PW": "pw-from-option-1"}, env)
    assert resolved.values["URL"] == "http://127.0.0.1:1"  # declared value, not the env's
    assert resolved.values["PW"] == "pw-from-option-1"
    # secret: declared so, or read from the environment
    assert resolved.secret_names == {"PW", "TOKEN", "HOME_DIR"}
    text = "${TOKEN} $${literal} ${HOME_DIR}"
    assert resolved.expand(text) == "token-from-env-1 ${literal} /home/someone"
    assert resolved.describe(text) == "${TOKEN} ${literal} ${HOME_DIR}"
    assert resolved.mask("bad token-from-env-1!") == "bad ${TOKEN}!"
    override = resolve_vars(task, {"PW": "x", "URL": "http://127.0.0.1:2"}, env)
    assert override.values["URL"] == "http://127.0.0.1:2"


def test_unset_variables_fail_with_their_lines() -> None:
    task = parse_task(VARS, "v.yaml")
    with pytest.raises(TaskError) as caught:
        resolve_vars(task, {}, {})
    lines = str(caught.value).splitlines()
    assert lines == [
        "v.yaml:8: variable ${PW} is not set (declared without a value: set $PW in the "
        "environment or an --env-file, or give --var PW=...)",
        "v.yaml:9: variable ${TOKEN} is not set (give --var TOKEN=... or set $MY_TOKEN in "
        "the environment)",
        "v.yaml:9: variable ${HOME_DIR} is not set (give --var HOME_DIR=..., set $HOME_DIR in "
        "the environment, or add it to vars)",
    ]


def test_variables_reach_frame_paths_and_drag_targets() -> None:
    task = parse_task(
        "name: v\nbase_url: x\nvars:\n  F: outer\n  T: Done\nsteps:\n"
        "  - click: {css: a, frame: [{name: '${F}'}, {title: '${F} 2'}]}\n"
        "  - drag: {from: {text: '${T}', frame: {name: '${F}'}},\n"
        "           to: {css: b, frame: {name: '${F}'}}}\n"
    )
    resolved = resolve_vars(task, {}, {})
    assert describe(task.steps[0], resolved) == (
        "click css 'a' in frame 'outer' > frame titled 'outer 2'"
    )
    assert describe(task.steps[1], resolved) == "drag text 'Done' to css 'b' in frame 'outer'"


def test_drags_between_frames_the_file_cannot_tell_apart_are_left_to_the_runner() -> None:
    """A frame by name, by url or by a path may all be one frame: only the page can tell."""
    task = parse_task(
        "name: d\nbase_url: x\nsteps:\n"
        "  - drag: {from: {css: a, frame: {name: pay}},\n"
        "           to: {css: b, frame: [{name: outer}, {name: pay}]}}\n"
        "  - drag: {from: {css: a, frame: {name: pay}}, to: {css: b, frame: {url: '**/pay'}}}\n"
    )
    assert [type(step) for step in task.steps] == [DragStep, DragStep]


def test_a_secret_declared_without_a_value_reads_the_environment_variable_of_its_name() -> None:
    """As `capture record` exports a typed password: `SECRET_1=... capture run` replays it
    (before: "variable ${SECRET_1} is not set", only --var, seen by `ps` and the history)."""
    task = parse_task(
        "name: s\nbase_url: x\nvars:\n  SECRET_1: {secret: true, description: typed}\n"
        "  KEPT: {value: from-the-file}\nsteps:\n  - fill: {label: P, value: '${SECRET_1}'}\n"
        "  - fill: {label: K, value: '${KEPT}'}\n"
    )
    resolved = resolve_vars(task, {}, {"SECRET_1": "pw-from-env-9", "KEPT": "not this"})
    assert resolved.values == {"SECRET_1": "pw-from-env-9", "KEPT": "from-the-file"}
    assert resolved.secret_names == {"SECRET_1"}
    assert resolve_vars(task, {"SECRET_1": "opt"}, {"SECRET_1": "env"}).values["SECRET_1"] == "opt"


def test_a_dotenv_file_adds_variables_the_environment_does_not_set(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# the shop\nSECRET_1='pw with # and spaces'\nexport SECRET_2=\"two\\nlines\"\n"
        "PLAIN = bare value # a comment\nSET=from-the-file\n\n",
        encoding="utf-8",
    )
    environ = {"SET": "from-the-shell"}
    assert load_env_file(env_file, environ) == ["SECRET_1", "SECRET_2", "PLAIN", "SET"]
    assert environ == {
        "SECRET_1": "pw with # and spaces",
        "SECRET_2": "two\nlines",
        "PLAIN": "bare value",
        "SET": "from-the-shell",
    }
    env_file.write_text("SECRET_1=ok\nthis is not a pair with hunter2\n", encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_env_file(env_file, {})
    assert str(caught.value) == f"{env_file}:2: not a NAME=value line"
    with pytest.raises(UsageError, match="--env-file"):
        load_env_file(tmp_path / "missing.env", {})


def test_var_options() -> None:
    assert parse_var_options(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    with pytest.raises(UsageError, match="NAME=VALUE"):
        parse_var_options(["nope"])


# -- the CLI, before any browser starts -----------------------------------------------------


def run_cli(
    *args: str, cwd: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        # Any browser start or store contact would fail loudly with these: the checks below
        # must stop the run before either happens.
        "CAPTURE_BROWSER_EXECUTABLE": "/nonexistent/chromium",
        "CAPTURE_SESSION_SERVER": "http://127.0.0.1:9/api/v1",
        **(extra_env or {}),
    }
    return run_command([CAPTURE, *args], cwd, env=env)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: t\nbase_url: x\nsteps:\n  - goto: {url: /\n", "bad.yaml:5: not valid YAML"),
        ("name: t\nbase_url: x\nsteps:\n  - goto: /\n  - tap: a\n", "bad.yaml:5: steps[1].tap"),
        ("name: t\nsteps:\n  - goto: /\n", "bad.yaml:3: steps[0].goto: step 1 goes to '/', a path"),
        ("name: t\nbase_url: x\nsteps:\n  - scroll: {dy: far}\n", "bad.yaml:4: steps[0].scroll.dy"),
        ("name: t\nbase_url: x\nsteps:\n  - goto: /${NOPE}\n", "bad.yaml:4: variable ${NOPE}"),
        (
            "name: t\nbase_url: x\nsteps:\n  - goto: /\n  - click:\n      css: a\n"
            "      frame: {nam: pay}\n",
            "bad.yaml:7: steps[1].click.frame.nam: unknown field 'nam'",
        ),
    ],
)
def test_run_rejects_invalid_files_before_any_browser(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    done = run_cli("run", "bad.yaml", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {expected}"), done.stderr
    assert "chromium" not in done.stderr.lower()
    assert "Traceback" not in done.stderr
    assert not (tmp_path / ".capture").exists()  # no embedded store was started either


def test_schema_command_prints_the_task_schema(tmp_path: Path) -> None:
    done = run_cli("schema", "task", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    assert schema["title"] == "TaskFile"
    assert set(schema["required"]) == {"name", "steps"}
    step_refs = schema["properties"]["steps"]["items"]["oneOf"]
    assert len(step_refs) == len(STEP_KINDS)
    goto = schema["$defs"]["GotoStep"]["properties"]["goto"]
    assert {"type": "string"} in goto["anyOf"]  # the scalar shorthand is allowed
    duration = schema["properties"]["timeout"]
    assert {"type": "number", "minimum": 0} in duration["anyOf"]
    assert run_cli("schema", "nonsense", cwd=tmp_path).returncode == 2


def test_the_json_schema_accepts_what_the_loader_accepts() -> None:
    validator = jsonschema_rs.Draft202012Validator(TaskFile.model_json_schema())
    for text in (EVERY_KIND, (ROOT / "examples" / "shop.yaml").read_text()):
        assert list(validator.iter_errors(yaml.safe_load(text))) == []
    for wrong in (
        "name: t\nbase_url: x\nsteps:\n  - clik: a\n",
        "name: t\nbase_url: x\nsteps:\n  - fill: {label: a}\n",
        "name: t\nbase_url: x\nsteps:\n  - scroll: {dy: far}\n",
        "name: t\nbase_url: x\nsteps:\n  - click: {css: a, frame: g1}\n",
        "name: t\nbase_url: x\nsteps:\n  - click: {css: a, frame: {nme: pay}}\n",
        "name: t\nbase_url: x\nsteps:\n  - drag: {from: {css: a}}\n",
        "name: t\nbase_url: x\nsteps:\n  - drag: {from_: {css: a}, to: {css: b}}\n",
    ):
        assert not validator.is_valid(yaml.safe_load(wrong)), wrong


def test_base_url_is_optional_when_every_goto_is_absolute(tmp_path: Path) -> None:
    absolute = "name: t\nsteps:\n  - goto: http://127.0.0.1:9/a\n  - goto: ${URL}/b\n"
    task = parse_task(absolute)
    assert task.base_url == ""
    assert parse_task(dump_task(task)) == task
    with pytest.raises(
        TaskError, match=r"step 2 goes to '/cart', a path: give the task a base_url"
    ):
        parse_task("name: t\nsteps:\n  - goto: http://127.0.0.1:9/a\n  - goto: /cart\n")


def test_a_ref_is_named_as_the_latest_outline_called_it() -> None:
    """Two clicks by ref read differently: each names its element, role and name, as the
    outline showed it (a line may hold several refs); a ref it did not show stays `ref`."""
    outline = [
        "- main",
        '  - link "Blue Mug" [ref=e10]',
        '  - text: see the link "Red Mug" [ref=e11] or [ref=e12] now',
        "  - button [disabled] [ref=e4]",
    ]
    task = parse_task(
        "name: r\nbase_url: x\nsteps:\n  - click: {ref: e10}\n  - click: {ref: e11}\n"
        "  - click: {ref: e12}\n  - drag: {from: {ref: e4}, to: {ref: e10}}\n"
    )
    resolved = resolve_vars(task, {}, {})
    names = ref_names(outline)
    said = [describe(step, resolved, names=names) for step in task.steps]
    assert said == [
        'click link "Blue Mug" (e10)',
        'click link "Red Mug" (e11)',
        "click ref e12",
        'drag button (e4) to link "Blue Mug" (e10)',
    ]


def test_refs_are_named_through_the_outlines_attributes_and_inline_elements() -> None:
    outline = [
        '- searchbox "Search" [placeholder="mugs, kettles [etc]"] [ref=e6]',
        '- textbox "Birthday" [required] [type=date] [min=1900-01-01] [ref=e4]',
        '- text: for use in an [link "if" [ref=e12]] or [link "while" [ref=e13]] condition',
        '- clickable "START" [onclick] [ref=e5]',
        '- combobox "Size" [ref=e8]: Medium [options: "Small", "Medium"]',
    ]
    assert ref_names(outline) == {
        "e6": 'searchbox "Search"',
        "e4": 'textbox "Birthday"',
        "e12": 'link "if"',
        "e13": 'link "while"',
        "e5": 'clickable "START"',
        "e8": 'combobox "Size"',
    }


def test_a_name_text_or_label_between_slashes_is_a_regular_expression() -> None:
    task = parse_task(
        "name: r\nbase_url: x\nsteps:\n  - click: {role: link, name: '/^Cart \\(\\d+\\)$/'}\n"
        "  - click: {text: '/total/i'}\n  - click: {role: link, name: a/b}\n"
    )
    name, text, plain = (step.args for step in task.steps)
    pattern = text_or_pattern(name.name)
    assert isinstance(pattern, re.Pattern)
    assert pattern.search("Cart (12)")
    assert text_or_pattern(text.text) == re.compile("total", re.IGNORECASE)
    assert text_or_pattern(plain.name) == "a/b"
    with pytest.raises(TaskError, match="is not a regular expression"):
        parse_task("name: r\nbase_url: x\nsteps:\n  - click: {role: link, name: '/(/'}\n")
