"""Turn raw signal input (CLI flags, Discord options, a file row) into a NewSignal, or say why not.

Pure: the current time comes in as `now`. Every problem is collected, so a trader fixing a
signal sees all of its bad fields at once, each named with the reason.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from edgeledger.core.markets import MarketBook, MarketRangeError, default_expires_at, market_named
from edgeledger.core.model import (
    SIGNAL_FIELDS,
    Direction,
    Edge,
    MarketContext,
    NewSignal,
    Source,
    TradeType,
)
from edgeledger.errors import FieldProblem, InvalidOption, InvalidSignal

TICKER_PATTERN = re.compile(r"^\^?[A-Z0-9]+(?:[.-][A-Z0-9]+)*(?:=[A-Z]+)?$")
TRADE_ID_PATTERN = re.compile(r"^\^?[A-Za-z0-9][A-Za-z0-9._^=:-]{0,63}$")
MAX_TICKER_LENGTH = 24
MAX_PRICE_DECIMALS = 8
MAX_PRICE = Decimal("1e12")
MAX_EDGES = 50
MAX_EDGE_NAME = 80
MAX_TEXT = {
    "rationale": 4000,
    "strategy": 200,
    "source_key": 200,
    "market_volatility": 50,
    "spy_bias": 50,
}
# Text that may run over several lines; the others are one-line labels.
PROSE_FIELDS = frozenset({"rationale"})
FUTURE_TOLERANCE = timedelta(minutes=5)
# Deeper than any market context or edge needs, and far below where Python's JSON reader or a
# walk of the value would run out of stack.
MAX_JSON_DEPTH = 32

# A number as people and bots write one: ASCII digits, at most one dot, an optional sign.
# Decimal() alone would also read "1_81", and Arabic-Indic or full-width digits, as 181.
NUMBER_PATTERN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# What text must not hold: C0 and C1 control characters, and lone surrogates (which stand for
# bytes that were not UTF-8, and which PostgreSQL cannot store).
_UNWANTED_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same, less the tab and line breaks a multi-line text such as a rationale may hold.
_UNWANTED_IN_PROSE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

KNOWN_FIELDS = frozenset(SIGNAL_FIELDS)


class _Problems:
    """Collects field problems while parsing continues past the first one."""

    def __init__(self) -> None:
        self.items: list[FieldProblem] = []

    def add(self, field: str, reason: str) -> None:
        self.items.append(FieldProblem(field, reason))

    def parse(self, field: str, raw: Mapping[str, Any], parser: Callable[[Any], Any]) -> Any:
        """Parse one field, recording a ValueError as that field's problem (result None)."""
        try:
            return parser(raw.get(field))
        except ValueError as exc:
            self.add(field, str(exc))
            return None


def parse_signal(
    raw: Mapping[str, Any],
    *,
    now: datetime,
    default_source: Source = Source.API,
    created_at_defaults_to_now: bool = False,
    markets: MarketBook | None = None,
) -> NewSignal:
    """Validate and normalize one signal; raise InvalidSignal naming every bad field.

    `markets` decides the market of a signal that names none (its default expiry is that
    market's session close): the instrument table and the default market setting.
    """
    problems = _Problems()
    for name in sorted(set(raw) - KNOWN_FIELDS, key=str):
        problems.add(shown(name), "is not a signal field")

    trade_id = problems.parse("trade_id", raw, _trade_id)
    ticker = problems.parse("ticker", raw, _ticker)
    trade_type = problems.parse("trade_type", raw, _TRADE_TYPE)
    direction = problems.parse("direction", raw, _DIRECTION)
    entry = problems.parse("entry", raw, _REQUIRED_PRICE)
    stop = problems.parse("stop", raw, _REQUIRED_PRICE)
    target = problems.parse("target", raw, _REQUIRED_PRICE)
    target2 = problems.parse("target2", raw, _OPTIONAL_PRICE)
    confidence = problems.parse("confidence", raw, _REQUIRED_CONFIDENCE)
    edges = problems.parse("edges", raw, _edges)
    rationale = problems.parse("rationale", raw, _TEXT["rationale"])
    strategy = problems.parse("strategy", raw, _TEXT["strategy"])
    source = problems.parse("source", raw, _source(default_source))
    source_key = problems.parse("source_key", raw, _TEXT["source_key"])
    atr_value = problems.parse("atr_value", raw, _OPTIONAL_NON_NEGATIVE)
    market_volatility = problems.parse("market_volatility", raw, _TEXT["market_volatility"])
    spy_bias = problems.parse("spy_bias", raw, _TEXT["spy_bias"])
    extra = problems.parse("context", raw, _json_object)
    created_at = problems.parse(
        "created_at",
        raw,
        _timestamp(default=now) if created_at_defaults_to_now else _REQUIRED_TIMESTAMP,
    )
    expires_at = problems.parse("expires_at", raw, _OPTIONAL_TIMESTAMP)
    market = problems.parse("market", raw, _optional(market_named))

    if created_at is not None and created_at > now + FUTURE_TOLERANCE:
        problems.add("created_at", f"{created_at.isoformat()} is in the future")
    if direction is not None:
        _check_levels(problems, direction, entry, stop, target, target2)
    if created_at is not None and expires_at is not None and expires_at <= created_at:
        problems.add(
            "expires_at",
            f"{expires_at.isoformat()} must be after created_at {created_at.isoformat()}",
        )
    if expires_at is None and not problems.items:
        choice = (markets or MarketBook()).choose(ticker, market)
        try:
            expires_at = default_expires_at(choice.market, trade_type, created_at)
        except MarketRangeError as exc:
            problems.add("created_at", f"no default expiry: {exc}")
    if problems.items:
        raise InvalidSignal(problems.items)

    return NewSignal(
        ticker=ticker,
        trade_type=trade_type,
        direction=direction,
        entry=entry,
        stop=stop,
        target=target,
        target2=target2,
        confidence=confidence,
        edges=edges,
        rationale=rationale,
        strategy=strategy,
        source=source,
        source_key=source_key,
        context=MarketContext(atr_value, market_volatility, spy_bias, extra),
        created_at=created_at,
        expires_at=expires_at,
        trade_id=trade_id,
        market=market,
    )


def _check_levels(
    problems: _Problems,
    direction: Direction,
    entry: Decimal | None,
    stop: Decimal | None,
    target: Decimal | None,
    target2: Decimal | None,
) -> None:
    """Long: stop < entry < target (< target2). Short: the mirror."""
    long = direction is Direction.LONG
    side = "a long" if long else "a short"
    if entry is not None and stop is not None and (stop >= entry if long else stop <= entry):
        relation = "below" if long else "above"
        problems.add("stop", f"stop {stop} must be {relation} entry {entry} for {side}")
    if entry is not None and target is not None and (target <= entry if long else target >= entry):
        relation = "above" if long else "below"
        problems.add("target", f"target {target} must be {relation} entry {entry} for {side}")
    if (
        target is not None
        and target2 is not None
        and (target2 <= target if long else target2 >= target)
    ):
        relation = "above" if long else "below"
        problems.add("target2", f"target2 {target2} must be {relation} target {target} for {side}")


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_text(value: Any) -> bool:
    """Text, or a whole number a JSON writer may have left unquoted; not true or false, which
    str() would store as the words True and False."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _required(parser: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if _is_blank(value):
            raise ValueError("is required")
        return parser(value)

    return parse


def _optional(parser: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        return None if _is_blank(value) else parser(value)

    return parse


def _ticker(value: Any) -> str:
    if _is_blank(value):
        raise ValueError("is required")
    if not isinstance(value, str):
        raise ValueError(f"must be text, got {value!r}")
    if not value.isascii():  # before upper(), which turns "ﬁ" into "FI"
        raise ValueError(f"{value.strip()!r} is not a ticker (ASCII letters and digits only)")
    ticker = value.strip().upper()
    if len(ticker) > MAX_TICKER_LENGTH:
        raise ValueError(f"{ticker!r} is longer than {MAX_TICKER_LENGTH} characters")
    if not TICKER_PATTERN.match(ticker):
        raise ValueError(
            f"{value.strip()!r} is not a ticker (letters and digits, optionally joined by . or -,"
            " a leading ^ for indices, a suffix like =X or =F; e.g. NVDA, BRK.B, ^GSPC, EURUSD=X)"
        )
    return ticker


def _trade_id(value: Any) -> str | None:
    if _is_blank(value):
        return None
    if not _is_text(value):
        raise ValueError(f"must be text, got {type(value).__name__}")
    text = str(value).strip()
    if not TRADE_ID_PATTERN.match(text):
        raise ValueError(
            f"{text!r} is not a trade id (up to 64 letters, digits and . _ ^ = : -,"
            " e.g. NVDA-20261120-001)"
        )
    return text


def _choice(enum: type, allowed: str) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if _is_blank(value):
            raise ValueError(f"is required ({allowed})")
        try:
            return enum(_ascii(value).strip().lower())
        except ValueError:
            raise ValueError(f"{value!r} must be {allowed}") from None

    return parse


def _source(default: Source) -> Callable[[Any], Source]:
    def parse(value: Any) -> Source:
        if _is_blank(value):
            return default
        try:
            return Source(_ascii(value).strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in Source)
            raise ValueError(f"{value!r} must be one of {names}") from None

    return parse


def _ascii(value: Any) -> str:
    """The text of a choice, which must be ASCII: lower() turns the Kelvin sign into k."""
    text = str(value)
    if not text.isascii():
        raise ValueError(text)
    return text


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {value!r}")
        number = Decimal(repr(value))  # a float's repr may use an exponent: 1e-05
    else:
        text = str(value).strip()
        if not NUMBER_PATTERN.fullmatch(text):
            raise ValueError(
                f"{value!r} is not a number (digits 0-9 with at most one dot, e.g. 181.20)"
            )
        number = Decimal(text)
    if not number.is_finite():
        raise ValueError(f"must be a finite number, got {value!r}")
    return number


def _price(value: Any) -> Decimal:
    price = _decimal(value)
    if price <= 0:
        raise ValueError(f"{price} must be greater than 0")
    if price >= MAX_PRICE:
        raise ValueError(f"{price} is too large")
    if -price.as_tuple().exponent > MAX_PRICE_DECIMALS:
        raise ValueError(f"{price} has more than {MAX_PRICE_DECIMALS} decimal places")
    return price


def _non_negative(value: Any) -> Decimal:
    number = _decimal(value)
    if number < 0:
        raise ValueError(f"{number} must not be negative")
    if number >= MAX_PRICE or -number.as_tuple().exponent > MAX_PRICE_DECIMALS:
        raise ValueError(f"{number} is out of range")
    return number


def _confidence(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"must be a whole number of stars from 0 to 5, got {value!r}")
    number = _decimal(value)
    if number != number.to_integral_value() or not 0 <= number <= 5:
        raise ValueError(f"{value!r} must be a whole number of stars from 0 to 5")
    return int(number)


def _text(field: str) -> Callable[[Any], str | None]:
    limit = MAX_TEXT[field]
    unwanted = _UNWANTED_IN_PROSE if field in PROSE_FIELDS else _UNWANTED_CHARACTER

    def parse(value: Any) -> str | None:
        if _is_blank(value):
            return None
        if not _is_text(value):
            raise ValueError(f"must be text, got {type(value).__name__}")
        text = str(value).strip()
        if len(text) > limit:
            raise ValueError(f"is {len(text)} characters; the limit is {limit}")
        if found := unwanted.search(text):
            raise ValueError(_character_problem(found.group()))
        return text

    return parse


def _character_problem(character: str) -> str:
    """Why text holding this (unwanted) character is refused."""
    if character == "\x00":
        return "contains a NUL character"
    if "\ud800" <= character <= "\udfff":
        return (
            f"is not valid Unicode (it holds the lone surrogate U+{ord(character):04X}, which"
            " stands for a byte that is not UTF-8)"
        )
    return f"contains a control character (U+{ord(character):04X})"


def shown(name: Any) -> str:
    """A name from the input, safe to print in a message: as written if printable, else as repr.

    A field or column name that is not a signal's is echoed back; a control character in it
    must not reach the terminal.
    """
    text = str(name)
    return text if text.isprintable() else ascii(text)


def _edges(value: Any) -> tuple[Edge, ...]:
    """Edges arrive as 'a; b; c', a list of names, or a list of {name, ...} objects."""
    if _is_blank(value):
        return ()
    if isinstance(value, str) and value.lstrip().startswith("["):
        value = load_json(value)
    if isinstance(value, str):
        items: list[Any] = value.split(";")
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ValueError(f"must be a list of edge names, got {type(value).__name__}")
    edges: list[Edge] = []
    seen: set[str] = set()
    for item in items:
        if isinstance(item, Mapping):
            if reason := _json_problem(item):
                raise ValueError(f"edge {item.get('name')!r} {reason}")
            name, attributes = item.get("name"), {k: v for k, v in item.items() if k != "name"}
        else:
            name, attributes = item, {}
        if not isinstance(name, str):
            raise ValueError(f"edge {item!r} has no name")
        # Tabs and line breaks separate words, as spaces do; no other control character may
        # hide in a name that reports will print.
        if found := _UNWANTED_IN_PROSE.search(name):
            raise ValueError(f"edge {name!r} {_character_problem(found.group())}")
        name = " ".join(name.split())
        if not name:
            if isinstance(value, str):
                continue  # 'a;;b' or a trailing ';' in a file: nothing was named
            raise ValueError("an edge name is empty")
        if len(name) > MAX_EDGE_NAME:
            raise ValueError(
                f"edge name {name[:20]!r}... is longer than {MAX_EDGE_NAME} characters"
            )
        if name.casefold() in seen:
            continue
        seen.add(name.casefold())
        edges.append(Edge(name, attributes))
    if len(edges) > MAX_EDGES:
        raise ValueError(f"has {len(edges)} edges; the limit is {MAX_EDGES}")
    return tuple(edges)


def _json_object(value: Any) -> dict[str, Any]:
    if _is_blank(value):
        return {}
    if isinstance(value, str):
        value = load_json(value)
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    if reason := _json_problem(value):
        raise ValueError(reason)
    return value


class RepeatedKeys(dict):
    """A JSON object that named a key twice, where json.loads would silently keep the last
    value: load_json marks it so, and the checks of the field that holds it refuse it."""

    repeated: str


def _object_from_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    marked = RepeatedKeys(obj)
    marked.repeated = next(key for key, _ in pairs if key in seen or seen.add(key))
    return marked


_JSON = json.JSONDecoder(object_pairs_hook=_object_from_pairs)


class NestedTooDeep(ValueError):
    """JSON nested past what the reader can follow."""


def load_json(text: str) -> Any:
    """json.loads for signal input, failing only with a ValueError that says why.

    An object that repeats a key comes back as RepeatedKeys. NaN and Infinity come back as
    floats, for the checks of the field they sit in to refuse by name.
    """
    try:
        return _JSON.decode(text)
    except json.JSONDecodeError as exc:
        # exc.msg alone is cut short ("Unterminated string starting at"): say where.
        raise ValueError(f"is not valid JSON ({exc.msg} column {exc.colno})") from None
    except RecursionError:
        raise NestedTooDeep(f"is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError:  # an integer of thousands of digits
        raise ValueError("holds a number too long to read") from None


def _json_problem(value: Any) -> str | None:
    """Why value cannot be stored as it is in a jsonb column, or None.

    Walked with a stack rather than recursion, so that a deeply nested value from a caller
    is refused rather than exhausting Python's stack.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if found := _NOT_STORABLE.search(item):
                return f"holds text that {_character_problem(found.group())}"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"holds {item!r}, and its numbers must be finite"
        elif isinstance(item, Mapping | list | tuple):
            if depth > MAX_JSON_DEPTH:
                return f"is nested more than {MAX_JSON_DEPTH} levels deep"
            if isinstance(item, RepeatedKeys):
                return f"repeats a key: {item.repeated!r} appears twice in one object"
            if isinstance(item, Mapping):
                for key in item:
                    if not isinstance(key, str):
                        return f"has a key that is not text: {key!r}"
                    if found := _NOT_STORABLE.search(key):
                        return f"has a key that {_character_problem(found.group())}"
                item = item.values()
            stack.extend((child, depth + 1) for child in item)
        elif not (item is None or isinstance(item, bool | int)):
            return f"holds a {type(item).__name__}, which JSON cannot store"
    return None


# What PostgreSQL's jsonb cannot hold in a string. Other control characters are kept, escaped,
# as the data of a bot's attributes may be anything.
_NOT_STORABLE = re.compile("[\x00\ud800-\udfff]")


def _timestamp(*, default: datetime | None, required: bool = True) -> Callable[[Any], Any]:
    def parse(value: Any) -> datetime | None:
        if _is_blank(value):
            if default is not None or not required:
                return default
            raise ValueError(
                "is required (ISO 8601 with an offset or Z, e.g. 2026-11-20T14:35:00Z)"
            )
        if isinstance(value, datetime):
            stamp = value
        else:
            text = str(value).strip()
            try:
                stamp = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
            except ValueError:
                raise ValueError(
                    f"{text!r} is not an ISO 8601 time (e.g. 2026-11-20T14:35:00Z)"
                ) from None
        if stamp.tzinfo is None or stamp.utcoffset() is None:
            raise ValueError(f"{value!s} has no UTC offset; add Z or e.g. -05:00")
        if not 1970 <= stamp.year <= 2200:
            raise ValueError(f"{value!s} is out of range")
        return stamp.astimezone(UTC)

    return parse


def parse_timestamp(value: str, name: str) -> datetime:
    """An ISO 8601 time with an offset, for command options; errors name the option."""
    try:
        return _timestamp(default=None)(value)
    except ValueError as exc:
        raise InvalidOption(name, str(exc)) from None


def parse_ticker(value: str, name: str = "ticker") -> str:
    """A ticker given on its own (prices fetch NVDA), held to the rules a signal's is."""
    try:
        return _ticker(value)
    except ValueError as exc:
        raise InvalidSignal([FieldProblem(name, str(exc))]) from None


# The field parsers are built once, not for every signal: an import calls them per row.
_TRADE_TYPE = _choice(TradeType, "day or swing")
_DIRECTION = _choice(Direction, "long or short")
_REQUIRED_PRICE = _required(_price)
_OPTIONAL_PRICE = _optional(_price)
_REQUIRED_CONFIDENCE = _required(_confidence)
_OPTIONAL_NON_NEGATIVE = _optional(_non_negative)
_TEXT = {field: _text(field) for field in MAX_TEXT}
_REQUIRED_TIMESTAMP = _timestamp(default=None)
_OPTIONAL_TIMESTAMP = _timestamp(default=None, required=False)

# The field rules, for other input held to them (a backtest's outcome columns, core/backtest).
required_price = _REQUIRED_PRICE
optional_price = _OPTIONAL_PRICE
optional_number = _optional(_decimal)
optional_timestamp = _OPTIONAL_TIMESTAMP
