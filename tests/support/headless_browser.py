"""The reports opened as a person opens them: headless Chromium, offline, every failure recorded.

`visit(browser, path)` loads a file:// page with every other request refused and recorded, and
collects console errors, uncaught page errors and dialogs (a hostile text that ran as script);
`assert_clean` fails on any of them. `browser` is a module-scoped fixture (import it into the test
module) and `needs_chromium` the mark that skips a module without Chromium.

Needs Playwright for Python and Debian's Chromium at /usr/bin/chromium (`make test` installs it
when missing); Playwright's own browser download is not used. Importing this module skips the
importing test module when Playwright is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (the dev extra has it)"
)
CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
)

HOSTILE = "<script>alert(1)</script>"  # runs as script wherever a page fails to escape it
SELECTION_FIGURES = [  # the figures of the selection page
    "Equity of the top combinations and the equal-weight baseline",
    "The champion against the equal-weight baseline",
]
MIN_SCREENSHOT_BYTES = 20_000


@dataclass
class Visit:
    """An open page and everything that went wrong while loading it."""

    page: sync_api.Page
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        yield browser
        browser.close()


def visit(browser: sync_api.Browser, path: Path) -> Visit:
    """`path` loaded offline: requests other than file: and data: are refused and recorded."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    seen = Visit(page)

    def route(route: sync_api.Route) -> None:
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            seen.requests.append(route.request.url)
            route.abort()

    def console(message: sync_api.ConsoleMessage) -> None:
        if message.type == "error":
            seen.errors.append(f"console: {message.text}")

    def dialog(dialog: sync_api.Dialog) -> None:
        seen.errors.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", lambda error: seen.errors.append(f"page error: {error}"))
    page.on("dialog", dialog)
    page.goto(path.as_uri(), wait_until="load")
    return seen


def images(page: sync_api.Page) -> dict[str, int]:
    """Natural width of every image by its alt text (0: not decoded)."""
    pairs = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => [i.alt, i.complete ? i.naturalWidth : 0])"
    )
    return dict(pairs)


def assert_clean(seen: Visit) -> None:
    assert seen.errors == []
    assert seen.requests == [], "the page must need no network"


def assert_screenshot(page: sync_api.Page, path: Path) -> None:
    page.screenshot(path=path, full_page=True)
    png = path.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > MIN_SCREENSHOT_BYTES
