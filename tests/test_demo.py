"""The README's first command: the demo settles the example signals as the rules say."""

from __future__ import annotations

import re
from pathlib import Path

import psutil

from edgeledger import demo


def test_the_demo_settles_every_example_signal_by_the_rules(capsys):
    assert demo.main() == 0
    out = capsys.readouterr().out
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
        assert line in out
    assert "6 re-derived from stored bars, 0 differences" in out


def test_the_demo_stops_its_server_before_removing_its_directory(capsys):
    """A server whose directory is gone can no longer be stopped at exit: each demo would
    leave a PostgreSQL running."""
    assert demo.main() == 0
    scratch = re.search(r"embedded PostgreSQL in (\S+) \.\.\.", capsys.readouterr().out)[1]
    assert not Path(scratch).exists()
    still_running = [
        process.pid
        for process in psutil.process_iter(["cmdline"])
        if any(scratch in part for part in process.info["cmdline"] or [])
    ]
    assert still_running == []


def test_a_kept_demo_database_opens_in_the_dashboard_as_the_demo_says(capsys, tmp_path):
    from dataclasses import replace

    from edgeledger.database import Database
    from edgeledger.settings import Settings
    from tests.web.book import fetch

    assert demo.main(["--keep", str(tmp_path / "demo-data")]) == 0
    out = capsys.readouterr().out
    said = re.search(r"EDGELEDGER_DATA_DIR=(\S+) EDGELEDGER_DASHBOARD_TOKEN=(\S+)", out)
    assert said and Path(said[1]) == (tmp_path / "demo-data").resolve()
    assert "http://127.0.0.1:8000/login" in out
    settings = replace(Settings.from_env({"EDGELEDGER_DATA_DIR": said[1]}), dashboard_token=said[2])
    with Database.from_settings(settings) as db:
        pages = fetch(db, "/overview?period=all", "/reports/2026-11-16", config=settings)
    status, html, _ = pages["/overview?period=all"]
    assert status == 200 and 'data-figure="n">5<' in html  # 5 trades filled and closed
    assert pages["/reports/2026-11-16"][0] == 200
