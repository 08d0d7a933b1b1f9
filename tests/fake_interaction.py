"""Small fakes of what discord.py hands the bot, recording what the bot does with them: an
Interaction (defer, send_message, followup.send), messages and channels (reactions,
replies, history, send). No network: handlers are called directly (shared/docs/discord.md)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import discord
from discord import app_commands

_ids = itertools.count(1_400_000_000_000_000_000)


def snowflake() -> int:
    return next(_ids)


@dataclass
class FakeUser:
    id: int = 1111
    name: str = "ana"
    roles: list[Any] = field(default_factory=list)

    def __str__(self) -> str:
        return self.name


def role(role_id: int) -> Any:
    return SimpleNamespace(id=role_id)


@dataclass
class Sent:
    """One message the bot sent: where, what, and the options it used."""

    how: str  # send_message, followup, channel, reply
    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    files: list[Any] = field(default_factory=list)
    ephemeral: bool = False
    allowed_mentions: Any = None
    id: int = field(default_factory=snowflake)
    channel: Any = None


class FakeResponse:
    def __init__(self, interaction: FakeInteraction) -> None:
        self.interaction = interaction
        self.deferred: dict[str, Any] | None = None
        self._done = False

    def is_done(self) -> bool:
        return self._done

    async def defer(self, *, ephemeral: bool = False, thinking: bool = False) -> None:
        assert not self._done, "responded twice (InteractionResponded)"
        self._done = True
        self.deferred = {"ephemeral": ephemeral}
        self.interaction.log.append("defer")

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        assert not self._done, "responded twice (InteractionResponded)"
        self._done = True
        self.interaction.log.append("send_message")
        self.interaction.sent.append(_sent("send_message", content, kwargs))


class FakeFollowup:
    def __init__(self, interaction: FakeInteraction) -> None:
        self.interaction = interaction

    async def send(self, content: str | None = None, **kwargs: Any) -> Sent:
        assert self.interaction.response.is_done(), "followup before a response"
        self.interaction.log.append("followup")
        sent = _sent("followup", content, kwargs)
        sent.channel = SimpleNamespace(id=self.interaction.channel_id)
        self.interaction.sent.append(sent)
        return sent


def _sent(how: str, content: str | None, kwargs: dict[str, Any]) -> Sent:
    embeds = list(kwargs.get("embeds") or ([kwargs["embed"]] if kwargs.get("embed") else []))
    return Sent(
        how=how,
        content=content,
        embeds=embeds,
        files=list(kwargs.get("files") or []),
        ephemeral=bool(kwargs.get("ephemeral")),
        allowed_mentions=kwargs.get("allowed_mentions"),
    )


class FakeInteraction:
    def __init__(self, user: FakeUser | None = None, channel_id: int = 2222) -> None:
        self.id = snowflake()
        self.user = user or FakeUser()
        self.channel_id = channel_id
        self.guild_id = 3333
        self.command: Any = None
        self.log: list[str] = []
        self.sent: list[Sent] = []
        self.response = FakeResponse(self)
        self.followup = FakeFollowup(self)

    @property
    def reply(self) -> Sent:
        """The one message the user saw."""
        assert len(self.sent) == 1, self.sent
        return self.sent[0]


async def invoke(
    tree: app_commands.CommandTree, name: str, interaction: FakeInteraction, **options
):
    """Run a command as discord.py does: its callback, and the tree's error handler on error."""
    command = tree.get_command(name)
    assert command is not None, name
    interaction.command = command
    try:
        await command.callback(interaction, **options)
    except Exception as exc:
        await tree.on_error(interaction, app_commands.CommandInvokeError(command, exc))


# --- messages and channels -------------------------------------------------------------


@dataclass
class FakeMessage:
    content: str = ""
    embeds: list[Any] = field(default_factory=list)
    id: int = field(default_factory=snowflake)
    channel: Any = None
    author: Any = field(default_factory=lambda: FakeUser(id=9999, name="signal-bot"))
    created_at: datetime = field(default_factory=lambda: datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    reactions: list[str] = field(default_factory=list)
    replies: list[Sent] = field(default_factory=list)
    fail_reply: Callable[[], Exception] | None = None

    async def add_reaction(self, emoji: str) -> None:
        self.reactions.append(emoji)

    async def reply(self, content: str | None = None, **kwargs: Any) -> Sent:
        if self.fail_reply is not None:
            raise self.fail_reply()
        sent = _sent("reply", content, kwargs)
        self.replies.append(sent)
        return sent


class FakeChannel:
    """A channel with a history, whose `send` answers from a script (exceptions to raise,
    in turn, then success)."""

    def __init__(self, channel_id: int = 2222) -> None:
        self.id = channel_id
        self.messages: list[FakeMessage] = []
        self.sent: list[Sent] = []
        self.attempts = 0
        self.script: list[Exception] = []

    @property
    def last_message_id(self) -> int | None:
        return self.messages[-1].id if self.messages else None

    def post(self, content: str = "", embeds: list[Any] | None = None) -> FakeMessage:
        message = FakeMessage(content=content, embeds=embeds or [], channel=self)
        self.messages.append(message)
        return message

    async def history(
        self, *, limit: int | None = None, after: Any = None, oldest_first: bool = True
    ):
        for message in sorted(self.messages, key=lambda m: m.id):
            if after is None or message.id > after.id:
                yield message

    def get_partial_message(self, message_id: int) -> FakeMessage:
        for message in self.messages:
            if message.id == message_id:
                return message
        raise http_error(404, 10008, "Unknown Message", cls=discord.NotFound)

    async def send(self, content: str | None = None, **kwargs: Any) -> Sent:
        self.attempts += 1
        if self.script:
            raise self.script.pop(0)
        sent = _sent("channel", content, kwargs)
        sent.channel = self
        self.sent.append(sent)
        return sent


def http_error(status: int, code: int, text: str, cls: type = discord.HTTPException) -> Exception:
    response = SimpleNamespace(status=status, reason=text)
    return cls(response, {"code": code, "message": text})
