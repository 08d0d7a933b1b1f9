"""From a clean ledger: import a book, resolve it, and `stats`, `edges`, `confidence` and
`report weekly` agree with a hand computation from `signals export`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from freezegun import freeze_time

from edgeledger.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def resolved_book(monkeypatch, db_url):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("EDGELEDGER_PRICE_PROVIDER", "csv")
    monkeypatch.setenv("EDGELEDGER_PRICE_DIR", str(ROOT / "examples" / "prices"))
    with freeze_time("2026-11-22 12:00:00"):
        assert run("signals", "import", str(ROOT / "examples" / "signals.csv"))[0] == 0
        assert run("resolve", "--as-of", "2026-11-21T00:00:00Z")[0] == 0
        yield


def exported_closed_trades() -> list[dict]:
    code, out, _ = run("signals", "export")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    return [r for r in rows if r["status"] in ("WIN", "LOSS", "EXPIRED") and r["fill_price"]]


def test_stats_agree_with_the_export(resolved_book):
    closed = exported_closed_trades()
    r = [float(row["r_achieved"]) for row in closed]
    wins = sum(row["status"] == "WIN" for row in closed)
    losses = sum(row["status"] == "LOSS" for row in closed)
    with freeze_time("2026-11-22 12:00:00"):
        code, out, _ = run("stats", "--json")
    stats = json.loads(out)
    assert code == 0
    assert (stats["n"], stats["wins"], stats["losses"]) == (len(closed), wins, losses)
    assert stats["win_rate"] == pytest.approx(wins / (wins + losses))
    assert stats["total_r"] == pytest.approx(sum(r))
    assert stats["avg_r"] == pytest.approx(sum(r) / len(r))
    assert stats["signals"] == 6 and stats["not_triggered"] == 1


def test_edges_agree_with_the_export(resolved_book):
    closed = exported_closed_trades()
    by_edge: dict[str, list[float]] = {}
    for row in closed:
        for edge in row["edges"].split(";"):
            by_edge.setdefault(edge, []).append(float(row["r_achieved"]))
    with freeze_time("2026-11-22 12:00:00"):
        code, out, _ = run("edges", "--json", "--min-n", "2")
    edges = {e["edge"]: e for e in json.loads(out)}
    assert code == 0 and set(edges) == set(by_edge)
    for name, r in by_edge.items():
        assert edges[name]["n"] == len(r)
        assert edges[name]["total_r"] == pytest.approx(sum(r))
        assert edges[name]["ranked"] is (len(r) >= 2)


def test_the_tables_for_people_read_as_the_report_does(resolved_book):
    with freeze_time("2026-11-22 12:00:00"):
        code, out, _ = run("stats")
        assert code == 0 and "win rate 50.0%" in out and "closed 5: 2 wins, 2 losses" in out
        code, out, _ = run("edges")
        assert code == 0 and "not enough data" in out
        code, out, _ = run("confidence")
        assert code == 0 and "not enough data" in out.lower()


def test_the_weekly_report_is_stored_and_written(resolved_book, tmp_path, sql_conn):
    out_file = tmp_path / "week.html"
    with freeze_time("2026-11-22 22:00:00"):  # Sunday evening: the week ending tonight
        code, out, _ = run("report", "weekly", "--out", str(out_file))
        again = run("report", "weekly", "--out", str(out_file))
    assert code == 0 and out.startswith("weekly report for 2026-11-16 (revision 1")
    assert "revision 2" in again[1]
    html = out_file.read_text()
    assert "<svg" in html and "+1.72R" in html and "50.0%" in html
    rows = sql_conn.execute("SELECT week_start, revision FROM weekly_reports").fetchall()
    assert [(str(row[0]), row[1]) for row in rows] == [("2026-11-16", 2)]


def test_a_week_that_is_not_a_monday_is_refused_by_name(resolved_book):
    code, _, err = run("report", "weekly", "--week", "2026-11-18")
    assert code == 2 and "--week: 2026-11-18 is not a Monday" in err


def test_a_run_that_closed_trades_upserts_rolling_metrics_once_per_key(resolved_book, sql_conn):
    rows = sql_conn.execute(
        "SELECT scope, key, window_days, figures->>'n' FROM rolling_metrics ORDER BY 1, 2, 3"
    ).fetchall()
    momo = sum(row["strategy"] == "momo-v2" for row in exported_closed_trades())
    assert ("strategy", "momo-v2", 7, str(momo)) in [tuple(row) for row in rows]
    assert len(rows) == len({(row[0], row[1], row[2]) for row in rows})


def test_the_weekly_report_puts_backtest_figures_beside_live_ones(resolved_book, tmp_path):
    from tests.test_backtest_import import backtest_row, write_jsonl

    path = write_jsonl(tmp_path, backtest_row(strategy="momo-v2", edges=["RS vs SPY"]))
    out_file = tmp_path / "week.html"
    with freeze_time("2026-11-22 22:00:00"):
        assert run("signals", "import", str(path), "--source", "backtest")[0] == 0
        code, _, err = run("report", "weekly", "--out", str(out_file))
    assert code == 0, err
    html = out_file.read_text()
    assert "Live vs backtest" in html and "momo-v2" in html
