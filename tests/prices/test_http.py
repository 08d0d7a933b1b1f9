"""Retries, timeouts, rate limits and redaction in the shared HTTP client."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import requests

from edgeledger.prices.errors import ProviderUnavailable, RateLimited
from edgeledger.prices.http import (
    HttpClient,
    RateLimiter,
    RetryPolicy,
    parse_retry_after,
    redact_url,
)

from .support import FakeTime, load

MakeHttp = Callable[..., HttpClient]
PLAIN_429 = load("yahoo_v8_error_bodies.json")["http_429_body_plain_text"]


def test_plain_text_429_is_retried_after_the_retry_after_seconds(
    server, make_http: MakeHttp, fake_time: FakeTime
) -> None:
    server.reply("/x", status=429, text=PLAIN_429, headers={"Retry-After": "7"})
    server.reply("/x", json_body={"ok": True})
    response = make_http().get(f"{server.url}/x", ticker="AAPL")
    assert response.json() == {"ok": True}
    assert fake_time.sleeps == [7.0]


def test_retry_after_as_an_http_date_is_honoured(
    server, make_http: MakeHttp, fake_time: FakeTime
) -> None:
    when = format_datetime(fake_time.now + timedelta(seconds=30), usegmt=True)
    server.reply("/x", status=429, text=PLAIN_429, headers={"Retry-After": when})
    server.reply("/x", json_body={})
    make_http().get(f"{server.url}/x", ticker="AAPL")
    assert fake_time.sleeps == [30.0]


def test_server_errors_are_retried_with_exponential_backoff(
    server, make_http: MakeHttp, fake_time: FakeTime
) -> None:
    for status in (500, 502, 503):
        server.reply("/x", status=status, text="oops")
    server.reply("/x", json_body={})
    assert make_http().get(f"{server.url}/x", ticker="AAPL").status_code == 200
    assert fake_time.sleeps == [1.0, 2.0, 4.0]


def test_repeated_server_errors_raise_provider_unavailable_after_the_last_attempt(
    server, make_http: MakeHttp, fake_time: FakeTime
) -> None:
    server.reply("/x", status=503, text="down")
    with pytest.raises(ProviderUnavailable, match=r"^yahoo: AAPL server error \(503\)"):
        make_http("yahoo").get(f"{server.url}/x", ticker="AAPL")
    assert len(server.to("/x")) == 4
    assert fake_time.sleeps == [1.0, 2.0, 4.0]


def test_repeated_429_raise_rate_limited(server, make_http: MakeHttp) -> None:
    server.reply("/x", status=429, text=PLAIN_429)
    with pytest.raises(RateLimited, match="yahoo: AAPL rate limited"):
        make_http("yahoo").get(f"{server.url}/x", ticker="AAPL")


def test_retry_after_beyond_the_wait_budget_gives_up_at_once(
    server, make_http: MakeHttp, fake_time: FakeTime
) -> None:
    server.reply("/x", status=429, text=PLAIN_429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimited, match="asked to wait 3600s"):
        make_http().get(f"{server.url}/x", ticker="AAPL")
    assert fake_time.sleeps == []


def test_timeout_is_retried_and_then_succeeds(
    server, make_http: MakeHttp, fake_time: FakeTime
) -> None:
    server.reply("/slow", delay=1.0, json_body={"late": True})
    server.reply("/slow", json_body={"late": False})
    response = make_http(timeout=0.2).get(f"{server.url}/slow", ticker="AAPL")
    assert response.json() == {"late": False}
    assert fake_time.sleeps == [1.0]


def test_persistent_timeout_raises_provider_unavailable_saying_it_timed_out(
    server, make_http: MakeHttp
) -> None:
    server.reply("/slow", delay=1.0, json_body={})
    http = make_http("polygon", timeout=0.2, retry=RetryPolicy(attempts=2))
    with pytest.raises(ProviderUnavailable, match=r"polygon: AAPL did not answer \(timed out\)"):
        http.get(f"{server.url}/slow", ticker="AAPL")


def test_an_answer_still_arriving_at_the_timeout_is_cut_off_and_retried_like_a_timeout(
    server, make_http: MakeHttp, fake_time: FakeTime
) -> None:
    """requests' timeout bounds each socket read, so a byte every 20 ms never timed out."""
    server.reply("/drip", json_body={"padding": "x" * 200}, drip=0.02)
    server.reply("/drip", json_body={"late": False})
    started = time.monotonic()
    response = make_http(timeout=0.3).get(f"{server.url}/drip", ticker="AAPL")
    assert response.json() == {"late": False}
    assert time.monotonic() - started < 2.0
    assert fake_time.sleeps == [1.0]


def test_connection_error_message_does_not_leak_the_url_key(make_http: MakeHttp) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens
    http = make_http("polygon", retry=RetryPolicy(attempts=2))
    with pytest.raises(ProviderUnavailable) as raised:
        http.get(f"http://127.0.0.1:{port}/x?apiKey=SECRET123", ticker="AAPL")
    assert "SECRET123" not in str(raised.value)
    assert "connection failed" in str(raised.value)


def test_retry_log_redacts_keys_in_the_url(
    server, make_http: MakeHttp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="edgeledger.prices.http")
    server.reply("/x", status=500, text="oops")
    server.reply("/x", json_body={})
    make_http().get(f"{server.url}/x", ticker="AAPL", params={"apiKey": "SECRET123"})
    assert caplog.records, "the retry is logged"
    assert all("SECRET123" not in r.getMessage() for r in caplog.records)
    assert caplog.records[0].ticker == "AAPL"


def test_client_errors_are_returned_to_the_provider_without_retrying(
    server, make_http: MakeHttp, fake_time: FakeTime
) -> None:
    server.reply("/x", status=404, json_body={"error": "nope"})
    assert make_http().get(f"{server.url}/x", ticker="AAPL").status_code == 404
    assert fake_time.sleeps == []


def test_every_request_carries_the_timeout() -> None:
    seen: dict[str, Any] = {}

    class Session(requests.Session):
        def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            seen.update(kwargs)
            response = requests.Response()
            response.status_code = 200
            return response

    HttpClient("test", timeout=3.5, session=Session()).get("http://127.0.0.1/x", ticker=None)
    assert seen["timeout"] == 3.5


def test_redact_url_masks_secret_query_values() -> None:
    url = "https://api.polygon.io/v2/aggs?cursor=abc&apiKey=SECRET&token=T0K"
    assert redact_url(url) == "https://api.polygon.io/v2/aggs?cursor=abc&apiKey=***&token=***"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("Thu, 20 Feb 2025 12:01:00 GMT", 60.0),
        ("soon", None),
        (None, None),
    ],
)
def test_parse_retry_after_reads_seconds_or_an_http_date(
    header: str | None, expected: float | None, fake_time: FakeTime
) -> None:
    assert parse_retry_after(header, fake_time.now) == expected


def test_rate_limiter_waits_for_the_oldest_call_to_leave_the_window(fake_time: FakeTime) -> None:
    limiter = RateLimiter(2, 60.0, sleep=fake_time.sleep, monotonic=fake_time.monotonic)
    limiter.acquire()
    fake_time.advance(10)
    limiter.acquire()
    limiter.acquire()
    assert fake_time.sleeps == [50.0]


def test_rate_limiter_does_not_wait_below_the_limit(fake_time: FakeTime) -> None:
    limiter = RateLimiter(5, 60.0, sleep=fake_time.sleep, monotonic=fake_time.monotonic)
    for _ in range(5):
        limiter.acquire()
    assert fake_time.sleeps == []


def test_rate_limiter_lets_one_thread_wait_at_a_time_so_the_window_holds() -> None:
    """Two threads find the window full: the second queues behind the first's wait rather
    than sleeping beside it and then both sending."""
    clock = [0.0]
    sleeping: list[str] = []
    release = threading.Event()

    def sleep(seconds: float) -> None:
        sleeping.append(threading.current_thread().name)
        release.wait(5)
        clock[0] += seconds

    limiter = RateLimiter(1, 60.0, sleep=sleep, monotonic=lambda: clock[0])
    limiter.acquire()  # the window is full for 60 s
    threads = [threading.Thread(target=limiter.acquire, name=f"t{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    threads[0].join(0.3)
    assert len(sleeping) == 1  # the other thread is queued on the limiter, not sleeping
    release.set()
    for thread in threads:
        thread.join(5)
    assert len(sleeping) == 2 and clock[0] == 120.0  # each call waited for its own window
