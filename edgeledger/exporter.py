"""Write every signal with its outcome as CSV or JSON Lines.

The published terms come out exactly as they can be imported again (so an export re-imported
elsewhere reproduces the ledger, and re-imported here adds nothing); outcome columns follow.
Times are ISO 8601 in UTC. In CSV, text a spreadsheet would run as a formula is guarded
(edgeledger.csv_cells), and import reads it back unguarded.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TextIO

from edgeledger.core.model import OUTCOME_FIELDS, SIGNAL_FIELDS
from edgeledger.core.signals import decimal_text
from edgeledger.csv_cells import guard_cell

TERM_COLUMNS = SIGNAL_FIELDS
# After the outcome: the market it was read by (the one it named, else its instrument's).
OUTCOME_COLUMNS = (*OUTCOME_FIELDS, "market_used", "user_notes", "flagged_for_review", "logged_at")
EXPORT_COLUMNS = TERM_COLUMNS + OUTCOME_COLUMNS
FORMATS = ("csv", "jsonl")


def utc_text(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z: 2026-11-20T14:35:00Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def write_export(rows: Iterable[dict[str, Any]], out: TextIO, fmt: str = "csv") -> int:
    """Write rows (trade_signals rows) to out; return how many."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        for count, row in enumerate(rows, start=1):  # noqa: B007
            writer.writerow(_csv_value(row[c], c) for c in EXPORT_COLUMNS)
    else:
        for count, row in enumerate(rows, start=1):  # noqa: B007
            record = {c: _json_value(row[c]) for c in EXPORT_COLUMNS}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return count


def _csv_value(value: Any, column: str) -> Any:
    if value is None:
        return ""
    if column == "edges":
        if all(set(edge) == {"name"} for edge in value):
            return guard_cell(";".join(edge["name"] for edge in value))
        return json.dumps(value, ensure_ascii=False)
    if column == "context":
        return json.dumps(value, ensure_ascii=False) if value else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return guard_cell(value)  # text only: a negative R stays a number
    return _scalar(value)


def _json_value(value: Any) -> Any:
    """Numbers as JSON numbers when a float holds them exactly, else as exact text."""
    if isinstance(value, Decimal):
        text = decimal_text(value)
        return float(text) if decimal_text(Decimal(repr(float(text)))) == text else text
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    return value
