"""The stored day summaries answer as the trades do: `stats` and `edges` read from them agree
with the same figures computed from every trade, before and after the ledger changes, and
fall back to the trades when a period ends inside a day that has later closes."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from bench.report import generate, load
from edgeledger import reporting, storage
from edgeledger.core.periods import Period, period_to, week_of
from edgeledger.core.weekly_report import build_weekly_report
from edgeledger.database import Database
from edgeledger.reporting import Filters

NOW = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # after every generated close


@pytest.fixture
def ledger(db_url: str) -> Iterator[Database]:
    """3,000 closed trades over two years (30 edges, 5 strategies, 10% backtest), with some
    signals turned CANCELLED, not triggered and no_data so the counts have every kind."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        with conn.transaction():
            load(conn, generate(3000, seed=7))
        conn.execute(
            "UPDATE trade_signals SET status = 'CANCELLED', fill_price = NULL, exit_price = NULL,"
            " r_achieved = NULL, exit_reason = NULL, closed_at = NULL WHERE id % 97 = 0"
        )
        conn.execute(
            "UPDATE trade_signals SET status = 'EXPIRED', fill_price = NULL, exit_price = NULL,"
            " r_achieved = NULL, triggered_at = NULL,"
            " exit_reason = CASE WHEN id % 2 = 0 THEN 'no_data' ELSE 'not_triggered' END"
            " WHERE id % 89 = 0"
        )
    with Database(db_url, max_size=2) as db:
        yield db


def close(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    return a == b


def periods() -> list[Period]:
    return [period_to(name, NOW) for name in ("all", "year", "month", "week", "day")]


def assert_stats_agree(db: Database) -> None:
    for period in periods():
        summed = reporting._stats_from_summaries(db, period)
        assert summed is not None, period.name
        traded = reporting._stats_from_trades(db, period, Filters())
        assert close(asdict(summed), asdict(traded)), period.name


def assert_rankings_agree(db: Database) -> None:
    for period in periods()[:3]:
        summed = reporting.edge_ranking(db, period)
        trades = reporting._closed_in(db, period, ("edges", "source", *reporting.METRIC_INPUTS))
        traded = reporting.rank_edges(reporting.counted(trades))
        assert [e.edge for e in summed] == [e.edge for e in traded], period.name
        assert close([asdict(e) for e in summed], [asdict(e) for e in traded]), period.name


def test_stats_from_the_summaries_are_the_stats_of_the_trades(ledger):
    assert_stats_agree(ledger)
    stats = reporting.period_stats(ledger, period_to("all", NOW))
    assert stats.signals.by_status["CANCELLED"] == 0  # counted: live signals only
    assert stats.signals.not_triggered > 0 and stats.metrics.n > 2000


def test_edge_rankings_from_the_summaries_are_the_rankings_of_the_trades(ledger):
    assert_rankings_agree(ledger)


def test_after_outcomes_change_the_changed_days_are_summed_up_again(ledger, db_url):
    reporting.period_stats(ledger, period_to("all", NOW))  # everything summed up
    with psycopg.connect(db_url, autocommit=True) as conn:
        # A rederive moves closes to other days and turns losses into wins.
        conn.execute(
            "UPDATE trade_signals SET closed_at = closed_at + interval '3 days',"
            " status = 'WIN', exit_reason = 'target', r_achieved = 1.5"
            " WHERE id % 13 = 0 AND status = 'LOSS'"
        )
        changed = conn.execute("SELECT count(DISTINCT day) FROM trade_day_changes").fetchone()[0]
    assert changed > 0
    assert_stats_agree(ledger)
    assert_rankings_agree(ledger)
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM trade_day_changes").fetchone()[0] == 0


def test_a_period_ending_inside_a_day_with_later_closes_is_read_from_the_trades(ledger, db_url):
    with psycopg.connect(db_url) as conn:
        last = conn.execute("SELECT max(closed_at) FROM trade_signals").fetchone()[0]
    cut = Period("all", None, last - timedelta(minutes=1))  # the newest close is after it
    assert reporting._stats_from_summaries(ledger, cut) is None
    stats = reporting.period_stats(ledger, cut)
    assert close(asdict(stats), asdict(reporting._stats_from_trades(ledger, cut, Filters())))


def test_a_filter_is_answered_from_the_trades(ledger):
    period = period_to("all", NOW)
    filtered = reporting.period_stats(ledger, period, Filters(strategy="momo-v2"))
    everything = reporting.period_stats(ledger, period)
    assert 0 < filtered.metrics.n < everything.metrics.n


def test_emptying_the_summaries_loses_nothing_but_time(ledger, db_url):
    before = reporting.period_stats(ledger, period_to("all", NOW))
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DELETE FROM trade_day_summaries")
        conn.execute("DELETE FROM signal_day_counts")
        conn.execute(
            "INSERT INTO trade_day_changes (day) SELECT DISTINCT"
            " (closed_at AT TIME ZONE 'America/New_York')::date FROM trade_signals"
            " WHERE closed_at IS NOT NULL UNION SELECT DISTINCT"
            " (created_at AT TIME ZONE 'America/New_York')::date FROM trade_signals"
        )
    after = reporting.period_stats(ledger, period_to("all", NOW))
    assert close(asdict(before), asdict(after))


def test_summary_rows_refuse_an_unknown_dimension(ledger):
    with ledger.connection() as conn, pytest.raises(ValueError, match="unknown dimension"):
        storage.summary_rows(conn, "live", "ticker")


def test_the_weekly_report_from_summaries_is_the_report_of_every_trade(ledger):
    monday = date(2026, 11, 16)
    built = reporting.build_weekly(ledger, monday, now=NOW)
    with ledger.connection() as conn:
        trades = storage.load_trades(conn)
    week = week_of(monday)
    with ledger.connection() as conn:
        rationales = storage.rationales_closed_between(conn, week.start, week.end)
    from_trades = build_weekly_report(trades, week=week, generated_at=NOW, rationales=rationales)
    assert built.report.live_vs_backtest and built.report.edge_pairs and built.report.what_if
    assert close(built.report.to_json(), from_trades.to_json())


def test_confidence_from_the_summaries_is_the_calibration_of_the_trades(ledger):
    for period in periods()[:3]:
        summed = reporting.confidence(ledger, period)
        columns = ("confidence", "source", *reporting.METRIC_INPUTS)
        traded = reporting.calibration(
            reporting.counted(reporting._closed_in(ledger, period, columns))
        )
        assert close(asdict(summed), asdict(traded)), period.name
