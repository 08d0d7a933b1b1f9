"""`./dev demo`: the whole loop on example data, offline, in a throwaway embedded PostgreSQL.

Imports examples/signals.csv, resolves it against the bars in examples/prices with the csv
provider (hourly bars, minute bars for the one ambiguous hour), prints the outcomes, runs
the determinism audit and builds the week's report. Nothing touches your own ledger or the
network. `--keep DIR` keeps the database in DIR instead, and the demo ends by saying how to
open the dashboard on it.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from edgeledger import importer, migrations, reporting, storage
from edgeledger.database import Database, embedded_server
from edgeledger.prices import PriceSettings, make_provider
from edgeledger.resolver import run_resolve
from edgeledger.verify import verify_outcomes

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
AS_OF = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
WEEK = date(2026, 11, 16)  # the Monday of the example signals' week


@contextlib.contextmanager
def _folder(keep: str | None) -> Iterator[str]:
    if keep:
        Path(keep).expanduser().mkdir(parents=True, exist_ok=True)
        yield str(Path(keep).expanduser().resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="edgeledger-demo-") as scratch:
            yield scratch


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="./dev demo",
        description="The whole loop on example data, offline. Example: ./dev demo --keep demo-data",
    )
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the demo's database in DIR (then open the dashboard on it, as printed)",
    )
    args = parser.parse_args([] if argv is None else argv)
    if not EXAMPLES.is_dir():
        print("the demo needs the examples/ folder of a checkout", file=sys.stderr)
        return 1
    with _folder(args.keep) as scratch:
        print(f"starting an embedded PostgreSQL in {scratch} ...")
        with embedded_server(Path(scratch)) as conninfo, Database(conninfo) as db:
            migrations.upgrade(db)
            report = importer.import_file(db, EXAMPLES / "signals.csv", now=AS_OF)
            print(f"imported {report.inserted} signals from examples/signals.csv")
            prices = PriceSettings.from_env(
                {
                    "EDGELEDGER_PRICE_PROVIDER": "csv",
                    "EDGELEDGER_PRICE_DIR": str(EXAMPLES / "prices"),
                }
            )
            run = run_resolve(
                db,
                make_provider(prices, clock=lambda: AS_OF),
                as_of=AS_OF,
                now=AS_OF,
                interval="1h",
                drill=("1m",),
            )
            print(
                f"resolved as of {AS_OF:%Y-%m-%d %H:%M} UTC: {len(run.closed)} closed,"
                f" {run.requests} price requests, {run.bars_stored} bars stored\n"
            )
            with db.connection() as conn:
                for row in storage.export_rows(conn):
                    r = "" if row["r_achieved"] is None else f"{row['r_achieved']:+.2f}R"
                    print(
                        f"  {row['trade_id']:<20} {row['direction']:<5} {row['trade_type']:<5}"
                        f" {row['status']:<8} {row['exit_reason'] or '':<13} {r:>7}"
                        f"{'  (ambiguous)' if row['ambiguous'] else ''}"
                    )
            audit = verify_outcomes(db)
            print(
                f"\noutcomes verify: {audit.checked} re-derived from stored bars,"
                f" {len(audit.differences)} differences"
            )
            built = reporting.build_weekly(db, WEEK, now=AS_OF)
            print(f"weekly report of the week of {WEEK.isoformat()} built and stored")
        _dashboard_help(args.keep and scratch, built.report.week_start)
    return 0


def _dashboard_help(kept: str | None, week: date) -> None:
    """How to open the dashboard on this data (docs/dashboard.md)."""
    token = secrets.token_urlsafe(12)
    print("\nThe dashboard:")
    if not kept:
        print(
            "  run `./dev demo --keep demo-data` to keep this database, then follow what it prints"
        )
        return
    print(f"  EDGELEDGER_DATA_DIR={kept} EDGELEDGER_DASHBOARD_TOKEN={token} \\")
    print("    EDGELEDGER_HOST=127.0.0.1 ./dev edgeledger run")
    print("  then open http://127.0.0.1:8000/login and enter the token above")
    print(f"  (the week's report is at http://127.0.0.1:8000/reports/{week.isoformat()})")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
