"""How figures read, in one place, for the HTML, the Discord summary and the bot alike.

A win rate 0.5714 reads `57.1%`, an R of 0.42 reads `+0.42R`, 1234 reads `1,234`, and a
figure that could not be computed (None) reads `–`, so the same number never reads two ways.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

MISSING = "–"
"""What a figure that could not be computed (None) reads as."""


def pct(rate: float | None, digits: int = 1) -> str:
    """A fraction 0-1 as a percentage: 0.5714 -> `57.1%`."""
    if rate is None:
        return MISSING
    return f"{rate * 100:.{digits}f}%"


def r(value: float | None) -> str:
    """R with its sign and two decimals: `+0.42R`, `-1.00R`, `0.00R`; `∞R` if unbounded."""
    if value is None:
        return MISSING
    if math.isinf(value):
        return "+∞R" if value > 0 else "-∞R"
    text = f"{value:+.2f}"
    if text in ("+0.00", "-0.00"):
        return "0.00R"
    return f"{text}R"


def count(n: int | None) -> str:
    """A count with thousands separators: 1234 -> `1,234`."""
    return MISSING if n is None else f"{n:,}"


def number(value: float | None, digits: int = 2) -> str:
    """A plain number (a ratio such as a profit factor): `0.61`, `∞`."""
    if value is None:
        return MISSING
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:,.{digits}f}"


def price(value: object) -> str:
    """A price as given, without the storage's trailing zeros but with at least two
    decimals: Decimal('181.20000000') -> `181.20`, 0.00012345 -> `0.00012345`."""
    if value is None:
        return MISSING
    text = f"{Decimal(str(value)).normalize():f}"
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def pct_range(lo: float | None, hi: float | None) -> str:
    """An interval on a rate: `41.0–70.2%`."""
    if lo is None or hi is None:
        return MISSING
    return f"{lo * 100:.1f}–{hi * 100:.1f}%"


def r_range(lo: float | None, hi: float | None) -> str:
    """An interval on R: `-0.10R to +0.52R` (a dash would be confused with a minus)."""
    if lo is None or hi is None:
        return MISSING
    return f"{r(lo)} to {r(hi)}"


def stars(n: int) -> str:
    """A confidence level: `4★`."""
    return f"{n}★"


def when(at: datetime, timezone: str) -> str:
    """A time as the reader's week is defined: `Mon Nov 24, 14:05 EST`."""
    local = at.astimezone(ZoneInfo(timezone))
    return local.strftime("%a %b %d, %H:%M %Z")


def day(d: date) -> str:
    """A date: `Nov 23, 2026`."""
    return d.strftime("%b %d, %Y")


def week_span(start: date, end: date) -> str:
    """The report's week: `Nov 23 – Nov 29, 2026`."""
    if start.year == end.year:
        return f"{start.strftime('%b %d')} – {end.strftime('%b %d, %Y')}"
    return f"{day(start)} – {day(end)}"


def figure(name: str, value: float | int | str) -> str:
    """A figure behind a finding, read by its name: `*win_rate*` and `share` as a
    percentage, `*_r` and `avg_r` as R, `n` and other whole numbers as counts."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    key = name.lower()
    if "rate" in key or key.endswith("share") or key.endswith("pct"):
        return pct(float(value))
    if key == "r" or key.endswith("_r") or key.startswith("r_") or "_r_" in key:
        return r(float(value))
    if isinstance(value, int):
        return count(value)
    return number(value)


def label(name: str) -> str:
    """A figure's name for people: `win_rate_5` -> `win rate 5`."""
    return name.replace("_", " ")
