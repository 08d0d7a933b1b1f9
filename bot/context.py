"""What every handler of the bot is given: the database, the settings and the clock, and
the one way to run blocking work (database, reports) off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from edgeledger.clock import utc_now
from edgeledger.database import Database
from edgeledger.settings import Settings

T = TypeVar("T")


@dataclass
class BotContext:
    db: Database
    settings: Settings
    clock: Callable[[], datetime] = field(default=utc_now)

    def now(self) -> datetime:
        return self.clock()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Blocking work (the database, drawing a report) in a worker thread: the event loop
        keeps answering Discord meanwhile."""
        return await asyncio.to_thread(fn, *args, **kwargs)
