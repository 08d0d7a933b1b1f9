"""A backtest's trades come with their outcomes: read them as the rules would have written them.

Live signals are settled from price bars and never take an outcome from a file. A backtest
trade was settled by the backtester, so its outcome columns are taken, but held to what the
ledger promises of any outcome: a closed status, a fill and an exit with their times in
order, and an R that is what the fill, the exit and the levels make it. R may be left out
(it is derived, rounded as the rules round it); given, it must agree to the fourth place.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from edgeledger.core.model import OUTCOME_FIELDS, ExitReason, NewSignal, Outcome, Status
from edgeledger.core.validation import (
    FUTURE_TOLERANCE,
    optional_number,
    optional_price,
    optional_timestamp,
)
from edgeledger.errors import FieldProblem, InvalidSignal

BACKTEST_COLUMNS = frozenset(OUTCOME_FIELDS)
"""The outcome columns a backtest row may carry (those of an export)."""

# The exits each closed status allows; the first is the one a blank exit_reason means.
EXITS: dict[Status, tuple[ExitReason, ...]] = {
    Status.WIN: (ExitReason.TARGET, ExitReason.MANUAL),
    Status.LOSS: (ExitReason.STOP, ExitReason.MANUAL),
    Status.EXPIRED: (ExitReason.TIMEOUT, ExitReason.NOT_TRIGGERED, ExitReason.MANUAL),
}
R_PLACES = Decimal("0.0001")
_TRUE, _FALSE = {"true", "t", "1", "yes"}, {"false", "f", "0", "no"}


def r_multiple(signal: NewSignal, fill: Decimal, exit_price: Decimal) -> Decimal:
    """R of a trade filled at `fill` and exited at `exit_price`, rounded as the rules round it
    (four places, halves to even): (exit - fill) / (entry - stop), for longs and shorts alike."""
    return ((exit_price - fill) / (signal.entry - signal.stop)).quantize(
        R_PLACES, rounding=ROUND_HALF_EVEN
    )


def parse_backtest_outcome(raw: Mapping[str, Any], signal: NewSignal, *, now: datetime) -> Outcome:
    """The outcome of a backtest trade from its outcome columns; InvalidSignal names every
    bad field."""
    problems: list[FieldProblem] = []

    def parse(name: str, parser: Any) -> Any:
        try:
            return parser(raw.get(name))
        except ValueError as exc:
            problems.append(FieldProblem(name, str(exc)))
            return None

    status = parse("status", _status)
    exit_reason = parse("exit_reason", _exit_reason)
    fill = parse("fill_price", optional_price)
    triggered_at = parse("triggered_at", optional_timestamp)
    exit_price = parse("exit_price", optional_price)
    closed_at = parse("closed_at", optional_timestamp)
    r = parse("r_achieved", optional_number)
    mfe = parse("mfe_r", optional_number)
    mae = parse("mae_r", optional_number)
    target2_hit = parse("target2_hit", _optional_bool)
    ambiguous = parse("ambiguous", _optional_bool)

    if status is not None and exit_reason is None and "exit_reason" not in _named(problems):
        exit_reason = EXITS[status][0]
    if status is not None and exit_reason is not None and exit_reason not in EXITS[status]:
        allowed = " or ".join(e.value for e in EXITS[status])
        problems.append(
            FieldProblem(
                "exit_reason",
                f"{exit_reason.value} cannot close a {status.value} (expected {allowed})",
            )
        )
    filled = exit_reason is not ExitReason.NOT_TRIGGERED
    given = {"fill_price": fill, "triggered_at": triggered_at, "exit_price": exit_price,
             "closed_at": closed_at, "r_achieved": r, "mfe_r": mfe, "mae_r": mae}  # fmt: skip
    for name, value in given.items():
        if not filled and value is not None:
            problems.append(FieldProblem(name, "must be empty for a trade that never filled"))
        elif filled and value is None and name in _NEEDED_WHEN_FILLED and not _was_given(raw, name):
            problems.append(FieldProblem(name, f"is required for a {_closed(status)} trade"))

    if triggered_at is not None and triggered_at < signal.created_at:
        problems.append(FieldProblem("triggered_at", f"{_iso(triggered_at)} is before created_at"
                                     f" {_iso(signal.created_at)}"))  # fmt: skip
    if triggered_at is not None and closed_at is not None and closed_at < triggered_at:
        problems.append(FieldProblem("closed_at", f"{_iso(closed_at)} is before triggered_at"
                                     f" {_iso(triggered_at)}"))  # fmt: skip
    if closed_at is not None and closed_at > now + FUTURE_TOLERANCE:
        problems.append(FieldProblem("closed_at", f"{_iso(closed_at)} is in the future"))

    if fill is not None and exit_price is not None:
        derived = r_multiple(signal, fill, exit_price)
        if r is None and "r_achieved" not in _named(problems):
            r = derived
        elif r is not None and abs(r - derived) > R_PLACES:
            problems.append(FieldProblem("r_achieved", (
                f"{r} does not match the trade: (exit {exit_price} - fill {fill})"
                f" / (entry {signal.entry} - stop {signal.stop}) = {derived}")))  # fmt: skip
        if r is not None and status is Status.WIN and r < 0:
            problems.append(FieldProblem("r_achieved", f"a WIN cannot lose ({r}R)"))
        if r is not None and status is Status.LOSS and r > 0:
            problems.append(FieldProblem("r_achieved", f"a LOSS cannot gain ({r}R)"))
    if mfe is not None and mfe < 0:
        problems.append(FieldProblem("mfe_r", f"{mfe} must not be negative (the best excursion)"))
    if mae is not None and mae > 0:
        problems.append(FieldProblem("mae_r", f"{mae} must not be positive (the worst excursion)"))
    if target2_hit is not None and signal.target2 is None:
        problems.append(FieldProblem("target2_hit", "must be empty: the signal has no target2"))
    if problems:
        raise InvalidSignal(problems)
    return Outcome(
        status=status,
        fill_price=fill,
        triggered_at=triggered_at,
        exit_price=exit_price,
        closed_at=closed_at,
        exit_reason=exit_reason,
        r_achieved=_rounded(r),
        ambiguous=bool(ambiguous),
        mfe_r=_rounded(mfe),
        mae_r=_rounded(mae),
        target2_hit=target2_hit,
    )


_NEEDED_WHEN_FILLED = ("fill_price", "triggered_at", "exit_price", "closed_at")


def _was_given(raw: Mapping[str, Any], name: str) -> bool:
    """A value given but refused already has its problem; only a blank one is missing."""
    return not _blank(raw.get(name))


def _rounded(value: Decimal | None) -> Decimal | None:
    """To the four places the ledger stores R in, halves to even as the rules round."""
    return None if value is None else value.quantize(R_PLACES, rounding=ROUND_HALF_EVEN)


def _named(problems: list[FieldProblem]) -> set[str]:
    return {p.field for p in problems}


def _closed(status: Status | None) -> str:
    return status.value if status else "closed"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _status(value: Any) -> Status:
    closed = "WIN, LOSS or EXPIRED"
    if _blank(value):
        raise ValueError(f"is required for a backtest trade ({closed})")
    text = str(value).strip().upper()
    if not text.isascii() or text not in {s.value for s in EXITS}:
        raise ValueError(f"{value!r} must be {closed}: a backtest trade is imported closed")
    return Status(text)


def _exit_reason(value: Any) -> ExitReason | None:
    if _blank(value):
        return None
    text = str(value).strip().lower()
    try:
        if not text.isascii():
            raise ValueError(text)
        reason = ExitReason(text)
    except ValueError:
        raise ValueError(
            f"{value!r} must be target, stop, timeout, not_triggered or manual"
        ) from None
    if reason is ExitReason.NO_DATA:
        raise ValueError("no_data is for live signals waiting for prices, not a backtest's exit")
    return reason


def _optional_bool(value: Any) -> bool | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} must be true or false")
