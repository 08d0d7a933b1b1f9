"""The weekly report as data: built once from the statistics, drawn many times.

The HTML report, the Discord summary and the dashboard only draw a `WeeklyReport`; none of
them computes a figure (style.md, habit 2). The report is stored as JSON and drawn again
later, so `to_json()` gives plain JSON-able data (strict JSON: no NaN, no Infinity) and
`WeeklyReport.from_json()` gives back an equal report.

Conventions for every figure: win rates are fractions 0-1, R is a float in R-multiples,
a figure that cannot be computed (no closed trade, no loss) is None, never NaN. Times are
timezone-aware. Sequences are tuples (the report is immutable); lists passed in become
tuples.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from typing import Any, Union

SCHEMA_VERSION = 1
"""Bumped when a stored report's JSON would no longer read back; `from_json` checks it."""

REPORT_TIMEZONE = "America/New_York"

Figure = float | int | str
"""A number or a word behind a finding, e.g. {"win_rate": 0.31, "n": 24, "window": "30d"}."""


class _Frozen:
    """Turns lists into tuples so a frozen report is immutable all the way down."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))


@dataclass(frozen=True)
class PeriodTotals(_Frozen):
    """The headline figures of one period. Signals and triggered count by `created_at`;
    wins, losses, expired and the R figures count closed trades by `closed_at`."""

    label: str  # "This week", "Previous week", "All time"
    signals: int
    triggered: int
    wins: int
    losses: int
    expired: int
    n_closed: int
    win_rate: float | None  # WIN / (WIN + LOSS)
    avg_r: float | None
    total_r: float


@dataclass(frozen=True)
class Totals(_Frozen):
    this_week: PeriodTotals
    previous_week: PeriodTotals
    all_time: PeriodTotals


@dataclass(frozen=True)
class EquityPoint(_Frozen):
    at: datetime  # closed_at of the trade that moved the curve
    r: float  # cumulative R after that trade


@dataclass(frozen=True)
class EquityCurves(_Frozen):
    """Cumulative R over closed trades ordered by closed_at; the week's starts at 0."""

    week: tuple[EquityPoint, ...]
    all_time: tuple[EquityPoint, ...]


@dataclass(frozen=True)
class RBin(_Frozen):
    """Closed trades with lo <= R < hi (the last bin includes hi)."""

    lo: float
    hi: float
    count: int


@dataclass(frozen=True)
class EdgeRow(_Frozen):
    """One edge (or pair "A + B") with its sample size, intervals and verdict."""

    name: str
    n: int
    wins: int
    losses: int
    win_rate: float | None
    win_rate_lo: float | None  # Wilson 95%
    win_rate_hi: float | None
    avg_r: float | None
    avg_r_lo: float | None  # 95% interval on the mean
    avg_r_hi: float | None
    total_r: float
    lift: float | None  # avg R with the edge minus avg R without it
    verdict: str  # "better", "worse", "not yet distinguishable from luck", "not enough data"
    ranked: bool  # False below the minimum sample
    rank: int | None  # 1 = best; None when not ranked


@dataclass(frozen=True)
class ConfidenceRow(_Frozen):
    stars: int
    n: int
    win_rate: float | None
    win_rate_lo: float | None
    win_rate_hi: float | None
    avg_r: float | None


@dataclass(frozen=True)
class Confidence(_Frozen):
    rows: tuple[ConfidenceRow, ...]
    verdict: str  # e.g. "Higher stars did better (Spearman 0.41), but the intervals overlap."


@dataclass(frozen=True)
class BreakdownRow(_Frozen):
    label: str  # "Day", "Swing", "Long", "Short"
    n: int
    win_rate: float | None
    avg_r: float | None
    total_r: float


@dataclass(frozen=True)
class Breakdowns(_Frozen):
    by_type: tuple[BreakdownRow, ...]  # day vs swing
    by_direction: tuple[BreakdownRow, ...]  # long vs short


@dataclass(frozen=True)
class TradeRow(_Frozen):
    trade_id: str
    ticker: str
    trade_type: str  # day | swing
    direction: str  # long | short
    edges: tuple[str, ...]
    r: float
    closed_at: datetime
    rationale: str


@dataclass(frozen=True)
class Finding(_Frozen):
    """A suggestion or recommendation worded for people, with the numbers behind it so
    it can be traced (metrics.md, feedback rules)."""

    text: str
    figures: dict[str, Figure] = field(default_factory=dict)


@dataclass(frozen=True)
class WhatIfRow(_Frozen):
    """All time, as it would have been without the trades that carried one edge (the
    worst-ranked edges): what removing it would have changed."""

    edge: str
    removed: int  # closed trades that carried it
    total_r_all: float
    total_r_without: float
    avg_r_all: float | None
    avg_r_without: float | None
    max_drawdown_all: float
    max_drawdown_without: float
    # the all-time equity curve without those trades, drawn beside the whole one
    curve: tuple[EquityPoint, ...] = ()


@dataclass(frozen=True)
class LiveBacktestRow(_Frozen):
    """Live trades beside backtest trades for one edge or strategy, all time."""

    scope: str  # "edge" or "strategy"
    key: str
    live_n: int
    live_win_rate: float | None
    live_avg_r: float | None
    backtest_n: int
    backtest_win_rate: float | None
    backtest_avg_r: float | None


# --- the dashboard's charts beside the report's (core.dashboard_data builds them) ---------


@dataclass(frozen=True)
class RatePoint:
    """The win rate of the trades closed in the bucket starting `start` (New York)."""

    start: date
    wins: int
    losses: int
    win_rate: float | None  # WIN / (WIN + LOSS); None without either


@dataclass(frozen=True)
class ChartBar:
    at: datetime
    open: float
    high: float
    low: float
    close: float


@dataclass(frozen=True)
class Level:
    """A price drawn across a trade's chart: entry, stop, target, fill, exit."""

    name: str
    price: float


@dataclass(frozen=True)
class WeeklyReport(_Frozen):
    """Everything the weekly report shows. `week_end` is the week's last day (Sunday),
    inclusive; `empty` means no signal was logged and no trade closed that week."""

    week_start: date
    week_end: date
    generated_at: datetime
    empty: bool
    totals: Totals
    equity_curve: EquityCurves
    r_distribution: tuple[RBin, ...]
    best_edges: tuple[EdgeRow, ...]  # this week
    worst_edges: tuple[EdgeRow, ...]  # this week
    edge_ranking: tuple[EdgeRow, ...]  # all time, ranked rows first
    edge_pairs: tuple[EdgeRow, ...]
    confidence: Confidence
    breakdowns: Breakdowns
    top_trades: tuple[TradeRow, ...]
    bottom_trades: tuple[TradeRow, ...]
    suggestions: tuple[Finding, ...]  # from excursions (MFE/MAE)
    recommendations: tuple[Finding, ...]  # from the feedback decisions
    data_quality: tuple[str, ...]
    min_sample: int = 10  # closed trades below which an edge is not ranked
    timezone: str = REPORT_TIMEZONE
    what_if: tuple[WhatIfRow, ...] = ()  # without each of the worst-ranked edges
    live_vs_backtest: tuple[LiveBacktestRow, ...] = ()  # scopes with backtest trades

    def to_json(self) -> dict[str, Any]:
        """Plain data for json.dumps(allow_nan=False): dates and times as ISO 8601,
        +/-infinity as {"float": "inf"} (a profit factor with no loss)."""
        return {"schema": SCHEMA_VERSION, **_encode(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WeeklyReport:
        """The report that `to_json` gave `data`; a report of another schema is refused
        rather than half read."""
        data = dict(data)
        schema = data.pop("schema", None)
        if schema != SCHEMA_VERSION:
            raise ValueError(f"weekly report schema {schema!r}, expected {SCHEMA_VERSION}")
        return _decode(cls, data)


# --- JSON codec, driven by the dataclasses' type hints -----------------------------------


def _encode(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"report times must be timezone-aware: {value!r}")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, float):
        if math.isnan(value):
            raise ValueError("report figures must not be NaN: use None for 'no figure'")
        if math.isinf(value):
            return {"float": "inf" if value > 0 else "-inf"}
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _decode(tp: Any, value: Any) -> Any:
    if isinstance(tp, type) and is_dataclass(tp):
        hints = _hints(tp)
        names = {f.name for f in fields(tp) if f.init}
        unknown = set(value) - names
        if unknown:
            raise ValueError(f"{tp.__name__}: unknown fields {sorted(unknown)}")
        return tp(**{k: _decode(hints[k], v) for k, v in value.items()})
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        return _decode_union(args, value)
    if origin is tuple:
        return tuple(_decode(args[0], v) for v in value)
    if origin is dict:
        return {k: _decode(args[1], v) for k, v in value.items()}
    if _is_class(tp, "datetime"):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(f"report times must be timezone-aware: {value!r}")
        return parsed
    if _is_class(tp, "date"):
        return date.fromisoformat(value)
    if tp is float:
        return _float(value)
    if tp in (int, str, bool) and not isinstance(value, tp):
        raise ValueError(f"expected {tp.__name__}, got {value!r}")
    return value


def _is_class(tp: Any, name: str) -> bool:
    """Whether `tp` is datetime.datetime or datetime.date (as `name` says), or a class built
    on it. Not `tp is date`: the hints are cached once, and freezegun swaps this module's
    `date` and `datetime` for its own classes while it runs, so identity fails one way or
    the other depending on which ran first."""
    if not isinstance(tp, type):
        return False
    real = next((c for c in tp.__mro__ if c.__module__ == "datetime"), None)
    return real is not None and real.__name__ == name


def _decode_union(args: tuple[Any, ...], value: Any) -> Any:
    if value is None:
        if type(None) in args:
            return None
        raise ValueError(f"None where {args} expected")
    if isinstance(value, str) and str in args:
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and int in args:
        return value
    if float in args:
        return _float(value)
    return _decode(next(a for a in args if a is not type(None)), value)


def _float(value: Any) -> float:
    if isinstance(value, dict) and set(value) == {"float"} and value["float"] in ("inf", "-inf"):
        return float(value["float"])
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"expected a number, got {value!r}")
