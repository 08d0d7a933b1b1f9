"""transition_events: what the audit trail gets when a stored outcome is replaced."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from edgeledger.core.model import EventKind, ExitReason, Outcome, Status
from edgeledger.core.outcome_rules import transition_events

FILLED_AT = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
CLOSED_AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

PENDING = Outcome()
OPEN = Outcome(
    status=Status.OPEN,
    fill_price=Decimal("100"),
    triggered_at=FILLED_AT,
    mfe_r=Decimal("0.1000"),
    mae_r=Decimal("-0.0400"),
)
WIN = replace(
    OPEN,
    status=Status.WIN,
    exit_price=Decimal("110"),
    closed_at=CLOSED_AT,
    exit_reason=ExitReason.TARGET,
    r_achieved=Decimal("2.0000"),
    mfe_r=Decimal("2.2000"),
)


def test_an_unchanged_outcome_records_nothing():
    assert transition_events(OPEN, OPEN) == []
    assert transition_events(WIN, WIN) == []


def test_the_first_fill_records_a_triggered_event():
    assert transition_events(PENDING, OPEN) == [
        (
            EventKind.TRIGGERED,
            {"fill_price": "100", "triggered_at": "2026-03-02T14:00:00+00:00"},
        )
    ]


def test_excursions_of_a_running_trade_record_nothing():
    assert transition_events(OPEN, replace(OPEN, mfe_r=Decimal("0.5000"))) == []


def test_settling_records_a_resolved_event_with_every_recorded_field():
    assert transition_events(OPEN, WIN) == [
        (
            EventKind.RESOLVED,
            {
                "status": "WIN",
                "exit_price": "110",
                "closed_at": "2026-03-02T15:00:00+00:00",
                "exit_reason": "target",
                "r_achieved": "2.0000",
                "ambiguous": False,
                "mfe_r": "2.2000",
                "mae_r": "-0.0400",
                "target2_hit": None,
            },
        )
    ]


def test_filling_and_settling_in_one_run_records_both_in_order():
    kinds = [kind for kind, _ in transition_events(PENDING, WIN)]
    assert kinds == [EventKind.TRIGGERED, EventKind.RESOLVED]


def test_target2_decided_later_records_the_resolution_again():
    events = transition_events(WIN, replace(WIN, target2_hit=True))
    assert [(kind, payload["target2_hit"]) for kind, payload in events] == [
        (EventKind.RESOLVED, True)
    ]


def test_expiring_unfilled_records_only_the_resolution():
    expired = Outcome(status=Status.EXPIRED, exit_reason=ExitReason.NOT_TRIGGERED)
    assert transition_events(PENDING, expired) == [
        (
            EventKind.RESOLVED,
            {
                "status": "EXPIRED",
                "exit_price": None,
                "closed_at": None,
                "exit_reason": "not_triggered",
                "r_achieved": None,
                "ambiguous": False,
                "mfe_r": None,
                "mae_r": None,
                "target2_hit": None,
            },
        )
    ]


def test_a_corrected_fill_records_a_new_triggered_event():
    corrected = replace(OPEN, fill_price=Decimal("99"))
    assert [kind for kind, _ in transition_events(OPEN, corrected)] == [EventKind.TRIGGERED]


def test_cancelled_outcomes_are_never_touched():
    cancelled = Outcome(status=Status.CANCELLED)
    assert transition_events(cancelled, WIN) == []
    assert transition_events(OPEN, cancelled) == []


def test_payloads_are_json_serialisable():
    for _, payload in transition_events(PENDING, WIN):
        json.dumps(payload)
