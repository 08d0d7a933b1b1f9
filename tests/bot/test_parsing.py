"""Reading signals out of channel posts: the accepted formats (docs/discord-bot.md), and
garbage, which never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsing import parse_post

TEXT_POST = """\
**New signal** 🚀
Ticker: $NVDA
Type: Day
Direction: Long
Entry: $181.20
Stop Loss: 179.90
Target: 184.00
TP2: 186.50
Confidence: ★★★★☆
Edges: VWAP reclaim, RS vs SPY
Rationale: Reclaimed VWAP on volume
"""

EMBED_POST = {
    "title": "NVDA long",
    "fields": [
        {"name": "Ticker", "value": "NVDA", "inline": True},
        {"name": "Trade Type", "value": "swing", "inline": True},
        {"name": "Side", "value": "SHORT", "inline": True},
        {"name": "Entry", "value": "1,181.20", "inline": True},
        {"name": "Stop", "value": "1,190", "inline": True},
        {"name": "Target 1", "value": "1,160", "inline": True},
        {"name": "Confidence", "value": "3/5", "inline": True},
        {"name": "Setup", "value": "Failed breakout; Gap fill", "inline": False},
        {"name": "Chart", "value": "https://example.com/x.png", "inline": False},
    ],
}


def test_a_key_value_text_block_is_read():
    post = parse_post(TEXT_POST)
    assert post.looks_like_signal
    assert post.raw == {
        "ticker": "NVDA", "trade_type": "day", "direction": "long", "entry": "181.20",
        "stop": "179.90", "target": "184.00", "target2": "186.50", "confidence": "4",
        "edges": ["VWAP reclaim", "RS vs SPY"], "rationale": "Reclaimed VWAP on volume",
    }  # fmt: skip


def test_an_embed_with_named_fields_is_read():
    post = parse_post("", [EMBED_POST])
    assert post.raw["direction"] == "short" and post.raw["trade_type"] == "swing"
    assert (post.raw["entry"], post.raw["stop"], post.raw["target"]) == ("1181.20", "1190", "1160")
    assert post.raw["confidence"] == "3"
    assert post.raw["edges"] == ["Failed breakout", "Gap fill"]
    assert post.unknown == ("Chart",)


def test_an_embeds_description_is_read_as_text():
    post = parse_post("", [{"description": TEXT_POST}])
    assert post.raw["ticker"] == "NVDA"


def test_chat_is_not_a_signal():
    for text in ("gm everyone", "NVDA looks strong today: watching 180", "Time: 9:30"):
        assert not parse_post(text).looks_like_signal


def test_a_post_missing_a_level_still_looks_like_a_signal():
    post = parse_post("Ticker: NVDA\nEntry: 181.2\nStop: 179.9\nConfidence: 4")
    assert post.looks_like_signal and post.missing == ("target",)


def test_a_bad_value_is_kept_for_validation_to_name():
    assert parse_post("Ticker: NVDA\nEntry: soon\nStop: 1\nTarget: 2").raw["entry"] == "soon"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
embeds = st.lists(
    st.one_of(
        json_values,
        st.fixed_dictionaries({"fields": st.lists(st.dictionaries(
            st.sampled_from(["name", "value", "inline"]), json_values), max_size=6)}),
        st.fixed_dictionaries({"description": st.text()}),
    ),
    max_size=3,
)  # fmt: skip
lines = st.lists(
    st.tuples(st.sampled_from(["Ticker", "Entry", "Stop", "Target", "Type", "Confidence",
                               "Edges", "TP2", "x", ""]), st.text(max_size=30)),
    max_size=12,
).map(lambda pairs: "\n".join(f"{k}: {v}" for k, v in pairs))  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(content=st.one_of(st.text(), lines, st.none(), st.integers()), embeds=embeds)
def test_garbage_never_raises(content, embeds):
    post = parse_post(content, embeds)
    assert isinstance(post.raw, dict)
    assert post.looks_like_signal == bool(post.raw)
