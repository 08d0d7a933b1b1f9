"""Import signals from a .csv or .jsonl file: all rows checked first, then written at once.

Every row is validated before anything is written; a bad file is refused with every problem
named by line and field. Valid rows are spooled to a temporary file in PostgreSQL's COPY text
format while they are checked, then COPYed into a staging table and inserted with their
`created` events in one transaction, so a million rows need neither a million round trips
nor a million objects in memory. Re-importing a file adds nothing.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from edgeledger import storage
from edgeledger.database import Database
from edgeledger.errors import FieldProblem, InvalidImport, InvalidSignal
from edgeledger.exporter import OUTCOME_COLUMNS
from edgeledger.model import NewSignal, Source
from edgeledger.signals import decimal_text, fingerprint, standard_id_number, trade_date
from edgeledger.validation import KNOWN_FIELDS, parse_signal

REQUIRED_COLUMNS = ("ticker", "trade_type", "direction", "entry", "stop", "target",
                    "confidence", "created_at")
# An exported file can be imported again: its outcome columns are read past, because outcomes
# are re-derived from price bars, never taken from a file.
IGNORED_COLUMNS = frozenset(OUTCOME_COLUMNS)
PROGRESS_EVERY = 50_000

Progress = Callable[[str, int], None]


@dataclass
class ImportReport:
    """What an import did: rows read, written, already present, and any refused rows."""

    rows: int = 0
    inserted: int = 0
    already_present: int = 0
    duplicates_in_file: int = 0
    skipped: list[FieldProblem] = field(default_factory=list)

    @property
    def skipped_lines(self) -> int:
        return len({p.line for p in self.skipped})


def import_file(
    db: Database,
    path: Path,
    *,
    now: datetime,
    actor: str = "import",
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate every row of path, then insert the new ones; see the module docstring."""
    report = ImportReport()
    with tempfile.TemporaryFile("w+b") as spool:
        staged = _validate_into(path, spool, report, now=now, progress=progress)
        problems = report.skipped
        if problems and not skip_invalid:
            raise InvalidImport(problems, report.rows)
        spool.seek(0)
        with db.connection() as conn, conn.transaction():
            storage.stage_import(conn, _counted(spool, "copied", progress))
            conflicts = storage.staged_trade_id_conflicts(conn)
            conflict_problems = [
                FieldProblem("trade_id", f"{row['trade_id']} is already used by a different signal",
                             row["line"])
                for row in conflicts
            ]
            if conflict_problems and not skip_invalid:
                raise InvalidImport(problems + conflict_problems, report.rows)
            report.skipped.extend(conflict_problems)
            inserted = storage.insert_staged(conn, actor=actor, logged_at=now)
    report.inserted = inserted
    report.already_present = staged - len(conflict_problems) - inserted
    return report


def _validate_into(
    path: Path, spool: IO[bytes], report: ImportReport, *, now: datetime, progress: Progress | None
) -> int:
    """Check every row; write the good ones to spool; return how many were spooled."""
    seen_terms: set[str] = set()
    id_terms: dict[str, str] = {}
    staged = 0
    for line, raw in read_rows(path):
        report.rows += 1
        if progress and report.rows % PROGRESS_EVERY == 0:
            progress("checked", report.rows)
        if isinstance(raw, FieldProblem):
            report.skipped.append(raw)
            continue
        try:
            signal = parse_signal(raw, now=now, default_source=Source.IMPORT)
        except InvalidSignal as exc:
            report.skipped.extend(
                FieldProblem(p.field, p.reason, line) for p in exc.problems
            )
            continue
        terms = fingerprint(signal)
        if signal.trade_id:
            earlier = id_terms.setdefault(signal.trade_id, terms)
            if earlier != terms:
                report.skipped.append(FieldProblem(
                    "trade_id", f"{signal.trade_id} is used by an earlier row with other terms",
                    line))
                continue
        if terms in seen_terms:
            report.duplicates_in_file += 1
            continue
        seen_terms.add(terms)
        spool.write(copy_line(staging_row(line, signal, terms)))
        staged += 1
    if progress:
        progress("checked", report.rows)
    return staged


def _counted(lines: IO[bytes], stage: str, progress: Progress | None) -> Iterator[bytes]:
    """Pass lines through, reporting progress every PROGRESS_EVERY lines."""
    count = 0
    for count, line in enumerate(lines, start=1):  # noqa: B007 (count is read after the loop)
        yield line
        if progress and count % PROGRESS_EVERY == 0:
            progress(stage, count)
    if progress:
        progress(stage, count)


def staging_row(line: int, signal: NewSignal, terms: str) -> tuple[Any, ...]:
    """One validated signal as the columns of the import staging table, in order."""
    claimed = standard_id_number(signal.trade_id, signal.ticker) if signal.trade_id else None
    return (
        line,
        signal.trade_id,
        claimed[1] if claimed else None,
        (claimed[0] if claimed else trade_date(signal.created_at)).isoformat(),
        signal.ticker,
        signal.trade_type.value,
        signal.direction.value,
        decimal_text(signal.entry),
        decimal_text(signal.stop),
        decimal_text(signal.target),
        decimal_text(signal.target2),
        signal.confidence,
        json.dumps([edge.to_json() for edge in signal.edges], ensure_ascii=False),
        signal.rationale,
        signal.strategy,
        signal.source.value,
        signal.source_key,
        decimal_text(signal.context.atr_value),
        signal.context.market_volatility,
        signal.context.spy_bias,
        json.dumps(signal.context.extra, ensure_ascii=False),
        terms,
        signal.created_at.isoformat(),
        signal.expires_at.isoformat(),
    )


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_line(values: tuple[Any, ...]) -> bytes:
    """A row in COPY text format: tab-separated, \\N for NULL, specials backslash-escaped."""
    fields = ("\\N" if v is None else str(v).translate(_COPY_ESCAPES) for v in values)
    return ("\t".join(fields) + "\n").encode()


# --- reading files -----------------------------------------------------------------------


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | FieldProblem]]:
    """(line number, raw row) for each data row; a row that cannot be read is a FieldProblem."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise InvalidImport([FieldProblem("file", f"{path.name}: expected a .csv or .jsonl file")], 0)
    if not path.is_file():
        raise InvalidImport([FieldProblem("file", f"{path} does not exist")], 0)
    try:
        yield from _read_csv(path) if suffix == ".csv" else _read_jsonl(path)
    except UnicodeDecodeError as exc:
        raise InvalidImport(
            [FieldProblem("file", f"is not UTF-8 text (bad byte at offset {exc.start})")], 0
        ) from None


def _read_csv(path: Path) -> Iterator[tuple[int, dict[str, Any] | FieldProblem]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise InvalidImport([FieldProblem("file", "is empty; expected a header row", 1)], 0)
        columns = [name.strip().lower() for name in header]
        _check_header(columns)
        line = reader.line_num
        while True:
            start = line + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line = reader.line_num
                yield start, FieldProblem("row", f"cannot be read as CSV ({exc})", start)
                continue
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(columns):
                yield start, FieldProblem(
                    "row", f"has {len(values)} fields; the header has {len(columns)}", start)
                continue
            row = dict(zip(columns, values, strict=True))
            yield start, {k: v for k, v in row.items() if k not in IGNORED_COLUMNS}


def _check_header(columns: list[str]) -> None:
    problems = [FieldProblem(name or "(blank)", "is not a signal column", 1)
                for name in columns if name not in KNOWN_FIELDS | IGNORED_COLUMNS]
    problems += [FieldProblem(name, "column is missing", 1)
                 for name in REQUIRED_COLUMNS if name not in columns]
    duplicated = {name for name in columns if columns.count(name) > 1}
    problems += [FieldProblem(name, "column appears twice", 1) for name in sorted(duplicated)]
    if problems:
        raise InvalidImport(problems, 0)


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | FieldProblem]]:
    with path.open(encoding="utf-8-sig") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                yield line, FieldProblem("row", f"is not valid JSON ({exc.msg})", line)
                continue
            if not isinstance(raw, dict):
                yield line, FieldProblem("row", "must be a JSON object", line)
                continue
            yield line, {k: v for k, v in raw.items() if k not in IGNORED_COLUMNS}
