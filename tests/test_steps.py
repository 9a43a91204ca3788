"""Steps on the test site in real Chromium: targets inside frames (by name, URL, title, a
nested path, a frame ref from a real observation; same- and cross-origin), scrolls inside
elements, drags (HTML5 and pointer events) and double clicks, and how they fail."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser

from capture.actions import ClickStep, StepContext, Vars, perform
from capture.config import Config
from capture.recorder.observe import ABOVE_MARKER
from capture.session import AsyncSessionClient
from capture.tasks import RunResult, run_task
from tests._helpers import ROOMY_BOX
from tests.conftest import RunningStore, Site
from tests.test_runner import observation, run_in, steps_of, task_at, values

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


RunSteps = Callable[[str, str], Awaitable[RunResult]]


ROOMY = Config.model_validate({"capture": {"time_box": ROOMY_BOX}})


@pytest.fixture
def steps(tmp_path: Path, site: Site, chromium: Browser, store_server: RunningStore) -> RunSteps:
    """`await steps(page, yaml)`: open `page` of the test site (its frames from the second
    origin), then run `yaml` (YAML list items, one per line) and return the result."""

    async def run(page: str, yaml: str) -> RunResult:
        text = (
            f"name: steps\nbase_url: {site.origin}\ntimeout: 10s\n"
            "viewport: {width: 1100, height: 800}\nsteps:\n"
            f"  - goto: /{page}{'&' if '?' in page else '?'}other={site.other}\n{yaml}"
        )
        return await run_in(store_server, chromium, task_at(tmp_path, text), "steps", config=ROOMY)

    return run


def ok(result: RunResult) -> list[str]:
    """The action texts of a run that must have passed."""
    assert [s.status for s in result.steps] == ["ok"] * len(result.steps), result.failures
    return [s.action for s in result.steps]


def failure(result: RunResult) -> str:
    """The one error of a run whose last step must have failed."""
    assert [s.status for s in result.steps][-1] == "failed", result.steps
    return result.steps[-1].error or ""


# -- frames -----------------------------------------------------------------------------


async def test_fill_click_and_expect_in_frames_by_name_url_and_title(
    steps: RunSteps, store_server: RunningStore
) -> None:
    result = await steps(
        "framed.html",
        # `pay` is cross-origin, `shop` same-origin; the top page has a Pay button of its own.
        "  - fill: {label: Card holder, value: Ada, frame: {name: pay}}\n"
        "  - click: {role: button, name: Pay, frame: {name: pay}}\n"
        "  - wait_for: {text: Paid by Ada, frame: {title: Payment details}}\n"
        "  - fill: {label: Card holder, value: Bob, frame: {url: '/widget.html?who=shop&tall=1'}}\n"
        "  - press: {label: Card holder, key: Tab, frame: {url: '**/widget.html?who=shop*'}}\n"
        "  - press: Enter\n"
        "  - expect: {text: Paid by Bob in shop, frame: {name: shop}}\n"
        "  - expect: {role: status, frame: {name: pay}, title: Framed shop}\n",
    )
    actions = ok(result)
    assert actions[1:4] == [
        "fill label 'Card holder' in frame 'pay' with 'Ada'",
        "click button 'Pay' in frame 'pay'",
        "wait for text 'Paid by Ada' in frame titled 'Payment details' to be visible",
    ]
    assert actions[4] == (
        "fill label 'Card holder' in frame at '/widget.html?who=shop&tall=1' with 'Bob'"
    )
    assert actions[7] == "expect text 'Paid by Bob in shop' in frame 'shop' visible"
    final = result.final_observation
    assert "Paid by Ada in pay" in final
    assert "Paid by Bob in shop" in final  # Tab moved focus to its Pay button, Enter pressed it
    records = steps_of(await values(store_server.base_url, "steps"))
    assert records[2]["action"] == "click button 'Pay' in frame 'pay'"


async def test_nested_frames_by_path_and_anywhere_by_one_mapping(steps: RunSteps) -> None:
    result = await steps(
        "framed.html",
        # outer is same-origin, inner (inside outer) cross-origin
        "  - fill: {label: Card holder, value: Cy, frame: [{name: outer}, {name: inner}]}\n"
        "  - click: {role: button, name: Pay, frame: [{title: Widget outer}, {name: inner}]}\n"
        "  - expect: {text: Paid by Cy in inner, frame: {name: inner}}\n"
        "  - expect: {text: Widget inner, frame: [{name: outer}, {url: '**who=inner'}]}\n",
    )
    actions = ok(result)
    assert actions[2] == "click button 'Pay' in frame titled 'Widget outer' > frame 'inner'"
    assert "Paid by Cy in inner" in result.final_observation


async def test_a_frame_that_appears_late_is_waited_for(site: Site, chromium: Browser) -> None:
    context = await chromium.new_context()
    page = await context.new_page()
    await page.goto(site.url("framed.html?late=1500"))
    absent_at_first = page.frame(name="late") is None
    ctx = StepContext(site.origin, Path(), Vars())
    step = ClickStep(click={"role": "button", "name": "Pay", "frame": {"name": "late"}})
    action = await perform(page, step, ctx, 10)
    paid = await page.frame_locator("[name=late]").locator("#status").inner_text()
    await context.close()
    assert absent_at_first
    assert action == "click button 'Pay' in frame 'late'"
    assert paid == "Paid by in late"


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        (
            "click: {role: button, name: Pay, frame: {name: nope}}",
            r"no frame named 'nope' on the page; frames: 'shop' at http://127\.0\.0\.1:\d+/widget"
            r"\.html\?who=shop&tall=1, 'pay' at http://127\.0\.0\.1:\d+/widget\.html\?who=pay&title=",
        ),
        (
            # A list is a path from the top: 'inner' is not a child frame of the page.
            "click: {role: button, frame: [{name: inner}]}",
            r"no frame named 'inner' on the page; frames: 'shop' at .*, 'outer' at ",
        ),
        (
            "click: {role: button, frame: [{name: outer}, {title: Receipt}]}",
            r"no frame titled 'Receipt' inside frame 'outer'; its frames: 'Widget inner' at http",
        ),
        (
            "click: {role: button, frame: {url: '**/nowhere.html'}}",
            r"no frame at '\*\*/nowhere\.html' on the page; frames: http://127\.0\.0\.1:\d+/widget",
        ),
        (
            "click: {role: button, frame: {title: Widget}}",
            r"3 frames match frame titled 'Widget' on the page \(http.*\); name it by another key",
        ),
        ("click: {role: button, frame: f9}", r"no frame f9 on the page \(frame refs are numbered"),
        (
            "click: {css: '#no-such-thing', frame: {name: pay}}",
            r"failed: in frame 'pay': timed out after 1s \(waiting for locator\(.*\)\)$",
        ),
        (
            "expect: {text: Never shown, frame: {name: shop}}",
            r"expected text 'Never shown' in frame 'shop' to be visible; it is not",
        ),
    ],
)
async def test_a_frame_or_target_that_is_not_there_fails_clearly(
    steps: RunSteps, tmp_path: Path, step: str, reason: str
) -> None:
    started = "  - expect: {text: Widget inner, frame: {name: inner}}\n"  # every frame loaded
    result = await steps(
        "framed.html",
        f"{started}  - {step}\n    timeout: 1s\n",
    )
    error = failure(result)
    assert error.startswith(f"step 3 ({step.split(':')[0]}) at {tmp_path / 'task.yaml'}:8 failed: ")
    assert re.search(reason, error), error


@pytest.mark.parametrize(
    ("step", "near"),
    [
        ("click: {role: button, name: Sign inn}", 'near matches: button "Sign in"'),
        ("fill: {label: Usrname, value: x}", 'near matches: textbox "Username"'),
    ],
)
async def test_a_target_that_matches_nothing_names_the_near_matches(
    steps: RunSteps, step: str, near: str
) -> None:
    result = await steps("login.html", f"  - {step}\n    timeout: 1s\n")
    error = failure(result)
    assert "timed out after 1s" in error
    assert error.endswith(near), error
    assert "prefilled-Secret-42" not in error  # names only, never a field's value


async def test_frame_refs_are_the_frames_the_observation_numbered(
    tmp_path: Path, site: Site, chromium: Browser, store_server: RunningStore
) -> None:
    """An agent reads f2e5 in an observation and writes `frame: f2` for another element."""
    context = await chromium.new_context()
    page = await context.new_page()
    base = f"name: look\nbase_url: {site.origin}\nsteps:\n"
    async with AsyncSessionClient(store_server.base_url) as client:
        look = task_at(
            tmp_path,
            f"{base}  - goto: /framed.html?other={site.other}\n"
            "  - expect: {text: Widget inner, frame: {name: inner}}\n",
        )
        assert (await run_task(look, client=client, page=page, thread="fr")).status == "passed"
        seen = observation(await values(store_server.base_url, "fr"))
        prefixes = dict(re.findall(r'heading "Widget (\w+)" \[level=2\] \[ref=(f\d+)e\d+\]', seen))
        assert set(prefixes) == {"shop", "pay", "outer", "inner"}, seen
        assert len(set(prefixes.values())) == 4
        steps = "".join(
            f"  - expect: {{role: heading, name: Widget {who}, frame: {prefix}}}\n"
            for who, prefix in prefixes.items()
        )
        pay = prefixes["pay"]
        steps += (
            f"  - fill: {{label: Card holder, value: Dee, frame: {pay}}}\n"
            f"  - click: {{role: button, name: Pay, frame: {pay}}}\n"
            f"  - expect: {{text: Paid by Dee in pay, frame: {pay}}}\n"
            # a frame ref and a name for two different frames: caught when the step runs
            f"  - drag: {{from: {{text: shop item 1, frame: {prefixes['shop']}}}, "
            "to: {role: button, name: Pay, frame: {name: pay}}}\n"
        )
        act = task_at(tmp_path, f"{base}{steps}")
        result = await run_task(act, client=client, page=page, thread="fr")
    await context.close()
    assert [s.status for s in result.steps][:-1] == ["ok"] * 7, result.failures
    assert result.steps[5].action == f"click button 'Pay' in frame {pay}"
    error = result.steps[-1].error or ""
    assert re.search(
        r"drag within one frame: 'from' is in http://\S+who=shop\S*, 'to' in http://\S+who=pay",
        error,
    ), error


# -- scrolling inside elements ----------------------------------------------------------


async def test_scroll_inside_elements_shows_in_the_next_observation(steps: RunSteps) -> None:
    result = await steps(
        "gestures.html",
        "  - scroll: {css: '#feed', dy: 200}\n"
        "  - scroll: {label: Feed, exact: true, dy: -50}\n"  # relative to where it is
        "  - scroll: {label: Smooth feed, dy: 300}\n"  # scroll-behavior: smooth
        "  - scroll: {css: '#wide', dx: 250}\n",
    )
    actions = ok(result)
    # The action says where each box landed: its scroll position, of the most it can take.
    room = r"of [1-9]\d*$"
    assert re.match(rf"scroll by 0, 200 in css '#feed'; scrolled to y=200 {room}", actions[1])
    assert re.match(rf"scroll by 0, -50 in label 'Feed'.*; scrolled to y=150 {room}", actions[2])
    assert re.match(rf"scroll by 250, 0 in css '#wide'; scrolled to x=250 {room}", actions[4])
    shown = [step.observation for step in result.steps]
    assert f"# Step 2: {actions[1]}\n" in shown[1]  # the agent reads it in the observation
    assert "feed at 0,0" in shown[0]
    assert "feed at 0,200" in shown[1]
    assert "feed at 0,150" in shown[2]
    assert "smooth at 0,300" in shown[3]  # the step waited for the smooth scroll to land
    assert "wide at 250,0" in shown[4]
    # The outline agrees: the feed's first messages went above the viewport, while the
    # page itself did not scroll.
    assert "feed message 1\n" not in above(shown[0])
    assert "feed message 1\n" in above(shown[2])
    assert all("scrolled to x=0 y=0 " in text for text in shown)


def above(observation_text: str) -> str:
    """The part of an observation's outline listed as above the viewport."""
    return observation_text.partition(ABOVE_MARKER)[2]


async def test_scroll_inside_an_element_and_a_document_in_a_frame(steps: RunSteps) -> None:
    result = await steps(
        "framed.html",
        "  - scroll: {label: Items, dy: 48, frame: {name: pay}}\n"  # cross-origin
        "  - scroll: {frame: {name: shop}, dy: 60}\n",
    )
    actions = ok(result)
    assert re.match(
        r"scroll by 0, 48 in label 'Items' in frame 'pay'; scrolled to y=48 of", actions[1]
    )
    assert actions[2] == "scroll by 0, 60 in frame 'shop'"  # a document: the outline says it
    # The outline lists a frame's items whether or not its list shows them: the screenshot
    # is what changed.
    assert result.steps[1].changed
    assert "shop page at 60" in result.steps[2].observation


async def test_scroll_on_an_element_with_nothing_to_scroll_fails(steps: RunSteps) -> None:
    result = await steps(
        "gestures.html",
        "  - scroll: {css: '#fits', dy: 80}\n",
    )
    assert failure(result).endswith("failed: css '#fits' has nothing to scroll that way")


# -- drag and double click --------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "yaml", "action", "shown"),
    [
        pytest.param(
            "dnd.html",
            "  - drag: {from: {text: Write the report}, to: {test_id: done}}\n"
            "  - expect: {css: '#done #card-1'}\n",
            "drag text 'Write the report' to test id 'done'",
            "dragstart card-1. dropped card-1 on done.",
            id="drag-with-html5-drag-and-drop",
        ),
        pytest.param(
            "gestures.html",
            "  - dblclick: '#word'\n  - expect: {text: Editing}\n",
            "dblclick css '#word'",
            "clicks: 2, dblclicks: 1",
            id="dblclick-is-one-double-click",
        ),
        pytest.param(
            "clicks.html",
            "  - click: {css: '#press', button: right, modifiers: [Shift]}\n"
            "  - expect: {text: pressed with button 2 holding shift}\n",
            "click css '#press' with the right button holding Shift",
            "pressed with button 2 holding shift",
            id="click-with-a-button-holding-keys",
        ),
    ],
)
async def test_a_gesture_does_what_its_action_line_says(
    steps: RunSteps, page: str, yaml: str, action: str, shown: str
) -> None:
    result = await steps(page, yaml)
    assert ok(result)[1] == action
    assert shown in result.final_observation


async def test_drag_with_pointer_events(steps: RunSteps) -> None:
    result = await steps(
        "pointer.html",
        "  - drag: {from: {text: Token, exact: true}, to: {css: '#slot-c'}}\n"
        "  - expect: {css: '#slot-c #token'}\n",
    )
    ok(result)
    moved = re.search(r"token in slot-c after (\d+) moves", result.final_observation)
    assert moved is not None, result.final_observation
    assert int(moved.group(1)) > 1  # a glide, not a jump


async def test_drags_inside_cross_origin_frames(steps: RunSteps) -> None:
    result = await steps(
        "boards.html",
        "  - drag: {from: {text: Review the draft, frame: {name: board}}, "
        "to: {test_id: done, frame: {name: board}}}\n"
        "  - drag: {from: {css: '#token', frame: {name: slots}}, "
        "to: {css: '#slot-b', frame: {name: slots}}}\n",
    )
    actions = ok(result)
    assert actions[1] == "drag text 'Review the draft' to test id 'done' in frame 'board'"
    final = result.final_observation
    assert "dragstart card-2. dropped card-2 on done." in final
    assert re.search(r"token in slot-b after \d+ moves", final), final


# -- select ------------------------------------------------------------------------------


async def test_select_of_an_option_that_is_not_there_names_the_ones_that_are(
    steps: RunSteps,
) -> None:
    result = await steps(
        "login.html",
        "  - select: {label: Country, option: Italy}\n"  # by label
        "  - select: {label: Country, option: de}\n"  # by value
        "  - select: {label: Country, option: Enterprise}\n",
    )
    assert [s.status for s in result.steps] == ["ok", "ok", "ok", "failed"]
    assert failure(result).endswith(
        "failed: label 'Country' has no option 'Enterprise'; "
        "its options are 'Germany', 'France', 'Italy'"
    )
