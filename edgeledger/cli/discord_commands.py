"""`edgeledger discord sync|commands`: register the bot's slash commands with Discord, and
show what would be registered (no token, no database)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from typing import Any

import discord

from bot.commands import build_tree, payload
from edgeledger.cli.base import Context, add_command, add_group
from edgeledger.errors import ConfigError, EdgeLedgerError


def _client() -> discord.Client:
    """A client only for its HTTP API (no gateway), without discord.py's start-up chatter
    (voice support, intents) on stderr."""
    logging.getLogger("discord").setLevel(logging.ERROR)
    chosen = discord.Intents.none()
    chosen.guilds = True
    return discord.Client(intents=chosen)


def _offline_tree() -> Any:
    return build_tree(_client(), _no_context)


def _no_context() -> Any:
    raise EdgeLedgerError("the commands are only listed here, not run")


def cmd_discord_commands(args: argparse.Namespace, ctx: Context) -> int:
    commands = payload(_offline_tree())
    if args.json:
        print(json.dumps(commands, indent=2, ensure_ascii=False), file=ctx.out)
    else:
        for command in commands:
            print(f"/{command['name']:<12} {command['description']}", file=ctx.out)
    return 0


def cmd_discord_sync(args: argparse.Namespace, ctx: Context) -> int:
    token = ctx.settings.discord_token
    if not token:
        raise ConfigError("DISCORD_TOKEN is not set: sync registers the commands as the bot")
    guild_id = args.guild if args.guild is not None else ctx.settings.discord_guild_id
    names = asyncio.run(_sync(token, guild_id))
    where = f"in guild {guild_id}" if guild_id else "globally (may take up to an hour to show)"
    print(f"registered {len(names)} commands {where}: {', '.join(names)}", file=ctx.out)
    return 0


async def _sync(token: str, guild_id: int | None) -> list[str]:
    client = _client()
    tree = build_tree(client, _no_context)
    try:
        await client.login(token)
    except discord.LoginFailure:
        await client.close()
        raise ConfigError(
            "Discord refused DISCORD_TOKEN (not shown): check the bot's token"
        ) from None
    try:
        if guild_id:
            guild = discord.Object(id=guild_id)
            tree.copy_global_to(guild=guild)
            synced = await tree.sync(guild=guild)
        else:
            synced = await tree.sync()
    except discord.HTTPException as exc:
        raise EdgeLedgerError(f"Discord refused the commands: {exc.status} {exc.text}") from None
    finally:
        await client.close()
    return [command.name for command in synced]


def _guild_id(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a Discord guild id (a number)")
    return int(text)


def register(groups: Any) -> None:
    sub = add_group(
        groups,
        "discord",
        "the Discord bot's slash commands: register them, or show them",
        "edgeledger discord sync --guild 123456789012345678",
    )
    sync = add_command(
        sub,
        "sync",
        cmd_discord_sync,
        "register the slash commands with Discord (run it after a change, not on every start)",
        "edgeledger discord sync --guild 123456789012345678",
        "edgeledger discord sync",
    )
    sync.add_argument(
        "--guild",
        type=_guild_id,
        help="a server id: registered there at once (default: DISCORD_GUILD_ID; unset: global)",
    )
    commands = add_command(
        sub,
        "commands",
        cmd_discord_commands,
        "print the commands that sync registers (no token, no database needed)",
        "edgeledger discord commands --json",
    )
    commands.add_argument("--json", action="store_true", help="the payload Discord receives")
