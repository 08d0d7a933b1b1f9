"""Is the service well: the database reachable, its migrations current, and how each job
last ran. What `GET /healthz` and `edgeledger health` report (neither shows a secret: the
database is named by its redacted connection string)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from edgeledger import migrations, storage
from edgeledger.database import Database
from edgeledger.errors import EdgeLedgerError

# A job whose last run ended so is something to look at.
BAD_RESULTS = frozenset({"failed", "abandoned"})


@dataclass(frozen=True)
class JobHealth:
    """The last run of one job: when it started (None: never), its result, and a note."""

    job: str
    started_at: datetime | None
    result: str
    note: str | None = None

    def ago(self, now: datetime) -> timedelta | None:
        return None if self.started_at is None else now - self.started_at

    @property
    def ok(self) -> bool:
        return self.result not in BAD_RESULTS


@dataclass(frozen=True)
class Health:
    database: str | None  # None: reachable; else why not
    pending: tuple[str, ...] = ()  # migrations not applied, or applied but not known here
    jobs: tuple[JobHealth, ...] = field(default_factory=tuple)

    @property
    def migrations_current(self) -> bool:
        return self.database is None and not self.pending

    @property
    def serving(self) -> bool:
        """What /healthz answers: the database is there with the schema this code needs."""
        return self.migrations_current

    @property
    def ok(self) -> bool:
        """What `edgeledger health` exits 0 on: serving, and no job's last run went wrong."""
        return self.serving and all(job.ok for job in self.jobs)


def check(db: Database, *, jobs: bool = True) -> Health:
    """The health of the database behind `db`; `jobs`: also the last run of each job."""
    try:
        states = migrations.status(db)
        pending = tuple(f"{s.name} ({s.state})" for s in states if s.state != "applied")
        if not jobs or pending:
            return Health(None, pending)
        with db.connection() as conn:
            runs = storage.last_job_runs(conn)
            slots = storage.last_job_slots(conn)
    except EdgeLedgerError as exc:
        return Health(str(exc))
    return Health(None, pending, tuple(_job_health(runs, slots)))


def unreachable(reason: str) -> Health:
    """The health of a database that could not even be opened."""
    return Health(reason)


def _job_health(runs: list[dict], slots: list[dict]) -> list[JobHealth]:
    """The latest of each job's job_runs record and its job_slots claim."""
    latest: dict[str, JobHealth] = {}
    for row in runs:
        note = row["error"] or _counts(row["counts"])
        latest[row["job_name"]] = JobHealth(row["job_name"], row["started_at"], row["status"], note)
    for row in slots:
        known = latest.get(row["job"])
        if known is None or (known.started_at and known.started_at < row["claimed_at"]):
            latest[row["job"]] = JobHealth(
                row["job"], row["claimed_at"], row["status"], row["detail"]
            )
    return [latest[name] for name in sorted(latest)]


def _counts(counts: dict | None) -> str | None:
    if not counts:
        return None
    shown = [f"{key} {value}" for key, value in counts.items() if isinstance(value, int) and value]
    return ", ".join(shown) or None
