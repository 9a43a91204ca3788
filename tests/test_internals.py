"""Playwright's private names that capture uses, all behind `capture.browser._internals`,
checked on real objects of the installed Playwright: a release that moves one fails here,
naming it, instead of somewhere deep in a capture."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from typing import Any

import pytest
from packaging.requirements import Requirement
from playwright.sync_api import Page, expect

from capture.browser._internals import (
    INTERNALS,
    actual_locator,
    dialog_listeners,
    impl_of,
    run_sync,
)
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser]

PLAYWRIGHT = version("playwright")


def _moved(name: str, owner: Any) -> str:
    return (
        f"Playwright {PLAYWRIGHT} has no {name} on {type(owner).__name__}: update "
        "capture/browser/_internals.py (the one place that uses it) and the playwright pin "
        "in pyproject.toml"
    )


def test_the_installed_playwright_is_the_pinned_one() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [Requirement(r) for r in project["project"]["dependencies"]]
    pin = next(r for r in pins if r.name == "playwright")
    assert pin.specifier.contains(PLAYWRIGHT), (
        f"Playwright {PLAYWRIGHT} is outside the pin {pin.specifier}: run this file against it, "
        "then widen the pin"
    )


def test_every_private_name_is_where_the_seam_expects_it(page: Page) -> None:
    assert set(INTERNALS) == {"_impl_obj", "_sync", "listeners", "_actual_locator"}
    impl = impl_of(page)
    assert impl is not page, _moved("_impl_obj", page)
    assert callable(getattr(page, "_sync", None)), _moved("_sync", page)
    assert callable(getattr(impl, "listeners", None)), _moved("listeners", impl)
    assertions = expect(page.locator("body"))
    assert actual_locator(assertions) is not None, _moved("_actual_locator", assertions)


def test_the_seam_works_on_a_real_page(page: Page) -> None:
    page.set_content("<p>hello</p>")
    # run_sync runs an async-implementation call on the sync page's own loop.
    text = run_sync(page, impl_of(page).evaluate("() => document.body.innerText", None))
    assert text == "hello"
    before = dialog_listeners(page)
    assert before is not None, _moved("listeners", impl_of(page))
    page.on("dialog", lambda dialog: dialog.dismiss())
    assert dialog_listeners(page) == before + 1
    locator = actual_locator(expect(page.locator("p")))
    assert "selector='p'" in repr(locator)
