"""What the analytics read and write: the trades frame as stored, rolling metrics upserted,
feedback decisions appended, weekly reports rebuilt in place."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import psycopg
import pytest
from psycopg.rows import dict_row

from edgeledger import storage
from edgeledger.core.trades import TRADE_COLUMNS, empty_trades, trades_frame

T0 = datetime(2026, 11, 16, 15, tzinfo=UTC)  # a Monday, 10:00 in New York
_numbers = iter(range(1, 10_000))


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection with dict rows, as storage is handed one."""
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as connection:
        yield connection


def stored_trade(conn: psycopg.Connection, trade_id: str, *, edges: Any = (), **changes) -> dict:
    """Insert one signal with its outcome by raw SQL, as any writer might have left it, and
    return the row the trades frame should hold for it."""
    row = dict.fromkeys(TRADE_COLUMNS)
    row.update(
        trade_id=trade_id, ticker="NVDA", trade_type="day", direction="long", confidence=3,
        source="api", status="PENDING", entry=100.0, stop=95.0, target=110.0, ambiguous=False,
        created_at=T0,
    )  # fmt: skip
    row.update(changes)
    named_market = row.pop("named_market", None)
    conn.execute(
        "INSERT INTO trade_signals (trade_id, ticker, trade_type, direction, entry, stop, target,"
        " target2, confidence, edges, strategy, source, fingerprint, created_at, expires_at,"
        " market, status, fill_price, triggered_at, exit_price, closed_at, exit_reason,"
        " r_achieved, ambiguous, mfe_r, mae_r, target2_hit)"
        " VALUES (%(trade_id)s, %(ticker)s, %(trade_type)s, %(direction)s, %(entry)s, %(stop)s,"
        " %(target)s, %(target2)s, %(confidence)s, %(edges)s, %(strategy)s, %(source)s,"
        " %(fingerprint)s, %(created_at)s, %(expires_at)s, %(named_market)s, %(status)s,"
        " %(fill_price)s, %(triggered_at)s, %(exit_price)s, %(closed_at)s, %(exit_reason)s,"
        " %(r)s, %(ambiguous)s, %(mfe_r)s, %(mae_r)s, %(target2_hit)s)",
        {
            **row,
            "edges": json.dumps(list(edges)),
            "fingerprint": f"fp-{next(_numbers)}",
            "expires_at": row["created_at"] + timedelta(days=7),
            "named_market": named_market,
        },
    )
    names = [e if isinstance(e, str) else e["name"] for e in edges]
    return {**row, "edges": tuple(names), "market": named_market or row["market"]}


CLOSE = T0 + timedelta(hours=3)
WIN = {"status": "WIN", "exit_reason": "target", "fill_price": 100.0, "exit_price": 110.0,
       "triggered_at": T0 + timedelta(hours=1), "closed_at": CLOSE, "r": 2.0, "mfe_r": 2.1,
       "mae_r": -0.35}  # fmt: skip


def test_loaded_trades_equal_the_frame_built_from_the_same_rows(conn):
    conn.execute(
        "INSERT INTO instruments (ticker, market, market_source) VALUES ('NVDA', 'XNYS', 'ticker'),"
        " ('SAP', 'XETR', 'setting')"
    )
    rows = [
        stored_trade(
            conn,
            "OBJECTS",
            edges=[{"name": "VWAP reclaim", "strength": 2}, {"name": "RS vs SPY"}],
            strategy="momo-v2",
            market="XNYS",
            target2=120.0,
            target2_hit=True,
            **WIN,
        ),
        stored_trade(
            conn,
            "STRINGS",
            edges=["Gap & go", "VWAP reclaim"],
            ticker="SAP",
            market="XETR",
            direction="short",
            entry=50.0,
            stop=52.0,
            target=46.0,
            status="LOSS",
            exit_reason="stop",
            fill_price=49.9,
            exit_price=52.0,
            triggered_at=T0,
            closed_at=CLOSE,
            r=-1.05,
            ambiguous=True,
            mfe_r=0.0,
            mae_r=-1.05,
            target2_hit=False,
            confidence=5,
        ),
        stored_trade(
            conn,
            "MIXED",
            edges=["B", {"name": "A", "x": [1]}],
            market="XNYS",
            named_market="24/7",
            **WIN,
        ),
        stored_trade(conn, "NO-EDGES", ticker="ZZZ", confidence=0),  # no instrument: None
        stored_trade(
            conn,
            "BACKTEST",
            source="backtest",
            market="XNYS",
            strategy="bt",
            edges=["VWAP reclaim"],
            **WIN,
        ),
        stored_trade(conn, "NODATA", market="XNYS", status="EXPIRED", exit_reason="no_data"),
        stored_trade(
            conn,
            "MANUAL",
            market="XNYS",
            status="EXPIRED",
            exit_reason="manual",
            fill_price=100.0,
            triggered_at=T0,
            exit_price=101.23456789,
            closed_at=CLOSE,
            r=0.2469,
        ),
        stored_trade(conn, "CANCELLED", market="XNYS", status="CANCELLED"),
        stored_trade(
            conn,
            "OPEN",
            market="XNYS",
            status="OPEN",
            fill_price=100.0,
            triggered_at=T0,
            mfe_r=0.4,
            mae_r=0.0,
        ),
    ]
    loaded = storage.load_trades(conn)
    pd.testing.assert_frame_equal(loaded, trades_frame(rows))
    assert loaded["edges"].iloc[0] == ("VWAP reclaim", "RS vs SPY")
    assert loaded["edges"].iloc[2] == ("B", "A")


def test_trades_are_read_in_the_order_they_were_logged_even_after_outcomes_moved_them(conn):
    for name in ("A", "B", "C"):
        stored_trade(conn, name)
    conn.execute("UPDATE trade_signals SET status = 'OPEN', fill_price = 100,"
                     " triggered_at = created_at WHERE trade_id = 'A'")  # fmt: skip
    assert list(storage.load_trades(conn)["trade_id"]) == ["A", "B", "C"]


def test_trades_are_chosen_by_when_they_closed_and_were_created(conn):
    stored_trade(conn, "EARLY", **WIN)
    stored_trade(conn, "LATE", **{**WIN, "closed_at": CLOSE + timedelta(days=7)})
    stored_trade(conn, "OPEN", created_at=T0 + timedelta(days=7))
    week = {"closed_from": T0, "closed_to": T0 + timedelta(days=7)}
    assert list(storage.load_trades(conn, **week)["trade_id"]) == ["EARLY"]
    later = {"created_from": T0 + timedelta(days=1)}
    assert list(storage.load_trades(conn, **later)["trade_id"]) == ["OPEN"]
    before = {"created_to": T0 + timedelta(days=1), "closed_from": CLOSE + timedelta(days=1)}
    assert list(storage.load_trades(conn, **before)["trade_id"]) == ["LATE"]


def test_a_change_after_a_read_is_in_the_next_read(conn):
    stored_trade(conn, "A")
    assert list(storage.load_trades(conn)["status"]) == ["PENDING"]  # its block is now built
    conn.execute(
        "UPDATE trade_signals SET status = 'WIN', exit_reason = 'target', fill_price = 100,"
        " triggered_at = created_at, exit_price = 110, closed_at = created_at, r_achieved = 2"
    )
    stored_trade(conn, "B")
    conn.execute("INSERT INTO instruments (ticker, market, market_source) VALUES"
                 " ('NVDA', 'XNYS', 'ticker')")  # fmt: skip
    loaded = storage.load_trades(conn)
    assert list(loaded["status"]) == ["WIN", "PENDING"]
    assert list(loaded["r"].fillna(0)) == [2.0, 0.0]
    assert list(loaded["market"]) == ["XNYS", "XNYS"]  # instruments are read at each load


def test_large_slices_read_from_the_cached_blocks_cut_as_the_database_does(conn, monkeypatch):
    rows = [stored_trade(conn, "EARLY", **WIN),
            stored_trade(conn, "LATE", **{**WIN, "closed_at": CLOSE + timedelta(days=7)}),
            stored_trade(conn, "OPEN", created_at=T0 + timedelta(days=7))]  # fmt: skip
    slices = [
        {"closed_from": T0, "closed_to": T0 + timedelta(days=7)},
        {"created_from": T0 + timedelta(days=1)},
        {"created_to": T0 + timedelta(days=1), "closed_from": CLOSE + timedelta(days=1)},
        {"closed_to": CLOSE},
    ]
    direct = [storage.load_trades(conn, **bounds) for bounds in slices]
    monkeypatch.setattr(storage.analytics, "DIRECT_UP_TO", 0)
    for bounds, expected in zip(slices, direct, strict=True):
        pd.testing.assert_frame_equal(storage.load_trades(conn, **bounds), expected)
    pd.testing.assert_frame_equal(storage.load_trades(conn), trades_frame(rows))


@pytest.mark.parametrize(
    "columns", [["r", "status", "source", "exit_reason"], ["market"], ["edges", "closed_at"]]
)
def test_only_the_columns_asked_for_are_read(conn, monkeypatch, columns):
    conn.execute("INSERT INTO instruments (ticker, market, market_source) VALUES"
                 " ('NVDA', 'XNYS', 'ticker')")  # fmt: skip
    stored_trade(conn, "A", edges=["X"], **WIN)
    stored_trade(conn, "B", named_market="24/7", created_at=T0 + timedelta(days=1))
    week = {"created_from": T0, "created_to": T0 + timedelta(days=7)}
    for direct_up_to in (0, 1000):  # from the blocks, and aggregated directly
        monkeypatch.setattr(storage.analytics, "DIRECT_UP_TO", direct_up_to)
        everything = storage.load_trades(conn)
        everything = everything[[name for name in everything.columns if name in columns]]
        narrow = storage.load_trades(conn, columns=columns)
        pd.testing.assert_frame_equal(narrow, everything)
        pd.testing.assert_frame_equal(storage.load_trades(conn, columns=columns, **week), narrow)


def test_a_column_the_frame_does_not_have_is_refused_by_name(conn):
    with pytest.raises(ValueError, match="not columns of the trades frame: pnl"):
        storage.load_trades(conn, columns=["r", "pnl"])


def test_writers_never_wait_for_a_reader_rebuilding_the_cache(db_url):
    """A reader rebuilds changed blocks in its own transaction; a writer changing a signal
    meanwhile goes ahead, and the next read has the change."""
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as setup:
        stored_trade(setup, "A")
    with (
        psycopg.connect(db_url, row_factory=dict_row) as reader,
        psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as writer,
    ):
        assert list(storage.load_trades(reader)["status"]) == ["PENDING"]  # blocks locked
        writer.execute("SET lock_timeout = '1s'")
        writer.execute("UPDATE trade_signals SET status = 'CANCELLED'")
        stored_trade(writer, "B")
        reader.commit()
        assert list(storage.load_trades(reader)["status"]) == ["CANCELLED", "PENDING"]


def test_a_change_committed_after_a_reader_looked_is_rebuilt_by_the_next(db_url):
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        stored_trade(conn, "A")
        storage.load_trades(conn)
        with psycopg.connect(db_url, row_factory=dict_row) as writer:
            writer.execute("UPDATE trade_signals SET status = 'CANCELLED'")  # not committed
            assert list(storage.load_trades(conn)["status"]) == ["PENDING"]
        # the writer committed on leaving its block
        assert list(storage.load_trades(conn)["status"]) == ["CANCELLED"]


def test_no_trades_read_as_the_empty_frame(conn):
    pd.testing.assert_frame_equal(storage.load_trades(conn), empty_trades())


# --- rolling metrics ------------------------------------------------------------------------


@dataclass(frozen=True)
class RollingRow:  # the shape the analytics hand over
    scope: str
    key: str
    window_days: int
    as_of: datetime
    figures: dict


def test_rolling_metrics_are_upserted_one_row_per_scope_key_and_window(conn):
    first = [
        RollingRow("edge", "VWAP", 7, T0, {"n": 3, "win_rate": 0.5}),
        {"scope": "edge", "key": "VWAP", "window_days": 30, "as_of": T0, "figures": {"n": 9}},
    ]
    assert storage.upsert_rolling_metrics(conn, first) == 2
    later = T0 + timedelta(days=1)
    storage.upsert_rolling_metrics(conn, [RollingRow("edge", "VWAP", 7, later, {"n": 4})])
    rows = storage.rolling_metrics(conn, scope="edge")
    assert [(r["window_days"], r["as_of"], r["figures"]) for r in rows] == [
        (7, later, {"n": 4}),
        (30, T0, {"n": 9}),
    ]
    assert storage.rolling_metrics(conn, scope="strategy") == []


def test_an_infinite_figure_is_refused_by_name_not_stored_as_invalid_json(conn):
    row = RollingRow("edge", "VWAP", 7, T0, {"profit_factor": float("inf")})
    with pytest.raises(ValueError, match="cap infinite figures"):
        storage.upsert_rolling_metrics(conn, [row])


# --- feedback decisions -----------------------------------------------------------------------


def decision(key: str, at: datetime, action: str = "monitor") -> dict:
    figures = {"win_rate": 0.31, "n": 24}
    return {"scope": "edge", "key": key, "action": action, "findings": ["low_win_rate"],
            "figures": figures, "rule_version": "1", "decided_at": at}  # fmt: skip


def test_feedback_decisions_are_appended_and_read_back_in_order(conn):
    ids = storage.insert_feedback_decisions(conn, [decision("B", T0), decision("A", T0)])
    later = T0 + timedelta(days=1)
    storage.insert_feedback_decisions(conn, [decision("B", later, "disable")])
    everything = storage.feedback_decisions(conn)
    assert [(d["key"], d["action"]) for d in everything] == [
        ("B", "monitor"), ("A", "monitor"), ("B", "disable"),
    ]  # fmt: skip
    assert [d["id"] for d in everything[:2]] == ids
    assert everything[0]["figures"] == {"win_rate": 0.31, "n": 24}
    assert [d["key"] for d in storage.feedback_decisions(conn, since=later)] == ["B"]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE feedback_decisions SET action = 'keep'", "DELETE FROM feedback_decisions",
     "TRUNCATE feedback_decisions"],
)  # fmt: skip
def test_feedback_decisions_cannot_be_changed_or_removed(conn, statement):
    storage.insert_feedback_decisions(conn, [decision("A", T0)])
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        conn.execute(statement)


# --- weekly reports ---------------------------------------------------------------------------


def test_rebuilding_a_week_replaces_its_report_and_bumps_the_revision(conn):
    week = date(2026, 11, 16)
    first = storage.save_weekly_report(conn, week, {"n": 1}, {"totals": {"n": 1}}, "<p>1</p>", T0)
    again = storage.save_weekly_report(
        conn, week, {"n": 2}, {"totals": {"n": 2}}, "<p>2</p>", T0 + timedelta(hours=1)
    )
    assert (first, again) == (1, 2)
    stored = storage.weekly_report(conn, week)
    assert stored["summary"] == {"n": 2} and stored["data"] == {"totals": {"n": 2}}
    assert stored["html"] == "<p>2</p>" and stored["revision"] == 2
    assert conn.execute("SELECT count(*) FROM weekly_reports").fetchone()["count"] == 1


def test_the_list_of_reports_is_newest_first_without_html(conn):
    for week in (date(2026, 11, 9), date(2026, 11, 16)):
        storage.save_weekly_report(conn, week, {}, {}, "<html>", T0)
    listed = storage.weekly_reports(conn)
    assert [r["week_start"] for r in listed] == [date(2026, 11, 16), date(2026, 11, 9)]
    assert "html" not in listed[0] and listed[0]["revision"] == 1
    assert storage.weekly_report(conn, date(2026, 11, 2)) is None


def test_edges_of_equal_length_stay_one_tuple_per_trade(conn):
    rows = [stored_trade(conn, f"T{i}", edges=["A", "B"]) for i in range(3)]
    pd.testing.assert_frame_equal(storage.load_trades(conn), trades_frame(rows))


def test_rows_are_dicts_whatever_rows_the_connection_makes(sql_conn):
    assert storage.save_weekly_report(sql_conn, date(2026, 11, 16), {}, {}, "<p>", T0) == 1
    assert storage.weekly_reports(sql_conn)[0]["revision"] == 1
    assert list(storage.load_trades(sql_conn).columns) == list(TRADE_COLUMNS)
