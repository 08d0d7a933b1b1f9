"""Small literal trades for the analytics tests: one dict per trade, as trades_frame reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from edgeledger.core.trades import TRADE_COLUMNS, trades_frame

START = datetime(2026, 11, 2, 15, tzinfo=UTC)


def trade(trade_id: str, **changes: Any) -> dict[str, Any]:
    """A logged long day-trade signal that has not triggered; override any column."""
    row = dict.fromkeys(TRADE_COLUMNS)
    row.update(
        trade_id=trade_id, ticker="NVDA", trade_type="day", direction="long", market="XNYS",
        strategy="momo", confidence=3, edges=("VWAP",), source="api", status="PENDING",
        entry=100, stop=95, target=110, ambiguous=False, created_at=START,
    )  # fmt: skip
    row.update(changes)
    return row


def closed_trade(trade_id: str, r: float, *, hour: int = 0, **changes: Any) -> dict[str, Any]:
    """A filled and closed trade with R `r`: WIN above 0, LOSS below, EXPIRED (timeout) at 0
    unless `status` says otherwise; closed `hour` hours after START (the order of curves)."""
    status = "WIN" if r > 0 else "LOSS" if r < 0 else "EXPIRED"
    reason = {"WIN": "target", "LOSS": "stop", "EXPIRED": "timeout"}
    values: dict[str, Any] = {
        "status": status,
        "fill_price": 100,
        "r": r,
        "triggered_at": START,
        "closed_at": START + timedelta(hours=1 + hour),
    }
    values.update(changes)
    values.setdefault("exit_reason", reason.get(values["status"], "manual"))
    return trade(trade_id, **values)


def frame_of(*rows: dict[str, Any]):
    return trades_frame(rows)


def r_trades(*rs: float, **changes: Any) -> list[dict[str, Any]]:
    """Closed trades with these R values, closed one hour apart in this order."""
    return [closed_trade(f"T{i:03d}", r, hour=i, **changes) for i, r in enumerate(rs)]


def same_metrics(a, b) -> bool:
    """Two Metrics equal figure by figure (floats to 1e-9; intervals end by end)."""
    import math

    def close(x, y) -> bool:
        if isinstance(x, tuple):
            return close(x[0], y[0]) and close(x[1], y[1])
        if x is None or y is None:
            return x is y
        return x == y or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)

    return all(close(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
