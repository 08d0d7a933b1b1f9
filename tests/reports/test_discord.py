"""The Discord summary: an embed within every limit of discord.md, the equity PNG, and no
mentions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reports import discord as summary
from tests.report_samples import edge, empty_week, sample_week


def assert_within_limits(embed: dict) -> None:
    assert summary.units(embed["title"]) <= 256
    assert summary.units(embed["description"]) <= 4096
    assert len(embed["fields"]) <= 25
    for f in embed["fields"]:
        assert 0 < summary.units(f["name"]) <= 256
        assert 0 < summary.units(f["value"]) <= 1024
    assert summary.units(embed["footer"]["text"]) <= 2048
    assert summary.embed_length(embed) <= 6000


def long_edges(n: int = 30) -> list:
    name = "Opening range breakout after a <b>VWAP</b> reclaim with @everyone *volume* 📈 "
    return [edge(f"{i:02d} {name * 4}", 40 + i, 20, 20, 0.1, rank=i + 1) for i in range(n)]


def test_the_summary_reads_the_weeks_figures_as_specified() -> None:
    embed = summary.summary_embed(sample_week())
    assert embed["title"] == "Weekly report · Nov 23 – Nov 29, 2026"
    assert (
        "**+9.66R** over 23 closed trades · win rate 57.1% (12W–9L, 2 expired)"
        in (embed["description"])
    )
    assert "avg +0.42R" in embed["description"]
    names = [f["name"] for f in embed["fields"]]
    assert names[:5] == ["Previous week · all time", "Best edges", "Worst edges", "Top trades",
                         "Bottom trades"]  # fmt: skip
    assert embed["color"] == summary.GREEN
    assert_within_limits(embed)


def test_the_payload_shows_the_attached_png_and_pings_no_one() -> None:
    result = summary.discord_summary(sample_week(), url="https://example.invalid/week")
    assert result.payload["allowed_mentions"] == {"parse": []}
    embed = result.payload["embeds"][0]
    assert embed["image"] == {"url": "attachment://equity.png"}
    assert result.payload["attachments"] == [{"id": 0, "filename": "equity.png"}]
    assert result.filename == "equity.png"
    assert result.png.startswith(b"\x89PNG") and len(result.png) < 10 * 1024 * 1024
    assert embed["url"] == "https://example.invalid/week"


def test_thirty_long_edge_names_stay_within_every_limit() -> None:
    edges = long_edges()
    report = replace(sample_week(), best_edges=edges, worst_edges=edges, edge_ranking=edges,
                     data_quality=tuple(f"note {i} " + "x" * 900 for i in range(30)))  # fmt: skip
    embed = summary.summary_embed(report)
    assert_within_limits(embed)
    best = next(f for f in embed["fields"] if f["name"] == "Best edges")
    assert "… and" in best["value"] and best["value"].endswith("more")


def test_over_the_total_fields_are_dropped_from_the_end() -> None:
    fields = [{"name": f"f{i}", "value": "v" * 1024} for i in range(30)]
    fitted = summary.fit_embed({"title": "t", "description": "d", "fields": fields,
                                "footer": {"text": "f"}})  # fmt: skip
    assert len(fitted["fields"]) == 5 and fitted["fields"][0]["name"] == "f0"
    assert_within_limits(fitted)


def test_oversize_parts_are_cut_with_an_ellipsis() -> None:
    fitted = summary.fit_embed({"title": "T" * 300, "description": "D" * 5000, "fields": [],
                                "footer": {"text": "F" * 3000}})  # fmt: skip
    assert fitted["title"] == "T" * 255 + "…"
    assert summary.units(fitted["description"]) <= 4096
    assert fitted["description"].endswith("…")
    assert summary.embed_length(fitted) <= 6000


@pytest.mark.parametrize("text", ["a" * 99 + "\\*", "😀" * 80])
def test_cutting_never_leaves_half_an_escape_or_half_an_emoji(text: str) -> None:
    cut = summary.truncate(text, 100)
    assert summary.units(cut) <= 100
    assert not cut[:-1].endswith("\\") or cut[:-1].endswith("\\\\")
    cut.encode("utf-8")  # no lone surrogate


def test_user_text_cannot_restyle_the_message_or_hide_a_link() -> None:
    assert summary.escape_markdown("**big** [x](http://e.vil) `c`\n> q") == (
        "\\*\\*big\\*\\* \\[x\\](http://e.vil) \\`c\\` \\> q"
    )


def test_an_empty_week_says_so_in_grey() -> None:
    embed = summary.summary_embed(empty_week())
    assert embed["description"] == "No signals were logged and no trades closed this week."
    assert embed["color"] == summary.GREY
    assert_within_limits(embed)
    assert summary.discord_summary(empty_week()).png.startswith(b"\x89PNG")
