"""Write the demo's sample book: SYNTHETIC hourly bars and a few hundred signals on them.

    .venv/bin/python examples/make_sample_book.py     # rewrites examples/sample-book/

Nothing here is market data. Each instrument's price is a seeded random walk, drawn hour by
hour inside its market's real sessions (New York, Frankfurt, 24/7 crypto, 24/5 forex), so
holidays, early closes and weekends look as they do in a real book. The signals are placed
on those bars, and after each one the walk leans the signal's way for a few hours by as much
as its edges are skilled (some real, some none, one harmful), so the analytics have
something true to find, and luck to tell apart from it. Deterministic: the same seed
writes the same files.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from edgeledger.core.markets import market_from_ticker, sessions_between

OUT = Path(__file__).resolve().parent / "sample-book"
SEED = 20261202
FIRST_DAY, LAST_DAY = date(2026, 10, 5), date(2026, 11, 22)  # bars; signals stop earlier
LAST_SIGNAL = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)

# ticker: (start price, hourly volatility)
INSTRUMENTS = {
    "NVDA": (182.0, 0.007), "AMD": (151.0, 0.008), "TSLA": (248.0, 0.009),
    "AAPL": (228.0, 0.004), "MSFT": (418.0, 0.004), "META": (575.0, 0.006),
    "SPY": (590.0, 0.0025), "QQQ": (505.0, 0.003), "SAP.DE": (232.0, 0.004),
    "BTC-USD": (91000.0, 0.006), "EURUSD=X": (1.058, 0.0012),
}  # fmt: skip
# edge: (probability of calling the next hours' direction right, how often it is named)
EDGES = {
    "VWAP reclaim": (0.74, 3), "RS vs SPY": (0.58, 3), "ORB 15m": (0.55, 2),
    "Bull flag": (0.52, 2), "Gap & go": (0.50, 2), "HOD break": (0.46, 2),
    "Earnings drift": (0.60, 1), "Mean reversion": (0.28, 2),
}  # fmt: skip
STRATEGIES = ("momo-v2", "swing-v1", "orb-v3")
RATIONALES = (
    "Reclaimed VWAP on rising volume after a morning flush",
    "Relative strength while the index sold off",
    "Opening range held; buyers stepped in at the low",
    "Tight flag under the high of day",
    "Gap held above the prior close on volume",
    "Stretched two ATRs from the mean; fading the move",
)


def session_hours(ticker: str) -> list[datetime]:
    """The start of every hourly bar of the ticker's market sessions in the book's span."""
    market = market_from_ticker(ticker) or "XNYS"
    starts = []
    for session in sessions_between(market, FIRST_DAY, LAST_DAY):
        start = session.open
        while start < session.close:
            starts.append(start)
            start += timedelta(hours=1)
    return starts


def planned_signals(ticker: str, starts: list[datetime], rng: np.random.Generator, count: int):
    """Where the signals go (bar index), their edges and the skill those edges have."""
    usable = [i for i, at in enumerate(starts[:-8]) if at <= LAST_SIGNAL]
    names = list(EDGES)
    weights = np.array([EDGES[n][1] for n in names], dtype=float)
    plans = []
    for i in sorted(rng.choice(usable, size=min(count, len(usable)), replace=False)):
        picked = list(
            rng.choice(names, size=rng.integers(1, 4), replace=False, p=weights / weights.sum())
        )
        skill = float(np.mean([EDGES[n][0] for n in picked]))
        long = rng.random() < 0.6
        plans.append((int(i), picked, skill, long))
    return plans


def bars_of(ticker: str, starts: list[datetime], plans, rng: np.random.Generator):
    """Hourly OHLC bars from a random walk with four steps an hour (their extremes are the
    bar's high and low). After each signal the walk leans its way for six hours, by as much
    as its edges are skilled (none at a skill of 0.5, against it below)."""
    price, volatility = INSTRUMENTS[ticker]
    lean = np.zeros(len(starts))
    for i, _, skill, long in plans:
        lean[i : i + 6] += (1 if long else -1) * (skill - 0.5) * 1.6 * volatility / 2
    bars = []
    for at, push in zip(starts, lean, strict=True):
        steps = price * np.exp(np.cumsum(rng.normal(push, volatility / 2, 4)))
        path = np.concatenate(([price], steps))
        bars.append((at, path[0], path.max(), path.min(), path[-1]))
        price = float(path[-1])
    return bars


def decimals(ticker: str) -> int:
    return 5 if ticker.endswith("=X") else 2


def signals_on(ticker: str, bars: list, plans, rng: np.random.Generator) -> list[dict[str, object]]:
    """A signal at each planned bar's open: entering at the open, a stop about one hour's
    move away, a target one and a half risks off (and sometimes a second at two and a half);
    more stars where the edges are more skilled, give or take a star."""
    places = decimals(ticker)
    _, volatility = INSTRUMENTS[ticker]
    found = []
    for i, picked, skill, long in plans:
        at, entry = bars[i][0], round(bars[i][1], places)
        risk = max(round(entry * volatility * rng.uniform(0.9, 1.4), places), 10**-places)
        sign = 1 if long else -1
        stars = int(np.clip(round(2.5 + (skill - 0.5) * 20 + rng.normal(0, 0.8)), 0, 5))
        found.append(
            {
                "ticker": ticker,
                "trade_type": "swing" if rng.random() < 0.35 else "day",
                "direction": "long" if long else "short",
                "entry": f"{entry:.{places}f}",
                "stop": f"{entry - sign * risk:.{places}f}",
                "target": f"{entry + sign * 1.5 * risk:.{places}f}",
                "target2": f"{entry + sign * 2.5 * risk:.{places}f}" if rng.random() < 0.4 else "",
                "confidence": stars,
                "edges": ";".join(picked),
                "rationale": str(rng.choice(RATIONALES)),
                "created_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "strategy": STRATEGIES[int(rng.integers(0, len(STRATEGIES)))],
            }
        )
    return found


def main(out_dir: Path = OUT) -> None:
    rng = np.random.default_rng(SEED)
    prices = out_dir / "prices" / "1h"
    prices.mkdir(parents=True, exist_ok=True)
    signals: list[dict[str, object]] = []
    for ticker in INSTRUMENTS:
        starts = session_hours(ticker)
        plans = planned_signals(ticker, starts, rng, 40 if "-" in ticker or "=" in ticker else 32)
        bars = bars_of(ticker, starts, plans, rng)
        places = decimals(ticker) + 2
        with (prices / f"{ticker}.csv").open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["timestamp", "open", "high", "low", "close", "volume"])
            for at, o, h, low, c in bars:
                volume = int(rng.integers(200_000, 5_000_000))
                writer.writerow(
                    [
                        at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        *(f"{v:.{places}f}" for v in (o, h, low, c)),
                        volume,
                    ]
                )
        signals += signals_on(ticker, bars, plans, rng)
    signals.sort(key=lambda s: (s["created_at"], s["ticker"]))
    with (out_dir / "signals.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(signals[0]))
        writer.writeheader()
        writer.writerows(signals)
    print(f"wrote {len(signals)} signals and {len(INSTRUMENTS)} price files to {out_dir}")


if __name__ == "__main__":
    main()
