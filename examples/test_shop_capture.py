"""A plain pytest-playwright test of the demo shop, with capture's explicit checkpoint.

Every Playwright action below is captured into the thread
`examples/test_shop_capture.py::test_checkout[chromium]` when capture is on:

    capture demo &                     # the shop on http://127.0.0.1:8800
    SHOP_PASSWORD=... pytest examples/test_shop_capture.py --base-url http://127.0.0.1:8800 \
        --capture-session --capture-out .capture/steps

(`capture demo` prints the password.) Without `--capture-session` it is an ordinary test;
`capture_recorder` then fails the test with a message saying how to turn capture on.
Not collected by the main suite (`testpaths = ["tests"]`); tests/test_pytest_plugin.py runs it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from capture.recorder import SyncRecorder


def test_checkout(page: Page, capture_recorder: SyncRecorder, tmp_path: Path) -> None:
    page.goto("/")
    page.get_by_label("Search").fill("mug")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=mug$"))
    page.get_by_role("link", name="Blue Mug").click()
    page.get_by_role("button", name="Add to cart").click()
    capture_recorder.capture("the product page after adding to the cart")
    page.get_by_role("link", name="Cart").click()
    page.get_by_role("link", name="Proceed to checkout").click()
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill(os.environ["SHOP_PASSWORD"])  # never shown or stored
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_title(re.compile("^Checkout"))
    page.get_by_label("Card number").fill("4242 4242 4242 4242")  # masked, [redacted]
    gift = tmp_path / "gift-card.txt"
    gift.write_text("a gift card worth 20 EUR")
    page.get_by_label("Gift card image (optional)").set_input_files(gift)
