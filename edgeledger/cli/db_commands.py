"""`edgeledger db ...`: the schema."""

from __future__ import annotations

import argparse
from typing import Any

from edgeledger import migrations, reporting
from edgeledger.cli.base import EXIT_ERROR, Context, add_command, add_group
from edgeledger.exporter import utc_text

# --- db ----------------------------------------------------------------------------------


def cmd_db_upgrade(args: argparse.Namespace, ctx: Context) -> int:
    applied = migrations.upgrade(ctx.db(migrate=False))
    for migration in applied:
        print(f"applied {migration.path.name}", file=ctx.out)
    print("schema is up to date", file=ctx.out)
    # Here rather than on the first `stats` after a deploy (the Procfile's release step):
    # a migration that lists every day makes the next reader sum up the whole ledger.
    days = reporting.refresh_summaries(ctx.db())
    if days:
        print(f"summed up {days} day(s) of trades for the analytics", file=ctx.out)
    return 0


def cmd_db_status(args: argparse.Namespace, ctx: Context) -> int:
    states = migrations.status(ctx.db(migrate=False))
    for state in states:
        when = f"  {utc_text(state.applied_at)}" if state.applied_at else ""
        print(f"{state.version:04d}  {state.name:<32} {state.state}{when}", file=ctx.out)
    bad = [s for s in states if s.state in ("edited", "unknown")]
    return EXIT_ERROR if bad else 0


def register(groups: Any) -> None:
    sub = add_group(groups, "db", "the database schema", "edgeledger db status")
    add_command(
        sub,
        "upgrade",
        cmd_db_upgrade,
        "apply pending migrations from sql/",
        "edgeledger db upgrade",
        "DATABASE_URL=postgresql://user@host/db edgeledger db upgrade",
    )
    add_command(
        sub,
        "status",
        cmd_db_status,
        "list migrations: applied, pending or edited",
        "edgeledger db status",
    )
