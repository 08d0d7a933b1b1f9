"""`edgeledger discord sync` against a local server that answers as Discord's API does:
it logs in with the token, registers the tree's commands in the guild, and a refused token
is one line that does not show it."""

from __future__ import annotations

import io
import json

import discord
import pytest

from bot.commands import COMMAND_NAMES
from edgeledger.cli import main

TOKEN = "MTIzNDU2Nzg5.sync-token.never-shown"
APP = {
    "id": "555", "name": "EdgeLedger", "description": "", "icon": None, "bot_public": True,
    "bot_require_code_grant": False, "verify_key": "k", "flags": 0,
    "owner": {"id": "2", "username": "owner", "discriminator": "0", "avatar": None},
}  # fmt: skip
ME = {"id": "1", "username": "edgeledger", "discriminator": "0", "avatar": None, "bot": True}


@pytest.fixture
def discord_api(server, monkeypatch):
    monkeypatch.setattr(discord.http.Route, "BASE", f"{server.url}/api/v10")
    return server


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


def test_sync_registers_every_command_in_the_guild(discord_api, monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    discord_api.reply("/api/v10/users/@me", json_body=ME)
    discord_api.reply("/api/v10/oauth2/applications/@me", json_body=APP)
    registered = [
        {"id": str(100 + n), "application_id": "555", "name": name, "description": "d",
         "type": 1, "version": "1"}
        for n, name in enumerate(COMMAND_NAMES)
    ]  # fmt: skip
    discord_api.reply("/api/v10/applications/555/guilds/123/commands", json_body=registered)
    code, out, err = cli("discord", "sync", "--guild", "123")
    assert code == 0, err
    assert out.startswith("registered 12 commands in guild 123")
    put = discord_api.to("/api/v10/applications/555/guilds/123/commands")[0]
    assert put.method == "PUT"
    assert [c["name"] for c in json.loads(put.body)] == list(COMMAND_NAMES)
    assert discord_api.to("/api/v10/users/@me")[0].headers["Authorization"] == f"Bot {TOKEN}"
    assert TOKEN not in out + err


def test_a_refused_token_is_one_line_without_it(discord_api, monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    discord_api.reply("/api/v10/users/@me", status=401,
                      json_body={"message": "401: Unauthorized", "code": 0})  # fmt: skip
    code, out, err = cli("discord", "sync", "--guild", "123")
    assert code != 0
    assert "Discord refused DISCORD_TOKEN" in err and TOKEN not in out + err
    assert len(err.strip().splitlines()) == 1
