"""Nobody without the token or a valid link sees anything: the login, the cookie, CSRF,
signed report links, the rate limit, and the dashboard switched off."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient

from edgeledger import report_posting
from edgeledger.core import links
from edgeledger.web.auth import FAILURES_ALLOWED, SESSION_COOKIE
from tests.web.book import NOW, TOKEN, WEEK, csrf_of, fetch, load_book, log_in, serve, settings

PAGES = ("/overview", "/trades", "/trades/NVDA-20261110-001", "/edges", "/confidence",
         "/reports", "/reports/2026-11-16")  # fmt: skip


@pytest.fixture
def book(db, db_url):
    load_book(db_url, db)
    return db


def link(week: date = WEEK, *, now=NOW, **changes) -> str:
    url = report_posting.report_link(
        settings(public_url="https://dash.example", **changes), week, now=now
    )
    assert url is not None
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_without_the_cookie_sends_to_the_login_and_shows_nothing(book, path):
    status, html, headers = fetch(book, path, login=False)[path]
    assert status == 303 and headers["Location"].startswith("/login?next=")
    assert "NVDA" not in html and "gap fill" not in html


@pytest.mark.parametrize("path", PAGES)
def test_a_forged_cookie_is_no_login(book, path):
    async def go(client: TestClient):
        forged = links.session_value(
            links.derive_key("not-the-token"), "n", NOW + timedelta(days=1)
        )
        client.session.cookie_jar.update_cookies({SESSION_COOKIE: forged})
        response = await client.get(path, allow_redirects=False)
        return response.status, await response.text()

    status, html = serve(book, go)
    assert status == 303 and "NVDA" not in html


def test_an_expired_session_is_no_login(book):
    async def go(client: TestClient):
        await log_in(client)
        return client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value

    cookie = serve(book, go)

    async def later(client: TestClient):
        client.session.cookie_jar.update_cookies({SESSION_COOKIE: cookie})
        return (await client.get("/overview", allow_redirects=False)).status

    assert serve(book, later, now=NOW + timedelta(hours=13)) == 303
    assert serve(book, later, now=NOW + timedelta(hours=11)) == 200


def test_the_session_cookie_is_signed_httponly_samesite_and_expires(book):
    async def go(client: TestClient):
        response = await log_in(client)
        return response.headers.getall("Set-Cookie")

    cookie = next(c for c in serve(book, go) if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=43200" in cookie
    assert TOKEN not in cookie


def test_a_wrong_token_is_refused_and_logs_nobody_in(book):
    async def go(client: TestClient):
        response = await log_in(client, token="guess")
        after = await client.get("/overview", allow_redirects=False)
        return response.status, await response.text(), after.status

    status, html, after = serve(book, go)
    assert status == 401 and "not the dashboard token" in html and after == 303


def test_failed_logins_are_rate_limited_per_address(book):
    async def go(client: TestClient):
        statuses = [(await log_in(client, token="guess")).status for _ in range(FAILURES_ALLOWED)]
        statuses.append((await log_in(client)).status)  # even the right token, for a while
        return statuses

    statuses = serve(book, go)
    assert statuses[:FAILURES_ALLOWED] == [401] * FAILURES_ALLOWED
    assert statuses[-1] == 429


def test_a_login_form_without_its_csrf_token_is_refused(book):
    async def go(client: TestClient):
        await client.get("/login")
        response = await client.post("/login", data={"token": TOKEN}, allow_redirects=False)
        return response.status, (await client.get("/overview", allow_redirects=False)).status

    assert serve(book, go) == (403, 303)


def test_logging_out_needs_the_csrf_token_and_ends_the_session(book):
    async def go(client: TestClient):
        await log_in(client)
        cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE]
        page = await (await client.get("/overview")).text()
        refused = await client.post("/logout", data={}, allow_redirects=False)
        still = (await client.get("/overview", allow_redirects=False)).status
        done = await client.post("/logout", data={"csrf": csrf_of(page)}, allow_redirects=False)
        client.session.cookie_jar.update_cookies({SESSION_COOKIE: cookie.value})  # a copy
        after = (await client.get("/overview", allow_redirects=False)).status
        return refused.status, still, done.status, after

    assert serve(book, go) == (403, 200, 303, 303)


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "/\t/evil.example", "https://evil.example", "/\\evil.example"]
)
def test_a_login_returns_only_to_a_page_of_this_site(book, target):
    async def go(client: TestClient):
        form = await (await client.get("/login")).text()
        response = await client.post(
            "/login",
            data={"token": TOKEN, "csrf": csrf_of(form), "next": target},
            allow_redirects=False,
        )
        return response.headers["Location"]

    assert serve(book, go) == "/overview"


def test_a_login_returns_to_the_page_asked_for(book):
    async def go(client: TestClient):
        first = await client.get("/trades?ticker=AAPL", allow_redirects=False)
        form = await (await client.get(first.headers["Location"])).text()
        response = await client.post(
            "/login",
            data={"token": TOKEN, "csrf": csrf_of(form), "next": "/trades?ticker=AAPL"},
            allow_redirects=False,
        )
        return response.headers["Location"], 'value="/trades?ticker=AAPL"' in form

    assert serve(book, go) == ("/trades?ticker=AAPL", True)


def test_markup_in_an_edge_name_shows_as_text(book):
    _, html, _ = fetch(book, "/trades/NVDA-20261113-001")["/trades/NVDA-20261113-001"]
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def test_markup_in_a_note_and_rationale_shows_as_text(book, db_url):
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE trade_signals SET user_notes = '<script>alert(1)</script>'"
            " WHERE trade_id = 'NVDA-20261110-001'"
        )
    _, html, _ = fetch(book, "/trades/NVDA-20261110-001")["/trades/NVDA-20261110-001"]
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_pages_forbid_outside_scripts_and_framing(book):
    headers = fetch(book, "/overview")["/overview"][2]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"


# --- signed report links ----------------------------------------------------------------------


def test_a_signed_link_opens_its_report_without_a_login(book):
    path = link()
    status, html, headers = fetch(book, path, login=False)[path]
    assert status == 200 and "EdgeLedger weekly report" in html
    assert "script-src" not in headers["Content-Security-Policy"]  # no script at all


def test_a_signed_link_opens_that_report_only(book):
    path = link().replace("/reports/2026-11-16", "/reports/2026-11-09")
    assert fetch(book, path, login=False)[path][0] == 403
    query = link().split("?", 1)[1]
    for other in (f"/overview?{query}", f"/trades?{query}"):
        assert fetch(book, other, login=False)[other][0] == 303


def test_a_tampered_link_gets_a_plain_403(book):
    path = link()
    sig = parse_qs(urlsplit(path).query)["sig"][0]
    tampered = path.replace(sig, ("A" if sig[0] != "A" else "B") + sig[1:])
    later = path.replace("exp=", "exp=9")
    for bad in (tampered, later, "/reports/2026-11-16?exp=1&sig=x"):
        status, html, _ = fetch(book, bad, login=False)[bad]
        assert status == 403 and "not valid, or it has expired" in html and "NVDA" not in html


def test_an_expired_link_gets_a_plain_403(book):
    path = link(now=NOW - timedelta(days=15))  # 14 days by default
    assert fetch(book, path, login=False)[path][0] == 403
    fresh = link(now=NOW - timedelta(days=13))
    assert fetch(book, fresh, login=False)[fresh][0] == 200


def test_bad_links_are_rate_limited(book):
    async def go(client: TestClient):
        statuses = []
        for i in range(FAILURES_ALLOWED + 1):
            response = await client.get(f"/reports/2026-11-16?exp=9999999999&sig=bad{i}")
            statuses.append(response.status)
        statuses.append((await client.get(link())).status)
        return statuses

    statuses = serve(book, go)
    assert statuses[:FAILURES_ALLOWED] == [403] * FAILURES_ALLOWED
    assert statuses[FAILURES_ALLOWED:] == [429, 429]


def test_a_new_secret_voids_every_link(book):
    path = link()
    config = settings(dashboard_secret="rotated")
    assert fetch(book, path, login=False, config=config)[path][0] == 403


def test_no_link_without_a_public_url_or_a_token():
    assert report_posting.report_link(settings(), WEEK, now=NOW) is None
    assert (
        report_posting.report_link(
            settings(public_url="https://x.example", dashboard_token=None), WEEK, now=NOW
        )
        is None
    )


# --- switched off -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", (*PAGES, "/login", link()))
def test_without_a_token_the_dashboard_is_off_and_says_so(book, path):
    status, html, _ = fetch(book, path, login=False, config=settings(dashboard_token=None))[path]
    assert status == 503 and "EDGELEDGER_DASHBOARD_TOKEN" in html and "NVDA" not in html


def test_the_api_and_health_check_are_unchanged_by_the_dashboard(book):
    status, _, headers = fetch(book, "/healthz", login=False)["/healthz"]
    assert status == 200 and "Content-Security-Policy" not in headers
