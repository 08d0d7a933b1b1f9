"""Backtest trades are imported with their outcomes, checked like any outcome, and never
touched by the resolver; live imports still ignore outcome columns."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from freezegun import freeze_time

from edgeledger import importer, storage
from edgeledger.cli import main
from edgeledger.errors import InvalidImport
from edgeledger.prices import PriceSettings, make_provider
from edgeledger.resolver import run_resolve
from tests.factories import raw_signal, write_bars

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
# A long NVDA trade: entry 181.20, stop 179.90 (risk 1.30), target 184.00, target2 186.50.
WIN = {
    "status": "WIN", "fill_price": "181.20", "triggered_at": "2026-11-20T15:30:00Z",
    "exit_price": "184.00", "closed_at": "2026-11-20T16:30:00Z", "exit_reason": "target",
    "r_achieved": "2.1538", "mfe_r": "2.3", "mae_r": "-0.2", "target2_hit": "false",
    "ambiguous": "false",
}  # fmt: skip


def write_jsonl(tmp_path: Path, *rows: dict) -> Path:
    path = tmp_path / "backtest.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def backtest_row(**changes) -> dict:
    row = {**raw_signal(), **WIN, **changes}
    return {k: v for k, v in row.items() if v is not None}


def stored(sql_conn, columns: str = "status, fill_price, exit_price, exit_reason, r_achieved"):
    return sql_conn.execute(f"SELECT source, {columns} FROM trade_signals ORDER BY id").fetchall()


def problems(excinfo) -> list[tuple[str, str]]:
    return [(p.field, p.reason) for p in excinfo.value.problems]


def test_backtest_trades_are_stored_with_their_outcomes(db, sql_conn, tmp_path):
    path = write_jsonl(tmp_path, backtest_row())
    report = importer.import_file(db, path, now=NOW, backtest=True)
    assert report.inserted == 1
    row = sql_conn.execute(
        "SELECT source, status, fill_price, triggered_at, exit_price, closed_at, exit_reason,"
        " r_achieved, mfe_r, mae_r, target2_hit, ambiguous FROM trade_signals"
    ).fetchone()
    assert row == (
        "backtest", "WIN", Decimal("181.2"), datetime(2026, 11, 20, 15, 30, tzinfo=UTC),
        Decimal("184"), datetime(2026, 11, 20, 16, 30, tzinfo=UTC), "target",
        Decimal("2.1538"), Decimal("2.3"), Decimal("-0.2"), False, False,
    )  # fmt: skip


def test_r_left_out_is_derived_as_the_rules_round_it(db, sql_conn, tmp_path):
    short = backtest_row(
        direction="short", entry="100", stop="103", target="91", target2=None,
        status="LOSS", exit_reason=None, fill_price="100.5", exit_price="103.25",
        r_achieved=None, target2_hit=None, mfe_r=None, mae_r=None,
    )  # fmt: skip
    importer.import_file(db, write_jsonl(tmp_path, short), now=NOW, backtest=True)
    # (103.25 - 100.5) / (100 - 103) = -0.916666... -> -0.9167; a blank exit of a LOSS is a stop
    assert stored(sql_conn) == [
        ("backtest", "LOSS", Decimal("100.5"), Decimal("103.25"), "stop", Decimal("-0.9167"))
    ]


def test_an_r_that_does_not_match_the_fill_exit_and_levels_is_refused(db, sql_conn, tmp_path):
    path = write_jsonl(tmp_path, backtest_row(r_achieved="2.5"))
    with pytest.raises(InvalidImport) as excinfo:
        importer.import_file(db, path, now=NOW, backtest=True)
    assert problems(excinfo) == [
        ("r_achieved", "2.5 does not match the trade: (exit 184.00 - fill 181.20)"
         " / (entry 181.20 - stop 179.90) = 2.1538"),
    ]  # fmt: skip
    assert stored(sql_conn) == []


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"status": "OPEN"}, "status", "'OPEN' must be WIN, LOSS or EXPIRED"),
        ({"status": None}, "status", "is required for a backtest trade"),
        ({"exit_reason": "stop"}, "exit_reason", "stop cannot close a WIN"),
        ({"exit_reason": "no_data"}, "exit_reason", "no_data is for live signals"),
        ({"fill_price": None}, "fill_price", "is required for a WIN trade"),
        ({"exit_price": "-1"}, "exit_price", "-1 must be greater than 0"),
        ({"closed_at": "2026-11-20T16:30:00"}, "closed_at", "has no UTC offset"),
        ({"closed_at": "2026-11-20T15:00:00Z"}, "closed_at", "is before triggered_at"),
        ({"triggered_at": "2026-11-20T14:00:00Z"}, "triggered_at", "is before created_at"),
        ({"closed_at": "2026-12-20T15:00:00Z"}, "closed_at", "is in the future"),
        ({"exit_price": "180", "r_achieved": None}, "r_achieved", "a WIN cannot lose"),
        ({"mfe_r": "-0.1"}, "mfe_r", "must not be negative"),
        ({"mae_r": "0.1"}, "mae_r", "must not be positive"),
        ({"target2_hit": "maybe"}, "target2_hit", "must be true or false"),
        ({"source": "discord"}, "source", "a backtest file holds only backtest trades"),
    ],
)
def test_a_bad_outcome_is_refused_naming_its_field(db, sql_conn, tmp_path, changes, field, reason):
    path = write_jsonl(tmp_path, backtest_row(**changes))
    with pytest.raises(InvalidImport) as excinfo:
        importer.import_file(db, path, now=NOW, backtest=True)
    assert [(p.field, p.line) for p in excinfo.value.problems] == [(field, 1)]
    assert reason in excinfo.value.problems[0].reason
    assert stored(sql_conn) == []


def test_a_trade_that_never_filled_has_no_fill_exit_or_r(db, sql_conn, tmp_path):
    unfilled = {name: None for name in ("fill_price", "triggered_at", "exit_price", "closed_at",
                                        "r_achieved", "mfe_r", "mae_r")}  # fmt: skip
    row = backtest_row(**unfilled, status="EXPIRED", exit_reason="not_triggered")
    importer.import_file(db, write_jsonl(tmp_path, row), now=NOW, backtest=True)
    assert stored(sql_conn) == [("backtest", "EXPIRED", None, None, "not_triggered", None)]
    filled = write_jsonl(tmp_path, backtest_row(status="EXPIRED", exit_reason="not_triggered"))
    with pytest.raises(InvalidImport, match="must be empty for a trade that never filled"):
        importer.import_file(db, filled, now=NOW, backtest=True)


def test_a_csv_backtest_file_is_read_with_its_outcome_columns(db, sql_conn, tmp_path):
    row = backtest_row(edges="VWAP reclaim;RS vs SPY")
    path = tmp_path / "backtest.csv"
    path.write_text(",".join(row) + "\n" + ",".join(str(v) for v in row.values()) + "\n")
    importer.import_file(db, path, now=NOW, backtest=True)
    assert stored(sql_conn)[0][:2] == ("backtest", "WIN")


def test_a_backtest_trade_replaying_a_live_signal_is_stored_beside_it(db, sql_conn, tmp_path):
    importer.import_file(db, write_jsonl(tmp_path, raw_signal()), now=NOW)
    report = importer.import_file(db, write_jsonl(tmp_path, backtest_row()), now=NOW, backtest=True)
    again = importer.import_file(db, write_jsonl(tmp_path, backtest_row()), now=NOW, backtest=True)
    assert (report.inserted, again.inserted, again.already_present) == (1, 0, 1)
    assert [row[:2] for row in stored(sql_conn)] == [("import", "PENDING"), ("backtest", "WIN")]


def test_a_live_import_ignores_outcome_columns_as_before(db, sql_conn, tmp_path):
    importer.import_file(db, write_jsonl(tmp_path, backtest_row()), now=NOW)
    assert stored(sql_conn) == [("import", "PENDING", None, None, None, None)]


def test_a_live_import_refuses_a_backtest_row_which_would_never_be_settled(db, tmp_path):
    path = write_jsonl(tmp_path, raw_signal(source="backtest"))
    with pytest.raises(InvalidImport) as excinfo:
        importer.import_file(db, path, now=NOW)
    assert problems(excinfo) == [("source", importer.BACKTEST_ONLY_BY_FLAG)]


# --- the resolver leaves them alone -------------------------------------------------------------

NVDA_1H = [  # NVDA falls through the stop: live trades of these terms lose
    ("2026-11-19T20:30:00Z", 181.0, 181.4, 180.9, 181.3),
    ("2026-11-20T14:30:00Z", 181.3, 181.5, 181.0, 181.3),
    ("2026-11-20T15:30:00Z", 181.3, 181.4, 181.1, 181.2),
    ("2026-11-20T16:30:00Z", 181.2, 181.2, 179.0, 179.2),
]


def test_the_resolver_never_touches_backtest_trades(db, sql_conn, tmp_path):
    write_bars(tmp_path / "prices", "1h", "NVDA", NVDA_1H)
    settings = PriceSettings.from_env(
        {"EDGELEDGER_PRICE_PROVIDER": "csv", "EDGELEDGER_PRICE_DIR": str(tmp_path / "prices")}
    )
    provider = make_provider(settings, clock=lambda: NOW)
    unfilled = {name: None for name in ("fill_price", "triggered_at", "exit_price", "closed_at",
                                        "r_achieved", "mfe_r", "mae_r", "target2_hit")}  # fmt: skip
    rows = [
        backtest_row(target2_hit=None),  # a WIN still "watching" target2, to a live eye
        backtest_row(**unfilled, status="EXPIRED", exit_reason="not_triggered", strategy="b"),
    ]
    importer.import_file(db, write_jsonl(tmp_path, *rows), now=NOW, backtest=True)
    importer.import_file(db, write_jsonl(tmp_path, raw_signal()), now=NOW)
    with db.connection() as conn:
        storage.request_rederive(conn, [], at=NOW, reason="test")
        books = storage.unresolved_books(conn, interval="1h", trade_types=["day", "swing"])
        assert [(b.ticker, b.signals) for b in books] == [("NVDA", 1)]
        assert len(storage.open_signals_of(conn, ["NVDA"])["NVDA"]) == 1
    run_resolve(db, provider, as_of=NOW, now=NOW, interval="1h", drill=())
    assert [row[:3] for row in stored(sql_conn, "status, exit_reason")] == [
        ("backtest", "WIN", "target"),
        ("backtest", "EXPIRED", "not_triggered"),
        ("import", "LOSS", "stop"),
    ]
    events = sql_conn.execute(
        "SELECT t.source, e.kind FROM signal_events e JOIN trade_signals t USING (trade_id)"
        " ORDER BY e.id"
    ).fetchall()
    assert ("backtest", "resolved") not in events


# --- the command line ---------------------------------------------------------------------------


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@freeze_time("2026-11-21 12:00:00")
def test_the_command_imports_a_backtest_file_with_source_backtest(monkeypatch, db_url, tmp_path):
    monkeypatch.setenv("DATABASE_URL", db_url)
    path = write_jsonl(tmp_path, backtest_row())
    code, out, _ = run_cli("signals", "import", str(path), "--source", "backtest")
    assert (code, out.strip().split(" from ")[0]) == (0, "imported 1 new signal")
    code, _, err = run_cli("signals", "import", str(path))
    assert code == 0
    code, _, err = run_cli("signals", "add", "--ticker", "NVDA", "--type", "day",
                           "--direction", "long", "--entry", "10", "--stop", "9", "--target",
                           "12", "--confidence", "3", "--source", "backtest")  # fmt: skip
    assert code == 2 and "--source: backtest trades are imported with --source backtest" in err
