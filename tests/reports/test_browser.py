"""The weekly report in a real browser: Debian's chromium, headless, at a phone width and
a desktop width. It must render with no console error, no failed or outgoing request, no
page wider than the screen, and both charts drawn.

Not skipped when chromium is missing: a report nobody has seen render is not checked.
.ci/run installs chromium first. Set EDGELEDGER_REPORT_SCREENSHOTS=docs to refresh the
screenshots kept in docs/ (report-desktop.png, report-phone.png, report-empty-phone.png).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reports.html import render_html
from tests.report_samples import empty_week, sample_week

CHROMIUM = os.environ.get("EDGELEDGER_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(
            f"chromium not found at {CHROMIUM}: install Debian's chromium "
            "(apt-get update && apt-get install -y chromium), as .ci/run does",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def open_report(browser, html: str, tmp_path: Path, width: int, height: int):
    """The report opened from a file, as a reader opens it; every request that is not the
    file itself is recorded and refused."""
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: r.url != path.as_uri() and problems.append(r.url))

    def refuse_network(route) -> None:
        if route.request.url == path.as_uri():
            route.continue_()
        else:
            problems.append(f"request to {route.request.url}")
            route.abort()

    page.route("**/*", refuse_network)
    page.goto(path.as_uri(), wait_until="load")
    return context, page, problems


def screenshot(page, name: str, tmp_path: Path) -> None:
    target = os.environ.get("EDGELEDGER_REPORT_SCREENSHOTS")
    folder = Path(target) if target else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"report-{name}.png"), full_page=True)


@pytest.mark.parametrize("device", WIDTHS)
def test_the_report_renders_cleanly_with_both_charts(browser, device, tmp_path) -> None:
    width, height = WIDTHS[device]
    context, page, problems = open_report(browser, render_html(sample_week()), tmp_path,
                                          width, height)  # fmt: skip
    try:
        assert problems == []
        for kind in ("equity", "r-distribution"):
            chart = page.locator(f'svg[data-chart="{kind}"]:not(.empty)').first
            box = chart.bounding_box()
            assert box is not None and box["width"] > 0.7 * min(width, 640) - 40
            assert box["height"] > 80
        # the week, all time, and all time beside its curves without the two worst edges
        chart = 'svg[aria-labelledby^="{}-title"]'.format
        week_and_all = f"{chart('equity-week')} polyline, {chart('equity-all')} polyline"
        assert page.locator(week_and_all).count() == 2
        what_if = page.locator(chart("equity-what-if"))
        assert what_if.locator("polyline").count() == 3 and what_if.is_visible()
        assert what_if.locator("polyline[stroke-dasharray]").count() == 2
        assert page.locator('svg[data-chart="r-distribution"] rect').count() == 8
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.get_by_text("57.1%").first.is_visible()
        assert page.locator("script").count() == 0  # a rationale's <script> stayed text
        assert page.get_by_text("<script>alert('x')</script>", exact=False).count() == 1
        screenshot(page, device, tmp_path)
    finally:
        context.close()


def test_the_wide_tables_scroll_inside_the_page_on_a_phone(browser, tmp_path) -> None:
    context, page, problems = open_report(browser, render_html(sample_week()), tmp_path,
                                          *WIDTHS["phone"])  # fmt: skip
    try:
        ranking = page.locator("#edge-ranking .table-wrap")
        assert ranking.evaluate("e => e.scrollWidth > e.clientWidth")  # it scrolls ...
        assert ranking.evaluate("e => e.getBoundingClientRect().right") <= 390  # ... in place
        assert problems == []
    finally:
        context.close()


def test_an_empty_week_renders_and_says_so(browser, tmp_path) -> None:
    context, page, problems = open_report(browser, render_html(empty_week()), tmp_path,
                                          *WIDTHS["phone"])  # fmt: skip
    try:
        assert problems == []
        assert page.locator("#empty-week").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "empty-phone", tmp_path)
    finally:
        context.close()
