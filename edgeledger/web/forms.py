"""The trade table's query string, read strictly: a value that is not one the filter takes
is refused (400, naming the field), never silently dropped."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from edgeledger.core.metrics import STATUSES
from edgeledger.core.periods import NEW_YORK

TRADE_TYPES = ("day", "swing")
MAX_TEXT = 100


class BadQuery(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


def trade_filters(query: Mapping[str, str]) -> tuple[dict[str, Any], tuple[datetime, int] | None]:
    """The storage filters and the keyset cursor of a /trades query."""
    found: dict[str, Any] = {}
    text = {name: (query.get(name) or "").strip() for name in query}
    if text.get("from"):
        found["created_from"] = _midnight(_day("from", text["from"]))
    if text.get("to"):
        found["created_to"] = _midnight(_day("to", text["to"]) + timedelta(days=1))
    if text.get("ticker"):
        found["ticker"] = _short("ticker", text["ticker"]).upper()
    if text.get("type"):
        found["trade_type"] = _choice("type", text["type"].lower(), TRADE_TYPES)
    if text.get("status"):
        found["status"] = _choice("status", text["status"].upper(), STATUSES)
    if text.get("confidence"):
        stars = text["confidence"]
        if stars not in ("0", "1", "2", "3", "4", "5"):
            raise BadQuery("confidence", "must be a number of stars from 0 to 5")
        found["confidence"] = int(stars)
    for field in ("edge", "strategy"):
        if text.get(field):
            found[field] = _short(field, text[field])
    if text.get("market"):
        found["market"] = _short("market", text["market"]).upper()
    before = _cursor(text["before"]) if text.get("before") else None
    return found, before


def _day(field: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadQuery(field, "must be a date, YYYY-MM-DD") from None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=NEW_YORK)


def _short(field: str, value: str) -> str:
    if len(value) > MAX_TEXT:
        raise BadQuery(field, f"is longer than {MAX_TEXT} characters")
    return value


def _choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise BadQuery(field, f"must be one of {', '.join(allowed)}")
    return value


def _cursor(value: str) -> tuple[datetime, int]:
    """`<created_at in epoch µs>.<id>`, as the page's next link writes it."""
    at, _, row_id = value.partition(".")
    if not (at.lstrip("-").isdigit() and row_id.isdigit()) or len(value) > 40:
        raise BadQuery("before", "is not a page of this table")
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + timedelta(microseconds=int(at)), int(row_id)
