"""The README's first command: the demo runs the whole loop on the sample book, and settles
the small hand-checked book exactly as the rules say."""

from __future__ import annotations

import filecmp
import importlib.util
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from edgeledger import demo
from edgeledger.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> tuple[str, Path]:
    report = tmp_path_factory.mktemp("demo") / "report.html"
    out = io.StringIO()
    assert demo.run(demo.SAMPLE_BOOK, report, out=out) == 0
    return out.getvalue(), report


def test_the_demo_resolves_the_sample_book_and_says_what_it_found(sample_run):
    out, report = sample_run
    assert "imported 368 signals from examples/sample-book/signals.csv" in out
    assert re.search(r"resolved as of 2026-11-23 01:00 UTC: \d{3} closed", out)
    assert "Weekly report, Nov 16 to Nov 22, 2026" in out
    assert re.search(r"All time: +368 signals", out)
    # the edge the sample book was made with real skill is found, and found to survive
    assert re.search(r"1\. VWAP reclaim: n \d+, win rate [\d.]+% .*: better", out)
    assert "368 re-derived from stored bars, 0 differences" in out
    assert f"open {report.resolve().as_uri()}" in out


def test_the_demo_writes_the_report_it_points_to(sample_run):
    _, report = sample_run
    html = report.read_text()
    assert html.startswith("<!doctype html>") and "VWAP reclaim" in html
    assert "Week of Nov 16" in html or "Nov 16" in html


def test_the_sample_book_is_what_its_generator_writes(tmp_path):
    """The bundled files are the synthetic book its README describes, nothing edited by
    hand: the generator, run again, writes them byte for byte."""
    spec = importlib.util.spec_from_file_location(
        "make_sample_book", ROOT / "examples" / "make_sample_book.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    book = ROOT / "examples" / "sample-book"
    files = ["signals.csv", *(f"prices/1h/{p.name}" for p in (book / "prices/1h").iterdir())]
    match, mismatch, errors = filecmp.cmpfiles(book, tmp_path, files, shallow=False)
    assert (mismatch, errors) == ([], []) and len(match) == 12
    assert "SYNTHETIC" in (book / "README.md").read_text()


def test_the_hand_checked_book_settles_every_signal_by_the_rules(tmp_path):
    out = io.StringIO()
    as_of = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    assert demo.run(demo.EXAMPLES, tmp_path / "r.html", as_of=as_of, out=out) == 0
    expected = [
        "NVDA-20261120-001    long  swing WIN      target         +2.15R",
        "TSLA-20261120-001    long  swing LOSS     stop           -1.00R",
        "AMD-20261120-001     short swing WIN      target         +1.50R",
        # The 15:30 ET hourly bar ends at the 16:00 close, so it is in the day trade's
        # window: the exit is its close, 186.10, after a fill at 186.00 with 1.50 of risk.
        "NVDA-20261120-002    long  day   EXPIRED  timeout        +0.07R",
        "AMD-20261120-002     long  day   LOSS     stop           -1.00R",
        "TSLA-20261120-002    short day   EXPIRED  not_triggered",
    ]
    for line in expected:
        assert line in out.getvalue()
    assert "6 re-derived from stored bars, 0 differences" in out.getvalue()


def test_the_demo_command_stops_its_server_before_removing_its_directory(tmp_path):
    """A server whose directory is gone can no longer be stopped at exit: each demo would
    leave a PostgreSQL running."""
    out, err = io.StringIO(), io.StringIO()
    book = ["--book", str(demo.EXAMPLES), "--out", str(tmp_path / "r.html")]
    assert main(["demo", *book], out=out, err=err) == 0
    scratch = re.search(r"embedded PostgreSQL in (\S+) \.\.\.", out.getvalue())[1]
    assert not Path(scratch).exists()
    still_running = [
        process.pid
        for process in psutil.process_iter(["cmdline"])
        if any(scratch in part for part in process.info["cmdline"] or [])
    ]
    assert still_running == []


def test_a_book_without_signals_is_refused(tmp_path, capsys):
    assert demo.run(tmp_path, tmp_path / "r.html", out=io.StringIO()) == 1
    assert "signals.csv" in capsys.readouterr().err


def test_a_kept_demo_database_opens_in_the_dashboard_as_the_demo_says(tmp_path):
    from dataclasses import replace

    from edgeledger.database import Database
    from edgeledger.settings import Settings
    from tests.web.book import fetch

    out = io.StringIO()
    kept = tmp_path / "demo-data"
    as_of = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    assert demo.run(demo.EXAMPLES, tmp_path / "r.html", as_of=as_of, out=out, keep=kept) == 0
    said = re.search(r"EDGELEDGER_DATA_DIR=(\S+) EDGELEDGER_DASHBOARD_TOKEN=(\S+)", out.getvalue())
    assert said and Path(said[1]) == kept.resolve()
    assert "http://127.0.0.1:8000/login" in out.getvalue()
    settings = replace(Settings.from_env({"EDGELEDGER_DATA_DIR": said[1]}), dashboard_token=said[2])
    with Database.from_settings(settings) as db:
        pages = fetch(db, "/overview?period=all", "/reports", config=settings)
        with db.connection() as conn:
            closed = conn.execute(
                "SELECT count(*) AS n FROM trade_signals WHERE status IN ('WIN', 'LOSS', 'EXPIRED')"
                " AND fill_price IS NOT NULL"
            ).fetchone()["n"]
    status, html, _ = pages["/overview?period=all"]
    assert status == 200 and f'data-figure="n">{closed}<' in html
    assert "/reports/" in pages["/reports"][1]


def test_without_keep_the_demo_says_how_to_keep_it_for_the_dashboard(sample_run):
    out, _ = sample_run
    assert "edgeledger demo --keep DIR" in out
