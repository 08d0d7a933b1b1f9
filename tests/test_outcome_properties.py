"""Properties every outcome has, on random bar paths (whole-number prices, so mirroring
prices around a pivot is exact in floating point)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from hypothesis import given
from hypothesis import strategies as st

from edgeledger.core.model import Direction, ExitReason, Outcome, Status
from edgeledger.core.outcome_rules import BarSeries, PreparedBars, SignalTerms, resolve_signal

START = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # the first bar gives the previous close
CREATED = START + timedelta(hours=1)
PIVOT = 200.0


@st.composite
def price_paths(draw: st.DrawFn, min_bars: int = 2, max_bars: int = 14) -> list[tuple]:
    """(open, high, low, close) bars of a random walk around 100, with gaps."""
    price, rows = 100, []
    for _ in range(draw(st.integers(min_bars, max_bars))):
        opened = price + draw(st.integers(-6, 6))
        closed = opened + draw(st.integers(-6, 6))
        high = max(opened, closed) + draw(st.integers(0, 4))
        low = min(opened, closed) - draw(st.integers(0, 4))
        rows.append((float(opened), float(high), float(low), float(closed)))
        price = closed
    return rows


@st.composite
def longs(draw: st.DrawFn) -> SignalTerms:
    entry = draw(st.integers(90, 110))
    risk, reward = draw(st.integers(1, 8)), draw(st.integers(1, 12))
    beyond = draw(st.none() | st.integers(1, 10))
    return SignalTerms(
        trade_id="P1",
        direction=Direction.LONG,
        entry=entry,
        stop=entry - risk,
        target=entry + reward,
        target2=None if beyond is None else entry + reward + beyond,
        created_at=CREATED,
        expires_at=CREATED + timedelta(hours=draw(st.integers(1, 14))),
    )


def hourly(rows: list[tuple], mirrored: bool = False) -> BarSeries:
    def mirror(o: float, h: float, lw: float, c: float) -> tuple:
        return (PIVOT - o, PIVOT - lw, PIVOT - h, PIVOT - c)

    return BarSeries.from_rows(
        "1h",
        [
            (START + timedelta(hours=i), *(mirror(*row) if mirrored else row))
            for i, row in enumerate(rows)
        ],
    )


def mirror_terms(terms: SignalTerms) -> SignalTerms:
    """The short that mirrors a long around PIVOT."""

    def flip(price: float | None) -> float | None:
        return None if price is None else PIVOT - price

    return SignalTerms(
        trade_id="P2",
        direction=Direction.SHORT,
        entry=flip(terms.entry),
        stop=flip(terms.stop),
        target=flip(terms.target),
        target2=flip(terms.target2),
        created_at=terms.created_at,
        expires_at=terms.expires_at,
    )


def resolve(terms: SignalTerms, *series: BarSeries, as_of: datetime) -> Outcome:
    return resolve_signal(terms, {s.interval: s for s in series}, primary="1h", as_of=as_of)


as_of_times = st.integers(0, 16).map(lambda hours: CREATED + timedelta(hours=hours))


@given(longs(), price_paths(), as_of_times)
def test_r_is_the_exit_against_the_fill_in_units_of_planned_risk(terms, rows, as_of):
    outcome = resolve(terms, hourly(rows), as_of=as_of)
    if outcome.r_achieved is None:
        assert outcome.status in (Status.PENDING, Status.OPEN) or (
            outcome.exit_reason is ExitReason.NOT_TRIGGERED
        )
        return
    assert outcome.fill_price is not None and outcome.exit_price is not None
    risk = Decimal(repr(terms.entry)) - Decimal(repr(terms.stop))
    expected = ((outcome.exit_price - outcome.fill_price) / risk).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_EVEN
    )
    assert outcome.r_achieved == expected
    if outcome.exit_reason is ExitReason.TARGET and outcome.exit_price == Decimal(
        repr(terms.target)
    ):
        assert outcome.r_achieved == (
            (Decimal(repr(terms.target)) - outcome.fill_price) / risk
        ).quantize(Decimal("0.0001"))


@given(longs(), price_paths(), as_of_times)
def test_excursions_bracket_the_r_achieved(terms, rows, as_of):
    outcome = resolve(terms, hourly(rows), as_of=as_of)
    if outcome.fill_price is None:
        assert (outcome.mfe_r, outcome.mae_r) == (None, None)
        return
    assert outcome.mae_r is not None and outcome.mfe_r is not None
    assert outcome.mae_r <= 0 <= outcome.mfe_r
    if outcome.r_achieved is not None:
        assert outcome.mae_r <= outcome.r_achieved <= outcome.mfe_r


@given(longs(), price_paths(), as_of_times)
def test_the_same_input_gives_the_same_outcome(terms, rows, as_of):
    assert resolve(terms, hourly(rows), as_of=as_of) == resolve(terms, hourly(rows), as_of=as_of)


@given(longs(), price_paths(), as_of_times)
def test_a_short_on_mirrored_prices_mirrors_the_long(terms, rows, as_of):
    short = mirror_terms(terms)
    went_long = resolve(terms, hourly(rows), as_of=as_of)
    went_short = resolve(short, hourly(rows, mirrored=True), as_of=as_of)
    pivot = Decimal(repr(PIVOT))
    assert went_short.fill_price == (
        None if went_long.fill_price is None else pivot - went_long.fill_price
    )
    assert went_short.exit_price == (
        None if went_long.exit_price is None else pivot - went_long.exit_price
    )
    unsigned = ("fill_price", "exit_price")
    for name in Outcome.__dataclass_fields__:
        if name not in unsigned:
            assert getattr(went_short, name) == getattr(went_long, name), name


@given(longs(), price_paths(), st.data())
def test_finer_bars_change_nothing_when_the_coarse_bars_are_unambiguous(terms, rows, data):
    terms = dataclasses.replace(terms, target2=None)
    as_of = terms.expires_at
    coarse = resolve(terms, hourly(rows), as_of=as_of)
    fine_rows = data.draw(price_paths(min_bars=12 * len(rows), max_bars=12 * len(rows)))
    five = BarSeries.from_rows(
        "5m", [(START + timedelta(minutes=5 * i), *row) for i, row in enumerate(fine_rows)]
    )
    if not coarse.ambiguous:
        assert resolve(terms, hourly(rows), five, as_of=as_of) == coarse


@given(
    st.lists(st.tuples(longs(), st.booleans()), min_size=1, max_size=6), price_paths(), as_of_times
)
def test_bars_prepared_once_for_many_signals_give_each_its_own_outcome(signals, rows, as_of):
    """The resolver prepares a ticker's bars once for all its signals, longs and shorts
    mixed: no signal's walk may leak into the next."""
    many = [mirror_terms(terms) if as_short else terms for terms, as_short in signals]
    bars = hourly(rows)
    prepared = PreparedBars({"1h": bars}, "1h")
    shared = [resolve_signal(t, prepared, primary="1h", as_of=as_of) for t in many]
    assert shared == [resolve(t, bars, as_of=as_of) for t in many]
