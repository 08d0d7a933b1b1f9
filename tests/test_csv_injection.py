"""CSV export guards text a spreadsheet would run as a formula; import reads it back."""

from __future__ import annotations

import csv
import io

import pytest

from edgeledger import importer, ledger
from edgeledger.core.validation import parse_signal
from edgeledger.csv_cells import guard_cell, unguard_cell
from edgeledger.database import Database
from tests.factories import export_text, raw_signal

FORMULA = '=HYPERLINK("http://evil.example","click")'


def log(db, now, **overrides) -> None:
    ledger.log_signal(db, parse_signal(raw_signal(**overrides), now=now), actor="test", now=now)


def exported_rows(db) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(export_text(db, "csv"))))


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-5% gap", "'-5% gap"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),  # already quoted by hand: one more, so it reads back as given
        ("Reclaimed VWAP", "Reclaimed VWAP"),
        ("'Tis a breakout", "'Tis a breakout"),
        ("", ""),
    ],
)
def test_a_cell_that_starts_like_a_formula_gets_a_single_quote_and_reads_back(text, cell):
    assert guard_cell(text) == cell
    assert unguard_cell(cell) == text


def test_csv_export_writes_formula_like_text_with_a_leading_quote(db, now):
    log(db, now, rationale=FORMULA, strategy="+momo", edges=["@open", "-5% gap"])
    [row] = exported_rows(db)
    assert row["rationale"] == "'" + FORMULA
    assert row["strategy"] == "'+momo"
    assert row["edges"] == "'@open;-5% gap"


def test_jsonl_export_keeps_the_text_as_it_is(db, now):
    log(db, now, rationale=FORMULA)
    assert f'"rationale": "{FORMULA.replace(chr(34), chr(92) + chr(34))}"' in export_text(
        db, "jsonl"
    )


def test_a_guarded_csv_export_imports_elsewhere_as_the_same_ledger(db, now, tmp_path, clone_db):
    log(db, now, rationale=FORMULA, strategy="+momo", edges=["@open", "-5% gap"])
    log(db, now, ticker="AMD", rationale="'=quoted by hand")
    exported = tmp_path / "ledger.csv"
    exported.write_text(export_text(db, "csv"))
    with Database(clone_db()) as elsewhere:
        assert importer.import_file(elsewhere, exported, now=now).inserted == 2
        assert export_text(elsewhere, "jsonl") == export_text(db, "jsonl")
    again = importer.import_file(db, exported, now=now)
    assert (again.inserted, again.already_present) == (0, 2)
