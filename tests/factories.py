"""Small builders of test data."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edgeledger import exporter, storage

FIXTURES = Path(__file__).resolve().parent / "fixtures"


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


def write_bars(price_dir, interval: str, ticker: str, rows) -> None:
    """A csv-provider file: {price_dir}/{interval}/{TICKER}.csv of (start, o, h, l, c) rows."""
    folder = price_dir / interval
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [f"{start},{o},{h},{low},{c},1000" for start, o, h, low, c in rows]
    (folder / f"{ticker}.csv").write_text("\n".join(lines) + "\n")


def yahoo_chart(ticker: str, interval: str, rows) -> dict[str, Any]:
    """A Yahoo chart v8 body for (epoch seconds, o, h, l, c) rows, shaped like a real one."""
    return {
        "chart": {
            "result": [
                {
                    "meta": {
                        "currency": "USD",
                        "symbol": ticker,
                        "exchangeName": "NMS",
                        "instrumentType": "EQUITY",
                        "gmtoffset": -18000,
                        "timezone": "EST",
                        "exchangeTimezoneName": "America/New_York",
                        "dataGranularity": interval,
                    },
                    "timestamp": [r[0] for r in rows],
                    "indicators": {
                        "quote": [
                            {
                                "open": [r[1] for r in rows],
                                "high": [r[2] for r in rows],
                                "low": [r[3] for r in rows],
                                "close": [r[4] for r in rows],
                                "volume": [1000 for _ in rows],
                            }
                        ]
                    },
                }
            ],
            "error": None,
        }
    }


def yahoo_rows(bars) -> list[tuple]:
    """(ISO start, o, h, l, c) bars as Yahoo's (epoch seconds, o, h, l, c)."""
    return [
        (
            int(datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(UTC).timestamp()),
            o,
            h,
            low,
            c,
        )
        for start, o, h, low, c in bars
    ]


def yahoo_error(name: str) -> Any:
    """A recorded Yahoo error body (tests/fixtures/price-apis/yahoo_v8_error_bodies.json)."""
    return json.loads((FIXTURES / "price-apis" / "yahoo_v8_error_bodies.json").read_text())[name]


def export_text(db, fmt: str = "csv") -> str:
    """The ledger as `edgeledger signals export` writes it."""
    out = io.StringIO()
    with db.connection() as conn:
        exporter.write_export(storage.export_rows(conn), out, fmt)
    return out.getvalue()
