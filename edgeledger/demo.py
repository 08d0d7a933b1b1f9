"""`edgeledger demo` (and `./dev demo`): the whole product on a sample book, offline, in a
throwaway embedded PostgreSQL.

Imports examples/sample-book (368 signals on SYNTHETIC hourly bars: see its README),
resolves them with the csv provider, builds the weekly report of the week that ended,
prints its headline figures and best edges, writes its HTML where you can open it, and
re-derives every outcome from the stored bars. Nothing touches your own ledger or the
network. `--book examples` runs the small hand-checked book instead (its outcomes are
listed one by one: docs/outcome-rules.md walks through them). `--keep DIR` keeps the
database in DIR instead, and the demo ends by saying how to open the dashboard on it.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from edgeledger import importer, migrations, reporting, storage
from edgeledger.core.periods import NEW_YORK, last_full_week
from edgeledger.database import Database, embedded_server
from edgeledger.prices import PriceSettings, make_provider
from edgeledger.resolver import run_resolve
from edgeledger.verify import verify_outcomes
from reports.terminal import headline

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SAMPLE_BOOK = EXAMPLES / "sample-book"
# Sunday 20:00 in New York after the sample's last week: the weekly report's moment.
AS_OF = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
DEFAULT_OUT = Path("edgeledger-demo-report.html")
LISTED_UP_TO = 20  # a book this small has its outcomes listed one by one


@contextlib.contextmanager
def _folder(keep: Path | None) -> Iterator[str]:
    """Where the demo's database lives: `keep` (kept), else a folder removed afterwards."""
    if keep is not None:
        keep = keep.expanduser().resolve()
        keep.mkdir(parents=True, exist_ok=True)
        yield str(keep)
    else:
        with tempfile.TemporaryDirectory(prefix="edgeledger-demo-") as scratch:
            yield scratch


def run(
    book: Path,
    out_file: Path,
    *,
    as_of: datetime = AS_OF,
    out: TextIO = sys.stdout,
    keep: Path | None = None,
) -> int:
    """Import `book` (signals.csv and prices/1h, prices/1m), resolve it as of `as_of`, build
    and write the weekly report, print what it says, audit the outcomes; then say how to
    open the dashboard on the database (kept in `keep` when given)."""
    say = _printer(out)
    if not (book / "signals.csv").is_file():
        print(f"the demo needs {book}/signals.csv: run it from a checkout", file=sys.stderr)
        return 1
    with _folder(keep) as scratch:
        say(f"starting an embedded PostgreSQL in {scratch} ...")
        with embedded_server(Path(scratch)) as conninfo, Database(conninfo) as db:
            migrations.upgrade(db)
            imported = importer.import_file(db, book / "signals.csv", now=as_of)
            say(f"imported {imported.inserted} signals from {_shown(book / 'signals.csv')}")
            prices = PriceSettings.from_env(
                {"EDGELEDGER_PRICE_PROVIDER": "csv", "EDGELEDGER_PRICE_DIR": str(book / "prices")}
            )
            say("resolving them against the bars in the book (the csv provider, no network) ...")
            resolved = run_resolve(
                db,
                make_provider(prices, clock=lambda: as_of),
                as_of=as_of,
                now=as_of,
                interval="1h",
                drill=("1m",),
            )
            reporting.after_resolve(db, resolved, now=as_of)
            say(
                f"resolved as of {as_of:%Y-%m-%d %H:%M} UTC: {len(resolved.closed)} closed,"
                f" {resolved.requests} price requests, {resolved.bars_stored} bars stored"
            )
            if imported.inserted <= LISTED_UP_TO:
                _list_outcomes(db, out)
            week = last_full_week(as_of)
            assert week.start is not None
            say("building the weekly report ...")
            built = reporting.build_weekly(db, week.start.astimezone(NEW_YORK).date(), now=as_of)
            out_file.parent.mkdir(parents=True, exist_ok=True)
            out_file.write_text(built.html, encoding="utf-8")
            print("", file=out)
            for line in headline(built.report):
                print(line, file=out)
            audit = verify_outcomes(db)
            print(
                f"\noutcomes verify: {audit.checked} re-derived from stored bars,"
                f" {len(audit.differences)} differences",
                file=out,
            )
        print(f"\nthe weekly report: open {out_file.resolve().as_uri()}", file=out)
        _dashboard_help(scratch if keep is not None else None, built.report.week_start, out)
    return 0


def _dashboard_help(kept: str | None, week: date, out: TextIO) -> None:
    """How to open the dashboard on this data (docs/dashboard.md). The token is made up
    here for the reader to use: the demo's database holds nothing else of theirs."""
    print("\nthe dashboard:", file=out)
    if kept is None:
        print(
            "  `edgeledger demo --keep DIR` keeps this database in DIR and says how to open it",
            file=out,
        )
        return
    token = secrets.token_urlsafe(12)
    print(f"  EDGELEDGER_DATA_DIR={kept} EDGELEDGER_DASHBOARD_TOKEN={token} \\", file=out)
    print("    EDGELEDGER_HOST=127.0.0.1 edgeledger run", file=out)
    print("  then open http://127.0.0.1:8000/login and enter the token above", file=out)
    print(f"  (this week's report: http://127.0.0.1:8000/reports/{week.isoformat()})", file=out)


def _printer(out: TextIO) -> Callable[[str], None]:
    """Progress lines with the seconds since the demo started."""
    start = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - start:5.1f}s] {text}", file=out, flush=True)

    return say


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(EXAMPLES.parent))
    except ValueError:
        return str(path)


def _list_outcomes(db: Database, out: TextIO) -> None:
    with db.connection() as conn:
        for row in storage.export_rows(conn):
            r = "" if row["r_achieved"] is None else f"{row['r_achieved']:+.2f}R"
            print(
                f"  {row['trade_id']:<20} {row['direction']:<5} {row['trade_type']:<5}"
                f" {row['status']:<8} {row['exit_reason'] or '':<13} {r:>7}"
                f"{'  (ambiguous)' if row['ambiguous'] else ''}",
                file=out,
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="edgeledger demo", description=__doc__.split("\n\n")[0].split(": ", 1)[-1]
    )
    parser.add_argument(
        "--book",
        type=Path,
        default=SAMPLE_BOOK,
        help="a folder with signals.csv and prices/ (default: examples/sample-book)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"where the weekly report's HTML is written (default: ./{DEFAULT_OUT})",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the demo's database in DIR (then open the dashboard on it, as printed)",
    )
    args = parser.parse_args(argv)
    return run(args.book, args.out, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
