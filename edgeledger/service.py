"""`edgeledger run`: the one long-running process, on one asyncio loop.

It holds the HTTP server (edgeledger.web) on $PORT, the APScheduler AsyncIOScheduler with
the jobs of jobs.schedule, and the place of the Discord bot (started when DISCORD_TOKEN is
set). Scheduled work blocks (database, prices), so each job runs in a
worker thread; every run first claims its (job, slot), so two processes (a deploy overlap)
run each slot once.

SIGTERM or SIGINT: the scheduler stops taking work and the HTTP server stops accepting;
a job in hand gets up to STOP_GRACE seconds to finish (its transactions commit or roll
back, its advisory lock is released with its connection), then the process exits 0 -
well inside Railway's 30 s. A job still running then is cut off by the exit: PostgreSQL
rolls its open transaction back and frees its lock, and the next run marks its record
abandoned.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from edgeledger import migrations
from edgeledger.clock import utc_now
from edgeledger.database import Database
from edgeledger.prices import PriceSettings
from edgeledger.settings import Settings
from edgeledger.web import make_app
from jobs import scheduled
from jobs.schedule import RESOLVE, WEEKLY_REPORT, JobSpec, job_specs

log = logging.getLogger(__name__)

# APScheduler's play-by-play and an access line per health check would drown the job lines.
QUIET_LOGGERS = ("apscheduler", "aiohttp.access")
STOP_GRACE = 20.0  # seconds a job in hand may take to finish after SIGTERM


class Service:
    """The process's parts, started and stopped together."""

    def __init__(self, settings: Settings, prices: PriceSettings) -> None:
        self.settings = settings
        self.prices = prices
        self.specs = job_specs(settings)  # a bad cron setting fails before anything starts
        self.stopping = asyncio.Event()
        self.in_hand: set[asyncio.Task] = set()
        self.db: Database | None = None
        self.bot: Any = None  # bot.app.EdgeLedgerBot when DISCORD_TOKEN is set

    async def run(self) -> int:
        for name in QUIET_LOGGERS:  # one line per job event is ours to write
            logging.getLogger(name).setLevel(logging.WARNING)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stop, signum)
        self.db = await asyncio.to_thread(self._open_database)
        runner = web.AppRunner(make_app(self.db, self.settings, clock=utc_now))
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        await site.start()
        scheduler = self._scheduler()
        scheduler.start()
        log.info(
            "service started: HTTP on %s:%d, jobs %s",
            self.settings.host,
            self.settings.port,
            ", ".join(spec.id for spec in self.specs),
        )
        await self._start_bot()
        await self.stopping.wait()
        if self.bot is not None:
            await self.bot.close()  # leaves the gateway; its loops stop
        scheduler.pause()  # no new runs from here; the runs in hand go on
        await runner.cleanup()  # stop accepting; finish the requests in hand
        finished = await self._finish_in_hand()
        scheduler.shutdown(wait=False)
        if finished:
            await asyncio.to_thread(self.db.close)
        log.info("service stopped", extra={"finished_in_hand": finished})
        if not finished:
            # A thread still inside a job would keep the interpreter alive: leave now. Its
            # connection closes with the process, which rolls back and unlocks.
            logging.shutdown()
            os._exit(0)
        return 0

    async def _start_bot(self) -> None:
        """The Discord bot, on this loop, when DISCORD_TOKEN is set (bot/, docs/discord-bot.md).
        A bot that cannot log in is logged; the service goes on without it."""
        token = self.settings.discord_token
        if not token:
            return
        from bot.app import run_bot  # only a process with a token loads discord.py's client
        from bot.context import BotContext

        assert self.db is not None
        self.bot = await run_bot(BotContext(self.db, self.settings, clock=utc_now), token)
        log.info("Discord bot starting")

    def _open_database(self) -> Database:
        # Resolve holds three connections at once; the API and /healthz need their own.
        pool = self.settings.pool_max_size + 2
        db = Database.from_settings(replace(self.settings, pool_max_size=pool))
        migrations.upgrade(db)
        return db

    def _stop(self, signum: int) -> None:
        if not self.stopping.is_set():
            log.info("stopping on %s", signal.Signals(signum).name)
            self.stopping.set()

    def _scheduler(self) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(timezone="UTC")
        bodies = {RESOLVE: self._resolve, WEEKLY_REPORT: self._weekly_report}
        for spec in self.specs:
            scheduler.add_job(
                self._fire,
                spec.trigger,
                args=(spec, bodies[spec.id]),
                id=spec.id,
                name=spec.description,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(spec.grace.total_seconds()),
            )
        return scheduler

    async def _fire(self, spec: JobSpec, body: Callable[[datetime], str]) -> None:
        """One firing of a job: the slot it stands for, then its body in a thread."""
        if self.stopping.is_set():
            return
        slot = spec.slot_at(utc_now())
        if slot is None:
            log.warning("fired outside any slot; skipped", extra={"job": spec.id})
            return
        task = asyncio.ensure_future(asyncio.to_thread(body, slot))
        # In hand until its thread is done, even if this firing is cancelled meanwhile.
        self.in_hand.add(task)
        task.add_done_callback(self.in_hand.discard)
        await asyncio.shield(task)

    def _resolve(self, slot: datetime) -> str:
        assert self.db is not None
        return scheduled.resolve(self.db, self.settings, self.prices, slot)

    def _weekly_report(self, slot: datetime) -> str:
        assert self.db is not None
        return scheduled.weekly_report(self.db, self.settings, slot)

    async def _finish_in_hand(self) -> bool:
        if not self.in_hand:
            return True
        log.info("waiting for %d job(s) in hand", len(self.in_hand))
        _, pending = await asyncio.wait(self.in_hand, timeout=STOP_GRACE)
        return not pending


def serve(settings: Settings, prices: PriceSettings) -> int:
    """Run the service until SIGTERM or SIGINT; 0 on a clean stop."""
    return asyncio.run(Service(settings, prices).run())
