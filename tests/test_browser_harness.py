"""The browser harness itself, on tiny pages: it sees errors, requests, sizes and printed pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from browser import browser, element_sizes, open_static_page, pdf_pages, screenshot  # noqa: F401

pytestmark = pytest.mark.browser


def write_page(folder: Path, body: str, head: str = "") -> Path:
    path = folder / "page.html"
    path.write_text(
        f'<!doctype html><html><head><meta charset="utf-8"><title>t</title>{head}</head>'
        f"<body>{body}</body></html>",
        encoding="utf-8",
    )
    return path


def test_clean_page_has_no_errors_or_requests_and_its_svg_has_a_size(browser, tmp_path):
    svg = '<svg width="200" height="100"><rect width="200" height="100" fill="teal"/></svg>'
    path = write_page(tmp_path, f"<h1>Pack</h1>{svg}")
    with open_static_page(browser, path) as report:
        assert report.console_errors == []
        assert report.requests == []
        assert element_sizes(report.page, "svg") == [(200, 100)]
        shot = screenshot(report.page, tmp_path / "page.png")
        assert shot.read_bytes().startswith(b"\x89PNG")


def test_a_console_error_is_recorded(browser, tmp_path):
    path = write_page(tmp_path, '<p>hi</p><script>console.error("x")</script>')
    with open_static_page(browser, path) as report:
        assert report.console_errors == ["x"]
        assert report.requests == []


def test_a_script_exception_is_recorded(browser, tmp_path):
    path = write_page(tmp_path, "<script>undefinedFunction()</script>")
    with open_static_page(browser, path) as report:
        assert len(report.console_errors) == 1
        assert report.console_errors[0].startswith("pageerror:")


def test_outside_resources_are_recorded_and_none_loads(browser, tmp_path):
    path = write_page(
        tmp_path,
        '<img id="i" src="http://example.invalid/x.png" alt="">',
        head='<link rel="stylesheet" href="https://cdn.invalid/a.css">',
    )
    with open_static_page(browser, path) as report:
        assert sorted(report.requests) == [
            "http://example.invalid/x.png",
            "https://cdn.invalid/a.css",
        ]
        # Nothing escaped: the image never loaded and the stylesheet never applied.
        assert report.page.evaluate("document.getElementById('i').naturalWidth") == 0
        sheets = report.page.evaluate(
            "[...document.styleSheets].map(s => {"
            " try { return s.cssRules.length } catch (e) { return -1 } })"
        )
        assert all(n <= 0 for n in sheets)


def test_inline_data_is_not_a_request(browser, tmp_path):
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    path = write_page(tmp_path, f'<img src="{pixel}" alt="">')
    with open_static_page(browser, path) as report:
        assert report.requests == []
        assert report.console_errors == []


@pytest.mark.parametrize("fmt", ["A4", "Letter"])
def test_the_page_prints(browser, tmp_path, fmt):
    path = write_page(tmp_path, "<h1>Pack</h1>" + "<p>line</p>" * 200)
    with open_static_page(browser, path) as report:
        assert pdf_pages(report.page, fmt) >= 2  # 200 paragraphs do not fit on one sheet
    short = write_page(tmp_path, "<h1>Pack</h1>")
    with open_static_page(browser, short) as report:
        assert pdf_pages(report.page, fmt) == 1
