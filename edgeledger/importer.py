"""Import signals from a .csv or .jsonl file: all rows checked first, then written at once.

Every row is validated before anything is written; a bad file is refused with every problem
named by line and field. Valid rows are spooled to a temporary file in PostgreSQL's COPY text
format while they are checked, then COPYed into a staging table and inserted with their
`created` events in one transaction, so a million rows need neither a million round trips
nor a million objects in memory. Re-importing a file adds nothing.

A backtest's trades (`backtest=True`) come with their outcomes, which are checked
(core/backtest) and stored with them; a live file's outcome columns are ignored.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from edgeledger import storage
from edgeledger.core.backtest import BACKTEST_COLUMNS, parse_backtest_outcome
from edgeledger.core.markets import DEFAULT_MARKET, MarketBook
from edgeledger.core.model import OUTCOME_FIELDS, NewSignal, Outcome, Source
from edgeledger.core.signals import (
    published_terms,
    standard_id_number,
    terms_fingerprint,
    trade_date,
)
from edgeledger.core.validation import (
    KNOWN_FIELDS,
    MAX_JSON_DEPTH,
    NestedTooDeep,
    RepeatedKeys,
    load_json,
    parse_signal,
    shown,
)
from edgeledger.csv_cells import unguard_cell
from edgeledger.database import Database
from edgeledger.errors import FieldProblem, InvalidImport, InvalidSignal
from edgeledger.exporter import OUTCOME_COLUMNS

REQUIRED_COLUMNS = (
    "ticker",
    "trade_type",
    "direction",
    "entry",
    "stop",
    "target",
    "confidence",
    "created_at",
)
# An exported file can be imported again: its outcome columns are read past, because outcomes
# are re-derived from price bars, never taken from a file.
IGNORED_COLUMNS = frozenset(OUTCOME_COLUMNS)
# A backtest's file keeps its outcome columns: they are the backtest's results.
IGNORED_IN_BACKTEST = IGNORED_COLUMNS - BACKTEST_COLUMNS
# Backtest trades come in only with their outcomes (which the resolver never touches), so a
# live file may not slip one in: it would wait, unsettled, for good.
BACKTEST_ONLY_BY_FLAG = "backtest trades are imported with --source backtest, with their outcomes"
PROGRESS_EVERY = 50_000
# The spool goes to COPY in blocks of this size rather than as one write per line.
COPY_CHUNK_BYTES = 1 << 20

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class Unsplittable:
    """A stretch of a file that cannot be split into rows (a quote left open, say).

    How many rows it holds is unknown, so no import of the file could account for each of
    them: the file is refused whole, even when invalid rows are to be skipped.
    """

    problem: FieldProblem


# A row as read from a file: its fields, or why it cannot be read.
Row = dict[str, Any] | FieldProblem | Unsplittable


@dataclass
class ImportReport:
    """What an import did with each row it read: every row is written, already present (the
    same signal is in the ledger), a repeat of an earlier row, or skipped with its reasons.

    rows == inserted + already_present + duplicates_in_file + skipped_lines.
    """

    rows: int = 0
    inserted: int = 0
    already_present: int = 0
    duplicates_in_file: int = 0
    skipped: list[FieldProblem] = field(default_factory=list)

    @property
    def skipped_lines(self) -> int:
        return len({p.line for p in self.skipped})


# A row the insert passed over although its terms are new: between the check and the insert,
# another writer logged a different signal under its trade_id or source key.
TAKEN_MEANWHILE = "its trade_id or source key was taken by another signal during the import"


def import_file(
    db: Database,
    path: Path,
    *,
    now: datetime,
    actor: str = "import",
    skip_invalid: bool = False,
    progress: Progress | None = None,
    default_market: str = DEFAULT_MARKET,
    backtest: bool = False,
) -> ImportReport:
    """Validate every row of path, then insert the new ones; see the module docstring.

    `backtest`: the rows are a backtest's trades, taken with their outcomes."""
    report = ImportReport()
    with db.connection() as conn:  # the instruments' markets set day trades' default expiry
        markets = storage.market_book(conn, default=default_market)
    with tempfile.TemporaryFile("w+b") as spool:
        staged = _validate_into(
            path, spool, report, now=now, progress=progress, markets=markets, backtest=backtest
        )
        if report.skipped and not skip_invalid:
            raise InvalidImport(report.skipped, report.rows)
        spool.seek(0)
        with db.connection() as conn, conn.transaction():
            storage.stage_import(conn, _chunks(spool, "copied", progress))
            conflicts = [_conflict(row) for row in storage.staged_conflicts(conn)]
            if conflicts and not skip_invalid:
                raise InvalidImport(conflicts, report.rows)
            refused = {p.line for p in conflicts}
            storage.unstage(conn, refused)
            inserted, passed_over = storage.insert_staged(conn, actor=actor, logged_at=now)
            if passed_over and not skip_invalid:
                raise InvalidImport(
                    [FieldProblem("row", TAKEN_MEANWHILE, line) for line in passed_over],
                    report.rows,
                )
    report.skipped += conflicts
    report.skipped += [FieldProblem("row", TAKEN_MEANWHILE, line) for line in passed_over]
    report.inserted = inserted
    report.already_present = staged - len(refused) - len(passed_over) - inserted
    return report


def _conflict(row: dict[str, Any]) -> FieldProblem:
    """A staged row whose trade_id or source key the ledger holds for a different signal."""
    if row["field"] == "trade_id":
        reason = f"{row['trade_id']} is already used by a different signal"
    else:
        reason = (
            f"{row['source']} key {row['source_key']} was already logged as {row['held_by']}"
            " with different terms"
        )
    return FieldProblem(row["field"], reason, row["line"])


def _validate_into(
    path: Path,
    spool: IO[bytes],
    report: ImportReport,
    *,
    now: datetime,
    progress: Progress | None,
    markets: MarketBook,
    backtest: bool = False,
) -> int:
    """Check every row; write the good ones to spool; return how many were spooled.

    A row may repeat an earlier one (the same terms), but may not take an earlier row's
    trade_id or source key for other terms: `signals add` refuses that too.
    """
    # One fingerprint per staged row is all an import keeps in memory; as 32 raw bytes rather
    # than 64 hex characters it costs about 120 bytes a row (set included) instead of 170.
    seen_terms: set[bytes] = set()
    id_terms: dict[str, bytes] = {}
    key_terms: dict[tuple[str, str], bytes] = {}
    staged = 0
    unsplittable = False
    ignored = IGNORED_IN_BACKTEST if backtest else IGNORED_COLUMNS
    default_source = Source.BACKTEST if backtest else Source.IMPORT
    for line, raw in read_rows(path, ignored):
        report.rows += 1
        if progress and report.rows % PROGRESS_EVERY == 0:
            progress("checked", report.rows)
        if isinstance(raw, Unsplittable):
            unsplittable = True
            raw = raw.problem
        if isinstance(raw, FieldProblem):
            report.skipped.append(raw)
            continue
        try:
            signal, outcome = _parse_row(raw, now, default_source, markets, backtest=backtest)
        except InvalidSignal as exc:
            report.skipped.extend(FieldProblem(p.field, p.reason, line) for p in exc.problems)
            continue
        published = published_terms(signal)
        # A backtest trade is not the live signal it may replay: its terms are its own.
        terms = terms_fingerprint({**published, "source": "backtest"} if backtest else published)
        digest = bytes.fromhex(terms)
        source_key = (signal.source.value, signal.source_key) if signal.source_key else None
        clashes = []
        if signal.trade_id and id_terms.get(signal.trade_id, digest) != digest:
            reason = f"{signal.trade_id} is used by an earlier row with other terms"
            clashes.append(FieldProblem("trade_id", reason, line))
        if source_key and key_terms.get(source_key, digest) != digest:
            reason = (
                f"{signal.source.value} key {signal.source_key} is used by an earlier row"
                " with other terms"
            )
            clashes.append(FieldProblem("source_key", reason, line))
        if clashes:
            report.skipped.extend(clashes)
            continue
        if digest in seen_terms:
            report.duplicates_in_file += 1
            continue
        seen_terms.add(digest)
        if signal.trade_id:
            id_terms[signal.trade_id] = digest
        if source_key:
            key_terms[source_key] = digest
        spool.write(copy_line(staging_row(line, signal, terms, published, outcome)))
        staged += 1
    if progress:
        progress("checked", report.rows)
    if unsplittable:
        raise InvalidImport(report.skipped, None)
    return staged


def _parse_row(
    raw: dict[str, Any],
    now: datetime,
    default_source: Source,
    markets: MarketBook,
    *,
    backtest: bool,
) -> tuple[NewSignal, Outcome | None]:
    """The signal of a row and, for a backtest's, its outcome; InvalidSignal names every bad
    field of both."""
    results = {k: raw.pop(k) for k in BACKTEST_COLUMNS & raw.keys()} if backtest else {}
    signal = parse_signal(raw, now=now, default_source=default_source, markets=markets)
    if signal.source is Source.BACKTEST and not backtest:
        raise InvalidSignal([FieldProblem("source", BACKTEST_ONLY_BY_FLAG)])
    if not backtest:
        return signal, None
    if signal.source is not Source.BACKTEST:
        reason = f"{signal.source.value}: a backtest file holds only backtest trades"
        raise InvalidSignal([FieldProblem("source", reason)])
    return signal, parse_backtest_outcome(results, signal, now=now)


def _chunks(spool: IO[bytes], stage: str, progress: Progress | None) -> Iterator[bytes]:
    """The spooled lines in large blocks, reporting progress every PROGRESS_EVERY lines.

    A block may end mid-line; COPY reads a stream, so that does not matter. Every newline in
    the spool ends a row (copy_line escapes the ones inside values), so counting them counts
    rows.
    """
    count = 0
    while block := spool.read(COPY_CHUNK_BYTES):
        yield block
        if progress:
            before, count = count, count + block.count(b"\n")
            first = (before // PROGRESS_EVERY + 1) * PROGRESS_EVERY
            for reached in range(first, count + 1, PROGRESS_EVERY):
                progress(stage, reached)
    if progress:
        progress(stage, count)


def staging_row(
    line: int,
    signal: NewSignal,
    terms: str,
    published: dict[str, Any] | None = None,
    outcome: Outcome | None = None,
) -> tuple[Any, ...]:
    """One validated signal as the columns of the import staging table, in order.

    `published` is published_terms(signal) when the caller already has it (it was hashed
    into `terms`): its canonical prices and edges are the column values, not built twice.
    `outcome` is a backtest trade's (a live signal's outcome columns stay empty).
    """
    if published is None:
        published = published_terms(signal)
    claimed = standard_id_number(signal.trade_id, signal.ticker) if signal.trade_id else None
    return (
        line,
        signal.trade_id,
        claimed[1] if claimed else None,
        (claimed[0] if claimed else trade_date(signal.created_at)).isoformat(),
        signal.ticker,
        signal.trade_type.value,
        signal.direction.value,
        published["entry"],
        published["stop"],
        published["target"],
        published["target2"],
        signal.confidence,
        _to_json(published["edges"]),
        signal.rationale,
        signal.strategy,
        signal.source.value,
        signal.source_key,
        published["atr_value"],
        signal.context.market_volatility,
        signal.context.spy_bias,
        _to_json(published["context"]),
        terms,
        signal.created_at.isoformat(),
        signal.expires_at.isoformat(),
        signal.market,
        *(_outcome_columns(outcome) if outcome else _NO_OUTCOME),
    )


_NO_OUTCOME = (None,) * len(OUTCOME_FIELDS)


def _outcome_columns(outcome: Outcome) -> tuple[Any, ...]:
    """An outcome as staging columns, in the order of OUTCOME_FIELDS (COPY text: t and f)."""
    values = (getattr(outcome, name) for name in OUTCOME_FIELDS)
    return tuple(
        value.isoformat() if isinstance(value, datetime)
        else ("t" if value else "f") if isinstance(value, bool)
        else getattr(value, "value", value)
        for value in values
    )  # fmt: skip


# json.dumps(value, ensure_ascii=False) without building a new encoder for every call.
_to_json = json.JSONEncoder(ensure_ascii=False).encode

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_line(values: tuple[Any, ...]) -> bytes:
    """A row in COPY text format: tab-separated, \\N for NULL, specials backslash-escaped.

    Almost no row has anything to escape, so the line is joined first and each field is
    escaped only when the whole line shows a special character: a backslash beyond the one
    each \\N brings, a tab beyond the separators, or a line break.
    """
    line = "\t".join(["\\N" if v is None else str(v) for v in values])
    if (
        line.count("\\") != values.count(None)
        or line.count("\t") != len(values) - 1
        or "\n" in line
        or "\r" in line
    ):
        line = "\t".join(["\\N" if v is None else str(v).translate(_COPY_ESCAPES) for v in values])
    return (line + "\n").encode()


# --- reading files -----------------------------------------------------------------------


def read_rows(path: Path, ignored: frozenset[str] = IGNORED_COLUMNS) -> Iterator[tuple[int, Row]]:
    """(line number, raw row) for each data row, without the `ignored` columns; a row that
    cannot be read is a FieldProblem, or Unsplittable when the rows around it cannot be told
    apart."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise InvalidImport(
            [FieldProblem("file", f"{path.name}: expected a .csv or .jsonl file")], 0
        )
    if not path.is_file():
        raise InvalidImport([FieldProblem("file", f"{path} does not exist")], 0)
    try:
        yield from _read_csv(path, ignored) if suffix == ".csv" else _read_jsonl(path, ignored)
    except UnicodeDecodeError:
        raise InvalidImport([_first_undecodable_line(path)], None) from None


def _first_undecodable_line(path: Path) -> FieldProblem:
    """Where a file stops being UTF-8: the decoder's own offset counts from the block it was
    reading, not from the start of the file."""
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        for number, text in enumerate(handle, start=1):
            if found := _UNDECODED_BYTE.search(text):
                byte = ord(found.group()) - 0xDC00
                return FieldProblem(
                    "file", f"is not UTF-8 text (it holds the byte 0x{byte:02X})", number
                )
    return FieldProblem("file", "is not UTF-8 text")


# A byte the UTF-8 decoder could not read, as errors="surrogateescape" hands it over.
_UNDECODED_BYTE = re.compile("[\udc80-\udcff]")


def _read_csv(path: Path, ignored: frozenset[str]) -> Iterator[tuple[int, Row]]:
    """The rows of a CSV file, each with the line it starts on.

    A quoted field may hold line breaks, so one quote left open reads the lines after it, up
    to the next quote or the end of the file, into one field. Where that may have happened
    the file cannot be split into rows, and no count of its rows could be trusted: such a
    row comes as Unsplittable, and the file is refused whole.
    """
    with path.open(newline="", encoding="utf-8-sig") as handle:
        record: list[str] = []  # the lines of the row being read, for saying where it broke
        at_end = False

        def lines() -> Iterator[str]:
            nonlocal at_end
            for text in handle:
                record.append(text)
                yield text
            at_end = True

        # strict: `"a"b` is an error rather than the field `ab`, and so is a quote open at the end
        reader = csv.reader(lines(), strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            broken = _broken_quoting(str(exc), record, 1, reader.line_num, at_end=at_end)
            raise InvalidImport([broken.problem], None) from None
        if header is None:
            raise InvalidImport([FieldProblem("file", "is empty; expected a header row", 1)], 0)
        columns = [name.strip().lower() for name in header]
        _check_header(columns)
        drops_columns = not ignored.isdisjoint(columns)
        line = reader.line_num
        while True:
            record.clear()
            start = line + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line = reader.line_num
                yield start, _broken_quoting(str(exc), record, start, line, at_end=at_end)
                continue
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(columns):
                what = f"has {len(values)} fields; the header has {len(columns)}"
                if line == start:
                    yield start, FieldProblem("row", what, start)
                else:
                    yield start, _spans_lines(start, line, f"where the row {what}")
                continue
            row = dict(zip(columns, values, strict=True))
            if line > start and (
                doubt := _stray_quote(record, start) or _field_in_doubt(row, start)
            ):
                yield start, doubt
                continue
            row = {column: unguard_cell(value) for column, value in row.items()}
            if drops_columns:
                row = {k: v for k, v in row.items() if k not in ignored}
            yield start, row


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _broken_quoting(
    error: str, record: list[str], start: int, end: int, *, at_end: bool
) -> Unsplittable:
    """The row on lines start..end breaks the rules of quoting, so where it ends, and the
    next row begins, is in doubt."""
    if at_end:
        # Only an open quote makes the reader fail at the end of the file. Read leniently, the
        # row's last field is what followed that quote: the lines it spans say where it opened.
        parts = _LINE_BREAK.split(next(csv.reader(record), [""])[-1])
        spanned = max(1, len(parts) - (parts[-1] == ""))  # a break at the very end ends a line
        return Unsplittable(
            FieldProblem(
                "row",
                "a quote opened on this line is never closed, so every line after it would"
                " be read into one field",
                end - spanned + 1,
            )
        )
    if end == start:
        return Unsplittable(
            FieldProblem(
                "row",
                f"cannot be read as CSV ({error}), so where this row ends and the next begins"
                " is in doubt",
                start,
            )
        )
    return _spans_lines(start, end, f"where the row cannot be read as CSV ({error})")


def _spans_lines(start: int, end: int, what: str) -> Unsplittable:
    return Unsplittable(
        FieldProblem(
            "row",
            f"a quoted field runs from line {start} to line {end}, {what}:"
            " is a closing quote missing?",
            start,
        )
    )


def _stray_quote(record: list[str], start: int) -> Unsplittable | None:
    """A quote inside an unquoted field of a row that spans lines (from line start).

    A writer quotes any field that holds a quote, so there it is a sign that a quote opened
    too early closed where a later row opened a field, and the rows between were read as one.
    """
    at_field_start, quoted = True, False
    for number, text in enumerate(record, start=start):
        at = 0
        while at < len(text):
            char = text[at]
            if quoted:
                if char == '"' and text[at + 1 : at + 2] == '"':
                    at += 1  # a quote doubled inside quotes
                elif char == '"':
                    quoted = False
            elif char == '"' and not at_field_start:
                return Unsplittable(
                    FieldProblem(
                        "row",
                        f"a quoted field runs from line {start} to line {start + len(record) - 1},"
                        f" and a quote stands inside an unquoted field on line {number}:"
                        f" is a closing quote missing?",
                        start,
                    )
                )
            elif char == '"':
                quoted = True
            at_field_start = not quoted and char in ",\r\n"
            at += 1
    return None


# Columns whose values may run over several lines: prose, and JSON that may be pretty-printed.
MULTI_LINE_COLUMNS = frozenset({"rationale", "edges", "context", "user_notes"})


def _field_in_doubt(row: dict[str, str], start: int) -> Unsplittable | None:
    """A field spanning lines that other rows may have been read into: a quote opened early.

    Only prose and JSON may hold line breaks; and no line inside a field, whole or in part,
    may put a trade type and a direction in the header's columns for them, as a row would.
    """
    columns = list(row)
    first = start  # the line the field starts on
    for index, (column, value) in enumerate(row.items()):
        parts = _LINE_BREAK.split(value)
        if len(parts) == 1:
            continue
        last = first + len(parts) - 1
        runs = f"a quoted field runs from line {first} to line {last}"
        missing = f"is a closing quote missing on line {first}?"
        if column not in MULTI_LINE_COLUMNS:
            reason = f"{runs}, but {column} is one line: {missing}"
            return Unsplittable(FieldProblem(column, reason, start))
        for offset, text in enumerate(parts):
            # The field's first line holds its own column onwards; a later one, a row's start.
            if _reads_like_a_row(text, columns, index if offset == 0 else 0):
                reason = f"{runs}, and line {first + offset} inside it reads like a row: {missing}"
                return Unsplittable(FieldProblem(column, reason, start))
        first = last
    return None


def _reads_like_a_row(text: str, columns: list[str], at: int) -> bool:
    """Whether text, read as the cells of columns[at:], has a trade type and a direction in
    their columns: a rationale hardly does."""
    cells = next(csv.reader([text]), [])
    kind, side = columns.index("trade_type") - at, columns.index("direction") - at
    if not (0 <= kind < len(cells) and 0 <= side < len(cells)):
        return False
    trade_type, direction = cells[kind].strip().lower(), cells[side].strip().lower()
    return trade_type in ("day", "swing") and direction in ("long", "short")


def _check_header(columns: list[str]) -> None:
    problems = [
        FieldProblem(shown(name) or "(blank)", "is not a signal column", 1)
        for name in columns
        if name not in KNOWN_FIELDS | IGNORED_COLUMNS
    ]
    problems += [
        FieldProblem(name, "column is missing", 1)
        for name in REQUIRED_COLUMNS
        if name not in columns
    ]
    duplicated = {name for name in columns if columns.count(name) > 1}
    problems += [FieldProblem(name, "column appears twice", 1) for name in sorted(duplicated)]
    if problems:
        raise InvalidImport(problems, 0)


def _read_jsonl(path: Path, ignored: frozenset[str]) -> Iterator[tuple[int, Row]]:
    with path.open(encoding="utf-8-sig") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                raw = load_json(text)
            except ValueError as exc:
                field = _too_deep_field(text) if isinstance(exc, NestedTooDeep) else None
                yield line, FieldProblem(shown(field) if field else "row", str(exc), line)
                continue
            if not isinstance(raw, dict):
                yield line, FieldProblem("row", "must be a JSON object", line)
                continue
            if isinstance(raw, RepeatedKeys):  # json.loads would keep the last value, silently
                yield line, FieldProblem(shown(raw.repeated), "appears twice in the row", line)
                continue
            yield line, {k: v for k, v in raw.items() if k not in ignored}


def _too_deep_field(text: str) -> str | None:
    """The key of a row's object whose value nests past MAX_JSON_DEPTH, found by a scan of the
    text, since a value deep enough to stop the JSON reader leaves nothing else to look at."""
    depth, string_at, in_string, escaped = 0, 0, False, False
    key = last_string = None
    for at, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                last_string = text[string_at : at + 1]
        elif char == '"':
            in_string, string_at = True, at
        elif char == ":" and depth == 1:
            key = last_string
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH + 1:  # the row's own object is the first level
                try:
                    return json.loads(key) if key else None
                except ValueError:
                    return None
        elif char in "]}":
            depth -= 1
    return None
