"""Browser fixtures: a live server on a fresh database, Chromium at phone size, axe-core.

Reusable by any page's tests: ``live_server`` (base URL), ``browser``, ``viewport`` (override
it, or parametrize it indirectly, for other sizes), ``context``, ``page``, ``axe_check`` and
``console_errors`` (CSP violations and script errors seen by the page).

Chromium is the system one (/usr/bin/chromium). Without it these tests are skipped with the
reason, except on CI (``CI=true``), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("EBB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"Chromium not found at {CHROMIUM} (install Debian's chromium package)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason + "; browser tests must run on CI")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_instance():
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM),
                                                  args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def live_server(app):
    """The app on a free 127.0.0.1 port in a thread, on this test's fresh database."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def viewport() -> dict:
    """Phone size by default; override this fixture (or parametrize it) for other sizes."""
    return dict(PHONE)


@pytest.fixture
def context(browser, viewport):
    context = browser.new_context(viewport=viewport, has_touch=True, locale="en-GB",
                                  service_workers="allow")
    yield context
    context.close()


@pytest.fixture
def console_errors():
    return []


@pytest.fixture
def page(context, console_errors):
    page = context.new_page()
    watch(page, console_errors)
    return page


def watch(page, errors: list) -> None:
    """Collect script errors and CSP violations the page reports."""
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and "Failed to load resource" not in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))


@pytest.fixture
def axe_check():
    """``axe_check(page, name)``: zero axe-core violations at WCAG 2.2 AA, or a readable list."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page, name: str = "") -> None:
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                         "resultTypes": ["violations"]})
        violations = results.response["violations"]
        details = "\n".join(f"{v['id']} ({v['impact']}): {v['help']} -> "
                            f"{[n['target'] for n in v['nodes']][:5]}" for v in violations)
        assert not violations, f"axe violations on {name or page.url}:\n{details}"

    return check
