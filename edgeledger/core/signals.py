"""Pure rules about a signal's identity: its trade_id, its trading day, its fingerprint."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from edgeledger.core.model import NewSignal

EASTERN = ZoneInfo("America/New_York")


def trade_date(created_at: datetime) -> date:
    """The US/Eastern calendar date a signal was created on: the date in its trade_id."""
    return created_at.astimezone(EASTERN).date()


def format_trade_id(ticker: str, day: date, number: int) -> str:
    """TICKER-YYYYMMDD-NNN, the number at least three digits wide."""
    return f"{ticker}-{day:%Y%m%d}-{number:03d}"


def standard_id_number(trade_id: str, ticker: str) -> tuple[date, int] | None:
    """(day, number) when trade_id is in the standard form for this ticker, else None.

    Used so an explicitly given id moves the day's counter past its number, and the next
    generated id cannot collide with it.
    """
    match = re.fullmatch(re.escape(ticker) + r"-(\d{8})-(\d{3,9})", trade_id)
    if not match:
        return None
    try:
        day = datetime.strptime(match.group(1), "%Y%m%d").date()  # noqa: DTZ007 (a date only)
    except ValueError:
        return None
    return day, int(match.group(2))


def decimal_text(value: Decimal | None) -> str | None:
    """A canonical spelling of a number: 181.20 and 181.2 are the same price."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def published_terms(signal: NewSignal) -> dict[str, Any]:
    """The terms that make a signal what it is, as canonical JSON-ready values."""
    return {
        "ticker": signal.ticker,
        "trade_type": signal.trade_type.value,
        "direction": signal.direction.value,
        "entry": decimal_text(signal.entry),
        "stop": decimal_text(signal.stop),
        "target": decimal_text(signal.target),
        "target2": decimal_text(signal.target2),
        "confidence": signal.confidence,
        "edges": [edge.to_json() for edge in signal.edges],
        "rationale": signal.rationale,
        "strategy": signal.strategy,
        "atr_value": decimal_text(signal.context.atr_value),
        "market_volatility": signal.context.market_volatility,
        "spy_bias": signal.context.spy_bias,
        "context": signal.context.extra,
        "created_at": _utc_iso(signal.created_at),
        "expires_at": _utc_iso(signal.expires_at),
        # Only when named: the fingerprints of signals without one stay as they were.
        **({"market": signal.market} if signal.market else {}),
    }


def fingerprint(signal: NewSignal) -> str:
    """Hash of the published terms: the same signal logged twice has the same fingerprint.

    Where it came from (source, source_key, trade_id) is not part of it, so a signal seen
    through the bot channel and again in an import file is still recognised as one.
    """
    return terms_fingerprint(published_terms(signal))


def terms_fingerprint(terms: dict[str, Any]) -> str:
    """fingerprint() of terms already built by published_terms(): the importer reuses them as
    its column values rather than spelling every price a second time."""
    return hashlib.sha256(_canonical_json(terms).encode()).hexdigest()


# One encoder for every fingerprint; json.dumps with these options would build one per call.
_canonical_json = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
).encode


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
