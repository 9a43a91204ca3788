"""The pure half of live recording: listener payloads -> actions -> task steps (no browser)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from capture.config import StoreConfig
from capture.errors import TaskError
from capture.live import (
    Action,
    ActionBuilder,
    ElementInfo,
    LiveResult,
    PageEvent,
    Recording,
    export_task,
    parse_event,
)
from capture.recorder import RecorderStats
from capture.tasks import dump_task, parse_task
from tests.conftest import CAPTURE, run_command

TOKEN = "t0ken"
PAGE = "page-1"

SEARCH = {
    "role": "textbox",
    "name": "Search",
    "tag": "input",
    "targets": [{"role": "textbox", "name": "Search"}, {"label": "Search"}, {"css": "#q"}],
}
PASSWORD = {
    "role": None,
    "name": "Password",
    "tag": "input",
    "type": "password",
    "sensitive": True,
    "targets": [{"label": "Password"}, {"css": "#password"}],
}
BUY = {"role": "button", "name": "Add to cart", "tag": "button", "targets": [{"css": "#buy"}]}
BUY_EL = ElementInfo.model_validate(BUY)


def event(type_: str, element: dict[str, Any] | None = None, **fields: Any) -> PageEvent:
    data: dict[str, Any] = {"type": type_, "trusted": True, **fields}
    if element is not None:
        data["element"] = element
    return PageEvent.model_validate(data)


def test_a_burst_of_keystrokes_is_one_action_that_absorbs_the_click_into_the_field() -> None:
    builder = ActionBuilder(quiet=1.0)
    done = builder.feed(PAGE, event("click", SEARCH, field=1, text_field=True), now=0.0)
    for i, now in enumerate((0.2, 0.5, 0.9, 1.7)):
        done += builder.feed(PAGE, event("input", SEARCH, field=1, value="milk"[: i + 1]), now)
    assert done == []
    assert builder.due(now=2.6) == []  # still within `quiet` of the last keystroke
    [typed] = builder.due(now=2.8)
    assert (typed.kind, typed.value, typed.text) == ("fill", "milk", "typed into textbox 'Search'")
    assert builder.deadline is None


def test_a_click_into_a_field_without_typing_is_a_click() -> None:
    builder = ActionBuilder(quiet=1.0)
    assert builder.feed(PAGE, event("click", SEARCH, field=1, text_field=True), 0.0) == []
    [click] = builder.due(1.5)
    assert click.text == "clicked textbox 'Search'"


def test_another_action_completes_the_typing_first() -> None:
    builder = ActionBuilder()
    builder.feed(PAGE, event("input", SEARCH, field=1, value="milk"), 0.0)
    done = builder.feed(PAGE, event("key", SEARCH, field=1, key="Enter"), 0.1)
    assert [a.text for a in done] == [
        "typed into textbox 'Search'",
        "pressed Enter in textbox 'Search'",
    ]


def test_typing_into_another_field_is_another_action() -> None:
    builder = ActionBuilder()
    builder.feed(PAGE, event("input", SEARCH, field=1, value="a"), 0.0)
    done = builder.feed(PAGE, event("input", PASSWORD, field=2), 0.1)
    assert [a.value for a in done] == ["a"]
    [secret] = builder.flush()
    assert (secret.value, secret.secret) == (None, "SECRET_1")


def test_the_last_report_of_typing_recorded_already_is_no_new_action() -> None:
    """Typing in the page, then at once a click in a frame: the typing is recorded when the
    click comes, and its last report, later, adds nothing, unless it has more text."""
    builder = ActionBuilder()

    def typed(value: str, now: float, *, done: bool) -> list[Action]:
        return builder.feed(PAGE, event("input", SEARCH, field=1, value=value, done=done), now)

    typed("milk", 0.0, done=False)
    done = builder.feed(PAGE, event("click", BUY, field=1, doc="frame"), 0.1)
    assert [a.text for a in done] == ["typed into textbox 'Search'"]
    assert typed("milk", 0.2, done=True) == []  # only the last report of that typing
    typed("te", 1.0, done=False)
    done = builder.feed(PAGE, event("click", BUY, field=1, doc="frame"), 1.1)
    done += typed("tea", 1.2, done=True)  # typed after its first report: recorded again
    done += builder.flush()
    assert [(a.kind, a.value) for a in done] == [
        ("fill", "te"),
        ("click", None),
        ("fill", "tea"),
    ]


def test_sensitive_fields_get_one_variable_each() -> None:
    builder = ActionBuilder()
    actions: list[Action] = []
    for field, now in ((2, 0.0), (3, 5.0), (2, 10.0)):
        actions += builder.feed(PAGE, event("input", PASSWORD, field=field), now)
    actions += builder.flush()
    assert [a.secret for a in actions] == ["SECRET_1", "SECRET_2", "SECRET_1"]
    assert builder.secret_names == ["SECRET_1", "SECRET_2"]


def test_untrusted_events_are_counted_not_acted_on() -> None:
    builder = ActionBuilder()
    script_click = PageEvent.model_validate({"type": "click", "trusted": False, "element": BUY})
    assert builder.feed(PAGE, script_click, 0.0) == []
    assert builder.untrusted == 1


def test_a_submit_caused_by_a_click_is_not_an_action_of_its_own() -> None:
    builder = ActionBuilder()
    assert builder.feed(PAGE, event("submit", caused=True), 0.0) == []
    [submit] = builder.feed(PAGE, event("submit", {"tag": "form", "name": "login"}), 0.1)
    assert submit.text == "submitted form 'login'"


def test_scrolls_merge_into_the_last_position() -> None:
    builder = ActionBuilder(quiet=1.0)
    builder.feed(PAGE, event("scroll", y=300), 0.0)
    builder.feed(PAGE, event("scroll", y=900), 0.5)
    [scroll] = builder.due(2.0)
    assert scroll.text == "scrolled to x=0, y=900"


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ({"type": "click", "trusted": True}, "no token"),
        ({"token": "other", "type": "click", "trusted": True}, "wrong token"),
        ({"token": TOKEN, "type": "explode", "trusted": True}, "unknown type"),
        ({"token": TOKEN, "type": "click"}, "no trusted flag"),
    ],
)
def test_payloads_not_from_our_listener_are_dropped(payload: dict[str, Any], why: str) -> None:
    assert parse_event(json.dumps(payload), TOKEN) is None, why


def test_a_payload_from_our_listener_parses() -> None:
    payload = {"token": TOKEN, "type": "click", "trusted": True, "element": BUY, "extra": 1}
    parsed = parse_event(json.dumps(payload), TOKEN)
    assert parsed is not None
    assert parsed.element is not None
    assert parsed.element.describe() == "button 'Add to cart'"
    assert parse_event("not json", TOKEN) is None
    assert parse_event({"token": TOKEN}, TOKEN) is None


def test_describe_falls_back_to_the_input_type_then_css() -> None:
    assert ElementInfo.model_validate(PASSWORD).describe() == "password field 'Password'"
    assert ElementInfo(tag="div", targets=[{"css": "main > div"}]).describe() == "div main > div"
    assert ElementInfo(tag="body", targets=[{"css": "html > body"}]).describe() == "the page"


# -- export -------------------------------------------------------------------------------


def _session() -> list[Action]:
    builder = ActionBuilder()
    actions = builder.add(Action("goto", PAGE, value="http://127.0.0.1:8000/shop/index.html"))
    actions += builder.feed(PAGE, event("input", SEARCH, field=1, value="milk"), 0.0)
    actions += builder.feed(PAGE, event("input", PASSWORD, field=2), 0.1)
    actions += builder.feed(PAGE, event("click", BUY, field=3), 0.2)
    actions += builder.add(Action("new_tab", "page-2", value="http://127.0.0.1:8000/cart"))
    actions += builder.feed("page-2", event("scroll", y=400), 0.3)
    actions += builder.due(2.0)
    actions += builder.feed("page-2", event("scroll", y=250), 5.0)
    actions += builder.feed("page-2", event("key", key="Escape"), 9.0)
    actions += builder.add(Action("back", "page-2", value="http://127.0.0.1:8000/shop/"))
    actions += builder.add(Action("dialog", "page-2", value="alert 'hi'"))
    return actions


def test_export_writes_steps_a_task_file_reads_back() -> None:
    export = export_task(_session(), name="shop")
    text = dump_task(export.task)
    assert parse_task(text).model_dump() == export.task.model_dump()
    steps = [
        step.model_dump(exclude_none=True, exclude_defaults=True) for step in export.task.steps
    ]
    assert steps == [
        {"goto": {"url": "http://127.0.0.1:8000/shop/index.html"}},
        {"fill": {"role": "textbox", "name": "Search", "exact": True, "value": "milk"}},
        {"fill": {"label": "Password", "exact": True, "value": "${SECRET_1}"}},
        {"click": {"css": "#buy"}},
        {"scroll": {"dy": 400}},
        {"scroll": {"dy": -150}},
        {"press": {"key": "Escape"}},
        {"goto": {"url": "http://127.0.0.1:8000/shop/"}},
    ]
    assert export.task.base_url == "http://127.0.0.1:8000"
    secret = export.task.vars["SECRET_1"]
    assert not isinstance(secret, str)
    assert (secret.secret, secret.value) == (True, None)
    assert [s.split(":")[0] for s in export.skipped] == [
        "switched to a new tab",
        "a dialog opened",
    ]


def test_typed_text_holding_a_configured_secret_is_exported_as_a_variable() -> None:
    note = ElementInfo(role="textbox", name="Note", targets=[{"label": "Note"}])
    actions = [
        Action("goto", PAGE, value="http://127.0.0.1:8000/"),
        Action("fill", PAGE, note, value="token tok-123456 here"),
        Action("fill", PAGE, ElementInfo.model_validate(PASSWORD), secret="SECRET_1"),
    ]
    export = export_task(actions, name="notes", secrets=["tok-123456", "ab"])
    text = dump_task(export.task)
    assert "tok-123456" not in text
    assert sorted(export.task.vars) == ["SECRET_1", "SECRET_2"]
    assert actions[1].value == "token tok-123456 here"  # the caller's actions are not changed


LIST = {"tag": "div", "targets": [{"css": "#list"}]}
CARD = {"role": "listitem", "name": "Card 1", "tag": "li", "targets": [{"text": "Card 1"}]}
LANE = {"role": "region", "name": "Done", "tag": "section", "targets": [{"test_id": "done"}]}
FILE = {
    "role": None,
    "name": "Receipt",
    "tag": "input",
    "type": "file",
    "targets": [{"label": "Receipt"}],
}


def test_actions_in_frames_carry_the_frame_path_onto_their_targets() -> None:
    nested = [{"name": "outer"}, {"url": "http://127.0.0.1:9/frame.html?name=inner"}]
    actions = [
        Action("goto", PAGE, value="http://127.0.0.1:8000/"),
        Action("click", PAGE, ElementInfo.model_validate(BUY), frame=[{"name": "pay"}]),
        Action("press", PAGE, ElementInfo.model_validate(BUY), value="Enter", frame=nested),
        Action("scroll", PAGE, frame=[{"title": "Terms"}], y=300, field_key=(PAGE, "d", 0)),
    ]
    assert actions[2].text == (
        "pressed Enter in button 'Add to cart' in frame 'outer' > "
        "'http://127.0.0.1:9/frame.html?name=inner'"
    )
    steps = [s.model_dump(exclude_defaults=True) for s in export_task(actions, name="f").task.steps]
    assert steps[1:] == [
        {"click": {"css": "#buy", "frame": {"name": "pay"}}},
        {"press": {"css": "#buy", "frame": nested, "key": "Enter"}},
        {"scroll": {"frame": {"title": "Terms"}, "dy": 300}},
    ]


def test_scrolls_inside_an_element_are_relative_to_its_last_recorded_position() -> None:
    builder = ActionBuilder(quiet=1.0)
    done = builder.feed(PAGE, event("scroll", LIST, field=4, doc="d1", y=120), 0.0)
    done += builder.feed(PAGE, event("scroll", LIST, field=4, doc="d1", y=200), 0.5)
    done += builder.feed(PAGE, event("scroll", field=None, doc="d1", y=900), 0.6)  # the page
    done += builder.feed(PAGE, event("scroll", LIST, field=4, doc="d1", x=30, y=50), 2.0)
    done += builder.flush()
    assert [a.text for a in done] == [
        "scrolled to x=0, y=200 in div #list",
        "scrolled to x=0, y=900",
        "scrolled to x=30, y=50 in div #list",
    ]
    steps = [
        s.model_dump(exclude_defaults=True)
        for s in export_task(
            [Action("goto", PAGE, value="http://127.0.0.1:8000/"), *done], name="s"
        ).task.steps
    ]
    assert steps[1:] == [
        {"scroll": {"css": "#list", "dy": 200}},
        {"scroll": {"dy": 900}},
        {"scroll": {"css": "#list", "dx": 30, "dy": -150}},
    ]


def test_the_clicks_of_a_double_click_are_one_action() -> None:
    builder = ActionBuilder(quiet=1.0)
    assert builder.feed(PAGE, event("click", BUY, field=1, doc="d"), 0.0) == []
    [double] = builder.feed(PAGE, event("dblclick", BUY, field=1, doc="d"), 0.2)
    assert double.text == "double-clicked button 'Add to cart'"
    assert builder.deadline is None
    # A double click into a text field followed by typing is the typing.
    builder.feed(PAGE, event("click", SEARCH, field=2, doc="d", text_field=True), 1.0)
    assert (
        builder.feed(PAGE, event("dblclick", SEARCH, field=2, doc="d", text_field=True), 1.1) == []
    )
    builder.feed(PAGE, event("input", SEARCH, field=2, doc="d", value="mugs"), 1.3)
    [typed] = builder.flush()
    assert (typed.kind, typed.value) == ("fill", "mugs")


def test_hover_drag_and_upload_become_steps() -> None:
    builder = ActionBuilder(quiet=1.0)
    done = builder.feed(PAGE, event("hover", BUY, field=1), 0.0)
    done += builder.feed(PAGE, event("drag", CARD, field=2, to=LANE), 0.1)
    done += builder.feed(PAGE, event("upload", FILE, field=3, files=["a.txt", "b.png"]), 0.2)
    assert [a.text for a in done] == [
        "hovered over button 'Add to cart'",
        "dragged listitem 'Card 1' to region 'Done'",
        "chose 'a.txt', 'b.png' in file field 'Receipt'",
    ]
    export = export_task([Action("goto", PAGE, value="http://127.0.0.1:8000/"), *done], name="h")
    assert [s.model_dump(exclude_defaults=True, by_alias=True) for s in export.task.steps[1:]] == [
        {"hover": {"css": "#buy"}},
        {"drag": {"from": {"text": "Card 1", "exact": True}, "to": {"test_id": "done"}}},
        {"upload": {"label": "Receipt", "exact": True, "files": ["a.txt", "b.png"]}},
    ]
    assert export.files == ["a.txt", "b.png"]


def test_nothing_to_export_is_a_task_error() -> None:
    with pytest.raises(TaskError, match="nothing to export"):
        export_task([Action("dialog", PAGE, value="alert 'x'")], name="empty")


def test_typing_resumed_after_a_pause_in_the_same_field_is_one_fill() -> None:
    builder = ActionBuilder(quiet=0.5)
    done = builder.feed(PAGE, event("input", SEARCH, field=1, doc="d", value="Ada Lov"), 0.0)
    done += builder.due(1.0)  # the person paused longer than `quiet`
    done += builder.feed(PAGE, event("input", SEARCH, field=1, doc="d", value="Ada Lovelace"), 1.2)
    done += builder.flush()
    assert [a.value for a in done] == ["Ada Lov", "Ada Lovelace"]  # two captures...
    goto = Action("goto", PAGE, value="http://127.0.0.1:8000/")
    steps = export_task([goto, *done], name="t").task.steps
    assert [s.model_dump(exclude_defaults=True) for s in steps[1:]] == [  # ...one step
        {"fill": {"role": "textbox", "name": "Search", "exact": True, "value": "Ada Lovelace"}}
    ]


def test_a_click_that_opened_a_file_chooser_is_part_of_the_upload() -> None:
    attach = {"role": "button", "name": "Attach", "tag": "button", "targets": [{"css": "#a"}]}
    builder = ActionBuilder(quiet=1.0)
    assert builder.feed(PAGE, event("click", attach, field=1, doc="d"), 0.0) == []
    assert builder.feed(PAGE, event("chooser", attach, field=1, doc="d"), 0.0) == []
    [upload] = builder.feed(PAGE, event("upload", FILE, field=2, doc="d", files=["p.png"]), 3.0)
    assert upload.kind == "upload"
    assert builder.flush() == []


def test_a_click_into_a_field_long_before_the_typing_is_still_part_of_it() -> None:
    builder = ActionBuilder(quiet=0.5)
    done = builder.feed(PAGE, event("click", SEARCH, field=1, doc="d", text_field=True), 0.0)
    done += builder.due(0.6)  # the person looked away before typing
    done += builder.feed(PAGE, event("input", SEARCH, field=1, doc="d", value="tea"), 2.0)
    done += builder.flush()
    assert [a.kind for a in done] == ["click", "fill"]
    goto = Action("goto", PAGE, value="http://127.0.0.1:8000/")
    steps = export_task([goto, *done], name="t").task.steps
    assert [s.kind for s in steps] == ["goto", "fill"]


COUNTRY = {"role": "combobox", "name": "Country", "tag": "select", "targets": [{"css": "#c"}]}


def _chose(value: str) -> list[dict[str, str]]:
    return [{"value": value, "label": value.title()}]


def test_arrow_keys_through_a_select_are_one_select_of_the_last_choice() -> None:
    builder = ActionBuilder(quiet=1.0)
    done: list[Action] = []
    for now, value in ((0.0, "italy"), (0.2, "spain"), (0.4, "sweden")):
        done += builder.feed(PAGE, event("select", COUNTRY, field=3, options=_chose(value)), now)
    assert done == []
    assert builder.due(now=1.3) == []  # within `quiet` of the last change
    [chosen] = builder.due(now=1.5)
    assert (chosen.kind, chosen.options) == ("select", ["sweden"])
    assert chosen.text == "selected 'Sweden' in combobox 'Country'"  # what the person saw


def test_a_select_line_names_the_option_the_person_saw_not_its_value() -> None:
    """Before: `selected 'l' in combobox 'Size'`; the step still chooses by value."""
    size = {"role": "combobox", "name": "Size", "tag": "select", "targets": [{"css": "#size"}]}
    picked = [{"value": "l", "label": "Large"}]
    builder = ActionBuilder(quiet=1.0)
    builder.feed(PAGE, event("select", size, field=4, options=picked), 0.0)
    [chosen] = builder.flush()
    assert chosen.text == "selected 'Large' in combobox 'Size'"
    step = export_task([chosen], name="size").task.steps[0]
    assert step.model_dump(exclude_defaults=True) == {"select": {"css": "#size", "option": "l"}}


def test_a_select_is_completed_by_the_next_action() -> None:
    builder = ActionBuilder(quiet=1.0)
    assert builder.feed(PAGE, event("select", COUNTRY, field=3, options=_chose("italy")), 0) == []
    chosen, pressed = builder.feed(PAGE, event("key", BUY, key="Enter"), 0.1)
    assert (chosen.kind, chosen.options, pressed.kind) == ("select", ["italy"], "press")


def test_the_summary_explains_its_counts_and_how_to_look_after_an_embedded_store(
    tmp_path: Path,
) -> None:
    """Before: `captures: 7 (uploaded 22 ...)` unexplained, and `thread: T at URL`, an address
    that no longer answers once the embedded store stopped with the recording."""
    actions = [Action("goto", PAGE, value="http://127.0.0.1:1/"), Action("click", PAGE, BUY_EL)]
    stats = RecorderStats(captures=3, uploaded=10, dropped=0, unchanged=1)
    result = LiveResult(actions, captures=3, stats=stats, refreshed=1)
    embedded = StoreConfig(url=f"sqlite:///{tmp_path}/capture.db", port=8787)
    done = Recording(result, None, None)
    text = "\n".join(done.report("shop", "http://127.0.0.1:39895/api/v1", embedded=embedded))
    assert "actions: 2, one per thing you did (1 goto, 1 click)" in text
    assert "captures: 3 (2 after actions, 1 while you were idle, so the parts do not" in text
    assert "; 1 of an unchanged page, its image not sent again" in text
    assert "store writes: 10 sent, 0 dropped (a capture writes its screenshot, observation" in text
    assert "the embedded store stopped with the recording" in text
    assert f"afterwards: capture serve --store sqlite:///{tmp_path}/capture.db" in text
    assert "look: capture parts list shop" in text
    running = "\n".join(done.report("shop", "http://127.0.0.1:8787/api/v1"))
    assert "embedded" not in running


def test_record_out_refuses_to_replace_a_file_without_force(tmp_path: Path) -> None:
    (tmp_path / "task.yaml").write_text("mine\n", encoding="utf-8")
    command = [CAPTURE, "record", "http://127.0.0.1:1/", "--thread", "t", "--out", "task.yaml"]
    refused = run_command(command, tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert "--out task.yaml exists: name another file, or give --force to replace it" in (
        refused.stderr
    )
    assert "Traceback" not in refused.stderr
    assert (tmp_path / "task.yaml").read_text(encoding="utf-8") == "mine\n"
