"""A real-browser harness for static HTML pages: Debian's Chromium driven by Playwright.

A test module imports the fixture and the helpers, as other tests import from conftest:

    from browser import browser, open_static_page  # noqa: F401  (browser is a fixture)

    def test_page(browser, tmp_path):
        with open_static_page(browser, tmp_path / "pack.html") as report:
            assert report.console_errors == [] and report.requests == []

The browser is the distribution's (``/usr/bin/chromium``, or ``SOP_CHROMIUM``); Playwright never
downloads one. Without Chromium or Playwright the tests skip, or fail when ``SOP_REQUIRE_BROWSER``
is set (CI sets it, see .ci/run).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

T = TypeVar("T")
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# No sandbox (containers, root), no GPU, and nothing the browser would fetch on its own behalf.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# Not network requests: inline data and in-page objects a self-contained page may use.
_LOCAL_SCHEMES = ("data:", "blob:", "about:")
_NETWORK_URL = re.compile(r"^(https?|wss?|ftp):")
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")


def _browser_missing(reason: str) -> None:
    """Skip, or fail when the environment demands a browser (CI)."""
    if os.environ.get("SOP_REQUIRE_BROWSER", "") not in ("", "0"):
        pytest.fail(f"{reason} (SOP_REQUIRE_BROWSER is set)", pytrace=False)
    pytest.skip(reason)


def inspect_in_browser(path: Path, inspect: Callable[[PageReport], T], *, width: int = 1200) -> T:
    """Open `path` in a fresh headless Chromium on a worker thread and return `inspect(report)`.

    For tests in a process that has run a Dagster job: its run can leave an asyncio loop marked running on
    the main thread, where Playwright's sync API then refuses to start. A new thread has no loop, and every
    Playwright object lives and dies on it."""
    executable = _chromium_or_skip()
    outcome: dict[str, object] = {}

    def work() -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
                try:
                    with open_static_page(chromium, path, width=width) as report:
                        outcome["value"] = inspect(report)
                finally:
                    chromium.close()
        except BaseException as error:  # noqa: BLE001 - re-raised on the test's thread
            outcome["error"] = error

    worker = threading.Thread(target=work, name="browser")
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def _chromium_or_skip() -> str:
    """The Chromium executable to use, after checking Playwright and the browser are there."""
    executable = os.environ.get("SOP_CHROMIUM", DEFAULT_CHROMIUM)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _browser_missing("Playwright is not installed: pip install -e '.[dev]' (package playwright)")
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        _browser_missing(f"no Chromium at {executable}: apt-get install chromium")
    return executable


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium from the system (``SOP_CHROMIUM``, default /usr/bin/chromium)."""
    executable = os.environ.get("SOP_CHROMIUM", DEFAULT_CHROMIUM)
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_missing(
            "Playwright is not installed: pip install -e '.[dev]' (package playwright)"
        )
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        _browser_missing(f"no Chromium at {executable}: apt-get install chromium")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
        except PlaywrightError as error:
            _browser_missing(
                f"Chromium at {executable} does not start ({error.message.splitlines()[0]}):"
                " apt-get install chromium"
            )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class PageReport:
    """One loaded page and what it did while loading."""

    page: Page
    url: str
    console_errors: list[str] = field(default_factory=list)  # console.error lines and page errors
    requests: list[str] = field(default_factory=list)  # every URL but the page's own


@contextmanager
def open_static_page(browser: Browser, path: Path, *, width: int = 1200) -> Iterator[PageReport]:
    """Open a local HTML file in a fresh offline context and report errors and requests.

    JavaScript stays on (a page that needs none must still throw none). Any request that is not
    the file itself, data: or blob: is recorded and then aborted, so nothing leaves the machine
    even beyond the offline emulation. The context closes when the ``with`` block ends.
    """
    url = Path(path).resolve().as_uri()
    context = browser.new_context(
        offline=True, java_script_enabled=True, viewport={"width": width, "height": 800}
    )
    try:
        page = context.new_page()
        report = PageReport(page=page, url=url)

        def on_console(message) -> None:
            if message.type == "error":
                report.console_errors.append(message.text)

        def on_request(request) -> None:
            if request.url.split("#", 1)[0] != url and not request.url.startswith(_LOCAL_SCHEMES):
                report.requests.append(request.url)

        page.on("console", on_console)
        page.on("pageerror", lambda error: report.console_errors.append(f"pageerror: {error}"))
        page.on("request", on_request)
        context.route(_NETWORK_URL, lambda route: route.abort("blockedbyclient"))
        page.goto(url, wait_until="load")
        page.evaluate("document.fonts.ready.then(() => true)")
        yield report
    finally:
        context.close()


def element_sizes(page: Page, selector: str) -> list[tuple[float, float]]:
    """The rendered (width, height) of each element matching ``selector``; (0, 0) if not shown."""
    sizes = []
    for element in page.locator(selector).all():
        box = element.bounding_box()
        sizes.append((box["width"], box["height"]) if box else (0.0, 0.0))
    return sizes


def screenshot(page: Page, path: Path, full_page: bool = True) -> Path:
    """A PNG of the page (the whole scroll height by default), for a person to look at."""
    page.screenshot(path=str(path), full_page=full_page)
    return Path(path)


def pdf_pages(page: Page, fmt: Literal["A4", "Letter"] = "A4") -> int:
    """How many pages the page prints to on ``fmt`` paper (print CSS applies, backgrounds on)."""
    pdf = page.pdf(format=fmt, print_background=True)
    return len(_PDF_PAGE.findall(pdf))
