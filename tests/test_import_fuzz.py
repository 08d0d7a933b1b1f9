"""A standing guard: whatever malformed file arrives, every row is accounted for.

Files of signal rows are generated, then broken the ways files break: a bad value in a field
(digits Python alone would read, NaN, a control character, a byte that is not UTF-8, JSON
nested deep or naming a key twice), a quote left open or opened early, a field too many or
too few, a row repeated or clashing with another, or with the ledger, by trade_id or source
key. For any such file, either the import is refused whole, with every problem on a line
of the file, and nothing is written; or each row read is inserted, already present, a
repeat or skipped with its line, those add up to the rows in the file, and the ledger holds
exactly the inserted ones. The ledger carries over from one example to the next, so later
files meet signals the earlier ones logged.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from edgeledger import importer
from edgeledger.errors import InvalidImport

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
LINE_BREAK = re.compile(r"\r\n|\r|\n")
COLUMNS = [
    "trade_id",
    "ticker",
    "trade_type",
    "direction",
    "entry",
    "stop",
    "target",
    "confidence",
    "edges",
    "rationale",
    "created_at",
    "source_key",
    "context",
]


def deep(levels: int) -> str:
    return '{"a": ' * levels + "1" + "}" * levels


# Values that are wrong, or awkward, somewhere: each may land in any column.
AWKWARD_VALUES = [
    "",
    "1_81",
    "١٨١",
    "１８１",
    "NaN",
    "-5",
    "1e999",
    "abc",
    "\x1b[2J",
    "bad\x00byte",
    "bad\udc80byte",  # a byte that is not UTF-8 in a CSV file; an escape in JSON Lines
    '{"vix": NaN}',
    '{"vix": 1, "vix": 2}',
    '[{"name": "gap", "pct": Infinity}]',
    '[{"name": "gap", "name": "fill"}]',
    deep(40),
    deep(5000),
    ",a leading comma",
    'he said "buy"',
    "two\nlines",
    "\r\n",
    "\x0c\x85\u2028",
    '"',
    "x" * 5000,
    "AAPL-20261119-001",
    "2026-11-19T16:00:00Z",
]

# How a rendered line of a file can break.
CSV_BREAKS = ["none", "drop_last_quote", "open_quote", "extra_field", "missing_field", "blank"]
JSONL_BREAKS = ["none", "truncate", "repeat_key", "nan_entry", "deep_context", "not_object"]
JSONL_BREAKS += ["huge_integer", "blank"]


@st.composite
def signal_rows(draw: st.DrawFn) -> dict[str, str]:
    """A signal row drawn from a small pool, so rows repeat and clash; perhaps one field awry."""
    row = {
        "trade_id": draw(st.sampled_from(["", "", "", "AAPL-20261119-001", "NVDA-20261119-002"])),
        "ticker": draw(st.sampled_from(["NVDA", "AAPL", "MSFT"])),
        "trade_type": "swing",
        "direction": "long",
        "entry": draw(st.sampled_from(["100", "100.5", "101"])),
        "stop": "95",
        "target": "110",
        "confidence": "3",
        "edges": draw(st.sampled_from(["", "Gap fill", "VWAP reclaim;RS vs SPY"])),
        "rationale": draw(st.sampled_from(["", "Reclaimed VWAP", 'say "hi", then\nbuy'])),
        "created_at": draw(st.sampled_from(["2026-11-19T15:00:00Z", "2026-11-19T16:00:00Z"])),
        "source_key": draw(st.sampled_from(["", "", "k1", "k2"])),
        "context": draw(st.sampled_from(["", '{"vix": 14.2}'])),
    }
    if draw(st.integers(0, 2)) == 0:
        row[draw(st.sampled_from(COLUMNS))] = draw(st.sampled_from(AWKWARD_VALUES))
    return row


def csv_line(row: dict[str, str], line_end: str) -> str:
    out = io.StringIO()
    # Written with \r\n, the writer quotes a value holding either; then the line's own end.
    csv.writer(out, lineterminator="\r\n").writerow([row[c] for c in COLUMNS])
    return out.getvalue()[:-2] + line_end


def broken_csv_line(line: str, how: str, line_end: str) -> str:
    body = line[: -len(line_end)]
    if how == "drop_last_quote" and '"' in body:
        at = body.rindex('"')
        body = body[:at] + body[at + 1 :]
    elif how == "open_quote":
        at = body.find(",", len(body) // 2)
        body = body[: at + 1] + '"' + body[at + 1 :] if at >= 0 else '"' + body
    elif how == "extra_field":
        body += ",x"
    elif how == "missing_field":
        body = body.rsplit(",", 1)[0]
    elif how == "blank":
        return line_end + line
    return body + line_end


def jsonl_line(row: dict[str, str], how: str) -> str:
    text = json.dumps({k: v for k, v in row.items() if v != ""})
    if how == "truncate":
        text = text[: len(text) // 2]
    elif how == "repeat_key":
        text = text[:-1] + ', "ticker": "AMD"}'
    elif how == "nan_entry":
        text = text[:-1] + ', "target2": NaN}'
    elif how == "deep_context":
        text = text[:-1] + f', "rationale": {deep(3000)}}}'
    elif how == "not_object":
        text = "[" + text + "]"
    elif how == "huge_integer":
        text = text[:-1] + f', "atr_value": 1{"0" * 5000}}}'
    elif how == "blank":
        text = "\n" + text
    return text + "\n"


def stray_byte(content: bytes) -> st.SearchStrategy[bytes]:
    """The file as written, or now and then with a byte that is not UTF-8 somewhere in it."""
    at = st.integers(0, len(content))
    return st.integers(0, 7).flatmap(
        lambda n: (
            at.map(lambda i: content[:i] + b"\xff" + content[i:]) if n == 0 else st.just(content)
        )
    )


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, int]:
    """A CSV file's bytes and the number of rows written into it."""
    line_end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    rows = draw(st.lists(signal_rows(), min_size=1, max_size=6))
    header = ",".join(COLUMNS)
    text = draw(st.sampled_from([header, header.upper(), header.replace(",", ", ")])) + line_end
    for row in rows:
        how = draw(st.sampled_from(CSV_BREAKS)) if draw(st.integers(0, 3)) == 0 else "none"
        text += broken_csv_line(csv_line(row, line_end), how, line_end)
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return draw(stray_byte((bom + text).encode("utf-8", "surrogateescape"))), len(rows)


@st.composite
def jsonl_files(draw: st.DrawFn) -> tuple[bytes, int]:
    """A JSON Lines file's bytes and the number of rows written into it."""
    rows = draw(st.lists(signal_rows(), min_size=1, max_size=6))
    text = ""
    for row in rows:
        how = draw(st.sampled_from(JSONL_BREAKS)) if draw(st.integers(0, 3)) == 0 else "none"
        text += jsonl_line(row, how)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return draw(stray_byte(text.encode())), len(rows)


def ledger_counts(sql_conn) -> tuple[int, int]:
    signals = sql_conn.execute("SELECT count(*) FROM trade_signals").fetchone()[0]
    created = sql_conn.execute("SELECT count(*) FROM signal_events WHERE kind = 'created'")
    return signals, created.fetchone()[0]


def import_accounts_for_every_row(db, sql_conn, path, content, rows, skip_invalid) -> None:
    """Import content written to path: either it is refused whole, every problem on a line
    of the file, and the ledger is as it was; or its rows add up, and the ledger gained
    exactly the inserted signals, each with its `created` event."""
    path.write_bytes(content)
    lines = len(LINE_BREAK.split(content.decode("utf-8", "surrogateescape")))
    before = ledger_counts(sql_conn)
    try:
        report = importer.import_file(db, path, now=NOW, skip_invalid=skip_invalid)
    except InvalidImport as refused:
        event("refused whole")
        assert refused.problems
        for problem in refused.problems:
            assert problem.field and isinstance(problem.line, int), problem
            assert problem.line in range(1, lines + 1), problem  # a line of the file
        assert ledger_counts(sql_conn) == before
        return
    event("rows skipped" if report.skipped else "every row taken")
    counted = report.inserted + report.already_present + report.duplicates_in_file
    assert counted + report.skipped_lines == report.rows == rows, report
    first_row_line = 2 if path.suffix == ".csv" else 1
    for problem in report.skipped:
        assert problem.field and isinstance(problem.line, int), problem
        assert first_row_line <= problem.line <= lines, problem
    if not skip_invalid:
        assert report.skipped == []
    inserted = report.inserted
    assert ledger_counts(sql_conn) == (before[0] + inserted, before[1] + inserted)


GUARD = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@GUARD
@given(file=csv_files(), skip_invalid=st.sampled_from([True, True, False]))
def test_every_row_of_a_malformed_csv_file_is_accounted_for(
    db, sql_conn, tmp_path, file, skip_invalid
):
    content, rows = file
    import_accounts_for_every_row(
        db, sql_conn, tmp_path / "signals.csv", content, rows, skip_invalid
    )


@GUARD
@given(file=jsonl_files(), skip_invalid=st.sampled_from([True, True, False]))
def test_every_row_of_a_malformed_jsonl_file_is_accounted_for(
    db, sql_conn, tmp_path, file, skip_invalid
):
    content, rows = file
    import_accounts_for_every_row(
        db, sql_conn, tmp_path / "signals.jsonl", content, rows, skip_invalid
    )
