"""The pytest plugin: plain pytest-playwright test files run in a child pytest (pytester, a
subprocess: the plugin wraps Playwright's classes, which must not happen in this process)
against real Chromium and the test site, the captures checked through raw HTTP."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, TypeVar

# httpx imports httpcore on first use and caches its exception classes; pytester drops every
# module first imported during a test when the test ends, so a later import would make new
# classes that the cache does not know. Importing it here keeps it out of that snapshot.
import httpcore  # noqa: F401
import httpx
import pytest
from PIL import Image

from capture.browser import find_browser, launch_args
from capture.demo_site import DEMO_PASSWORD, DemoSite
from capture.pytest_plugin import thread_id_for, viewer_url
from capture.pytest_plugin._calls import Call, describe_call
from capture.pytest_plugin._captured import folder_name
from capture.pytest_plugin._names import MAX_THREAD_ID
from tests._helpers import ROOMY_BOX
from tests.conftest import (
    CHILD_PYTEST_ADDOPTS,
    CONFIG,
    ROOT,
    RunningStore,
    Site,
    StartServe,
    assert_one_embedded_store,
    dead_port,
    default_store_file,
    point_at_no_store,
    quote_segment,
    serve_embedded_store,
    thread_values,
)
from tests.test_recorder_secrets import red_pixels

pytest_plugins = ["pytester"]

T = TypeVar("T")

PASSWORD = "Hunter2-Plugin-Secret"
OTP = "Otp-9981-Secret-Code"
FRAME_SECRET = "Frame-Typed-Secret-77"
ECHOED_SECRET = "Echoed-Hidden-Secret-31"

# A plain pytest-playwright test file: nothing in it knows about capture.
SIGN_IN = f"""
import re
from playwright.sync_api import BrowserContext, Page, expect


def test_sign_in(page: Page, context: BrowserContext) -> None:
    page.goto("/login.html")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password", exact=True).fill("{PASSWORD}")
    page.get_by_label("One-time code").click()
    page.keyboard.type("{OTP}")
    page.get_by_label("Remember me").uncheck()
    page.get_by_label("Country").select_option("it")
    box = page.get_by_label("Username").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 5, box["y"] + 5)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Signed in as ada")
    orders = context.new_page()
    orders.goto("/table.html")
    expect(orders).to_have_title(re.compile("Orders"))
"""

# What each action's step record says, in order (after "test_sign_in[chromium]: ").
SIGN_IN_ACTIONS = [
    r"page\.goto\('/login\.html'\)",
    r"locator\('.*Username.*'\)\.fill\('ada'\)",
    r"locator\('.*Password.*'\)\.fill\(\[redacted\]\)",
    r"locator\('.*One-time code.*'\)\.click\(\)",
    r"keyboard\.type\(\[redacted\]\)",
    r"locator\('.*Remember me.*'\)\.uncheck\(\)",
    r"locator\('.*Country.*'\)\.select_option\('it'\)",
    r"mouse\.click\([\d.]+, [\d.]+\)",
    r"keyboard\.press\('Enter'\)",
    r"expect\(locator\('.*status.*'\)\)\.to_have_text\('Signed in as ada'\)",
    r"page\.goto\('/table\.html'\)",
    r"expect\(page\)\.to_have_title\(/Orders/\)",
]

FAILING = """
from playwright.sync_api import Page, expect


def test_wrong_heading(page: Page) -> None:
    page.goto("/login.html")
    expect(page.get_by_role("heading")).to_have_text("Welcome back", timeout=500)


def test_wrong_title(page: Page) -> None:
    page.goto("/table.html")
    assert page.title() == "Invoices"
"""

ASYNC = """
import pytest
import pytest_asyncio
from playwright.async_api import async_playwright

from launch import LAUNCH


@pytest_asyncio.fixture
async def async_page():
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**LAUNCH)
        context = await browser.new_context()
        yield await context.new_page()
        await browser.close()


@pytest.mark.asyncio
async def test_orders(async_page, base_url):
    await async_page.goto(base_url + "/table.html")
    await async_page.get_by_role("link", name="Home").click()
    await async_page.keyboard.press("End")


@pytest.mark.asyncio
async def test_orders_title(async_page, base_url):
    await async_page.goto(base_url + "/table.html")
    assert await async_page.title() == "Invoices"


@pytest.mark.asyncio
async def test_orders_explicit(async_page, base_url, capture_async_recorder):
    await async_page.goto(base_url + "/table.html")
    recorder = await capture_async_recorder(async_page)
    result = await recorder.capture("the orders table")
    assert result.step == 2
"""


INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings =
    error
    ignore:Session-scoped fixtures defined as instance methods:pytest.PytestRemovedIn10Warning
"""


@pytest.fixture
def child(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester folder whose pytest-playwright launches Chromium as this suite does."""
    for name in list(os.environ):
        if name.startswith("CAPTURE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PYTEST_ADDOPTS", CHILD_PYTEST_ADDOPTS)
    launch = {
        "executable_path": find_browser(CONFIG.browser.executable, headless=True),
        "args": launch_args(CONFIG.browser.args),
        "headless": True,
    }
    pytester.makepyfile(
        launch=f"LAUNCH = {launch!r}\n",
        conftest="""
import json, os, sys
import pytest
from launch import LAUNCH


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, **LAUNCH}


def pytest_sessionfinish(session):
    # What the run did to this process: was capture imported, were Playwright's methods
    # wrapped, were the objects alive once capture was loaded kept out of garbage collection?
    import gc
    from playwright.sync_api import Locator
    facts = {"imported": "capture" in sys.modules, "wrapped": hasattr(Locator.fill, "__wrapped__"),
             "frozen": gc.get_freeze_count() > 0}
    with open("facts.json", "w") as out:
        json.dump(facts, out)
""",
    )
    pytester.makeini(INI)
    return pytester


def run_child(child: pytest.Pytester, origin: str, *args: str) -> pytest.RunResult:
    return child.runpytest_subprocess("-p", "no:cacheprovider", "--base-url", origin, *args)


def run_captured(child: pytest.Pytester, origin: str, server: str, *args: str) -> pytest.RunResult:
    """The child pytest with capture on, into the store at `server`."""
    return run_child(child, origin, "--capture-session", "--capture-server", server, *args)


def in_child_chromium(test: T) -> T:
    """A test of real Chromium in a child pytest (a browser process per test: slow)."""
    return pytest.mark.browser(pytest.mark.slow(test))


def facts(child: pytest.Pytester) -> dict[str, bool]:
    return dict(json.loads((child.path / "facts.json").read_text()))


def steps_of(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [values[key] for key in sorted(values) if key.startswith("capture.step.")]


# -- no browser ------------------------------------------------------------------------


def test_failure_folders_have_no_brackets() -> None:
    assert folder_name("tests/test_a.py::test_b[chromium]") == "tests_test_a.py_test_b-chromium"
    assert folder_name("t.py::test[x-y]-retry2") == "t.py_test-x-y-retry2"
    assert folder_name("[]") == "test"


def test_thread_ids_are_readable_unique_and_short() -> None:
    assert thread_id_for("tests/test_a.py::test_b[chromium]") == "tests/test_a.py::test_b[chromium]"
    assert thread_id_for("t.py::test_b", "ci-7/") == "ci-7/t.py::test_b"
    assert thread_id_for("t.py::test_b[chromium]", rerun=2) == "t.py::test_b[chromium]-retry2"
    spaced, slashed = thread_id_for("t.py::test[a b]"), thread_id_for("t.py::test[a_b]")
    assert spaced.startswith("t.py::test[a_b]~")
    assert spaced != slashed
    long_one, long_two = (thread_id_for("t.py::test_" + "x" * 300 + end) for end in "12")
    assert len(long_one) == MAX_THREAD_ID
    assert long_one != long_two
    assert long_one.startswith("t.py::test_xxx")


def test_viewer_url_is_the_stores_thread_page() -> None:
    url = viewer_url("http://127.0.0.1:9/api/v1", "t.py::test[x]")
    assert url == "http://127.0.0.1:9/#/thread/t.py%3A%3Atest%5Bx%5D"


def test_typed_values_are_named_only_when_not_hidden() -> None:
    call = Call("Page", "fill", None, ("#user", "ada"))
    assert describe_call(call, hide_value=False) == "page.fill('#user', 'ada')"
    assert describe_call(call, hide_value=True) == "page.fill('#user', [redacted])"
    keyword = Call("Keyboard", "type", None, (), {"text": "s3cret-value"})
    assert describe_call(keyword, hide_value=True) == "keyboard.type([redacted])"
    key = Call("Keyboard", "press", None, ("Enter",))
    assert key.typed_value is None
    assert describe_call(key, hide_value=True) == "keyboard.press('Enter')"
    # An expected field value is never named: it may repeat what was typed.
    value = Call("LocatorAssertions", "to_have_value", None, ("s3cret-value",))
    assert "s3cret" not in describe_call(value, hide_value=False)


# -- real Chromium in a child pytest ---------------------------------------------------


@in_child_chromium
def test_every_action_is_one_capture_in_the_tests_thread(
    child: pytest.Pytester, site: Site, sqlite_store_server: RunningStore, tmp_path: Path
) -> None:
    child.makepyfile(test_sign_in=SIGN_IN)
    out = tmp_path / "out"
    result = run_captured(
        child, site.origin, sqlite_store_server.base_url, "--capture-out", str(out)
    )
    result.assert_outcomes(passed=1)
    # capture's modules and store are not scanned by every collection (the once-per-run
    # import made each of them cost more than Playwright's tracing: docs/pytest.md)
    assert facts(child) == {"imported": True, "wrapped": True, "frozen": True}

    thread = "test_sign_in.py::test_sign_in[chromium]"
    values = thread_values(sqlite_store_server.base_url, thread)
    steps = steps_of(values)
    assert len(steps) == len(SIGN_IN_ACTIONS), [s["action"] for s in steps]
    for step, pattern in zip(steps, SIGN_IN_ACTIONS, strict=True):
        assert re.fullmatch(r"test_sign_in\[chromium\]: " + pattern, step["action"]), step
        assert step["status"] == "ok"
    assert steps[-1]["url"].endswith("/table.html")  # the page the test opened itself
    # Each step says whether its image may show a later action, and how late it was taken;
    # the test's last step is exact, with an image of its own.
    for step in steps:
        assert isinstance(step["exact"], bool), step
        assert step["lag_ms"] is None or step["lag_ms"] >= 0, step
    assert steps[-1]["exact"] is True
    assert steps[-1]["image_sha256"] is not None
    assert values["capture.run"]["status"] == "passed"
    assert values["__user_part_observation"]["data"].startswith(
        f"# Step {len(steps)}: test_sign_in[chromium]: expect(page).to_have_title"
    )
    assert values["__user_part_screenshot"]["part_type"] == "image"

    # --capture-out: every step's files, under the test's folder.
    folder = out / "test_sign_in.py_test_sign_in-chromium"
    written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert written == [
        f"step-{n:03d}/{name}"
        for n in range(1, len(steps) + 1)
        for name in ("observation.txt", "screenshot.jpg")
    ]
    # The secrets typed by the test are in no stored byte, no file and no output.
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("store.db*"))  # with the WAL
    assert len(stored) > 10_000
    files = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    output = "\n".join(result.outlines + result.errlines).encode()
    for secret in (PASSWORD, OTP):
        for where in (stored, files, output):
            assert secret.encode() not in where


@in_child_chromium
def test_frame_and_element_handle_actions_are_steps_too(
    child: pytest.Pytester, site: Site, store_server: RunningStore
) -> None:
    child.makepyfile(
        test_frames=f"""
import re
from playwright.sync_api import Page


def test_frames(page: Page) -> None:
    page.goto("/frames.html")
    frame = page.frame(url=re.compile("name=same"))
    frame.click("#button")
    frame.fill("#frame-password", "{FRAME_SECRET}")
    page.query_selector("h1 + button").click()
"""
    )
    run_captured(child, site.origin, store_server.base_url).assert_outcomes(passed=1)
    answer = httpx.get(
        f"{store_server.base_url}/sessions/"
        f"{quote_segment('test_frames.py::test_frames[chromium]')}/values",
        timeout=10,
    )
    actions = [step["action"] for step in steps_of(answer.json()["values"])]
    assert actions == [
        "test_frames[chromium]: page.goto('/frames.html')",
        "test_frames[chromium]: frame.click('#button')",
        "test_frames[chromium]: frame.fill('#frame-password', [redacted])",
        "test_frames[chromium]: element_handle.click()",
    ]
    assert FRAME_SECRET.encode() not in answer.content


@in_child_chromium
def test_a_hidden_value_echoed_by_the_page_is_masked_in_the_screenshot(
    child: pytest.Pytester,
    site: Site,
    store_server: RunningStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """secret.html?clear=1 moves what is typed into its password field into red text at
    once: at capture time only the plugin (which hid the filled value) knows the secret."""
    child.makepyfile(
        test_echo=f"""
from playwright.sync_api import Page


def test_echo(page: Page) -> None:
    page.goto("/secret.html?clear=1")
    page.get_by_label("Password").fill("{ECHOED_SECRET}")
    page.screenshot(path="unmasked.png")
"""
    )
    monkeypatch.setenv("CAPTURE_CAPTURE_TIME_BOX", ROOMY_BOX)  # the image checked is taken
    out = tmp_path / "out"
    result = run_captured(child, site.origin, store_server.base_url, "--capture-out", str(out))
    result.assert_outcomes(passed=1)
    assert red_pixels(Image.open(child.path / "unmasked.png")) > 100  # the page shows it
    shot = out / "test_echo.py_test_echo-chromium" / "step-002" / "screenshot.jpg"  # the fill
    assert red_pixels(Image.open(shot)) == 0
    thread = thread_values(store_server.base_url, "test_echo.py::test_echo[chromium]")
    assert ECHOED_SECRET not in json.dumps(thread)


@in_child_chromium
def test_without_the_flag_nothing_is_imported_wrapped_or_stored(
    child: pytest.Pytester, site: Site, store_server: RunningStore
) -> None:
    child.makepyfile(test_sign_in=SIGN_IN)
    # The store is named, but capture is not enabled: it must stay empty.
    result = run_child(child, site.origin, "--capture-server", store_server.base_url)
    result.assert_outcomes(passed=1)
    assert facts(child) == {"imported": False, "wrapped": False, "frozen": False}
    assert httpx.get(f"{store_server.base_url}/sessions", timeout=10).json() == []
    assert not re.search(r"^-+ capture -+$", "\n".join(result.outlines), re.M)


@in_child_chromium
def test_a_config_that_says_pytest_false_loads_nothing(child: pytest.Pytester, site: Site) -> None:
    """`[capture] pytest = false` is off for sure: capture is not imported, not even on the
    loading thread (before: it was, while the test modules were imported, and the two
    imports of typer met halfway: "partially initialized module", an INTERNALERROR)."""
    child.makepyfile(test_sign_in=SIGN_IN)
    (child.path / "playwright.config.toml").write_text("[capture]\npytest = false\n")
    result = run_child(child, site.origin)
    result.assert_outcomes(passed=1)
    assert facts(child) == {"imported": False, "wrapped": False, "frozen": False}


@in_child_chromium
def test_a_failing_test_names_its_thread_viewer_and_screenshot(
    child: pytest.Pytester, site: Site, store_server: RunningStore
) -> None:
    child.makepyfile(test_failing=FAILING)
    result = run_captured(
        child, site.origin, store_server.base_url, "--capture-thread-prefix", "ci-7/"
    )
    result.assert_outcomes(failed=2)
    output = "\n".join(result.outlines)
    for name, last_action in [
        (
            "test_wrong_heading",
            r"expect\(locator\('.*heading.*'\)\)\.to_have_text\('Welcome back'\)",
        ),
        ("test_wrong_title", "test failed"),
    ]:
        thread = f"ci-7/test_failing.py::{name}[chromium]"
        assert f"thread: {thread}\n" in output
        assert f"viewer: {viewer_url(store_server.base_url, thread)}\n" in output
        shot = re.search(rf"last screenshot: (\S*{name}\S*/screenshot\.jpg) \(step 2\)", output)
        assert shot is not None, output
        assert Path(shot.group(1)).read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG
        assert (Path(shot.group(1)).parent / "observation.txt").is_file()

        values = thread_values(store_server.base_url, thread)
        failed = steps_of(values)[-1]
        assert re.fullmatch(rf"{name}\[chromium\]: {last_action}", failed["action"]), failed
        assert failed["status"] == "failed"
        assert failed["exact"] is True  # the failing state, not a frame that may lag
        assert failed["image_sha256"] is not None
        assert values["capture.run"]["status"] == "failed"
    # The assertion's reason is stored with the failing step (the timeout of the expect, and
    # pytest's assertion message).
    heading = steps_of(
        thread_values(store_server.base_url, "ci-7/test_failing.py::test_wrong_heading[chromium]")
    )
    assert heading[-1]["error"].startswith("AssertionError")
    title = steps_of(
        thread_values(store_server.base_url, "ci-7/test_failing.py::test_wrong_title[chromium]")
    )
    assert "Invoices" in title[-1]["error"]


# Fails on its first run and passes on its second (a file keeps the count between them).
FLAKY = """
from pathlib import Path

from playwright.sync_api import Page, expect


def test_flaky(page: Page) -> None:
    runs = Path("runs.txt")
    runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
    page.goto("/login.html")
    heading = "Sign in" if len(runs.read_text()) > 1 else "Welcome back"
    expect(page.get_by_role("heading")).to_have_text(heading, timeout=500)
"""


@in_child_chromium
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_rerun_keeps_the_failed_attempt_in_its_own_thread(
    child: pytest.Pytester, site: Site, store_server: RunningStore, workers: list[str]
) -> None:
    """Under pytest-rerunfailures each attempt after the first gets its own thread (Playwright
    Test's `-retry1` folders), so a flaky test's failing attempt is still there to look at;
    under pytest-xdist too, where the attempt number reaches the controller in the report."""
    child.makepyfile(test_flaky=FLAKY)
    result = run_captured(child, site.origin, store_server.base_url, "--reruns", "1", *workers)
    assert result.parseoutcomes() == {"passed": 1, "rerun": 1}
    output = "\n".join(result.outlines)
    first = "test_flaky.py::test_flaky[chromium]"
    second = first + "-retry1"
    assert "4 captures from 1 test, one thread per test and one per rerun (1 rerun)" in output

    failed = thread_values(store_server.base_url, first)
    assert values_status(failed) == ("failed", "failed")
    assert "Welcome back" in steps_of(failed)[-1]["action"]
    passed = thread_values(store_server.base_url, second)
    assert values_status(passed) == ("passed", "ok")
    assert "Sign in" in steps_of(passed)[-1]["action"]


@in_child_chromium
def test_the_first_test_is_captured_when_a_conftest_replaces_the_launch_arguments(
    child: pytest.Pytester, site: Site, store_server: RunningStore
) -> None:
    """capture loads while the browser starts and is waited for in the launch arguments it
    extends; a `conftest.py` fixture that replaces them outright (never asking for capture's)
    still gets every action of the first test captured."""
    child.makeconftest(
        """
import pytest
from launch import LAUNCH


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return dict(LAUNCH)
"""
    )
    child.makepyfile(test_title=TITLE)
    result = run_captured(child, site.origin, store_server.base_url)
    result.assert_outcomes(passed=1)
    values = thread_values(store_server.base_url, "test_title.py::test_title[chromium]")
    assert [step["action"] for step in steps_of(values)] == [
        "test_title[chromium]: page.goto('/table.html')"
    ]


# One test that passes and one that fails, both after a few actions with a password typed.
MIXED = f"""
from playwright.sync_api import Page, expect


def test_passes(page: Page) -> None:
    page.goto("/login.html")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password", exact=True).fill("{PASSWORD}")
    expect(page.get_by_role("heading")).to_have_text("Sign in")


def test_fails(page: Page) -> None:
    page.goto("/login.html")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password", exact=True).fill("{PASSWORD}")
    expect(page.get_by_role("heading")).to_have_text("Welcome back", timeout=500)
"""


@in_child_chromium
def test_retain_on_failure_keeps_only_a_failing_tests_thread(
    child: pytest.Pytester, site: Site, sqlite_store_server: RunningStore, tmp_path: Path
) -> None:
    """`--capture-mode retain-on-failure`: a passing test's captures never leave the child
    process (the store's file never saw its thread id), a failing test's thread has every
    step, in order, and its screenshots' history."""
    child.makepyfile(test_mixed=MIXED)
    base = sqlite_store_server.base_url
    result = run_child(
        child, site.origin, "--capture-mode", "retain-on-failure", "--capture-server", base
    )
    result.assert_outcomes(passed=1, failed=1)
    output = "\n".join(result.outlines)
    assert "8 captures from 2 tests, 1 thread kept: failing tests only (retain-on-failure)" in (
        output
    )
    sessions = httpx.get(f"{base}/sessions", timeout=10).json()
    assert [s["thread_id"] for s in sessions] == ["test_mixed.py::test_fails[chromium]"]
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("store.db*"))
    assert b"test_fails" in stored
    assert b"test_passes" not in stored  # not even written and deleted: never sent

    values = thread_values(base, "test_mixed.py::test_fails[chromium]")
    steps = steps_of(values)
    assert [step["step"] for step in steps] == [1, 2, 3, 4]
    assert steps[-1]["status"] == "failed"
    assert values["capture.run"]["status"] == "failed"
    shots = httpx.get(
        f"{base}/sessions/{quote_segment('test_mixed.py::test_fails[chromium]')}/history",
        params={"key": "__user_part_screenshot"},
        timeout=10,
    ).json()["history"]
    assert len(shots) >= 2  # the held writes were each sent, not only the last per key
    assert PASSWORD.encode() not in stored


@in_child_chromium
def test_on_first_retry_captures_only_the_first_rerun(
    child: pytest.Pytester, site: Site, store_server: RunningStore
) -> None:
    """`capture.pytest_mode = "on-first-retry"` in the config: a test that passes at once
    and the flaky test's first attempt are not captured; its first rerun is."""
    (child.path / "playwright.config.toml").write_text(
        '[capture]\npytest = true\npytest_mode = "on-first-retry"\n'
    )
    child.makepyfile(test_flaky=FLAKY, test_plain=TITLE)
    result = run_child(
        child, site.origin, "--capture-server", store_server.base_url, "--reruns", "1"
    )
    assert result.parseoutcomes() == {"passed": 2, "rerun": 1}
    assert "2 captures from 1 rerun, one thread per first rerun (on-first-retry)" in (
        "\n".join(result.outlines)
    )
    sessions = httpx.get(f"{store_server.base_url}/sessions", timeout=10).json()
    rerun = "test_flaky.py::test_flaky[chromium]-retry1"
    assert [s["thread_id"] for s in sessions] == [rerun]
    assert values_status(thread_values(store_server.base_url, rerun)) == ("passed", "ok")


def values_status(values: dict[str, Any]) -> tuple[str, str]:
    """The run's status and its last step's."""
    return values["capture.run"]["status"], steps_of(values)[-1]["status"]


@in_child_chromium
def test_async_tests_are_captured_on_their_own_loop(
    child: pytest.Pytester, site: Site, store_server: RunningStore
) -> None:
    child.makepyfile(test_orders=ASYNC)
    result = run_captured(child, site.origin, store_server.base_url)
    result.assert_outcomes(passed=2, failed=1)
    values = thread_values(store_server.base_url, "test_orders.py::test_orders")
    actions = [step["action"] for step in steps_of(values)]
    assert len(actions) == 3, actions
    assert actions[0] == f"test_orders: page.goto('{site.origin}/table.html')"
    assert re.fullmatch(r"test_orders: locator\('.*Home.*'\)\.click\(\)", actions[1])
    assert actions[2] == "test_orders: keyboard.press('End')"
    assert steps_of(values)[1]["url"].endswith("/index.html")
    assert values["capture.run"]["status"] == "passed"

    # A plain assert failing in an async test: the failing state is captured on the test's
    # loop after the test returned.
    values = thread_values(store_server.base_url, "test_orders.py::test_orders_title")
    steps = steps_of(values)
    assert [step["action"] for step in steps] == [
        f"test_orders_title: page.goto('{site.origin}/table.html')",
        "test_orders_title: test failed",
    ]
    assert steps[-1]["status"] == "failed"
    assert "Invoices" in steps[-1]["error"]
    assert values["capture.run"]["status"] == "failed"
    assert "thread: test_orders.py::test_orders_title\n" in "\n".join(result.outlines)

    # capture_async_recorder: the test's own recorder, numbering on from the hooked steps.
    values = thread_values(store_server.base_url, "test_orders.py::test_orders_explicit")
    assert [step["action"] for step in steps_of(values)] == [
        f"test_orders_explicit: page.goto('{site.origin}/table.html')",
        "the orders table",
    ]


@in_child_chromium
def test_config_enables_it_with_an_embedded_store_and_explicit_captures(
    child: pytest.Pytester,
    site: Site,
    capture_serve: StartServe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (child.path / "playwright.config.toml").write_text("[capture]\npytest = true\n")
    child.makepyfile(
        test_explicit="""
from playwright.sync_api import Page


def test_explicit(page: Page, capture_recorder) -> None:
    page.goto("/table.html")
    result = capture_recorder.capture("the orders table")
    assert result.step == 2


def test_fails(page: Page) -> None:
    page.goto("/table.html")
    assert page.title() == "Invoices"
"""
    )
    nothing = point_at_no_store(monkeypatch)
    result = run_child(child, site.origin)
    result.assert_outcomes(passed=1, failed=1)
    output = "\n".join(result.outlines)
    assert f"no session store at {nothing}; running the embedded store in-process" in output
    assert re.search(r"^\d+ captures from 2 tests, one thread per test$", output, re.M)
    assert re.search(r"^viewer: http://127\.0\.0\.1:\d+/ \(while this run lasts\)$", output, re.M)
    # The failing test's report: its viewer link lasts as long as the run; then this serves it.
    fails = "test_explicit.py%3A%3Atest_fails%5Bchromium%5D"
    assert re.search(
        rf"^viewer: http://127\.0\.0\.1:\d+/#/thread/{fails} \(while this run lasts\)$",
        output,
        re.M,
    )
    store_db = default_store_file()
    assert (
        f"afterwards: capture serve --store sqlite:///{store_db}  "
        f"then open http://127.0.0.1:8787/#/thread/{fails}"
    ) in result.outlines

    # The embedded store kept its data (SQLite in the data folder): serve it and look.
    served = serve_embedded_store(capture_serve)
    values = thread_values(served.base_url, "test_explicit.py::test_explicit[chromium]")
    actions = [step["action"] for step in steps_of(values)]
    assert actions == [
        "test_explicit[chromium]: page.goto('/table.html')",
        "the orders table",
    ]


@in_child_chromium
def test_xdist_workers_capture_into_one_store_the_controller_started(
    child: pytest.Pytester,
    site: Site,
    capture_serve: StartServe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    child.makepyfile(
        test_split="""
import pytest
from playwright.sync_api import Page


@pytest.mark.parametrize("n", range(4))
def test_page(page: Page, n: int) -> None:
    page.goto("/table.html")
    page.get_by_role("link", name="Home").click()
"""
    )
    point_at_no_store(monkeypatch)
    result = run_child(child, site.origin, "--capture-session", "-n", "2")
    # The controller started the one embedded store and counts what its workers captured.
    assert_one_embedded_store(result, passed=4, captures=8)

    served = serve_embedded_store(capture_serve)
    for n in range(4):
        values = thread_values(served.base_url, f"test_split.py::test_page[chromium-{n}]")
        assert len(steps_of(values)) == 2
        assert values["capture.run"]["status"] == "passed"


def test_bad_capture_settings_are_one_line_errors(
    child: pytest.Pytester, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    child.makepyfile(test_nothing="def test_nothing() -> None:\n    pass\n")
    nothing = f"http://127.0.0.1:{dead_port()}/api/v1"
    result = run_captured(child, site.origin, nothing)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.errlines if line] == [
        f"ERROR: capture: no session store answers at {nothing}"
    ]

    monkeypatch.setenv("CAPTURE_CAPTURE_PYTEST", "maybe")
    result = run_child(child, site.origin)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = [line for line in result.errlines if line]
    assert len(lines) == 1
    assert "CAPTURE_CAPTURE_PYTEST" in lines[0]
    assert lines[0].startswith("ERROR: capture: invalid configuration: capture.pytest")


@in_child_chromium
def test_the_example_checks_out_on_the_demo_shop(
    child: pytest.Pytester,
    shop: DemoSite,
    store_server: RunningStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example = ROOT / "examples" / "test_shop_capture.py"
    (child.path / example.name).write_text(example.read_text())
    monkeypatch.setenv("SHOP_PASSWORD", DEMO_PASSWORD)
    result = run_captured(child, shop.url, store_server.base_url)
    result.assert_outcomes(passed=1)
    values = thread_values(store_server.base_url, "test_shop_capture.py::test_checkout[chromium]")
    actions = [step["action"] for step in steps_of(values)]
    assert len(actions) == 15, actions
    assert actions[6] == "the product page after adding to the cart"
    assert actions[10].endswith(".fill([redacted])")  # the password
    assert actions[13].endswith(".fill([redacted])")  # the card number
    assert actions[14].endswith(".set_input_files('gift-card.txt')")
    assert steps_of(values)[-1]["title"].startswith("Checkout")
    for secret in (DEMO_PASSWORD, "4242 4242 4242 4242", "4242424242424242"):
        assert secret not in json.dumps(values)


STORE_GOES_AWAY = """
import os
import signal

from playwright.sync_api import Page


def test_store_goes_away(page: Page) -> None:
    page.goto("/login.html")
    os.kill(int(os.environ["STORE_PID"]), signal.SIGKILL)  # the store crashes mid-test
    page.get_by_label("Username").fill("ada")


def test_after_the_store(page: Page) -> None:
    page.goto("/table.html")
"""


@in_child_chromium
def test_a_store_that_goes_away_fails_no_test(
    child: pytest.Pytester,
    site: Site,
    capture_serve: StartServe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = capture_serve("--store", "memory://")
    monkeypatch.setenv("STORE_PID", str(served.process.pid))
    monkeypatch.setenv("CAPTURE_SESSION_RETRIES", "0")
    monkeypatch.setenv("CAPTURE_CAPTURE_UPLOAD_RETRIES", "0")
    child.makepyfile(test_store=STORE_GOES_AWAY)
    result = run_captured(child, site.origin, served.base_url)
    result.assert_outcomes(passed=2)
    output = "\n".join(result.outlines)
    assert re.search(r"^\d+ store writes dropped \(the store did not take them\)$", output, re.M)


# -- the browser pytest-playwright launches ----------------------------------------------

TITLE = """
from playwright.sync_api import Page


def test_title(page: Page) -> None:
    page.goto("/table.html")
    assert page.title() == "Orders"
"""


@pytest.fixture
def bare_child(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> pytest.Pytester:
    """A pytester folder with no launch arguments of its own, on a machine where Playwright's
    own Chromium is not installed (an empty browsers folder), as after a setup that reused a
    system Chromium."""
    for name in list(os.environ):
        if name.startswith("CAPTURE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PYTEST_ADDOPTS", CHILD_PYTEST_ADDOPTS)
    empty = tmp_path / "no-playwright-browsers"
    empty.mkdir()
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(empty))
    # Chromium as root needs --no-sandbox, which capture adds and a bare run does not.
    pytester.makeini(INI)
    pytester.makepyfile(test_title=TITLE)
    return pytester


@in_child_chromium
def test_the_plugin_launches_the_browser_capture_run_uses(
    bare_child: pytest.Pytester, site: Site, store_server: RunningStore
) -> None:
    without = run_child(bare_child, site.origin)
    assert without.ret != 0
    assert "Executable doesn't exist" in without.stdout.str()

    result = run_captured(bare_child, site.origin, store_server.base_url)
    result.assert_outcomes(passed=1)
    browser = find_browser(CONFIG.browser.executable, headless=True)
    header = [line for line in result.stdout.lines if line.startswith("capture:")]
    assert header == [
        f"capture: Playwright's Chromium is not installed; pytest-playwright launches "
        f"{browser} (the browser `capture run` uses)"
    ]
    values = thread_values(store_server.base_url, "test_title.py::test_title[chromium]")
    assert len(steps_of(values)) == 1


@in_child_chromium
def test_a_users_own_launch_arguments_still_win(
    bare_child: pytest.Pytester, site: Site, store_server: RunningStore
) -> None:
    bare_child.makeconftest(
        """
import pytest


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/nowhere/users-own-chromium"}
"""
    )
    result = run_captured(bare_child, site.origin, store_server.base_url)
    assert result.ret != 0
    assert "/nowhere/users-own-chromium" in result.stdout.str()
