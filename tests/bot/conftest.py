"""What the bot's tests share: a context on the test database with a fixed clock."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import discord
import pytest

from bot.commands import build_tree
from bot.context import BotContext
from edgeledger.settings import Settings

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
ALLOWED_ROLE = 77
ALLOWED_USER = 4242
SIGNAL_CHANNEL = 2222


@pytest.fixture(autouse=True)
def _every_log_line(caplog):
    """Every log line of the bot is written in its tests, extras and all."""
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.DEBUG, logger="edgeledger")


@pytest.fixture
def settings(db_url) -> Settings:
    return Settings.from_env({
        "DATABASE_URL": db_url,
        "DISCORD_ALLOWED_ROLE_IDS": str(ALLOWED_ROLE),
        "DISCORD_ALLOWED_USER_IDS": str(ALLOWED_USER),
        "DISCORD_SIGNAL_CHANNEL_IDS": str(SIGNAL_CHANNEL),
        "DISCORD_REPORT_CHANNEL_ID": "3333",
    })  # fmt: skip


@pytest.fixture
def ctx(db, settings) -> BotContext:
    return BotContext(db, settings, clock=lambda: NOW)


@pytest.fixture
def tree(ctx):
    client = discord.Client(intents=discord.Intents.none())
    return build_tree(client, lambda: ctx)
