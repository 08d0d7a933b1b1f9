"""Reading a signal out of a channel post: an embed with named fields, or a `Key: value`
text block (docs/discord-bot.md lists the accepted keys).

Pure and total: any text and any embed give a ParsedPost, never an exception, so no post
can crash the bot. The fields found are handed to the ledger's validation, which names each
bad one; this module only finds them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Accepted names of each field, compared lowercased with spaces, dashes, dots and
# underscores removed ("Stop Loss", "stop-loss" and "STOP_LOSS" are all "stoploss").
ALIASES: dict[str, tuple[str, ...]] = {
    "ticker": ("ticker", "symbol", "instrument"),
    "trade_type": ("type", "tradetype", "timeframe", "horizon"),
    "direction": ("direction", "side", "bias"),
    "entry": ("entry", "entryprice", "buy", "price"),
    "stop": ("stop", "stoploss", "sl", "stopprice"),
    "target": ("target", "target1", "tp", "tp1", "takeprofit", "pt", "pt1"),
    "target2": ("target2", "tp2", "pt2"),
    "confidence": ("confidence", "stars", "conf", "rating"),
    "edges": ("edges", "edge", "setup", "setups"),
    "rationale": ("rationale", "reason", "why", "notes", "thesis"),
    "strategy": ("strategy", "model", "generator"),
    "market": ("market", "exchange"),
    "expires_at": ("expires", "expiry", "expiresat", "validuntil"),
}
_BY_ALIAS = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
# A post is a signal attempt when it names at least this many of these fields.
KEY_FIELDS = ("ticker", "entry", "stop", "target")
LOOKS_LIKE = 3
MAX_VALUE = 4000

_LINE = re.compile(r"^\s*(?:[-•>]\s*)?([A-Za-z][A-Za-z0-9 ._-]{0,30}?)\s*[:=]\s*(.*?)\s*$")
_DECORATION = re.compile(r"[*_`~|]")
_NUMBER = re.compile(r"^[$€£]?\s*([0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s*[$€£]?$")
_DIRECTIONS = {"long": "long", "buy": "long", "bull": "long", "bullish": "long",
               "short": "short", "sell": "short", "bear": "short", "bearish": "short"}  # fmt: skip
_TYPES = {"day": "day", "daytrade": "day", "intraday": "day", "swing": "swing",
          "swingtrade": "swing"}  # fmt: skip


@dataclass(frozen=True)
class ParsedPost:
    """What a post holds: `raw` signal fields (empty: not a signal), whether it looks like
    a signal attempt, and the fields seen under names we do not read."""

    raw: dict[str, Any] = field(default_factory=dict)
    looks_like_signal: bool = False
    unknown: tuple[str, ...] = ()

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(name for name in KEY_FIELDS if name not in self.raw)


def parse_post(content: Any, embeds: Iterable[Any] = ()) -> ParsedPost:
    """The signal fields of a post's text and embeds (the embeds' fields win)."""
    try:
        pairs = list(_text_pairs(content if isinstance(content, str) else ""))
        for embed in embeds or ():
            pairs.extend(_embed_pairs(embed))
        return _collect(pairs)
    except Exception:  # total by contract: a post we cannot read is no signal
        return ParsedPost()


def _text_pairs(text: str) -> Iterable[tuple[str, str]]:
    for line in text[:20_000].splitlines():
        match = _LINE.match(_DECORATION.sub("", line))
        if match:
            yield match.group(1), match.group(2)


def _embed_pairs(embed: Any) -> Iterable[tuple[str, str]]:
    """Fields of a discord.Embed or of its dict form; the description read as text."""
    data = embed.to_dict() if hasattr(embed, "to_dict") else embed
    if not isinstance(data, Mapping):
        return
    description = data.get("description")
    if isinstance(description, str):
        yield from _text_pairs(description)
    fields = data.get("fields")
    for item in fields if isinstance(fields, list) else ():
        if isinstance(item, Mapping):
            name, value = item.get("name"), item.get("value")
            if isinstance(name, str) and isinstance(value, str):
                yield _DECORATION.sub("", name).strip().rstrip(":"), value.strip()


def _key(name: str) -> str:
    return re.sub(r"[\s._-]+", "", name.lower())


def _collect(pairs: list[tuple[str, str]]) -> ParsedPost:
    raw: dict[str, Any] = {}
    unknown: list[str] = []
    for name, value in pairs:
        target = _BY_ALIAS.get(_key(name))
        value = _DECORATION.sub("", value).strip()[:MAX_VALUE]
        if target is None:
            unknown.append(name)
            continue
        if value:
            raw[target] = _normalize(target, value)
    seen = sum(name in raw for name in KEY_FIELDS)
    if seen < LOOKS_LIKE:
        return ParsedPost(unknown=tuple(unknown))
    return ParsedPost(raw=raw, looks_like_signal=True, unknown=tuple(unknown))


def _normalize(name: str, value: str) -> Any:
    if name in ("entry", "stop", "target", "target2"):
        match = _NUMBER.match(value)
        return match.group(1).replace(",", "") if match else value
    if name == "ticker":
        return value.lstrip("$").strip().upper()
    if name == "direction":
        return _DIRECTIONS.get(_key(value), value)
    if name == "trade_type":
        return _TYPES.get(_key(value), value)
    if name == "confidence":
        return _confidence(value)
    if name == "edges":
        return [part.strip() for part in re.split(r"[;,]", value) if part.strip()]
    return value


def _confidence(value: str) -> str:
    """'4', '4/5', '★★★★☆' or '4 stars' as '4'; anything else as written."""
    stars = value.count("★") + value.count("⭐")
    if stars:
        return str(stars)
    match = re.match(r"^\s*(\d+)\s*(?:/\s*5|stars?)?\s*$", value)
    return match.group(1) if match else value
