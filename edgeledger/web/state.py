"""What every handler of the app shares: the database, the settings and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from edgeledger.database import Database
from edgeledger.settings import Settings


@dataclass(frozen=True)
class WebState:
    db: Database
    settings: Settings
    clock: Callable[[], datetime]


STATE = web.AppKey("edgeledger", WebState)
