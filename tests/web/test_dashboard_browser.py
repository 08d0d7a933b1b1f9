"""The dashboard in a real browser: Debian's chromium, headless, driven by Playwright, as
tests/reports/test_browser.py drives the report. Log in, filter the trade table, open a
trade, add a note, open a report by its signed link and see a 403 for a tampered one; every
page at a phone width and a desktop width with no console error and nothing wider than the
screen.

Set EDGELEDGER_DASHBOARD_SCREENSHOTS=docs to refresh the screenshots of docs/dashboard.md.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from edgeledger import report_posting
from edgeledger.web import make_app
from tests.reports.test_browser import ARGS, CHROMIUM, WIDTHS
from tests.web.book import NOW, TOKEN, WEEK, load_book, settings

PAGES = {
    "overview": "/overview?period=all",
    "trades": "/trades",
    "trade": "/trades/NVDA-20261111-001",
    "edges": "/edges?period=all&min_n=3",
    "confidence": "/confidence?period=all",
    "reports": "/reports",
}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: install Debian's chromium", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def base_url(db, db_url) -> Iterator[str]:
    """The whole app served on 127.0.0.1 from a thread of its own, on the known book."""
    load_book(db_url, db)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    found: dict[str, object] = {}

    async def start() -> None:
        runner = web.AppRunner(make_app(db, settings(), clock=lambda: NOW))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        found["runner"] = runner
        found["port"] = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        started.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop)
    assert started.wait(10)
    yield f"http://127.0.0.1:{found['port']}"
    asyncio.run_coroutine_threadsafe(found["runner"].cleanup(), loop).result(10)  # type: ignore[attr-defined]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def open_page(browser, base_url: str, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))

    def local_only(route) -> None:
        if route.request.url.startswith(base_url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            problems.append(f"request to {route.request.url}")
            route.abort()

    page.route("**/*", local_only)
    return context, page, problems


def log_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/overview")
    assert "/login" in page.url
    page.fill("#token", TOKEN)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{base_url}/overview")


def screenshot(page, name: str, tmp_path: Path) -> None:
    target = os.environ.get("EDGELEDGER_DASHBOARD_SCREENSHOTS")
    folder = Path(target) if target else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"dashboard-{name}.png"), full_page=True)


@pytest.mark.parametrize("device", WIDTHS)
def test_every_page_renders_cleanly(browser, base_url, device, tmp_path) -> None:
    width, height = WIDTHS[device]
    context, page, problems = open_page(browser, base_url, width, height)
    try:
        log_in(page, base_url)
        for name, path in PAGES.items():
            page.goto(base_url + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, name
            assert page.locator("h1").first.is_visible()
            if name == "overview":
                for kind in ("win-rate", "r-distribution"):
                    assert page.locator(f'svg[data-chart="{kind}"]:not(.empty)').count() == 1
            if name == "trade":
                assert page.locator('svg[data-chart="bars"] rect').count() > 5
            screenshot(page, f"{name}-{device}", tmp_path)
        assert problems == []
    finally:
        context.close()


def test_log_in_filter_open_a_trade_and_add_a_note(browser, base_url) -> None:
    context, page, problems = open_page(browser, base_url, *WIDTHS["desktop"])
    try:
        log_in(page, base_url)
        page.click("nav.top >> text=Trades")
        page.fill("#trade-filters input[name=ticker]", "aapl")
        page.click("#trade-filters button[type=submit]")
        page.wait_for_url("**/trades?*ticker=aapl*")
        links = page.locator("#trade-table tbody th a")
        assert links.count() == 5
        assert all(t.startswith("AAPL-") for t in links.all_inner_texts())
        page.select_option("#trade-filters select[name=status]", "WIN")  # sends the form
        page.wait_for_url("**status=WIN*")
        assert page.locator("#trade-table tbody th a").count() == 2
        page.locator("#trade-table thead th", has_text="R").last.click()  # sort by R
        assert page.locator("#trade-table thead th[aria-sort=ascending]").count() == 1
        page.locator("#trade-table tbody th a").first.click()
        page.wait_for_url("**/trades/AAPL-*")
        page.fill("#note-text", "<b>check</b> the fill")
        page.click("#note-form button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".notes").inner_text() == "<b>check</b> the fill"
        assert page.locator("#history td", has_text="note").count() == 1
        assert problems == []
    finally:
        context.close()


def test_a_signed_link_opens_its_report_and_a_tampered_one_is_refused(browser, base_url):
    link = report_posting.report_link(settings(public_url=base_url), WEEK, now=NOW)
    assert link is not None
    context, page, problems = open_page(browser, base_url, *WIDTHS["phone"])
    try:
        response = page.goto(link)
        assert response is not None and response.status == 200
        assert page.locator("h1").inner_text() == "EdgeLedger weekly report"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert problems == []
        response = page.goto(link.replace("sig=", "sig=x"))
        assert response is not None and response.status == 403
        assert "not valid, or it has expired" in page.inner_text("body")
        assert "NVDA" not in page.content()
    finally:
        context.close()
