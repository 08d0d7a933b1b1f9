"""Rows to dataclasses and back, and the named-query lookup every storage module uses."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from edgeledger.core.model import (
    OUTCOME_FIELDS,
    Direction,
    Edge,
    ExitReason,
    MarketContext,
    NewSignal,
    Outcome,
    Signal,
    Source,
    Status,
    TradeType,
)
from edgeledger.database import queries


def named_query(name: str) -> str:
    return queries()[name]


def signal_params(signal: NewSignal) -> dict[str, Any]:
    """A NewSignal as column values (edges as JSON-ready lists)."""
    return {
        "ticker": signal.ticker,
        "trade_type": signal.trade_type.value,
        "direction": signal.direction.value,
        "entry": signal.entry,
        "stop": signal.stop,
        "target": signal.target,
        "target2": signal.target2,
        "confidence": signal.confidence,
        "edges": [edge.to_json() for edge in signal.edges],
        "rationale": signal.rationale,
        "strategy": signal.strategy,
        "source": signal.source.value,
        "source_key": signal.source_key,
        "atr_value": signal.context.atr_value,
        "market_volatility": signal.context.market_volatility,
        "spy_bias": signal.context.spy_bias,
        "context": signal.context.extra,
        "created_at": signal.created_at,
        "expires_at": signal.expires_at,
        "market": signal.market,
    }


_UNTOUCHED_COLUMNS = ("PENDING", None, None, None, None, None, None, False, None, None, None)
_UNTOUCHED = Outcome()
"""The outcome columns of a signal no run has touched, and the Outcome they read as."""


def outcome_from_columns(
    status: str,
    fill_price: Any,
    triggered_at: datetime | None,
    exit_price: Any,
    closed_at: datetime | None,
    exit_reason: str | None,
    r_achieved: Any,
    ambiguous: bool,
    mfe_r: Any,
    mae_r: Any,
    target2_hit: bool | None,
) -> Outcome:
    """An Outcome from its trade_signals columns, in the order of OUTCOME_FIELDS."""
    columns = (status, fill_price, triggered_at, exit_price, closed_at, exit_reason)
    columns += (r_achieved, ambiguous, mfe_r, mae_r, target2_hit)
    if columns == _UNTOUCHED_COLUMNS:  # most open signals: one shared, immutable default
        return _UNTOUCHED
    return Outcome(
        status=Status(status),
        fill_price=fill_price,
        triggered_at=triggered_at,
        exit_price=exit_price,
        closed_at=closed_at,
        exit_reason=ExitReason(exit_reason) if exit_reason else None,
        r_achieved=r_achieved,
        ambiguous=ambiguous,
        mfe_r=mfe_r,
        mae_r=mae_r,
        target2_hit=target2_hit,
    )


def signal_from_row(row: dict[str, Any]) -> Signal:
    terms = NewSignal(
        trade_id=row["trade_id"],
        ticker=row["ticker"],
        trade_type=TradeType(row["trade_type"]),
        direction=Direction(row["direction"]),
        entry=row["entry"],
        stop=row["stop"],
        target=row["target"],
        target2=row["target2"],
        confidence=row["confidence"],
        edges=tuple(_edge(item) for item in row["edges"]),
        rationale=row["rationale"],
        strategy=row["strategy"],
        source=Source(row["source"]),
        source_key=row["source_key"],
        context=MarketContext(
            row["atr_value"], row["market_volatility"], row["spy_bias"], row["context"]
        ),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        market=row.get("market"),
    )
    outcome = outcome_from_columns(*(row[column] for column in OUTCOME_FIELDS))
    return Signal(
        trade_id=row["trade_id"],
        terms=terms,
        outcome=outcome,
        user_notes=row["user_notes"],
        flagged_for_review=row["flagged_for_review"],
        logged_at=row["logged_at"],
        resolved_as_of=row.get("resolved_as_of"),
        resolved_interval=row.get("resolved_interval"),
    )


def _edge(item: Any) -> Edge:
    if isinstance(item, str):  # tolerate hand-written rows
        return Edge(item)
    item = dict(item)
    return Edge(item.pop("name"), item)


def _json_default(value: Any) -> Any:
    """json.dumps fallback for Decimal and datetime values in exports and event payloads."""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False)
