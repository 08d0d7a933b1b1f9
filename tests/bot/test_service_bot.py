"""The bot's place in `edgeledger run` and beside the Sunday job, and its token's secrecy."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import date

import bot.app
from edgeledger.prices import PriceSettings
from edgeledger.service import Service
from edgeledger.settings import Settings
from jobs import scheduled
from tests.bot.conftest import NOW

TOKEN = "MTIzNDU2Nzg5.bot-token.that-never-shows"


def test_the_service_starts_the_bot_on_its_loop_when_a_token_is_set(db, db_url, monkeypatch):
    started = []

    class FakeBot:
        closed = False

        async def close(self):
            self.closed = True

    async def fake_run_bot(ctx, token):
        started.append((ctx.db, token, asyncio.get_running_loop()))
        return FakeBot()

    monkeypatch.setattr(bot.app, "run_bot", fake_run_bot)
    settings = Settings.from_env({"DATABASE_URL": db_url, "DISCORD_TOKEN": TOKEN})
    service = Service(settings, PriceSettings.from_env({}))
    service.db = db

    async def main():
        await service._start_bot()
        return asyncio.get_running_loop()

    loop = asyncio.run(main())
    assert started == [(db, TOKEN, loop)]
    assert TOKEN not in repr(settings)


def test_without_a_token_there_is_no_bot(db, db_url):
    service = Service(Settings.from_env({"DATABASE_URL": db_url}), PriceSettings.from_env({}))
    service.db = db
    asyncio.run(service._start_bot())
    assert service.bot is None


def test_with_a_report_channel_the_sunday_job_leaves_the_post_to_the_bot(db, db_url):
    settings = Settings.from_env({
        "DATABASE_URL": db_url, "DISCORD_TOKEN": TOKEN, "DISCORD_REPORT_CHANNEL_ID": "3333",
        "DISCORD_REPORT_WEBHOOK_URL": "https://discord.com/api/webhooks/1/secret",
    })  # fmt: skip
    note = scheduled.post_weekly(db, settings, date(2026, 11, 9), now=NOW)
    assert note == "left to the Discord bot (DISCORD_REPORT_CHANNEL_ID)"
    assert scheduled.retry_weekly_post(db, settings, now=NOW) is None


def test_the_token_is_in_no_output(monkeypatch):
    from edgeledger.cli import main

    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    out, err = io.StringIO(), io.StringIO()
    assert main(["discord", "commands", "--json"], out=out, err=err) == 0
    assert json.loads(out.getvalue()) and TOKEN not in out.getvalue() + err.getvalue()
