"""The one app-command error handler: our errors become private replies that say what to
fix; anything else is logged with a reference the user can quote, and they get that."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import discord
from discord import app_commands

from edgeledger.errors import EdgeLedgerError
from edgeledger.logs import one_line

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
MAX_REPLY = 1900


class Refused(EdgeLedgerError):
    """You are not allowed to do that here."""


def reference() -> str:
    """A short id for one unexpected error, in the log line and in the user's reply."""
    return secrets.token_hex(4)


async def reply_private(interaction: discord.Interaction, text: str) -> None:
    """An ephemeral answer, whether or not the interaction was deferred already."""
    text = text if len(text) <= MAX_REPLY else text[: MAX_REPLY - 1] + "…"
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
    except discord.HTTPException as exc:  # the token died (15 min), or Discord is down
        log.warning("could not send an error reply: %s", one_line(exc))


def command_name(interaction: Any) -> str:
    command = getattr(interaction, "command", None)
    return getattr(command, "qualified_name", None) or "?"


async def on_app_command_error(
    interaction: discord.Interaction, error: app_commands.AppCommandError
) -> None:
    original = getattr(error, "original", error)
    name = command_name(interaction)
    user = getattr(interaction.user, "id", "?")
    if isinstance(original, EdgeLedgerError):
        log.info("/%s by %s: %s", name, user, one_line(original))
        await reply_private(interaction, str(original))
    elif isinstance(original, app_commands.CheckFailure | app_commands.TransformerError):
        await reply_private(interaction, str(original))
    else:
        ref = reference()
        log.error(
            "unexpected error in /%s (reference %s)",
            name,
            ref,
            exc_info=(type(original), original, original.__traceback__),
            extra={"reference": ref, "command": name},
        )
        await reply_private(
            interaction,
            f"Something went wrong on our side. If you report it, quote reference `{ref}`.",
        )
