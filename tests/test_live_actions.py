"""The pure half of live recording: listener payloads -> actions -> task steps (no browser)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from capture.errors import TaskError
from capture.live import Action, ActionBuilder, ElementInfo, PageEvent, export_task, parse_event
from capture.tasks import dump_task, parse_task

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


def test_export_skips_actions_inside_iframes() -> None:
    actions = [
        Action("goto", PAGE, value="http://127.0.0.1:8000/"),
        Action("click", PAGE, ElementInfo.model_validate(BUY), in_frame=True),
    ]
    export = export_task(actions, name="frames")
    assert len(export.task.steps) == 1
    assert "iframe" in export.skipped[0]


def test_nothing_to_export_is_a_task_error() -> None:
    with pytest.raises(TaskError, match="nothing to export"):
        export_task([Action("dialog", PAGE, value="alert 'x'")], name="empty")
