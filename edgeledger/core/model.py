"""The ledger's vocabulary: what a signal is and the states it moves through."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

# The fields of a signal as published, in the order files and exports list them.
SIGNAL_FIELDS: tuple[str, ...] = (
    "trade_id", "ticker", "trade_type", "direction", "entry", "stop", "target", "target2",
    "confidence", "edges", "rationale", "strategy", "source", "source_key", "atr_value",
    "market_volatility", "spy_bias", "context", "created_at", "expires_at", "market",
)  # fmt: skip


class TradeType(StrEnum):
    DAY = "day"
    SWING = "swing"


class Direction(StrEnum):
    LONG = "long"
    SHORT = "short"


class Status(StrEnum):
    PENDING = "PENDING"
    OPEN = "OPEN"
    WIN = "WIN"
    LOSS = "LOSS"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"

    @property
    def is_settled(self) -> bool:
        return self in (Status.WIN, Status.LOSS, Status.EXPIRED, Status.CANCELLED)


class ExitReason(StrEnum):
    TARGET = "target"
    STOP = "stop"
    TIMEOUT = "timeout"
    NOT_TRIGGERED = "not_triggered"
    NO_DATA = "no_data"  # expired while prices for part of its window never came
    MANUAL = "manual"


class Source(StrEnum):
    DISCORD = "discord"
    CHANNEL = "channel"
    API = "api"
    IMPORT = "import"
    BACKTEST = "backtest"


class EventKind(StrEnum):
    CREATED = "created"
    TRIGGERED = "triggered"
    RESOLVED = "resolved"
    REOPENED = "reopened"  # a settled outcome that the rules, run again, leave unsettled
    OVERRIDDEN = "overridden"
    NOTE = "note"
    FLAG = "flag"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Edge:
    """A named setup filter that justified a signal, with any attributes the bot attached."""

    name: str
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, **self.attributes}


@dataclass(frozen=True)
class MarketContext:
    """What the market looked like when the signal was generated."""

    atr_value: Decimal | None = None
    market_volatility: str | None = None
    spy_bias: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewSignal:
    """A validated, normalized signal ready to be logged (no trade_id yet unless given)."""

    ticker: str
    trade_type: TradeType
    direction: Direction
    entry: Decimal
    stop: Decimal
    target: Decimal
    target2: Decimal | None
    confidence: int
    edges: tuple[Edge, ...]
    rationale: str | None
    strategy: str | None
    source: Source
    source_key: str | None
    context: MarketContext
    created_at: datetime
    expires_at: datetime
    trade_id: str | None = None
    market: str | None = None  # named explicitly on the signal; None: its instrument's

    @property
    def risk(self) -> Decimal:
        """Planned risk per share, |entry - stop|: the unit every R is measured in."""
        return abs(self.entry - self.stop)


@dataclass(frozen=True)
class Outcome:
    """Where a signal stands against the bars (the fields of the outcome rules)."""

    status: Status = Status.PENDING
    fill_price: Decimal | None = None
    triggered_at: datetime | None = None
    exit_price: Decimal | None = None
    closed_at: datetime | None = None
    exit_reason: ExitReason | None = None
    r_achieved: Decimal | None = None
    ambiguous: bool = False
    mfe_r: Decimal | None = None
    mae_r: Decimal | None = None
    target2_hit: bool | None = None


OUTCOME_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Outcome))
"""The outcome's fields, in the order the ledger's columns and exports list them."""


@dataclass(frozen=True)
class Signal:
    """A logged signal as stored: the published terms, its outcome and the trader's marks."""

    trade_id: str
    terms: NewSignal
    outcome: Outcome
    user_notes: str | None
    flagged_for_review: bool
    logged_at: datetime
    resolved_as_of: datetime | None = None  # the run time the outcome was derived at
    resolved_interval: str | None = None  # the bar interval it was derived from
