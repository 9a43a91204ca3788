"""`python -m capture.browser [--headless]`: print the Chromium capture would launch, headed
or (`--headless`) headless (exit 1 if none).

scripts/setup runs this to decide whether a browser must be installed.
"""

from __future__ import annotations

import sys

from capture.browser._locate import find_browser
from capture.config import load_config
from capture.errors import CaptureError


def main() -> int:
    try:
        headless = "--headless" in sys.argv[1:]
        print(find_browser(load_config().browser.executable, headless=headless))
    except CaptureError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
