"""The bar store: what a fetch leaves in price_bars, bar_coverage and ticker_bar_state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from edgeledger import storage
from edgeledger.core.bars import BarBatch, series_epoch_us
from edgeledger.prices import clean

FRIDAY = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
FETCHED_AT = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)


def frame(*bars) -> pd.DataFrame:
    """Bars as a provider returns them: (start, open, high, low, close, volume)."""
    return pd.DataFrame(
        {
            "start": pd.to_datetime([b[0] for b in bars], utc=True),
            **{
                name: [b[i] for b in bars]
                for i, name in enumerate(("open", "high", "low", "close", "volume"), 1)
            },
        }
    )


def store(conn, *batches):
    with conn.transaction():
        coverage = storage.bar_coverage(conn, sorted({b.ticker for b in batches}))
        return storage.store_bars(
            conn, list(batches), provider="test", fetched_at=FETCHED_AT, coverage=coverage
        )


def test_a_bar_still_forming_at_the_end_of_the_fetch_is_left_out():
    bars = frame((FRIDAY, 1.0, 2.0, 0.5, 1.5, 10.0), (FRIDAY + HOUR, 1.5, 2.5, 1.0, 2.0, 20.0))
    batch = BarBatch.complete("NVDA", "1h", bars, (FRIDAY, FRIDAY + 1.5 * HOUR))
    assert len(batch) == 1 and batch.close.tolist() == [1.5]


def test_prices_are_stored_as_sent_to_eight_places_and_a_missing_volume_is_null(db):
    bars = frame(
        (FRIDAY, 0.00012346, 0.00012349, 0.00012341, 0.00012345, np.nan),  # a sub-penny coin
        # Yahoo sends float32 prices widened to float64; the store keeps eight places.
        (FRIDAY + HOUR, 181.22999572753906, 182.5, 181.12345678, 182.1, 1200.0),
    )
    with db.connection() as conn:
        store(conn, BarBatch.complete("NVDA", "1h", bars, (FRIDAY, FRIDAY + 2 * HOUR)))
        rows = conn.execute(
            "SELECT open, low, close, volume FROM price_bars ORDER BY start"
        ).fetchall()
    assert [tuple(r.values()) for r in rows] == [
        (Decimal("0.00012346"), Decimal("0.00012341"), Decimal("0.00012345"), None),
        (Decimal("181.22999573"), Decimal("181.12345678"), Decimal("182.1"), Decimal("1200")),
    ]


def test_fetches_of_several_tickers_are_stored_together_with_their_coverage(db):
    nvda = frame((FRIDAY, 1.0, 2.0, 0.5, 1.5, 10.0))
    with db.connection() as conn:
        first = store(conn, BarBatch.complete("NVDA", "1h", nvda, (FRIDAY, FRIDAY + HOUR)))
        later = frame((FRIDAY + HOUR, 1.5, 2.5, 1.0, 2.0, 20.0))
        amd = frame((FRIDAY, 3.0, 4.0, 2.5, 3.5, 30.0))
        second = store(
            conn,
            BarBatch.complete("NVDA", "1h", later, (FRIDAY + HOUR, FRIDAY + 2 * HOUR)),
            BarBatch.complete("AMD", "1h", amd, (FRIDAY, FRIDAY + HOUR)),
            BarBatch.complete("AMD", "1m", frame(), (FRIDAY, FRIDAY + HOUR)),
        )
        again = store(conn, BarBatch.complete("AMD", "1h", amd, (FRIDAY, FRIDAY + HOUR)))
        coverage = storage.bar_coverage(conn, ["AMD", "NVDA"])
        versions = storage.bar_versions(conn, ["AMD", "NVDA"])
    assert first["NVDA"][0] == 1
    assert {ticker: added for ticker, (added, _) in second.items()} == {"NVDA": 1, "AMD": 1}
    assert second["NVDA"][1] > first["NVDA"][1]  # new bars, a new version
    assert again == {}  # nothing new: no new version, nothing for the resolver to look at
    assert versions == {"NVDA": second["NVDA"][1], "AMD": second["AMD"][1]}
    assert coverage == {
        ("NVDA", "1h"): [(FRIDAY, FRIDAY + 2 * HOUR)],  # merged with what was covered
        ("AMD", "1h"): [(FRIDAY, FRIDAY + HOUR)],
        ("AMD", "1m"): [(FRIDAY, FRIDAY + HOUR)],  # asked for, even though no bars came
    }


def test_bar_starts_become_the_same_microseconds_whatever_their_unit_or_zone():
    starts = pd.Series(pd.to_datetime(["2026-11-20T14:30:00Z", "1969-12-31T23:59:59Z"], utc=True))
    expected = [1_795_185_000_000_000, -1_000_000]
    for unit in ("s", "ms", "us", "ns"):
        for zone in ("UTC", "America/New_York"):
            assert series_epoch_us(starts.dt.as_unit(unit).dt.tz_convert(zone)).tolist() == expected


def test_prices_are_cleaned_with_the_rounding_postgresql_applies(sql_conn):
    """clean.round_like_numeric against PostgreSQL: the text the store sends (repr), cast to
    numeric(20, 8), which rounds half away from zero (0.000000005 is 0.00000001)."""
    rng = np.random.default_rng(9)
    values = [
        100.000000005,
        100.000000004,
        -100.000000005,
        0.000000005,
        0.000000015,
        0.000000025,
        2.675,
        1.000000015,
        123.456789125,
        99999999999.99999,
        45035996.27370495,
        *(np.round(rng.uniform(0, 1000, 400), 9) + 5e-9).tolist(),
        *rng.uniform(0, 1e5, 400).tolist(),
        *(rng.uniform(0, 1, 200) * 10.0 ** rng.integers(-9, 12, 200)).tolist(),
        *rng.uniform(0, 1000, 200).astype(np.float32).astype(np.float64).tolist(),
    ]
    rows = sql_conn.execute(
        "SELECT t::numeric(20, 8) AS stored FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, i)"
        " ORDER BY i",
        ([repr(v) for v in values],),
    ).fetchall()
    expected = [float(row[0]) for row in rows]
    assert clean.round_like_numeric(np.array(values)).tolist() == expected
