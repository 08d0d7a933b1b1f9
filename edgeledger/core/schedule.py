"""When the scheduled jobs run: the resolve slots the market calendars give.

Resolve runs hourly while any configured market is in session, `lag` after each full hour
of the session (the hour's bar is complete and the provider has it), and once more `lag`
after each close, so the last partial hour is settled the same day. Holidays have no
session and early closes end the session early, both from exchange_calendars (via
core.markets), never from a cron expression. An around-the-clock market (24/7) has a
session every UTC day, so the job runs every hour.

Pure: every function takes the times it is asked about.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from edgeledger.core.markets import sessions_between

RESOLVE_LAG = timedelta(minutes=5)
HOUR = timedelta(hours=1)
# How far ahead a search for the next slot looks: past any exchange's longest closure.
SEARCH_DAYS = 21

# The first fire time strictly after a given time, or None: what a trigger answers.
NextFire = Callable[[datetime], datetime | None]


def session_slots(open_: datetime, close: datetime, lag: timedelta = RESOLVE_LAG) -> list[datetime]:
    """The slots of one session: `lag` after each full hour from the open, and after the
    close."""
    slots = []
    at = open_ + HOUR
    while at < close:
        slots.append(at + lag)
        at += HOUR
    slots.append(close + lag)
    return slots


def resolve_slots(
    markets: Sequence[str], start: datetime, end: datetime, lag: timedelta = RESOLVE_LAG
) -> list[datetime]:
    """Every resolve slot in [start, end) for the markets, in order, each once (UTC)."""
    _aware(start, "start")
    _aware(end, "end")
    first = (start - timedelta(days=2)).astimezone(UTC).date()
    last = end.astimezone(UTC).date() + timedelta(days=1)
    found: set[datetime] = set()
    for market in markets:
        for session in sessions_between(market, first, last):
            found.update(session_slots(session.open, session.close, lag))
    return sorted(s for s in found if start <= s < end)


def next_resolve_slot(
    markets: Sequence[str], after: datetime, lag: timedelta = RESOLVE_LAG
) -> datetime | None:
    """The first resolve slot strictly after `after`, or None within SEARCH_DAYS."""
    window = after + timedelta(microseconds=1)
    for _ in range(SEARCH_DAYS // 3):
        slots = resolve_slots(markets, window, window + timedelta(days=3), lag)
        if slots:
            return slots[0]
        window += timedelta(days=3)
    return None


def fire_times(next_fire: NextFire, after: datetime, count: int) -> list[datetime]:
    """The next `count` fire times strictly after `after`, of any next-fire function."""
    times: list[datetime] = []
    while len(times) < count and (found := next_fire(after)) is not None:
        times.append(found)
        after = found
    return times


def slot_of(next_fire: NextFire, now: datetime, grace: timedelta) -> datetime | None:
    """The slot a run starting at `now` stands for: the latest fire time in
    (now - grace, now], or None when no slot is that recent (the run is too late).

    Two processes that fire for the same slot agree on it, even when one starts a
    few seconds after the other and across a minute or hour boundary."""
    found = None
    at = now - grace
    while (candidate := next_fire(at)) is not None and candidate <= now:
        found, at = candidate, candidate
    return found


def _aware(at: datetime, name: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} {at.isoformat()} is naive: pass a timezone-aware datetime")
