"""Markets: the trading calendar an instrument trades on, and what its sessions decide.

A market is an exchange_calendars calendar: XNYS for US stocks and ETFs, XETR, XLON,
XTSE, XTKS, CMES for CME futures, and the library's around-the-clock calendars "24/5"
(forex) and "24/7" (crypto). Its sessions set a day trade's expiry, the span a daily bar
stands for and where an intraday bar ends (docs/outcome-rules.md, "Markets").

Pure: every function takes the market and the times it is asked about. Each calendar is
built once, on first use, for a fixed range (SESSIONS_FROM to SESSIONS_TO) rather than
the library's default of "20 years back to one year ahead of today", which would make
answers depend on the day the process started. Future sessions come from the holiday
rules, so a one-off closure announced later is known only after upgrading
exchange_calendars. Times outside the range raise MarketRangeError naming the date.

How an instrument's market is decided (first that answers wins): an explicit market on
the signal, the instrument's setting, what the price provider says (`market_from_quote`),
the documented ticker rules (`market_from_ticker`), and DEFAULT_MARKET.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import numpy as np
import pandas as pd

from edgeledger.core.model import TradeType

SESSIONS_FROM = date(2000, 1, 3)
SESSIONS_TO = date(2045, 12, 29)
SWING_LIFETIME = timedelta(days=7)
DEFAULT_MARKET = "XNYS"
FOREX = "24/5"
CRYPTO = "24/7"
AROUND_THE_CLOCK = (FOREX, CRYPTO)

# Friendly names accepted wherever a market is given, besides exchange_calendars' own
# names and aliases (NYSE, NASDAQ, LSE, TSX, JPX, CME ...).
ALIASES: dict[str, str] = {"FOREX": FOREX, "FX": FOREX, "CRYPTO": CRYPTO, "FUTURES": "CMES"}

# Day trades on around-the-clock markets end at a conventional daily cut: the forex
# "New York close" (17:00 America/New_York, Monday to Friday) and midnight UTC for crypto.
DAY_CUTS: dict[str, tuple[time, ZoneInfo, frozenset[int]]] = {
    FOREX: (time(17, 0), ZoneInfo("America/New_York"), frozenset(range(5))),
    CRYPTO: (time(0, 0), ZoneInfo("UTC"), frozenset(range(7))),
}

_US_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)
RANGE_US = (
    (SESSIONS_FROM - _EPOCH_DAY).days * _US_PER_DAY,
    ((SESSIONS_TO - _EPOCH_DAY).days + 1) * _US_PER_DAY,
)
"""The UTC days the calendars cover, in epoch µs: [first midnight, midnight after the last)."""


class MarketRangeError(ValueError):
    """A time outside the calendar range the markets are built for."""


class MarketSource(StrEnum):
    """Where an instrument's market came from, strongest first."""

    SETTING = "setting"
    SIGNAL = "signal"
    PROVIDER = "provider"
    TICKER = "ticker"
    DEFAULT = "default"

    @property
    def rank(self) -> int:
        return list(MarketSource).index(self)


# --- names -------------------------------------------------------------------------------


@cache
def _known_names() -> dict[str, str]:
    """Every accepted name, upper-cased, to its canonical calendar name."""
    names = {name.upper(): name for name in xcals.get_calendar_names(include_aliases=False)}
    for alias, target in xcals.aliases_to_names().items():
        names.setdefault(alias.upper(), target)
    names.update(ALIASES)
    return names


def market_named(name: str) -> str:
    """The canonical market name for `name` (case-insensitive; aliases allowed)."""
    text = str(name).strip()
    found = _known_names().get(text.upper())
    if found is None:
        raise ValueError(
            f"unknown market {text!r}: use an exchange_calendars name such as XNYS, XETR, "
            f"XLON, XTSE, XTKS or CMES, or 24/5 (forex) or 24/7 (crypto)"
        )
    return found


def is_around_the_clock(market: str) -> bool:
    """True for the 24/5 and 24/7 markets: no session close inside a trading day."""
    return market in AROUND_THE_CLOCK


# --- deciding an instrument's market --------------------------------------------------------

# Yahoo-style suffixes, checked in order; the first that matches decides.
SUFFIXES: tuple[tuple[str, str], ...] = (
    ("=X", FOREX),
    ("=F", "CMES"),
    (".DE", "XETR"),
    (".F", "XFRA"),
    (".L", "XLON"),
    (".TO", "XTSE"),
    (".V", "XTSX"),
    (".T", "XTKS"),
    (".PA", "XPAR"),
    (".AS", "XAMS"),
    (".BR", "XBRU"),
    (".MI", "XMIL"),
    (".MC", "XMAD"),
    (".SW", "XSWX"),
    (".ST", "XSTO"),
    (".OL", "XOSL"),
    (".CO", "XCSE"),
    (".HE", "XHEL"),
    (".HK", "XHKG"),
    (".AX", "XASX"),
    (".NZ", "XNZE"),
    (".SI", "XSES"),
    (".KS", "XKRX"),
    (".NS", "XNSE"),
    (".BO", "XBOM"),
)
CURRENCIES = frozenset(
    [
        "USD",
        "EUR",
        "JPY",
        "GBP",
        "CHF",
        "CAD",
        "AUD",
        "NZD",
        "SEK",
        "NOK",
        "DKK",
        "HKD",
        "SGD",
        "CNH",
        "CNY",
        "MXN",
        "ZAR",
        "TRY",
        "PLN",
        "CZK",
        "HUF",
        "ILS",
        "KRW",
        "INR",
        "BRL",
        "THB",
    ]
)
CRYPTO_QUOTES = ("USD", "USDT", "USDC", "EUR", "GBP", "BTC", "ETH")
_CRYPTO_PAIR = re.compile(r"^[A-Z0-9]{2,10}-(" + "|".join(CRYPTO_QUOTES) + r")$")
_BARE_FOREX = re.compile(r"^[A-Z]{6}$")
_BARE_CRYPTO = re.compile(r"^(BTC|ETH|SOL|XRP|DOGE|ADA|LTC|BCH|DOT|AVAX|LINK)(USD|USDT|USDC)$")


def market_from_ticker(ticker: str) -> str | None:
    """The market the ticker's form names, or None when the form says nothing.

    Yahoo's suffixes (=X forex, =F futures, .DE Xetra, .L London, .TO Toronto, .T Tokyo,
    ...), a crypto pair (BTC-USD, ETH-USDT), and two unambiguous bare forms: six letters
    made of two currency codes (EURUSD: no US stock ticker has six letters) and a major
    coin against a dollar (BTCUSD).
    """
    t = ticker.strip().upper()
    for suffix, market in SUFFIXES:
        if t.endswith(suffix) and len(t) > len(suffix):
            return market
    if _CRYPTO_PAIR.match(t) or _BARE_CRYPTO.match(t):
        return CRYPTO
    if _BARE_FOREX.match(t) and t[:3] in CURRENCIES and t[3:] in CURRENCIES and t[:3] != t[3:]:
        return FOREX
    return None


# Yahoo's exchangeName codes of the chart `meta`, and the exchange time zones that name a
# single market when the code is not listed.
QUOTE_EXCHANGES: dict[str, str] = {
    **dict.fromkeys(("NMS", "NGM", "NCM", "NYQ", "ASE", "PCX", "BTS", "NAS", "NYS"), "XNYS"),
    **dict.fromkeys(("CME", "CBT", "NYM", "CMX", "CBOT", "NYMEX", "COMEX"), "CMES"),
    "GER": "XETR",
    "FRA": "XFRA",
    "LSE": "XLON",
    "TOR": "XTSE",
    "VAN": "XTSX",
    "JPX": "XTKS",
    "PAR": "XPAR",
    "AMS": "XAMS",
    "HKG": "XHKG",
    "ASX": "XASX",
}
QUOTE_ZONES: dict[str, str] = {
    "America/New_York": "XNYS",
    "Europe/Berlin": "XETR",
    "Europe/London": "XLON",
    "America/Toronto": "XTSE",
    "Asia/Tokyo": "XTKS",
    "Asia/Hong_Kong": "XHKG",
    "Australia/Sydney": "XASX",
}


def market_from_quote(meta: Mapping[str, Any]) -> str | None:
    """The market a provider's description of the instrument names, or None.

    `meta` is Yahoo's chart `meta`: instrumentType (CURRENCY, CRYPTOCURRENCY, FUTURE,
    EQUITY, ETF ...), exchangeName and exchangeTimezoneName.
    """
    kind = str(meta.get("instrumentType") or "").upper()
    if kind == "CURRENCY":
        return FOREX
    if kind == "CRYPTOCURRENCY":
        return CRYPTO
    exchange = str(meta.get("exchangeName") or "").upper()
    if exchange in QUOTE_EXCHANGES:
        return QUOTE_EXCHANGES[exchange]
    if kind == "FUTURE":
        return "CMES"
    return QUOTE_ZONES.get(str(meta.get("exchangeTimezoneName") or ""))


@dataclass(frozen=True)
class MarketChoice:
    """An instrument's market and where it came from."""

    market: str
    source: MarketSource


@dataclass(frozen=True)
class MarketBook:
    """What decides markets without asking a provider: the instrument table (a person's
    setting, or what a signal or provider said earlier) and the default market setting."""

    instruments: Mapping[str, MarketChoice] = field(default_factory=dict)
    default: str = DEFAULT_MARKET

    def choose(self, ticker: str, explicit: str | None = None) -> MarketChoice:
        """The market by the documented order; the provider's word comes in `refine`."""
        if explicit:
            return MarketChoice(market_named(explicit), MarketSource.SIGNAL)
        stored = self.instruments.get(ticker)
        if stored is not None:
            return stored
        from_ticker = market_from_ticker(ticker)
        if from_ticker is not None:
            return MarketChoice(from_ticker, MarketSource.TICKER)
        return MarketChoice(market_named(self.default), MarketSource.DEFAULT)


def refine(choice: MarketChoice, provider_says: str | None) -> MarketChoice:
    """The choice after hearing the provider: it outranks the ticker rules and the default,
    never a setting or an explicit market."""
    if provider_says is None or choice.source.rank <= MarketSource.PROVIDER.rank:
        return choice
    return MarketChoice(provider_says, MarketSource.PROVIDER)


# --- sessions --------------------------------------------------------------------------------


class Session(NamedTuple):
    """One regular session: its date (the calendar's label) and its open and close in UTC."""

    day: date
    open: datetime
    close: datetime


@dataclass(frozen=True, eq=False)
class SessionTable:
    """A market's sessions as sorted int64 arrays: labels in days since the epoch, opens
    and closes in epoch microseconds. Searched with numpy, never with pandas per bar."""

    market: str
    days: np.ndarray
    opens: np.ndarray
    closes: np.ndarray


@cache
def sessions_of(market: str) -> SessionTable:
    """The market's sessions, built on first use and then shared."""
    calendar = xcals.get_calendar(
        market, start=SESSIONS_FROM.isoformat(), end=SESSIONS_TO.isoformat()
    )
    labels = calendar.sessions
    days = (labels.asi8 // (_US_PER_DAY * 1000)).astype(np.int64)

    def micros(stamps: pd.Series) -> np.ndarray:
        index = pd.DatetimeIndex(stamps).tz_convert("UTC").as_unit("us")
        return index.asi8.astype(np.int64)

    table = SessionTable(market, days, micros(calendar.opens), micros(calendar.closes))
    for array in (table.days, table.opens, table.closes):
        array.setflags(write=False)
    return table


def _aware(at: datetime, name: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} {at.isoformat()} is naive: pass a timezone-aware datetime")


def _in_range(day: date, market: str) -> None:
    if not SESSIONS_FROM <= day <= SESSIONS_TO:
        raise MarketRangeError(
            f"{day.isoformat()} is outside the {market} calendar's range "
            f"{SESSIONS_FROM.isoformat()}..{SESSIONS_TO.isoformat()}"
        )


def _us(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1)


def _utc(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def session_bounds(market: str, day: date) -> tuple[datetime, datetime] | None:
    """Open and close (UTC) of the market's session labelled `day`, or None."""
    _in_range(day, market)
    table = sessions_of(market)
    label = (day - _EPOCH_DAY).days
    i = int(np.searchsorted(table.days, label))
    if i == len(table.days) or table.days[i] != label:
        return None
    return _utc(table.opens[i]), _utc(table.closes[i])


def sessions_between(market: str, start: date, end: date) -> list[Session]:
    """Every session labelled `start` to `end` (inclusive): what a scheduler plans with."""
    if end < start:
        return []
    _in_range(start, market)
    _in_range(end, market)
    table = sessions_of(market)
    lo = int(np.searchsorted(table.days, (start - _EPOCH_DAY).days))
    hi = int(np.searchsorted(table.days, (end - _EPOCH_DAY).days, side="right"))
    return [
        Session(_EPOCH_DAY + timedelta(days=int(table.days[i])), *map(_utc, _pair(table, i)))
        for i in range(lo, hi)
    ]


def _pair(table: SessionTable, i: int) -> tuple[int, int]:
    return int(table.opens[i]), int(table.closes[i])


def is_market_open(market: str, at: datetime) -> bool:
    """True inside a session: from the open (included) to the close (excluded)."""
    _aware(at, "at")
    _in_range(at.astimezone(UTC).date(), market)
    table = sessions_of(market)
    us = _us(at)
    i = int(np.searchsorted(table.opens, us, side="right")) - 1
    return bool(i >= 0 and us < table.closes[i])


# --- day-trade expiry --------------------------------------------------------------------------


def day_close_after(market: str, created_at: datetime) -> datetime:
    """When a day trade created at `created_at` expires: the close of the session it was
    created in, or of the next one when created outside a session (after the close, on a
    weekend or a holiday); on 24/5 and 24/7 markets, the next daily cut (DAY_CUTS)."""
    _aware(created_at, "created_at")
    _in_range(created_at.astimezone(UTC).date(), market)
    if market in DAY_CUTS:
        return _next_cut(market, created_at)
    table = sessions_of(market)
    i = int(np.searchsorted(table.closes, _us(created_at), side="right"))
    if i == len(table.closes):
        raise MarketRangeError(
            f"no {market} session known after {created_at.astimezone(UTC).date().isoformat()}"
        )
    return _utc(table.closes[i])


def _next_cut(market: str, created_at: datetime) -> datetime:
    cut, zone, weekdays = DAY_CUTS[market]
    local = created_at.astimezone(zone)
    day = local.date()
    for _ in range(8):
        candidate = datetime.combine(day, cut, tzinfo=zone)
        if candidate > local and candidate.weekday() in weekdays:
            return candidate.astimezone(UTC)
        day += timedelta(days=1)
    raise AssertionError("a daily cut comes within a week")  # pragma: no cover


def default_expires_at(market: str, trade_type: TradeType, created_at: datetime) -> datetime:
    """Expiry when the signal gives none: swing 7 days on, day at its market's close."""
    _aware(created_at, "created_at")
    if TradeType(trade_type) is TradeType.SWING:
        return created_at + SWING_LIFETIME
    return day_close_after(market, created_at)


# --- bars read by their market -------------------------------------------------------------------


def bar_spans(
    market: str, interval_us: int, daily: bool, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where each bar starts and ends on this market, as the rules read bars.

    `starts` are int64 epoch µs, ascending, as stored. A daily bar (stored at midnight
    UTC of the date it names) stands for the market's session of that date, open to close;
    on a date without a session it is 24 hours from its stamp. An intraday bar ends at
    start + interval, or at the close of the session it started in when that is earlier
    (never on 24/5 and 24/7 markets, which have no close inside a trading day). Times
    outside the calendar's range are read without sessions.
    """
    starts = np.asarray(starts, dtype=np.int64)
    ends = starts + interval_us
    if not len(starts):
        return starts, ends
    table = sessions_of(market)
    if daily:
        labels = starts // _US_PER_DAY
        i = np.minimum(np.searchsorted(table.days, labels), len(table.days) - 1)
        found = table.days[i] == labels
        return np.where(found, table.opens[i], starts), np.where(found, table.closes[i], ends)
    if is_around_the_clock(market):
        return starts, ends
    i = np.searchsorted(table.opens, starts, side="right") - 1
    inside = (i >= 0) & (starts < table.closes[np.maximum(i, 0)])
    close = table.closes[np.maximum(i, 0)]
    return starts, np.where(inside, np.minimum(ends, close), ends)


def in_sessions(market: str, starts_us: np.ndarray) -> np.ndarray:
    """Which bar starts (epoch µs) fall inside one of the market's sessions.

    Around-the-clock markets keep every bar. Starts on UTC dates outside the calendar's
    range are kept too: there is no session to judge them by.
    """
    starts = np.asarray(starts_us, dtype=np.int64)
    if is_around_the_clock(market) or not len(starts):
        return np.ones(len(starts), dtype=bool)
    table = sessions_of(market)
    i = np.searchsorted(table.opens, starts, side="right") - 1
    inside = (i >= 0) & (starts < table.closes[np.maximum(i, 0)])
    first, last = RANGE_US
    return inside | (starts < first) | (starts >= last)


def bar_span(
    market: str, interval_us: int, daily: bool, start: datetime
) -> tuple[datetime, datetime]:
    """The span of the bar the rules walked as starting at `start` (a daily bar's start is
    its session's open): what finer bars must fill when the bar is drilled into."""
    us = _us(start)
    if daily:
        table = sessions_of(market)
        i = int(np.searchsorted(table.opens, us))
        if i < len(table.opens) and table.opens[i] == us:
            return start, _utc(table.closes[i])
        return start, _utc(us + interval_us)
    _, ends = bar_spans(market, interval_us, False, np.array([us], dtype=np.int64))
    return start, _utc(ends[0])
