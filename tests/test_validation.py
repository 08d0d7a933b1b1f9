"""What makes a signal valid, and how a bad one is explained."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from edgeledger.core.model import Direction, Source, TradeType
from edgeledger.core.validation import parse_signal
from edgeledger.errors import InvalidSignal
from tests.factories import raw_signal

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def problems_of(raw: dict) -> dict[str, str]:
    with pytest.raises(InvalidSignal) as caught:
        parse_signal(raw, now=NOW)
    return {p.field: p.reason for p in caught.value.problems}


def test_a_valid_signal_is_normalized():
    signal = parse_signal(raw_signal(ticker=" nvda ", direction="LONG", trade_type="Day"), now=NOW)
    assert signal.ticker == "NVDA"
    assert signal.direction is Direction.LONG
    assert signal.trade_type is TradeType.DAY
    assert signal.entry == Decimal("181.20")
    assert signal.created_at == datetime(2026, 11, 20, 14, 35, tzinfo=UTC)
    assert signal.source is Source.API


@pytest.mark.parametrize("ticker", ["BRK.B", "^GSPC", "EURUSD=X", "BTC-USD", "ES=F", "SPY"])
def test_real_world_tickers_are_admitted(ticker):
    assert parse_signal(raw_signal(ticker=ticker.lower()), now=NOW).ticker == ticker


@pytest.mark.parametrize("ticker", ["", "NV DA", "NVDA;DROP", "..", "A" * 25, "$TSLA", "-X"])
def test_malformed_tickers_are_refused(ticker):
    assert "ticker" in problems_of(raw_signal(ticker=ticker))


def test_a_long_stop_above_entry_is_explained_with_both_prices():
    reasons = problems_of(raw_signal(stop="181.50"))
    assert reasons["stop"] == "stop 181.50 must be below entry 181.20 for a long"


def test_a_short_needs_target_below_entry_below_stop():
    reasons = problems_of(
        raw_signal(direction="short", stop="183.00", target="185.00", target2=None)
    )
    assert reasons["target"] == "target 185.00 must be below entry 181.20 for a short"
    assert "stop" not in reasons


def test_target2_must_lie_beyond_target():
    reasons = problems_of(raw_signal(target2="183.00"))
    assert reasons["target2"] == "target2 183.00 must be above target 184.00 for a long"


def test_every_bad_field_is_named_at_once():
    reasons = problems_of(
        raw_signal(entry="-5", confidence=6, trade_type="scalp", created_at="2026-11-20 14:35")
    )
    assert set(reasons) == {"entry", "confidence", "trade_type", "created_at"}
    assert "greater than 0" in reasons["entry"]
    assert "0 to 5" in reasons["confidence"]
    assert "day or swing" in reasons["trade_type"]
    assert "UTC offset" in reasons["created_at"]


@pytest.mark.parametrize("value", ["nan", "inf", "1e400", "abc", True, "", None])
def test_prices_must_be_finite_positive_numbers(value):
    raw = raw_signal()
    raw["entry"] = value
    assert "entry" in problems_of(raw)


def test_prices_keep_at_most_eight_decimals():
    assert "more than 8 decimal places" in problems_of(raw_signal(stop="179.123456789"))["stop"]


def test_forex_prices_keep_five_decimals():
    signal = parse_signal(
        raw_signal(
            ticker="EURUSD=X", entry="1.08215", stop="1.08010", target="1.08650", target2=None
        ),
        now=NOW,
    )
    assert signal.entry == Decimal("1.08215")


def test_confidence_is_whole_stars_from_zero_to_five():
    assert parse_signal(raw_signal(confidence="0"), now=NOW).confidence == 0
    assert "confidence" in problems_of(raw_signal(confidence="3.5"))
    assert "confidence" in problems_of(raw_signal(confidence=-1))


def test_edge_names_are_trimmed_and_deduplicated():
    signal = parse_signal(raw_signal(edges=" VWAP  reclaim ;RS vs SPY;vwap reclaim;;"), now=NOW)
    assert [e.name for e in signal.edges] == ["VWAP reclaim", "RS vs SPY"]


def test_edges_may_carry_attributes():
    signal = parse_signal(raw_signal(edges=[{"name": "Gap fill", "gap_pct": 2.1}]), now=NOW)
    assert signal.edges[0].name == "Gap fill"
    assert signal.edges[0].attributes == {"gap_pct": 2.1}


def test_an_edge_object_without_a_name_is_refused():
    assert "edges" in problems_of(raw_signal(edges=[{"gap_pct": 2.1}]))


def test_unknown_fields_are_refused_so_typos_show():
    assert problems_of(raw_signal(tagret="190"))["tagret"] == "is not a signal field"


def test_created_at_in_the_future_is_refused():
    later = (NOW + timedelta(hours=1)).isoformat()
    assert "in the future" in problems_of(raw_signal(created_at=later))["created_at"]


def test_created_at_defaults_to_now_only_when_asked():
    raw = raw_signal(created_at=None)
    assert parse_signal(raw, now=NOW, created_at_defaults_to_now=True).created_at == NOW
    assert "created_at" in problems_of(raw)


def test_expires_at_must_follow_created_at():
    reasons = problems_of(raw_signal(expires_at="2026-11-20T14:00:00Z"))
    assert "must be after created_at" in reasons["expires_at"]


def test_a_day_trade_expires_at_that_sessions_close():
    signal = parse_signal(raw_signal(), now=NOW)
    assert signal.expires_at == datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # 16:00 New York


def test_a_swing_trade_expires_seven_days_after_creation():
    signal = parse_signal(raw_signal(trade_type="swing"), now=NOW)
    assert signal.expires_at == signal.created_at + timedelta(days=7)


def test_an_explicit_expiry_wins():
    signal = parse_signal(raw_signal(expires_at="2026-11-20T18:00:00+00:00"), now=NOW)
    assert signal.expires_at == datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def test_timestamps_with_offsets_are_stored_in_utc():
    signal = parse_signal(raw_signal(created_at="2026-11-20T09:35:00-05:00"), now=NOW)
    assert signal.created_at == datetime(2026, 11, 20, 14, 35, tzinfo=UTC)
    assert signal.created_at.tzinfo is UTC


def test_text_that_postgres_cannot_store_is_refused():
    assert "NUL" in problems_of(raw_signal(rationale="bad\x00byte"))["rationale"]


def test_context_must_be_a_json_object():
    assert "JSON" in problems_of(raw_signal(context="[1, 2"))["context"]
    signal = parse_signal(
        raw_signal(context='{"vix": 14.2}', atr_value="3.1", spy_bias="bullish"), now=NOW
    )
    assert signal.context.extra == {"vix": 14.2}
    assert signal.context.atr_value == Decimal("3.1")


def test_a_day_trade_outside_the_calendars_years_is_refused_naming_created_at():
    raw = raw_signal(created_at="1999-06-01T15:00:00Z")
    with pytest.raises(
        InvalidSignal, match=r"created_at: no default expiry: 1999-06-01 is outside"
    ):
        parse_signal(raw, now=datetime(2026, 11, 20, tzinfo=UTC))


def test_a_day_trade_expires_at_its_markets_close():
    raw = raw_signal(ticker="VOD.L", created_at="2026-11-20T09:00:00Z")
    assert parse_signal(raw, now=datetime(2026, 11, 20, 10, tzinfo=UTC)).expires_at == datetime(
        2026, 11, 20, 16, 30, tzinfo=UTC
    )


def test_an_unknown_market_is_refused_by_name():
    with pytest.raises(InvalidSignal, match=r"market: unknown market 'NOWHERE'"):
        parse_signal(raw_signal(market="NOWHERE"), now=datetime(2026, 11, 20, 15, tzinfo=UTC))


# --- input that would be misread, or break later, is refused with its field named ----------

NUMERIC_FIELDS = ["entry", "stop", "target", "target2", "atr_value", "confidence"]


@pytest.mark.parametrize("field", NUMERIC_FIELDS)
@pytest.mark.parametrize("value", ["1_81", "١٨١", "１８１", "1.8.1", "1e2", "0x10", "1 81", "--1"])
def test_numbers_are_ascii_digits_with_one_optional_dot(field, value):
    assert "is not a number" in problems_of(raw_signal(**{field: value}))[field]


def test_a_number_may_carry_a_sign_and_a_leading_or_trailing_dot():
    signal = parse_signal(raw_signal(entry="+181.", stop="179.90", atr_value=".5"), now=NOW)
    assert (signal.entry, signal.context.atr_value) == (Decimal("181"), Decimal("0.5"))


def test_a_number_from_json_may_be_written_with_an_exponent():
    signal = parse_signal(raw_signal(ticker="EURUSD=X", atr_value=0.00001), now=NOW)
    assert signal.context.atr_value == Decimal("0.00001")


@pytest.mark.parametrize("name", ["VWAP\x1b[31m reclaim", "gap\x07fill", "RS\x7fvs SPY", "a\x85b"])
def test_control_characters_in_an_edge_name_are_refused(name):
    assert "control character" in problems_of(raw_signal(edges=[name]))["edges"]


def test_control_characters_in_an_edge_name_from_a_file_are_refused():
    assert "control character" in problems_of(raw_signal(edges="gap\x1bfill;RS"))["edges"]


@pytest.mark.parametrize("field", ["strategy", "source_key", "market_volatility", "spy_bias"])
@pytest.mark.parametrize("value", ["momo\x1b[2J", "a\nb", "a\tb", "a\rb"])
def test_control_characters_in_a_label_are_refused(field, value):
    assert "control character" in problems_of(raw_signal(**{field: value}))[field]


def test_a_rationale_may_hold_line_breaks_and_tabs_but_no_other_control_character():
    text = "Reclaimed VWAP\r\n\ton volume"
    assert parse_signal(raw_signal(rationale=text), now=NOW).rationale == text
    assert "control character" in problems_of(raw_signal(rationale="a\x1b[2Jb"))["rationale"]


@pytest.mark.parametrize(
    "field", ["rationale", "strategy", "source_key", "market_volatility", "spy_bias"]
)
def test_a_lone_surrogate_in_text_is_refused(field):
    # How Python hands over an argument holding the byte 0x80, which is not UTF-8.
    assert "not valid Unicode" in problems_of(raw_signal(**{field: "bad\udc80byte"}))[field]


@pytest.mark.parametrize(
    "edges",
    [["bad\udc80name"], [{"name": "gap", "note": "\ud800"}], '[{"name": "gap", "\\ud800": 1}]'],
)
def test_a_lone_surrogate_in_an_edge_is_refused(edges):
    assert "not valid Unicode" in problems_of(raw_signal(edges=edges))["edges"]


def test_a_lone_surrogate_in_the_context_is_refused():
    assert "not valid Unicode" in problems_of(raw_signal(context='{"a": "\\udc80"}'))["context"]


@pytest.mark.parametrize(
    "edges",
    [
        '[{"name": "gap", "pct": NaN}]',
        '[{"name": "gap", "pct": Infinity}]',
        '[{"name": "gap", "pct": [-Infinity]}]',
        '[{"name": "gap", "pct": 1e999}]',
        [{"name": "gap", "pct": float("nan")}],
    ],
)
def test_nan_or_infinity_in_an_edges_attributes_is_refused(edges):
    assert "finite" in problems_of(raw_signal(edges=edges))["edges"]


@pytest.mark.parametrize("context", ['{"vix": NaN}', '{"vix": {"x": 1e999}}'])
def test_nan_or_infinity_in_the_context_is_refused(context):
    assert "finite" in problems_of(raw_signal(context=context))["context"]


def deep(levels: int) -> str:
    return '{"a": ' * levels + "1" + "}" * levels


@pytest.mark.parametrize("levels", [100_000, 33])
def test_deeply_nested_json_context_is_refused(levels):
    assert "nested" in problems_of(raw_signal(context=deep(levels)))["context"]


def test_json_context_nested_to_the_limit_is_admitted():
    assert parse_signal(raw_signal(context=deep(32)), now=NOW).context.extra["a"]["a"]


def test_a_deeply_nested_object_from_a_caller_is_refused():
    context: dict = {}
    for _ in range(100_000):
        context = {"a": context}
    assert "nested" in problems_of(raw_signal(context=context))["context"]


def test_deeply_nested_json_edges_are_refused():
    edges = '[{"name": "gap", "x": ' + deep(100_000) + "}]"
    assert "nested" in problems_of(raw_signal(edges=edges))["edges"]


def test_a_repeated_key_in_json_is_refused_by_name():
    reasons = problems_of(raw_signal(context='{"vix": 14, "spx": {"vix": 1, "vix": 2}}'))
    assert "'vix' appears twice" in reasons["context"]


def test_a_repeated_key_in_an_edge_object_is_refused_by_name():
    edges = '[{"name": "gap", "name": "fill"}]'
    assert "'name' appears twice" in problems_of(raw_signal(edges=edges))["edges"]


def test_a_ticker_is_ascii_before_it_is_upper_cased():
    assert "ticker" in problems_of(raw_signal(ticker="ﬁx"))  # "ﬁ".upper() == "FI"


def test_a_choice_is_ascii_before_it_is_lower_cased():
    assert "source" in problems_of(raw_signal(source="bac\u212atest"))  # Kelvin K


@pytest.mark.parametrize("field", ["trade_id", "rationale", "strategy", "source_key", "spy_bias"])
@pytest.mark.parametrize("value", [True, False, 1.5, ["a"]])
def test_text_from_json_is_text_not_a_boolean_or_a_fraction(field, value):
    assert "must be text" in problems_of(raw_signal(**{field: value}))[field]


def test_a_whole_number_from_json_is_taken_as_text():
    signal = parse_signal(raw_signal(source_key=1234567, strategy=2), now=NOW)
    assert (signal.source_key, signal.strategy) == ("1234567", "2")
