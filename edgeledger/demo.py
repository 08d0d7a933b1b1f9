"""`./dev demo`: the whole loop on example data, offline, in a throwaway embedded PostgreSQL.

Imports examples/signals.csv, resolves it against the bars in examples/prices with the csv
provider (hourly bars, minute bars for the one ambiguous hour), prints the outcomes and runs
the determinism audit. Nothing touches your own ledger or the network.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from edgeledger import importer, migrations, storage
from edgeledger.database import Database, embedded_server
from edgeledger.prices import PriceSettings, make_provider
from edgeledger.resolver import run_resolve
from edgeledger.verify import verify_outcomes

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
AS_OF = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def main() -> int:
    if not EXAMPLES.is_dir():
        print("the demo needs the examples/ folder of a checkout", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="edgeledger-demo-") as scratch:
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
