"""One HTTP client for all providers: timeouts, bounded retries, rate limits, no leaked keys.

Market-data APIs fail in waves (Yahoo's 429s, Polygon's 5-a-minute free tier), so every
request goes through the same retry loop: 429, 5xx, timeouts and dropped connections
are retried with exponential backoff that honours Retry-After, up to a fixed number
of attempts and a fixed total wait. Everything else is returned to the provider,
which knows what a 404 or 422 means for it.

Each attempt has a deadline for the whole exchange, not only for each socket read (all
requests' timeout bounds): a server sending one byte a second would otherwise hold a
resolve run for ever.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from edgeledger.clock import utc_now
from edgeledger.prices.errors import BadResponse, PriceError, ProviderUnavailable, RateLimited

logger = logging.getLogger(__name__)

USER_AGENT = "Mozilla/5.0 (compatible; EdgeLedger/0.1; +https://github.com/edgeledger)"
_SECRET_PARAMS = frozenset(
    {
        "apikey",
        "api_key",
        "key",
        "token",
        "access_token",
        "refresh_token",
        "secret",
        "client_secret",
    }
)
_RETRYABLE_ERRORS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
)
# Answers requests cannot read: a body that is not the gzip its Content-Encoding says,
# redirects without end. Not retried; a BadResponse for the ticker, not a stopped run.
_UNREADABLE_ANSWERS = (
    requests.exceptions.ContentDecodingError,
    requests.exceptions.TooManyRedirects,
)


def redact_url(url: str) -> str:
    """The URL with secret query values masked, safe for logs and error messages."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (k, "***" if k.lower() in _SECRET_PARAMS else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 7231 dates are GMT
        return None
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts in all, first backoff, and the most we wait in total."""

    attempts: int = 4
    backoff: float = 1.0
    max_wait: float = 60.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff after the given (1-based) failed attempt."""
        return self.backoff * 2 ** (attempt - 1)


class RateLimiter:
    """At most `calls` requests in any `period` seconds (a sliding window).

    Polygon's free tier allows 5 calls a minute; waiting here is cheaper than being
    answered 429 and backing off. `sleep` and `monotonic` are injectable for tests.
    """

    def __init__(
        self,
        calls: int,
        period: float = 60.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if calls < 1:
            raise ValueError("calls must be at least 1")
        self.calls = calls
        self.period = period
        self._sleep = sleep
        self._monotonic = monotonic
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until another call fits in the window, then record it. Callers on other
        threads queue behind the one waiting, so the window holds across threads."""
        with self._lock:
            self._acquire()

    def _acquire(self) -> None:
        now = self._monotonic()
        while self._sent and now - self._sent[0] >= self.period:
            self._sent.popleft()
        if len(self._sent) >= self.calls:
            wait = self.period - (now - self._sent[0])
            if wait > 0:
                logger.info("rate limit: waiting %.1fs before the next call", wait)
                self._sleep(wait)
            self._sent.popleft()
            now = self._monotonic()
        self._sent.append(now)


_attempt = threading.local()  # .deadline: the _Deadline of the request this thread sends


class _Deadline:
    """The deadline of one attempt, from connecting to the last byte of the answer.

    When it passes, the attempt's socket is shut down, which ends a read blocked on it at
    once: a server that drips its head or body, or announces more bytes than it sends and
    stalls, is cut off on time. Our connections (_Watched) report their socket here as they
    connect and send, through the thread-local `_attempt` (the socket itself: http.client
    lets go of it once the head says the server will close, while the body is still read).
    """

    def __init__(self, seconds: float) -> None:
        self.passed = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        _attempt.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        _attempt.deadline = None

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._socket = sock
            passed = self.passed
        if passed:  # it passed while connecting
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
            sock = self._socket
        if sock is not None:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watched:
    """A urllib3 connection that tells the current attempt's deadline which socket it uses."""

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self._report()

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._report()  # a kept-alive connection does not connect again
        super().request(*args, **kwargs)  # type: ignore[misc]

    def _report(self) -> None:
        deadline = getattr(_attempt, "deadline", None)
        sock = getattr(self, "sock", None)
        if deadline is not None and sock is not None:
            deadline.watch(sock)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _DeadlineAdapter(HTTPAdapter):
    """requests' adapter, making connections a _Deadline can cut (SOCKS proxies excepted)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if manager.pool_classes_by_scheme == urllib3.poolmanager.pool_classes_by_scheme:
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


class _TimedOut(Exception):
    """An attempt's deadline passed; `answered`: after the answer's head had arrived."""

    def __init__(self, answered: bool) -> None:
        super().__init__()
        self.answered = answered


class HttpClient:
    """A requests.Session wrapper that every provider uses for every call.

    `timeout` bounds each attempt as a whole (connect, head and body), and each socket read.
    """

    def __init__(
        self,
        provider: str,
        *,
        timeout: float = 10.0,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utc_now,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.provider = provider
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        for prefix in ("https://", "http://"):
            self.session.mount(prefix, _DeadlineAdapter())
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._limiter = limiter

    def get(
        self,
        url: str,
        *,
        ticker: str | None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """GET with retries; returns any non-retryable response for the caller to judge."""
        return self.request("GET", url, ticker=ticker, params=params, headers=headers)

    def request(
        self, method: str, url: str, *, ticker: str | None, **kwargs: Any
    ) -> requests.Response:
        """Send, retrying 429/5xx/timeouts; raise RateLimited or ProviderUnavailable at the end."""
        waited = 0.0
        for attempt in range(1, self.retry.attempts + 1):
            if self._limiter is not None:
                self._limiter.acquire()
            try:
                response = self._send(method, url, ticker, **kwargs)
            except (_TimedOut, *_RETRYABLE_ERRORS) as exc:
                failure: PriceError = ProviderUnavailable(
                    self.provider, ticker, self._did_not_answer(exc)
                )
                delay = self.retry.delay(attempt)
                shown = redact_url(url)
            else:
                status = response.status_code
                if status != 429 and status < 500:
                    return response
                shown = redact_url(response.url or url)
                if status == 429:
                    failure = RateLimited(self.provider, ticker)
                else:
                    failure = ProviderUnavailable(self.provider, ticker, f"server error ({status})")
                hinted = parse_retry_after(response.headers.get("Retry-After"), self._clock())
                delay = hinted if hinted is not None else self.retry.delay(attempt)
            if attempt == self.retry.attempts:
                raise failure
            if waited + delay > self.retry.max_wait:
                raise type(failure)(
                    self.provider,
                    ticker,
                    f"{failure.reason}; asked to wait {delay:.0f}s, more than we allow",
                )
            logger.warning(
                "%s: %s on attempt %d for %s; retrying in %.1fs",
                self.provider,
                failure.reason,
                attempt,
                shown,
                delay,
                extra={"ticker": ticker, "provider": self.provider, "attempt": attempt},
            )
            self._sleep(delay)
            waited += delay
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, url: str, ticker: str | None, **kwargs: Any) -> requests.Response:
        """One attempt, the whole answer read within `timeout` seconds or _TimedOut."""
        deadline = _Deadline(self.timeout)
        answered = False
        try:
            with deadline:
                response = self.session.request(
                    method, url, timeout=self.timeout, stream=True, **kwargs
                )
                answered = True
                _ = response.content  # read it all, still under the deadline
        except requests.RequestException as exc:
            if deadline.passed:
                raise _TimedOut(answered) from None
            if isinstance(exc, _UNREADABLE_ANSWERS):
                unreadable = f"sent an answer we could not read ({type(exc).__name__})"
                raise BadResponse(self.provider, ticker, unreadable) from None
            raise
        if deadline.passed:  # a body read to its end early, because its socket was shut
            raise _TimedOut(answered)
        return response

    def _did_not_answer(self, exc: Exception) -> str:
        if isinstance(exc, _TimedOut) and exc.answered:
            return f"did not send its whole answer within {self.timeout:g}s"
        if isinstance(exc, _TimedOut):
            return "did not answer (timed out)"
        return f"did not answer ({_describe(exc)})"


def read_json(response: requests.Response, provider: str, ticker: str | None) -> Any:
    """The response body as JSON, or BadResponse naming the ticker (never the URL's key)."""
    try:
        return response.json()
    except (ValueError, RecursionError):  # json's answer to nesting 100,000 deep
        snippet = response.text[:80].replace("\n", " ")
        raise BadResponse(
            provider, ticker, f"sent malformed JSON (HTTP {response.status_code}): {snippet!r}"
        ) from None


def json_or_none(response: requests.Response) -> Any:
    """The body as JSON if it is JSON (error bodies often are not), else None."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        return None


def _describe(exc: Exception) -> str:
    # requests' messages embed the full URL (and so any key in it); name the kind only.
    if isinstance(exc, requests.Timeout):
        return "timed out"
    return f"connection failed: {type(exc).__name__}"
