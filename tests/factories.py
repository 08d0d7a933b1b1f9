"""Small builders of test data."""

from __future__ import annotations

from typing import Any


def raw_signal(**overrides: Any) -> dict[str, Any]:
    """A valid long day-trade signal as a bot would send it; override any field."""
    raw: dict[str, Any] = {
        "ticker": "NVDA",
        "trade_type": "day",
        "direction": "long",
        "entry": "181.20",
        "stop": "179.90",
        "target": "184.00",
        "target2": "186.50",
        "confidence": 4,
        "edges": ["VWAP reclaim", "RS vs SPY"],
        "rationale": "Reclaimed VWAP on volume",
        "strategy": "momo-v2",
        "created_at": "2026-11-20T14:35:00Z",
    }
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not None}
