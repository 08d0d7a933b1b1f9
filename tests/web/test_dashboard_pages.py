"""Each page's figures on a known book, against the analytics core read directly."""

from __future__ import annotations

import re

import pytest

from edgeledger import storage
from edgeledger.core.calibration import calibration
from edgeledger.core.dashboard_data import bin_counts, r_bins
from edgeledger.core.metrics import population_metrics
from edgeledger.core.rankings import rank_edges
from edgeledger.core.trades import closed, counted
from reports import formatting
from tests.web.book import NOW, fetch, load_book


@pytest.fixture
def book(db, db_url):
    load_book(db_url, db)
    return db


def live_closed(db):
    with db.connection() as conn, conn.transaction():
        return closed(counted(storage.load_trades(conn)))


def figures(html: str, name: str) -> list[str]:
    return re.findall(rf'data-figure="{name}">([^<]*)<', html)


def test_the_overview_shows_the_core_metrics_of_all_time(book):
    status, html, _ = fetch(book, "/overview?period=all")["/overview?period=all"]
    expected = population_metrics(live_closed(book))
    assert status == 200
    assert expected.n == 12 and expected.win_rate == 0.5  # the book is what it says
    assert figures(html, "n") == [formatting.count(expected.n)]
    assert figures(html, "win-rate") == [formatting.pct(expected.win_rate)]
    assert figures(html, "avg-r") == [formatting.r(expected.avg_r)]
    assert figures(html, "total-r") == [formatting.r(expected.total_r)]


def test_a_week_is_shown_beside_the_week_before(book):
    _, html, _ = fetch(book, "/overview?period=week")["/overview?period=week"]
    done = live_closed(book)
    this_week = done[done["closed_at"] >= "2026-11-23T05:00Z"]  # Monday Nov 23, New York
    before = done[
        (done["closed_at"] < "2026-11-23T05:00Z") & (done["closed_at"] >= "2026-11-16T05:00Z")
    ]
    shown = [population_metrics(this_week), population_metrics(before)]
    assert figures(html, "n") == [formatting.count(m.n) for m in shown]
    assert figures(html, "total-r") == [formatting.r(m.total_r) for m in shown]
    assert "Previous week" in html


def test_the_overview_names_the_best_ranked_edge_or_says_none_is(book):
    _, html, _ = fetch(book, "/overview?period=all")["/overview?period=all"]
    ranking = rank_edges(live_closed(book), min_n=10)
    best = [e for e in ranking if e.rank == 1]
    if best:
        assert f'<span class="chip">{best[0].edge}</span> ranked first' in html
    else:
        assert "not enough data" in html


def test_the_r_distribution_bins_the_closed_trades_as_the_report_does(book):
    _, html, _ = fetch(book, "/overview?period=all")["/overview?period=all"]
    bins = r_bins(bin_counts(live_closed(book)["r"].to_numpy()))
    chart = html.split('data-chart="r-distribution"', 1)[1].split("</svg>", 1)[0]
    assert chart.count("<rect") == len(bins)
    for b in bins:
        assert f"{formatting.r(b.lo)} to {formatting.r(b.hi)}: {formatting.count(b.count)}" in chart


def test_the_win_rate_over_time_has_a_point_per_month_for_all_time(book):
    _, html, _ = fetch(book, "/overview?period=all")["/overview?period=all"]
    chart = html.split('data-chart="win-rate"', 1)[1].split("</svg>", 1)[0]
    assert chart.count("<circle") == 1  # November 2026 only
    assert "Nov 01, 2026: 50.0% of 12" in chart


def test_the_edges_page_ranks_as_the_core_does_and_names_what_survives(book):
    _, html, _ = fetch(book, "/edges?period=all&min_n=3")["/edges?period=all&min_n=3"]
    ranking = rank_edges(live_closed(book), min_n=3)
    for edge in ranking:
        assert f'<th scope="row" class="name">{edge.edge}</th>' in html.replace(
            "&lt;b&gt;bold&lt;/b&gt;", "<b>bold</b>"
        )
        assert edge.verdict in html
    assert "survive" in html


def test_the_confidence_page_shows_each_star_level_of_the_core(book):
    _, html, _ = fetch(book, "/confidence?period=all")["/confidence?period=all"]
    found = calibration(live_closed(book), min_n=10)
    assert found.verdict in html.replace("&#39;", "'")
    for level in found.rows:
        assert (
            f'<th scope="row">{formatting.stars(level.stars)}</th><td class="num">{level.n}</td>'
            in html
        )


def test_the_trade_table_filters_and_pages_newest_first(book):
    pages = fetch(
        book,
        "/trades?ticker=aapl",
        "/trades?status=WIN&type=day",
        "/trades?edge=vwap",
        "/trades?strategy=swingy&confidence=3",
        "/trades?from=2026-11-24&to=2026-11-25",
    )
    ids = {
        path: re.findall(r'href="/trades/([^"]+)"', html) for path, (_, html, _) in pages.items()
    }
    assert ids["/trades?ticker=aapl"] == [
        "AAPL-20261123-001", "AAPL-20261122-001", "AAPL-20261121-001", "AAPL-20261120-002",
        "AAPL-20261120-001",
    ]  # fmt: skip
    assert set(ids["/trades?status=WIN&type=day"]) == {
        "NVDA-20261110-001", "NVDA-20261111-001", "NVDA-20261111-002", "NVDA-20261112-002",
        "TSLA-20261117-001",
    }  # fmt: skip
    assert set(ids["/trades?edge=vwap"]) == {
        "NVDA-20261111-001",
        "NVDA-20261111-002",
        "NVDA-20261112-001",
    }
    assert len(ids["/trades?strategy=swingy&confidence=3"]) == 5
    assert set(ids["/trades?from=2026-11-24&to=2026-11-25"]) == {
        "MSFT-20261124-001", "MSFT-20261125-001", "AAPL-20261121-001", "AAPL-20261122-001",
    }  # fmt: skip


def test_the_next_page_continues_where_the_first_ended(book, monkeypatch):
    from edgeledger import dashboard

    monkeypatch.setattr(dashboard.trade_page, "__kwdefaults__", {"before": None, "size": 4})
    first = fetch(book, "/trades")["/trades"][1]
    ids = re.findall(r'href="/trades/([^"]+)"', first)
    cursor = re.search(r'href="(/trades\?before=[^"]+)" rel="next"', first).group(1)
    second = fetch(book, cursor.replace("&amp;", "&"))[cursor.replace("&amp;", "&")][1]
    more = re.findall(r'href="/trades/([^"]+)"', second)
    assert len(ids) == 4 and len(more) == 4 and not set(ids) & set(more)


def test_a_bad_filter_is_refused_by_name(book):
    status, html, _ = fetch(book, "/trades?confidence=9")["/trades?confidence=9"]
    assert status == 400 and "confidence: must be a number of stars from 0 to 5" in html


def test_the_trade_page_shows_levels_outcome_bars_and_history(book):
    status, html, _ = fetch(book, "/trades/NVDA-20261110-002")["/trades/NVDA-20261110-002"]
    assert status == 200
    assert "<strong>LOSS</strong>" in html and "the stop was hit" in html
    assert 'data-chart="bars"' in html and html.count("<rect") > 5
    for level in ("entry", "target", "stop · exit"):
        assert f">{level}</text>" in html
    assert "<td>created</td><td>test</td>" in html


def test_an_unknown_trade_is_not_found(book):
    assert fetch(book, "/trades/NOPE-1")["/trades/NOPE-1"][0] == 404


def test_reports_are_listed_and_each_is_the_stored_html(book, db_url):
    import psycopg

    pages = fetch(book, "/reports", "/reports/2026-11-16")
    assert 'href="/reports/2026-11-16"' in pages["/reports"][1]
    with psycopg.connect(db_url) as conn:
        stored = conn.execute("SELECT html FROM weekly_reports").fetchone()[0]
    assert pages["/reports/2026-11-16"][1] == stored
    assert NOW  # the report was built at NOW


def test_the_r_distribution_follows_a_change_of_outcome(book, db_url):
    import psycopg

    fetch(book, "/overview?period=all")  # the day bins are built
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE trade_signals SET r_achieved = 5.2, exit_price = 126"
            " WHERE trade_id = 'NVDA-20261110-001'"
        )
    _, html, _ = fetch(book, "/overview?period=all")["/overview?period=all"]
    bins = r_bins(bin_counts(live_closed(book)["r"].to_numpy()))
    assert bins[-1].lo == 5.0 and bins[-1].count == 1
    chart = html.split('data-chart="r-distribution"', 1)[1].split("</svg>", 1)[0]
    assert chart.count("<rect") == len(bins)
    assert f"{formatting.r(5.0)} to {formatting.r(5.5)}: 1" in chart
