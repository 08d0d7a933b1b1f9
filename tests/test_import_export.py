"""Importing files of signals, exporting the ledger, and the round trip between them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from edgeledger import exporter, importer, ledger, storage
from edgeledger.core.validation import parse_signal
from edgeledger.database import Database
from edgeledger.errors import InvalidImport
from tests.factories import export_text, raw_signal

HEADER = (
    "trade_id,ticker,trade_type,direction,entry,stop,target,target2,confidence,edges,"
    "rationale,created_at,expires_at,strategy"
)
GOOD_ROWS = [
    ",NVDA,day,long,181.20,179.90,184.00,186.50,4,VWAP reclaim;RS vs SPY,Reclaimed VWAP,"
    "2026-11-20T14:35:00Z,,momo-v2",
    ",NVDA,swing,short,180.00,183.00,172.00,,3,Lower high,Failed breakout,"
    "2026-11-20T09:50:00-05:00,,momo-v2",
    "AAPL-20261119-004,AAPL,swing,long,228.10,224.00,236.00,240.00,5,Base breakout,,"
    "2026-11-19T16:00:00Z,2026-11-29T21:00:00Z,",
]


def write_csv(tmp_path: Path, rows: list[str], name: str = "signals.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def count(sql_conn, table: str = "trade_signals") -> int:
    return sql_conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_a_csv_file_is_imported_with_ids_and_events(db, now, sql_conn, tmp_path):
    report = importer.import_file(db, write_csv(tmp_path, GOOD_ROWS), now=now)
    assert (report.rows, report.inserted) == (3, 3)
    ids = [r[0] for r in sql_conn.execute("SELECT trade_id FROM trade_signals ORDER BY trade_id")]
    assert ids == ["AAPL-20261119-004", "NVDA-20261120-001", "NVDA-20261120-002"]
    assert count(sql_conn, "signal_events") == 3


def test_reimporting_a_file_adds_nothing(db, now, sql_conn, tmp_path):
    path = write_csv(tmp_path, GOOD_ROWS)
    importer.import_file(db, path, now=now)
    again = importer.import_file(db, path, now=now)
    assert (again.inserted, again.already_present) == (0, 3)
    assert count(sql_conn) == 3
    assert count(sql_conn, "signal_events") == 3


def test_a_bad_file_writes_nothing_and_names_every_problem(db, now, sql_conn, tmp_path):
    rows = [
        GOOD_ROWS[0],
        ",NVDA,day,long,181.20,181.50,184.00,,4,,,2026-11-20T14:35:00Z,,",
        ",nv da,week,long,181.20,179.90,184.00,,9,,,2026-11-20 14:35,,",
        GOOD_ROWS[1],
    ]
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, write_csv(tmp_path, rows), now=now)
    found = {(p.line, p.field) for p in caught.value.problems}
    assert found == {
        (3, "stop"),
        (4, "ticker"),
        (4, "trade_type"),
        (4, "confidence"),
        (4, "created_at"),
    }
    assert "line 3: stop: stop 181.50 must be below entry 181.20 for a long" in str(caught.value)
    assert count(sql_conn) == 0 and count(sql_conn, "signal_events") == 0


def test_skip_invalid_imports_the_good_rows_and_reports_the_bad(db, now, sql_conn, tmp_path):
    rows = [GOOD_ROWS[0], ",NVDA,day,long,181.20,181.50,184.00,,4,,,2026-11-20T14:35:00Z,,"]
    report = importer.import_file(db, write_csv(tmp_path, rows), now=now, skip_invalid=True)
    assert report.inserted == 1
    assert [(p.line, p.field) for p in report.skipped] == [(3, "stop")]
    assert count(sql_conn) == 1


def test_an_unknown_or_missing_column_is_reported_on_line_one(db, now, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("ticker,trade_type,direction,entry,stop,tagret,confidence,created_at\n")
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, path, now=now)
    assert {(p.line, p.field) for p in caught.value.problems} == {(1, "tagret"), (1, "target")}


def test_a_taken_trade_id_with_other_terms_refuses_the_file(db, now, sql_conn, tmp_path):
    signal = parse_signal(
        raw_signal(
            ticker="AAPL",
            trade_id="AAPL-20261119-004",
            entry="228.10",
            stop="224",
            target="236",
            target2=None,
        ),
        now=now,
    )
    ledger.log_signal(db, signal, actor="test", now=now)
    with pytest.raises(InvalidImport, match="line 4: trade_id: AAPL-20261119-004 is already used"):
        importer.import_file(db, write_csv(tmp_path, GOOD_ROWS), now=now)
    assert count(sql_conn) == 1


def test_the_same_trade_id_twice_in_a_file_with_other_terms_is_refused(db, now, tmp_path):
    rows = [GOOD_ROWS[2], GOOD_ROWS[2].replace("228.10", "228.20")]
    with pytest.raises(InvalidImport, match="line 3: trade_id"):
        importer.import_file(db, write_csv(tmp_path, rows), now=now)


def test_identical_rows_in_one_file_are_logged_once(db, now, sql_conn, tmp_path):
    report = importer.import_file(db, write_csv(tmp_path, [GOOD_ROWS[0]] * 3), now=now)
    assert (report.inserted, report.duplicates_in_file) == (1, 2)


def test_jsonl_rows_are_imported_and_bad_json_is_named_by_line(db, now, sql_conn, tmp_path):
    path = tmp_path / "signals.jsonl"
    good = raw_signal(edges=[{"name": "Gap fill", "gap_pct": 2.1}])
    path.write_text(json.dumps(good) + "\n\n" + '{"ticker": "AMD",\n')
    with pytest.raises(InvalidImport, match="line 3: row: is not valid JSON"):
        importer.import_file(db, path, now=now)
    path.write_text(json.dumps(good) + "\n")
    assert importer.import_file(db, path, now=now).inserted == 1
    edges = sql_conn.execute("SELECT edges FROM trade_signals").fetchone()[0]
    assert edges == [{"name": "Gap fill", "gap_pct": 2.1}]


def test_generated_ids_continue_after_ids_already_used(db, now, sql_conn, tmp_path):
    signal = parse_signal(raw_signal(created_at="2026-11-20T13:00:00Z"), now=now)
    ledger.log_signal(db, signal, actor="test", now=now)
    importer.import_file(db, write_csv(tmp_path, GOOD_ROWS[:2]), now=now)
    ids = [
        r[0]
        for r in sql_conn.execute(
            "SELECT trade_id FROM trade_signals WHERE ticker = 'NVDA' ORDER BY created_at"
        )
    ]
    assert ids == ["NVDA-20261120-001", "NVDA-20261120-002", "NVDA-20261120-003"]


# AAPL's first number of the day, given to an MSFT signal; then an AAPL row to be numbered.
MSFT_UNDER_AN_AAPL_ID = (
    "AAPL-20261119-001,MSFT,swing,long,410.00,400.00,430.00,,3,,,2026-11-19T15:00:00Z,,"
)
AAPL_TO_NUMBER = ",AAPL,swing,long,228.10,224.00,236.00,,5,,,2026-11-19T16:00:00Z,,"


def test_a_generated_trade_id_skips_one_an_earlier_row_was_given(db, now, sql_conn, tmp_path):
    path = write_csv(tmp_path, [MSFT_UNDER_AN_AAPL_ID, AAPL_TO_NUMBER])
    report = importer.import_file(db, path, now=now)
    assert (report.inserted, report.already_present) == (2, 0)
    ids = dict(sql_conn.execute("SELECT ticker, trade_id FROM trade_signals").fetchall())
    assert ids == {"MSFT": "AAPL-20261119-001", "AAPL": "AAPL-20261119-002"}


def test_a_generated_trade_id_skips_one_the_ledger_holds(db, now, sql_conn, tmp_path):
    importer.import_file(db, write_csv(tmp_path, [MSFT_UNDER_AN_AAPL_ID]), now=now)
    report = importer.import_file(db, write_csv(tmp_path, [AAPL_TO_NUMBER]), now=now)
    assert (report.inserted, report.already_present) == (1, 0)
    aapl = sql_conn.execute("SELECT trade_id FROM trade_signals WHERE ticker = 'AAPL'")
    assert aapl.fetchone()[0] == "AAPL-20261119-002"


def write_jsonl(tmp_path: Path, rows: list[dict], name: str = "signals.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_a_source_key_reused_in_the_file_for_other_terms_is_refused(db, now, tmp_path):
    rows = [raw_signal(source_key="msg-9"), raw_signal(source_key="msg-9", target="185.00")]
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, write_jsonl(tmp_path, rows), now=now)
    assert [str(p) for p in caught.value.problems] == [
        "line 2: source_key: import key msg-9 is used by an earlier row with other terms"
    ]


def test_a_source_key_reused_in_the_file_is_skipped_with_its_line(db, now, sql_conn, tmp_path):
    rows = [raw_signal(source_key="msg-9"), raw_signal(source_key="msg-9", target="185.00")]
    path = write_jsonl(tmp_path, rows)
    report = importer.import_file(db, path, now=now, skip_invalid=True)
    assert (report.inserted, report.already_present) == (1, 0)
    assert [(p.line, p.field) for p in report.skipped] == [(2, "source_key")]
    assert count(sql_conn) == 1


def test_a_source_key_the_ledger_holds_for_other_terms_refuses_the_file(
    db, now, sql_conn, tmp_path
):
    importer.import_file(db, write_jsonl(tmp_path, [raw_signal(source_key="msg-9")]), now=now)
    path = write_jsonl(tmp_path, [raw_signal(source_key="msg-9", target="185.00")])
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, path, now=now)
    assert [str(p) for p in caught.value.problems] == [
        "line 1: source_key: import key msg-9 was already logged as NVDA-20261120-001"
        " with different terms"
    ]
    assert count(sql_conn) == 1


def test_a_source_key_the_ledger_holds_is_skipped_with_its_line(db, now, sql_conn, tmp_path):
    importer.import_file(db, write_jsonl(tmp_path, [raw_signal(source_key="msg-9")]), now=now)
    rows = [raw_signal(source_key="msg-9", target="185.00"), raw_signal(ticker="AMD")]
    report = importer.import_file(db, write_jsonl(tmp_path, rows), now=now, skip_invalid=True)
    assert (report.inserted, report.already_present) == (1, 0)
    assert [(p.line, p.field) for p in report.skipped] == [(1, "source_key")]
    assert count(sql_conn) == 2


def test_the_same_signal_under_its_source_key_is_already_present(db, now, tmp_path):
    path = write_jsonl(tmp_path, [raw_signal(source_key="msg-9")])
    importer.import_file(db, path, now=now)
    again = importer.import_file(db, path, now=now)
    assert (again.inserted, again.already_present, again.skipped) == (0, 1, [])


@pytest.fixture
def another_writer_takes_msg_9(db, now, monkeypatch):
    """Between the import's check and its insert, another writer logs other terms as msg-9."""
    insert_staged = storage.insert_staged

    def another_writer_first(conn, **kwargs):
        raw = raw_signal(source="import", source_key="msg-9", target="185.00")
        ledger.log_signal(db, parse_signal(raw, now=now), actor="bot", now=now)
        return insert_staged(conn, **kwargs)

    monkeypatch.setattr(storage, "insert_staged", another_writer_first)


def test_a_row_whose_source_key_is_taken_during_the_import_is_skipped_with_its_line(
    db, now, sql_conn, tmp_path, another_writer_takes_msg_9
):
    rows = [raw_signal(source_key="msg-9"), raw_signal(ticker="AMD")]
    report = importer.import_file(db, write_jsonl(tmp_path, rows), now=now, skip_invalid=True)
    assert (report.inserted, report.already_present) == (1, 0)
    assert [(p.line, p.field) for p in report.skipped] == [(1, "row")]
    assert count(sql_conn) == 2  # the other writer's and AMD


def test_a_row_whose_source_key_is_taken_during_the_import_refuses_the_file(
    db, now, sql_conn, tmp_path, another_writer_takes_msg_9
):
    rows = [raw_signal(source_key="msg-9"), raw_signal(ticker="AMD")]
    with pytest.raises(InvalidImport, match="line 1: row: its trade_id or source key was taken"):
        importer.import_file(db, write_jsonl(tmp_path, rows), now=now)
    assert count(sql_conn) == 1  # the other writer's


def test_every_row_is_counted_once_inserted_present_repeated_or_skipped(db, now, tmp_path):
    importer.import_file(db, write_jsonl(tmp_path, [raw_signal(source_key="msg-9")]), now=now)
    rows = [
        raw_signal(source_key="msg-9"),  # already present
        raw_signal(source_key="msg-9", target="185.00"),  # the key is taken: skipped
        raw_signal(ticker="AMD"),  # inserted
        raw_signal(ticker="AMD"),  # repeated
        raw_signal(ticker="AMD", stop="190", target="180"),  # invalid twice over: skipped
        raw_signal(ticker="MSFT", trade_id="NVDA-20261120-001"),  # the id is taken: skipped
    ]
    path = write_jsonl(tmp_path, rows)
    report = importer.import_file(db, path, now=now, skip_invalid=True)
    counted = (report.inserted, report.already_present, report.duplicates_in_file)
    assert (*counted, report.skipped_lines) == (1, 1, 1, 3)
    assert sum(counted) + report.skipped_lines == report.rows == 6


def test_export_has_outcome_columns_and_utc_times(db, now, tmp_path):
    importer.import_file(db, write_csv(tmp_path, GOOD_ROWS), now=now)
    rows = list(csv.DictReader(io.StringIO(export_text(db))))
    assert set(exporter.OUTCOME_COLUMNS) <= set(rows[0])
    short = next(r for r in rows if r["direction"] == "short")
    assert short["created_at"] == "2026-11-20T14:50:00Z"
    assert short["status"] == "PENDING" and short["r_achieved"] == ""
    assert short["entry"] == "180"


def test_export_then_import_elsewhere_reproduces_the_ledger(db, now, tmp_path, clone_db):
    importer.import_file(db, write_csv(tmp_path, GOOD_ROWS), now=now)
    for fmt in exporter.FORMATS:
        exported = tmp_path / f"ledger.{fmt}"
        exported.write_text(export_text(db, fmt))
        with Database(clone_db()) as elsewhere:
            assert importer.import_file(elsewhere, exported, now=now).inserted == 3
            assert export_text(elsewhere, "jsonl") == export_text(db, "jsonl")


def test_an_export_reimported_into_its_own_ledger_adds_nothing(db, now, sql_conn, tmp_path):
    importer.import_file(db, write_csv(tmp_path, GOOD_ROWS), now=now)
    exported = tmp_path / "ledger.csv"
    exported.write_text(export_text(db))
    assert importer.import_file(db, exported, now=now).inserted == 0
    assert count(sql_conn) == 3


def test_progress_is_reported_while_importing(db, now, tmp_path):
    seen: list[tuple[str, int]] = []
    importer.import_file(
        db,
        write_csv(tmp_path, GOOD_ROWS),
        now=now,
        progress=lambda stage, n: seen.append((stage, n)),
    )
    assert ("checked", 3) in seen and ("copied", 3) in seen


# --- every row accounted for: a file that cannot be split into rows is refused whole ---------


def test_a_quote_left_open_refuses_the_file_naming_the_line_it_opened(db, now, sql_conn, tmp_path):
    rows = [GOOD_ROWS[2], GOOD_ROWS[0].replace(",momo-v2", ',"momo-v2'), GOOD_ROWS[1]]
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, write_csv(tmp_path, rows), now=now)
    assert [(p.line, p.field) for p in caught.value.problems] == [(3, "row")]
    assert "quote opened on this line is never closed" in str(caught.value)
    assert count(sql_conn) == 0


def test_a_quote_left_open_refuses_the_file_even_when_skipping_invalid_rows(
    db, now, sql_conn, tmp_path
):
    rows = [GOOD_ROWS[0].replace(",momo-v2", ',"momo-v2'), GOOD_ROWS[1]]
    with pytest.raises(InvalidImport, match="line 2: row: a quote opened on this line"):
        importer.import_file(db, write_csv(tmp_path, rows), now=now, skip_invalid=True)
    assert count(sql_conn) == 0


def test_a_quote_opened_on_a_later_line_of_a_row_is_the_line_named(db, now, tmp_path):
    two_line_rationale = GOOD_ROWS[0].replace("Reclaimed VWAP", '"Reclaimed\nVWAP"')
    rows = [two_line_rationale.replace(",momo-v2", ',"momo-v2'), GOOD_ROWS[1]]
    with pytest.raises(InvalidImport, match="line 3: row: a quote opened on this line"):
        importer.import_file(db, write_csv(tmp_path, rows), now=now, skip_invalid=True)


def test_a_quote_that_swallows_rows_until_another_quote_refuses_the_file(
    db, now, sql_conn, tmp_path
):
    quoted_rationale = GOOD_ROWS[1].replace("Failed breakout", '"Failed breakout"')
    rows = [GOOD_ROWS[0].replace(",momo-v2", ',"momo-v2'), GOOD_ROWS[2], quoted_rationale]
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, write_csv(tmp_path, rows), now=now, skip_invalid=True)
    assert [(p.line, p.field) for p in caught.value.problems] == [(2, "row")]
    assert "runs from line 2 to line 4" in str(caught.value)
    assert count(sql_conn) == 0


def test_a_quoted_field_holding_a_whole_row_refuses_the_file(db, now, sql_conn, tmp_path):
    closes_at_rationale_end = GOOD_ROWS[1].replace("Failed breakout", 'Failed breakout"')
    opens = GOOD_ROWS[0].replace("Reclaimed VWAP", '"Reclaimed VWAP')
    rows = [opens, GOOD_ROWS[2], closes_at_rationale_end]
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, write_csv(tmp_path, rows), now=now, skip_invalid=True)
    assert [(p.line, p.field) for p in caught.value.problems] == [(2, "rationale")]
    assert "line 3 inside it reads like a row" in str(caught.value)
    assert count(sql_conn) == 0


def test_a_quoted_field_holding_the_start_of_a_row_refuses_the_file(db, now, sql_conn, tmp_path):
    # Line 2's edges open a quote; line 3's empty edges hold a lone quote, which closes it.
    opens = GOOD_ROWS[0].replace("VWAP reclaim;", '"VWAP reclaim;')
    lone_quote = GOOD_ROWS[1].replace(",Lower high,", ',",')
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(
            db, write_csv(tmp_path, [opens, lone_quote]), now=now, skip_invalid=True
        )
    assert [(p.line, p.field) for p in caught.value.problems] == [(2, "edges")]
    assert "line 3 inside it reads like a row" in str(caught.value)
    assert count(sql_conn) == 0


def test_a_quoted_field_spanning_lines_in_a_one_line_column_refuses_the_file(
    db, now, sql_conn, tmp_path
):
    closes_at_line_end = GOOD_ROWS[1].replace(",momo-v2", ',momo-v2"')
    rows = [GOOD_ROWS[0].replace(",momo-v2", ',"momo-v2'), GOOD_ROWS[2], closes_at_line_end]
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, write_csv(tmp_path, rows), now=now, skip_invalid=True)
    assert [(p.line, p.field) for p in caught.value.problems] == [(2, "strategy")]
    assert "runs from line 2 to line 4, but strategy is one line" in str(caught.value)
    assert count(sql_conn) == 0


def test_a_quoted_rationale_may_span_lines(db, now, sql_conn, tmp_path):
    rows = [GOOD_ROWS[0].replace("Reclaimed VWAP", '"Reclaimed VWAP,\non volume"'), GOOD_ROWS[1]]
    report = importer.import_file(db, write_csv(tmp_path, rows), now=now)
    assert (report.rows, report.inserted) == (2, 2)
    rationale = sql_conn.execute("SELECT rationale FROM trade_signals WHERE trade_type = 'day'")
    assert rationale.fetchone()[0] == "Reclaimed VWAP,\non volume"


def test_a_stray_character_after_a_closing_quote_refuses_the_file(db, now, sql_conn, tmp_path):
    # Where the row ends is in doubt: `"Reclaimed" VWAP, "then` may be meant to run on.
    rows = [GOOD_ROWS[0].replace("Reclaimed VWAP", '"Reclaimed" VWAP'), GOOD_ROWS[1]]
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, write_csv(tmp_path, rows), now=now, skip_invalid=True)
    assert [(p.line, p.field) for p in caught.value.problems] == [(2, "row")]
    assert "cannot be read as CSV (',' expected after '\"')" in str(caught.value)
    assert count(sql_conn) == 0


# --- a JSON Lines row is read as written, or refused by field and line ----------------------


def write_jsonl_text(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "signals.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def good_json(**overrides) -> str:
    return json.dumps(raw_signal(**overrides))[:-1]  # without its closing brace


def test_a_repeated_key_in_a_jsonl_row_is_refused_naming_the_key_and_line(db, now, tmp_path):
    path = write_jsonl_text(tmp_path, good_json() + "}", good_json() + ', "ticker": "AMD"}')
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, path, now=now)
    assert [str(p) for p in caught.value.problems] == ["line 2: ticker: appears twice in the row"]


def test_a_jsonl_row_nested_too_deep_is_refused_naming_the_field(db, now, tmp_path):
    context = '{"a": ' * 100_000 + "1" + "}" * 100_000
    path = write_jsonl_text(tmp_path, good_json() + f', "context": {context}}}')
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, path, now=now)
    assert [str(p) for p in caught.value.problems] == [
        "line 1: context: is nested more than 32 levels deep"
    ]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_or_infinity_in_a_jsonl_rows_edge_is_refused(db, now, tmp_path, number):
    edges = f'[{{"name": "Gap fill", "gap_pct": {number}}}]'
    path = write_jsonl_text(tmp_path, good_json(edges=None) + f', "edges": {edges}}}')
    with pytest.raises(InvalidImport, match="line 1: edges: edge 'Gap fill' holds"):
        importer.import_file(db, path, now=now)


def test_a_lone_surrogate_escaped_in_a_jsonl_row_is_refused(db, now, tmp_path):
    path = write_jsonl_text(tmp_path, good_json(rationale=None) + ', "rationale": "\\udc80"}')
    with pytest.raises(InvalidImport, match="line 1: rationale: is not valid Unicode"):
        importer.import_file(db, path, now=now)


def test_a_number_too_long_to_read_refuses_its_jsonl_row(db, now, tmp_path):
    path = write_jsonl_text(
        tmp_path, good_json(confidence=None) + f', "confidence": 1{"0" * 5000}}}'
    )
    with pytest.raises(InvalidImport, match="line 1: row: holds a number too long to read"):
        importer.import_file(db, path, now=now)


def test_a_control_character_in_a_field_name_is_not_echoed(db, now, tmp_path):
    path = write_jsonl_text(tmp_path, good_json() + ', "\\u001b[2J": 1}')
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, path, now=now)
    assert "\x1b" not in str(caught.value)
    assert "line 1: '\\x1b[2J': is not a signal field" in str(caught.value)


def test_a_control_character_in_a_csv_column_name_is_not_echoed(db, now, tmp_path):
    path = tmp_path / "signals.csv"
    path.write_text(HEADER + ",\x1b[2J\n" + GOOD_ROWS[0] + ",\n")
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, path, now=now)
    assert "\x1b" not in str(caught.value)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_byte_that_is_not_utf8_is_named_by_its_line(db, now, sql_conn, tmp_path, suffix):
    rows = [raw_signal(entry=f"181.{i:02d}") for i in range(100)]  # past the reader's first block
    if suffix == ".csv":
        lines = [HEADER] + [GOOD_ROWS[0].replace("Reclaimed VWAP", f"row {i}") for i in range(100)]
    else:
        lines = [json.dumps(row) for row in rows]
    path = tmp_path / f"signals{suffix}"
    path.write_bytes("\n".join(lines).encode() + b"\n" + lines[-1].encode() + b"\x80\n")
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, path, now=now)
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (len(lines) + 1, "file")
    assert problem.reason == "is not UTF-8 text (it holds the byte 0x80)"
    assert count(sql_conn) == 0


def test_a_quote_opened_early_that_closes_where_a_field_opened_refuses_the_file(
    db, now, sql_conn, tmp_path
):
    # The quote opened in line 2's edges closes where line 3 opens its rationale, which begins
    # with a comma: the two rows read as one with the header's number of fields.
    opens = GOOD_ROWS[0].replace("VWAP reclaim;", '"VWAP reclaim;')
    rationale_with_a_comma = GOOD_ROWS[1].replace("Failed breakout", '",Failed breakout"')
    path = write_csv(tmp_path, [opens, rationale_with_a_comma])
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, path, now=now, skip_invalid=True)
    assert [(p.line, p.field) for p in caught.value.problems] == [(2, "row")]
    assert "a quote stands inside an unquoted field on line 3" in str(caught.value)
    assert count(sql_conn) == 0
