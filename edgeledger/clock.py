"""The one clock. Entry points read it once and pass the time down; tests freeze it."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC (freezegun controls it in tests)."""
    return datetime.now(UTC)
