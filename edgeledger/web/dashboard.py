"""The dashboard: server-rendered pages over the reporting use cases (edgeledger.dashboard),
behind the login of edgeledger.web.auth. Handlers parse the query, call a use case in a
thread, and render a template of reports/templates/dashboard with the one Jinja
environment (autoescaped). Assets are served by this process; nothing comes from a CDN.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from edgeledger import corrections, dashboard
from edgeledger.core import links
from edgeledger.core.periods import PERIODS
from edgeledger.errors import InvalidSignal, SignalConflict, SignalNotFound
from edgeledger.web.auth import Access, client_of
from edgeledger.web.forms import BadQuery, trade_filters
from edgeledger.web.state import STATE
from reports import charts
from reports.environment import TEMPLATES, environment

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ACCESS = web.AppKey("dashboard_access", Access)
SESSION = web.RequestKey("dashboard_session", str)  # the nonce of the session cookie
FORM = web.RequestKey("dashboard_form", object)
ASSETS = {
    "report.css": ("text/css", TEMPLATES / "report.css"),
    "dashboard.css": ("text/css", TEMPLATES / "dashboard" / "dashboard.css"),
    "dashboard.js": ("text/javascript", TEMPLATES / "dashboard" / "dashboard.js"),
}
# Pages allow only this process's own styles and scripts; a stored report is one file with
# its CSS inline, and no script.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
DEFAULT_PERIOD = "all"


def add_routes(app: web.Application, access: Access) -> None:
    app[ACCESS] = access
    r = app.router
    r.add_get("/", home)
    r.add_get("/login", login_form)
    r.add_post("/login", login)
    r.add_post("/logout", logout)
    r.add_get("/overview", overview)
    r.add_get("/trades", trades)
    r.add_get("/trades/{trade_id}", trade)
    r.add_post("/trades/{trade_id}/outcome", correct_outcome)
    r.add_post("/trades/{trade_id}/note", add_note)
    r.add_post("/trades/{trade_id}/flag", set_flag)
    r.add_get("/edges", edges)
    r.add_get("/confidence", confidence)
    r.add_get("/reports", reports)
    r.add_get("/reports/{week}", report)
    r.add_get("/assets/{name}", asset)


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every dashboard answer; no cache for what is behind the login."""
    response = await handler(request)
    if request.path.startswith("/api/") or request.path == "/healthz":
        return response
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # a signed link stays in its URL
    response.headers["X-Frame-Options"] = "DENY"
    if not request.path.startswith("/assets/"):
        response.headers["Cache-Control"] = "no-store"
    return response


# --- rendering ---------------------------------------------------------------------------------


def page(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    access = request.app[ACCESS]
    nonce = request.get(SESSION)
    body = (
        environment()
        .get_template(f"dashboard/{template}")
        .render(
            csrf=access.csrf(nonce) if nonce else "",
            logged_in=bool(nonce),
            path=request.path,
            periods=PERIODS,
            timezone="America/New_York",
            **context,
        )
    )
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def plain(status: int, title: str, message: str) -> web.Response:
    body = environment().get_template("dashboard/plain.html").render(title=title, message=message)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def off() -> web.Response:
    return plain(
        503,
        "The dashboard is off",
        "The dashboard is off: set EDGELEDGER_DASHBOARD_TOKEN to turn it on (docs/dashboard.md).",
    )


def forbidden() -> web.Response:
    return plain(403, "Forbidden", "This link is not valid, or it has expired.")


def too_many() -> web.Response:
    return plain(429, "Too many tries", "Too many failed tries from this address; wait a while.")


def login_required(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        access = request.app[ACCESS]
        if not access.on:
            return off()
        nonce = access.session_nonce(request)
        if nonce is None:
            target = request.path_qs
            raise web.HTTPSeeOther("/login?" + urlencode({"next": target}))
        request[SESSION] = nonce
        return await handler(request)

    return wrapped


def csrf_checked(handler: Handler) -> Handler:
    """POST handlers: the form's csrf field must be the session's token."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        access = request.app[ACCESS]
        if not access.csrf_ok(request.get(SESSION), str(form.get("csrf", ""))):
            return plain(403, "Forbidden", "The form was not sent from this dashboard; reload it.")
        request[FORM] = form
        return await handler(request)

    return wrapped


async def _run(request: web.Request, function: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    state = request.app[STATE]
    return await asyncio.to_thread(function, state.db, *args, **kw)


def _now(request: web.Request) -> datetime:
    return request.app[STATE].clock()


def _period(request: web.Request) -> str:
    name = request.query.get("period", DEFAULT_PERIOD)
    if name not in PERIODS:
        raise BadQuery("period", f"must be one of {', '.join(PERIODS)}")
    return name


def _min_n(request: web.Request) -> int:
    raw = request.query.get("min_n", "10")
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise BadQuery("min_n", "must be a whole number from 1 to 10000")
    return int(raw)


def _safe_next(target: str) -> str:
    """A local path to return to after login, never another site."""
    plain_text = target.isprintable() and not any(c.isspace() for c in target)
    if plain_text and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/overview"


# --- login -------------------------------------------------------------------------------------


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/overview")


async def login_form(request: web.Request) -> web.StreamResponse:
    access = request.app[ACCESS]
    if not access.on:
        return off()
    response = web.Response(content_type="text/html", charset="utf-8")
    nonce = access.login_nonce(request, response)
    response.text = (
        environment()
        .get_template("dashboard/login.html")
        .render(
            csrf=access.csrf(nonce),
            next=_safe_next(request.query.get("next", "/overview")),
            error=None,
            logged_in=False,
            path=request.path,
        )
    )
    return response


async def login(request: web.Request) -> web.StreamResponse:
    access = request.app[ACCESS]
    if not access.on:
        return off()
    client = client_of(request, access.settings.trusted_proxies)
    if access.limiter.blocked(client):
        return too_many()
    form = await request.post()
    target = _safe_next(str(form.get("next", "/overview")))
    nonce = request.cookies.get("edgeledger_login", "")
    if not access.csrf_ok(nonce, str(form.get("csrf", ""))):
        return plain(403, "Forbidden", "The form was not sent from this dashboard; reload it.")
    if not access.token_ok(str(form.get("token", ""))):
        access.limiter.fail(client)
        response = web.Response(status=401, content_type="text/html", charset="utf-8")
        response.text = (
            environment()
            .get_template("dashboard/login.html")
            .render(
                csrf=access.csrf(nonce),
                next=target,
                error="That is not the dashboard token.",
                logged_in=False,
                path=request.path,
            )
        )
        return response
    response = web.HTTPSeeOther(target)
    access.new_session(response, request)
    response.del_cookie("edgeledger_login", path="/")
    raise response


@login_required
@csrf_checked
async def logout(request: web.Request) -> web.StreamResponse:
    response = web.HTTPSeeOther("/login")
    request.app[ACCESS].end_session(response, request.get(SESSION))
    raise response


# --- pages -------------------------------------------------------------------------------------


@login_required
async def overview(request: web.Request) -> web.StreamResponse:
    try:
        period = _period(request)
    except BadQuery as exc:
        return plain(400, "Bad request", str(exc))
    data = await _run(request, dashboard.overview, period, now=_now(request))
    chart_svgs = {
        "win_rate": charts.win_rate_svg(
            data.trend, chart_id="win-rate", title=f"Win rate by {data.trend_unit}"
        ),
        "r_distribution": charts.r_distribution_svg(
            data.r_distribution, chart_id="r-distribution", title="R distribution"
        ),
    }
    return page(request, "overview.html", data=data, charts=chart_svgs, period=period)


@login_required
async def trades(request: web.Request) -> web.StreamResponse:
    try:
        filters, before = trade_filters(request.query)
    except BadQuery as exc:
        return plain(400, "Bad request", str(exc))
    found = await _run(request, dashboard.trade_page, filters, before=before)
    shown = {k: v for k, v in request.query.items() if k != "before" and v}
    next_url = None
    if found.next_before is not None:
        at, row_id = found.next_before
        cursor = f"{int(at.timestamp() * 1_000_000)}.{row_id}"
        next_url = "/trades?" + urlencode({**shown, "before": cursor})
    first_url = "/trades?" + urlencode(shown) if "before" in request.query else None
    return page(
        request, "trades.html", rows=found.rows, query=shown, next_url=next_url,
        first_url=first_url,
    )  # fmt: skip


@login_required
async def trade(request: web.Request) -> web.StreamResponse:
    return await _trade_page(request)


async def _trade_page(
    request: web.Request, *, status: int = 200, problem: str | None = None
) -> web.StreamResponse:
    state = request.app[STATE]
    view = await _run(
        request,
        dashboard.trade_view,
        request.match_info["trade_id"],
        intervals=state.settings.resolve_intervals,
        now=_now(request),
    )
    if view is None:
        return plain(404, "Not found", "There is no trade with this id.")
    chart = charts.bars_svg(
        view.bars,
        view.levels,
        chart_id="bars",
        title=f"{view.signal.terms.ticker} {view.interval} bars around the trade",
        timezone="America/New_York",
    )
    return page(
        request, "trade.html", status=status, view=view, chart=chart, problem=problem,
        statuses=MANUAL_STATUSES,
    )  # fmt: skip


# --- corrections: the shared use case (edgeledger.corrections), recorded as the bot's -----


MANUAL_STATUSES = ("WIN", "LOSS", "EXPIRED")
ACTOR = "dashboard"  # one token, one trader: the events say the change came from here


async def _correct(request: web.Request, change: Callable[..., Any], **fields: Any) -> Any:
    """Run a correction; back to the trade page, or the page again saying what was wrong."""
    trade_id = request.match_info["trade_id"]
    try:
        await _run(request, change, trade_id, actor=ACTOR, now=_now(request), **fields)
    except InvalidSignal as exc:
        problem = "; ".join(f"{p.field}: {p.reason}" for p in exc.problems)
        return await _trade_page(request, status=422, problem=problem)
    except SignalNotFound:
        return plain(404, "Not found", "There is no trade with this id.")
    except SignalConflict as exc:
        return await _trade_page(request, status=409, problem=str(exc))
    raise web.HTTPSeeOther(f"/trades/{quote(trade_id, safe='')}")


def _field(request: web.Request, name: str) -> str:
    return str(request[FORM].get(name, ""))  # type: ignore[attr-defined]


@login_required
@csrf_checked
async def correct_outcome(request: web.Request) -> web.StreamResponse:
    price = _field(request, "exit_price").strip() or None
    return await _correct(
        request,
        corrections.override_outcome,
        status=_field(request, "status"),
        exit_price=price,
        reason=_field(request, "reason"),
    )


@login_required
@csrf_checked
async def add_note(request: web.Request) -> web.StreamResponse:
    return await _correct(request, corrections.add_note, text=_field(request, "text"))


@login_required
@csrf_checked
async def set_flag(request: web.Request) -> web.StreamResponse:
    flagged = _field(request, "flagged") == "1"
    reason = _field(request, "reason").strip() or None
    return await _correct(request, corrections.set_flag, flagged=flagged, reason=reason)


@login_required
async def edges(request: web.Request) -> web.StreamResponse:
    try:
        period, min_n = _period(request), _min_n(request)
    except BadQuery as exc:
        return plain(400, "Bad request", str(exc))
    ranking = await _run(request, dashboard.edges, period, now=_now(request), min_n=min_n)
    return page(request, "edges.html", ranking=ranking, period=period, min_n=min_n)


@login_required
async def confidence(request: web.Request) -> web.StreamResponse:
    try:
        period, min_n = _period(request), _min_n(request)
    except BadQuery as exc:
        return plain(400, "Bad request", str(exc))
    found = await _run(request, dashboard.confidence, period, now=_now(request), min_n=min_n)
    return page(request, "confidence.html", cal=found, period=period, min_n=min_n)


@login_required
async def reports(request: web.Request) -> web.StreamResponse:
    rows = await _run(request, dashboard.report_list)
    return page(request, "reports.html", rows=rows)


async def report(request: web.Request) -> web.StreamResponse:
    """A stored weekly report: for a logged-in reader, or with a valid signed link (that
    one week only, until it expires)."""
    access = request.app[ACCESS]
    if not access.on:
        return off()
    try:
        week = date.fromisoformat(request.match_info["week"])
    except ValueError:
        return plain(404, "Not found", "There is no report for this week.")
    exp, sig = request.query.get("exp"), request.query.get("sig")
    if exp is not None or sig is not None:
        client = client_of(request, access.settings.trusted_proxies)
        if access.limiter.blocked(client):
            return too_many()
        if not links.report_link_valid(access.key, week, exp or "", sig or "", now=_now(request)):
            access.limiter.fail(client)
            return forbidden()
    elif access.session_nonce(request) is None:
        raise web.HTTPSeeOther("/login?" + urlencode({"next": request.path}))
    stored = await _run(request, dashboard.stored_report, week)
    if stored is None:
        return plain(404, "Not found", "There is no report for this week.")
    response = web.Response(text=stored.html, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = REPORT_CSP
    return response


async def asset(request: web.Request) -> web.StreamResponse:
    found = ASSETS.get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound()
    content_type, path = found
    return web.Response(
        body=_asset_bytes(path),
        content_type=content_type,
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@functools.cache
def _asset_bytes(path: Path) -> bytes:
    return path.read_bytes()
