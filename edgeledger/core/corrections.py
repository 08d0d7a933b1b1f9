"""A person's corrections of a signal's outcome: pure rules, given the signal and the time.

A manual outcome is a person's word where the bars are wrong or missing (a fill the data
never showed, a position closed by hand). It is recorded with exit_reason `manual`, which the
resolve job never re-derives or overwrites, and which the statistics count as such.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from edgeledger.core.backtest import r_multiple
from edgeledger.core.model import ExitReason, NewSignal, Outcome, Status
from edgeledger.core.validation import optional_price
from edgeledger.errors import FieldProblem, InvalidSignal

MANUAL_STATUSES = (Status.WIN, Status.LOSS, Status.EXPIRED)
MAX_REASON = 500
MAX_NOTE = 2000


def manual_status(value: Any) -> Status:
    """WIN, LOSS or EXPIRED (any case); InvalidSignal names `status` otherwise."""
    text = str(value or "").strip().upper()
    if text not in {s.value for s in MANUAL_STATUSES}:
        allowed = ", ".join(s.value for s in MANUAL_STATUSES)
        raise InvalidSignal([FieldProblem("status", f"{value!r} is not one of {allowed}")])
    return Status(text)


def exit_price_of(value: Any) -> Decimal | None:
    """An optional exit price; InvalidSignal names `exit_price` when it is not a price."""
    try:
        return optional_price(value)
    except ValueError as exc:
        raise InvalidSignal([FieldProblem("exit_price", str(exc))]) from None


def text_of(field: str, value: Any, *, required: bool, limit: int) -> str | None:
    """A reason or note: trimmed, at most `limit` characters; InvalidSignal names the field."""
    text = str(value).strip() if value is not None else ""
    if not text:
        if required:
            raise InvalidSignal([FieldProblem(field, "is required: say why")])
        return None
    if len(text) > limit:
        raise InvalidSignal([FieldProblem(field, f"is longer than {limit} characters")])
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise InvalidSignal([FieldProblem(field, "contains control characters")])
    return text


def manual_outcome(
    signal: NewSignal,
    current: Outcome,
    status: Status,
    exit_price: Decimal | None,
    *,
    now: datetime,
) -> Outcome:
    """The outcome a person sets: `status` with exit_reason `manual`, R from the fill and exit.

    WIN and LOSS are filled trades: the fill is the one the rules saw, else the entry; the
    exit is the price given, else the target (WIN) or the stop (LOSS); closed when the rules
    closed it, else now. EXPIRED without an exit price never filled (no R); with one it is
    a filled trade closed at that price. R is measured as the rules measure it.
    """
    if status not in MANUAL_STATUSES:
        manual_status(status.value)  # raises, naming the field
    filled = status in (Status.WIN, Status.LOSS) or exit_price is not None
    if not filled:
        if current.fill_price is not None:
            raise InvalidSignal([FieldProblem(
                "exit_price",
                f"is required to expire a trade that filled (at {current.fill_price}):"
                " say where it was closed",
            )])  # fmt: skip
        return Outcome(
            status=status,
            exit_reason=ExitReason.MANUAL,
            target2_hit=False if signal.target2 is not None else None,
        )
    fill = current.fill_price if current.fill_price is not None else signal.entry
    triggered_at = current.triggered_at or signal.created_at
    if exit_price is None:
        exit_price = signal.target if status is Status.WIN else signal.stop
    r = r_multiple(signal, fill, exit_price)
    if status is Status.WIN and r <= 0:
        raise InvalidSignal([FieldProblem(
            "exit_price", f"{exit_price} gives {r}R from the fill {fill}: a WIN must gain"
        )])  # fmt: skip
    if status is Status.LOSS and r > 0:
        raise InvalidSignal([FieldProblem(
            "exit_price", f"{exit_price} gives +{r}R from the fill {fill}: a LOSS cannot gain"
        )])  # fmt: skip
    closed_at = current.closed_at if current.closed_at is not None else max(now, triggered_at)
    if signal.target2 is None:
        target2_hit = None
    elif current.target2_hit is not None:
        target2_hit = current.target2_hit
    else:
        beyond = (exit_price - signal.target2) * (1 if signal.entry > signal.stop else -1)
        target2_hit = status is Status.WIN and beyond >= 0
    return Outcome(
        status=status,
        fill_price=fill,
        triggered_at=triggered_at,
        exit_price=exit_price,
        closed_at=closed_at,
        exit_reason=ExitReason.MANUAL,
        r_achieved=r,
        ambiguous=False,
        mfe_r=current.mfe_r,
        mae_r=current.mae_r,
        target2_hit=target2_hit,
    )
