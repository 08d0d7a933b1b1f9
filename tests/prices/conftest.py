"""Fixtures for provider tests: a fake clock and an HttpClient that records its sleeps.

The local HTTP server (`server`) comes from tests/conftest.py and tests/fake_http.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from edgeledger.prices.http import HttpClient, RetryPolicy

from .support import FakeTime


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_http(fake_time: FakeTime) -> Callable[..., HttpClient]:
    """An HttpClient whose sleeps are recorded in fake_time.sleeps instead of slept."""

    def build(provider: str = "test", *, timeout: float = 2.0, **kwargs: Any) -> HttpClient:
        kwargs.setdefault("retry", RetryPolicy(attempts=4, backoff=1.0, max_wait=60.0))
        return HttpClient(
            provider, timeout=timeout, sleep=fake_time.sleep, clock=fake_time.clock, **kwargs
        )

    return build
