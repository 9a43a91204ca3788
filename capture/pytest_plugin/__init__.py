"""capture inside pytest-playwright suites: a screenshot and an observation after every
Playwright action of a test, in a thread per test (docs/pytest.md).

Why two packages: the `pytest11` entry point is the small top-level `capture_pytest`
module, which every pytest run on a machine with capture installed imports; it adds the
options and imports this package (and so pydantic, httpx and the rest of capture) only when
capture is enabled (`--capture-session` or `[capture] pytest = true`).
"""

from capture.pytest_plugin._names import thread_id_for, viewer_url
from capture.pytest_plugin._plugin import PLUGIN_NAME, CapturePlugin, prepare

__all__ = ["PLUGIN_NAME", "CapturePlugin", "prepare", "thread_id_for", "viewer_url"]
