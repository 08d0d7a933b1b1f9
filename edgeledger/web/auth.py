"""Who may read the dashboard: a login with EDGELEDGER_DASHBOARD_TOKEN, a signed session
cookie, CSRF tokens on every form, signed report links, and a rate limit on failures.

- The token is compared in constant time. A good one sets `edgeledger_session`: signed with
  HMAC-SHA256 (edgeledger.core.links; the key from EDGELEDGER_DASHBOARD_SECRET, else derived
  from the token), HttpOnly, SameSite=Lax (a link from Discord keeps the login), Secure on
  https, expiring after EDGELEDGER_SESSION_HOURS. Logging out also forgets the cookie's
  nonce in this process, so a copy of the cookie stops working here too.
- Every form carries a CSRF token bound to the session's nonce (the login form's to a
  pre-login cookie's); a POST without the right one is refused with 403.
- Failed logins and bad report links count per client address (the peer address the
  process sees: behind a proxy, the proxy's) in memory: more than FAILURES_ALLOWED within
  FAILURE_WINDOW get 429 until the window has passed. A restart forgets the counts.
- With no dashboard token set, nothing is served: every dashboard address says it is off.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web

from edgeledger.core import links
from edgeledger.settings import Settings

SESSION_COOKIE = "edgeledger_session"
LOGIN_COOKIE = "edgeledger_login"
FAILURES_ALLOWED = 10
FAILURE_WINDOW = 600.0  # seconds
MOST_CLIENTS = 10_000  # failure records kept; the oldest go first


@dataclass
class RateLimiter:
    """Failures per client address in a sliding window, in memory."""

    allowed: int = FAILURES_ALLOWED
    window: float = FAILURE_WINDOW
    clock: Callable[[], float] = time.monotonic
    failures: dict[str, deque[float]] = field(default_factory=dict)

    def blocked(self, client: str) -> bool:
        seen = self._recent(client)
        return len(seen) >= self.allowed

    def fail(self, client: str) -> None:
        self._recent(client).append(self.clock())
        if len(self.failures) > MOST_CLIENTS:
            del self.failures[next(iter(self.failures))]

    def _recent(self, client: str) -> deque[float]:
        seen = self.failures.setdefault(client, deque())
        cutoff = self.clock() - self.window
        while seen and seen[0] <= cutoff:
            seen.popleft()
        return seen


@dataclass
class Access:
    """The dashboard's keys and memory; one per app."""

    settings: Settings
    clock: Callable[[], datetime]
    limiter: RateLimiter = field(default_factory=RateLimiter)
    logged_out: set[str] = field(default_factory=set)

    @property
    def on(self) -> bool:
        return self.settings.dashboard_token is not None

    @property
    def key(self) -> bytes:
        token = self.settings.dashboard_token
        assert token is not None, "the dashboard is off"
        return links.derive_key(token, self.settings.dashboard_secret)

    def token_ok(self, given: str) -> bool:
        token = self.settings.dashboard_token
        return token is not None and hmac.compare_digest(given.encode(), token.encode())

    def session_nonce(self, request: web.Request) -> str | None:
        value = request.cookies.get(SESSION_COOKIE, "")
        if not value or not self.on:
            return None
        nonce = links.session_nonce(self.key, value, now=self.clock())
        return None if nonce in self.logged_out else nonce

    def new_session(self, response: web.StreamResponse, request: web.Request) -> None:
        nonce = secrets.token_urlsafe(18)
        hours = self.settings.session_hours
        expires = self.clock() + timedelta(hours=hours)
        value = links.session_value(self.key, nonce, expires)
        _set_cookie(response, request, SESSION_COOKIE, value, max_age=hours * 3600)

    def end_session(self, response: web.StreamResponse, nonce: str | None) -> None:
        if nonce:
            self.logged_out.add(nonce)
        response.del_cookie(SESSION_COOKIE, path="/")

    def login_nonce(self, request: web.Request, response: web.StreamResponse) -> str:
        """The pre-login cookie's nonce, set now when the browser has none."""
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        if not nonce or len(nonce) > 64:
            nonce = secrets.token_urlsafe(18)
            _set_cookie(response, request, LOGIN_COOKIE, nonce, max_age=3600)
        return nonce

    def csrf(self, nonce: str) -> str:
        return links.csrf_token(self.key, nonce)

    def csrf_ok(self, nonce: str | None, given: str) -> bool:
        return bool(nonce) and links.csrf_ok(self.key, nonce or "", given)


def client_of(request: web.Request, trusted_proxies: int = 0) -> str:
    """The address failures are counted against: the peer, or, behind `trusted_proxies`
    proxies (EDGELEDGER_TRUSTED_PROXIES; Railway's edge is one), the address the nearest
    of them saw, which is that many entries from the right of X-Forwarded-For. Entries
    further left are whatever the client wrote, so they are never read."""
    if trusted_proxies > 0:
        hops = [
            part.strip()
            for header in request.headers.getall("X-Forwarded-For", [])
            for part in header.split(",")
            if part.strip()
        ]
        if len(hops) >= trusted_proxies:
            return hops[-trusted_proxies]
    return request.remote or "unknown"


def _set_cookie(
    response: web.StreamResponse, request: web.Request, name: str, value: str, *, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=request.secure,
    )
