"""The real command tree, checked against Discord's limits (shared/docs/discord.md), and
`edgeledger discord commands --json`, which needs no token and no database."""

from __future__ import annotations

import io
import json
import re

import discord
import pytest

from bot.commands import COMMAND_NAMES, build_tree, payload
from edgeledger.cli import main

NAME = re.compile(r"^[-_'\w]{1,32}$")


def _no_context():
    raise AssertionError("no handler runs here")


def commands() -> list[dict]:
    return payload(build_tree(discord.Client(intents=discord.Intents.none()), _no_context))


def _text_size(command: dict) -> int:
    """name + description + every option's name, description and choice names and values."""
    size = len(command["name"]) + len(command["description"])
    for option in command.get("options", []):
        size += len(option["name"]) + len(option["description"])
        for choice in option.get("choices", []):
            size += len(choice["name"]) + len(str(choice["value"]))
    return size


def test_every_command_the_issue_asks_for_is_there():
    assert sorted(c["name"] for c in commands()) == sorted(COMMAND_NAMES)


@pytest.mark.parametrize("command", commands(), ids=lambda c: c["name"])
def test_each_command_is_within_discords_limits(command):
    assert NAME.match(command["name"]) and command["name"] == command["name"].lower()
    assert len(command["description"]) in range(1, 101)
    options = command.get("options", [])
    assert len(options) <= 25
    required_seen_optional = False
    for option in options:
        assert NAME.match(option["name"]) and option["name"] == option["name"].lower()
        assert len(option["description"]) in range(1, 101), option
        assert len(option.get("choices", [])) <= 25
        for choice in option.get("choices", []):
            assert len(choice["name"]) in range(1, 101)
        # Discord refuses a required option after an optional one.
        if not option.get("required"):
            required_seen_optional = True
        else:
            assert not required_seen_optional, option["name"]
    assert _text_size(command) <= 8000
    assert len(json.dumps(command)) <= 8000


def test_commands_json_needs_no_token_and_no_database(monkeypatch):
    for name in ("DATABASE_URL", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EDGELEDGER_DATA_DIR", "/nonexistent/never-created")
    out, err = io.StringIO(), io.StringIO()
    assert main(["discord", "commands", "--json"], out=out, err=err) == 0
    assert [c["name"] for c in json.loads(out.getvalue())] == list(COMMAND_NAMES)
    assert err.getvalue() == ""


def test_sync_without_a_token_says_so(monkeypatch):
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    out, err = io.StringIO(), io.StringIO()
    assert main(["discord", "sync", "--guild", "123"], out=out, err=err) != 0
    assert "DISCORD_TOKEN is not set" in err.getvalue()
