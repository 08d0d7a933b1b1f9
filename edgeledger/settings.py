"""Settings, read from the environment by entry points and passed down.

Importing this module reads nothing; `Settings.from_env()` is called once by the CLI, the bot
and the scheduler. Every variable is documented in the README's settings table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from edgeledger.core.markets import market_named
from edgeledger.errors import ConfigError


def default_data_dir() -> Path:
    """Where the embedded PostgreSQL keeps its files when EDGELEDGER_DATA_DIR is not set."""
    return Path(platformdirs.user_data_dir("edgeledger", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """What the app needs to run; built once per process."""

    database_url: str | None
    data_dir: Path
    pool_max_size: int = 4
    log_level: str = "INFO"
    resolve_interval: str = "1h"
    resolve_interval_day: str | None = None  # day trades' own primary interval, if set
    resolve_interval_swing: str | None = None
    drill_intervals: tuple[str, ...] = ("1m",)
    resolve_group: int = 50
    fetch_workers: int = 4
    default_market: str = "XNYS"
    resolve_deadline: float | None = 3000.0  # seconds; None: no limit
    # Where `report weekly --post` and the Sunday job post; its path holds a secret token,
    # so it stays out of repr (and every output: edgeledger.redaction).
    report_webhook_url: str | None = field(default=None, repr=False)
    # `edgeledger run`: the service
    port: int = 8000
    host: str = "0.0.0.0"
    api_token: str | None = field(default=None, repr=False)  # None: POST /api/signals is off
    discord_token_set: bool = False  # the token itself is the bot's to read
    resolve_markets: tuple[str, ...] = ("XNYS",)
    resolve_cron: str | None = None  # overrides the calendar schedule (America/New_York)
    weekly_report_cron: str | None = None  # overrides Sunday 20:00 (America/Chicago)
    # The dashboard (edgeledger.web.dashboard): off without a token; secrets stay out of repr.
    dashboard_token: str | None = field(default=None, repr=False)
    dashboard_secret: str | None = field(default=None, repr=False)  # None: derived from the token
    trusted_proxies: int = 0  # proxies in front of `run` whose X-Forwarded-For is believed
    session_hours: int = 12
    report_link_days: int = 14
    public_url: str | None = None  # the dashboard's address, for the report link on Discord
    # the Discord bot (bot/, docs/discord-bot.md); the token is a secret: out of repr
    discord_token: str | None = field(default=None, repr=False)
    discord_guild_id: int | None = None  # `discord sync` registers here (instantly) by default
    discord_signal_channel_ids: tuple[int, ...] = ()  # channels whose signal posts are captured
    discord_report_channel_id: int | None = None  # the weekly report goes here, not the webhook
    discord_allowed_role_ids: tuple[int, ...] = ()  # may run /outcome /note /flag /unflag
    discord_allowed_user_ids: tuple[int, ...] = ()
    discord_close_replies: bool = True  # reply under a Discord signal when a run closes it

    @property
    def bot_posts_report(self) -> bool:
        """The bot, not the webhook, posts the weekly report."""
        return self.discord_token_set and self.discord_report_channel_id is not None

    @property
    def resolve_intervals(self) -> dict[str, str]:
        """The primary bar interval of each trade type."""
        return {
            "day": self.resolve_interval_day or self.resolve_interval,
            "swing": self.resolve_interval_swing or self.resolve_interval,
        }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = env.get("EDGELEDGER_DATA_DIR", "").strip()
        return cls(
            database_url=env.get("DATABASE_URL", "").strip() or None,
            data_dir=Path(data_dir).expanduser() if data_dir else default_data_dir(),
            # resolve holds three at once: its lock, its work, its writer thread
            pool_max_size=_positive_int(env, "EDGELEDGER_DB_POOL_SIZE", 4, least=3),
            log_level=env.get("EDGELEDGER_LOG_LEVEL", "INFO").strip().upper() or "INFO",
            resolve_interval=_interval(env, "EDGELEDGER_RESOLVE_INTERVAL", "1h"),
            resolve_interval_day=_optional_interval(env, "EDGELEDGER_RESOLVE_INTERVAL_DAY"),
            resolve_interval_swing=_optional_interval(env, "EDGELEDGER_RESOLVE_INTERVAL_SWING"),
            drill_intervals=_intervals(env, "EDGELEDGER_DRILL_INTERVALS", "1m"),
            resolve_group=_positive_int(env, "EDGELEDGER_RESOLVE_GROUP", 50),
            fetch_workers=_positive_int(env, "EDGELEDGER_FETCH_WORKERS", 4, most=16),
            default_market=_market(env, "EDGELEDGER_DEFAULT_MARKET", "XNYS"),
            resolve_deadline=_seconds_or_none(env, "EDGELEDGER_RESOLVE_DEADLINE", 3000.0),
            report_webhook_url=_webhook_url(env, "DISCORD_REPORT_WEBHOOK_URL"),
            port=_positive_int(env, "PORT", 8000, most=65535),
            host=env.get("EDGELEDGER_HOST", "").strip() or "0.0.0.0",
            api_token=env.get("EDGELEDGER_API_TOKEN", "").strip() or None,
            discord_token_set=bool(env.get("DISCORD_TOKEN", "").strip()),
            resolve_markets=_markets(env, "EDGELEDGER_RESOLVE_MARKETS", "XNYS"),
            resolve_cron=_cron(env, "EDGELEDGER_RESOLVE_CRON"),
            weekly_report_cron=_cron(env, "EDGELEDGER_WEEKLY_REPORT_CRON"),
            dashboard_token=env.get("EDGELEDGER_DASHBOARD_TOKEN", "").strip() or None,
            dashboard_secret=env.get("EDGELEDGER_DASHBOARD_SECRET", "").strip() or None,
            trusted_proxies=_positive_int(env, "EDGELEDGER_TRUSTED_PROXIES", 0, least=0, most=5),
            session_hours=_positive_int(env, "EDGELEDGER_SESSION_HOURS", 12, most=24 * 30),
            report_link_days=_positive_int(env, "EDGELEDGER_REPORT_LINK_DAYS", 14, most=366),
            public_url=_public_url(env, "EDGELEDGER_PUBLIC_URL"),
            discord_token=env.get("DISCORD_TOKEN", "").strip() or None,
            discord_guild_id=_snowflake(env, "DISCORD_GUILD_ID"),
            discord_signal_channel_ids=_snowflakes(env, "DISCORD_SIGNAL_CHANNEL_IDS"),
            discord_report_channel_id=_snowflake(env, "DISCORD_REPORT_CHANNEL_ID"),
            discord_allowed_role_ids=_snowflakes(env, "DISCORD_ALLOWED_ROLE_IDS"),
            discord_allowed_user_ids=_snowflakes(env, "DISCORD_ALLOWED_USER_IDS"),
            discord_close_replies=_switch(env, "DISCORD_CLOSE_REPLIES", True),
        )


INTERVAL_NAMES = ("1m", "5m", "15m", "30m", "1h", "1d")


def _interval(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if value not in INTERVAL_NAMES:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(INTERVAL_NAMES)}")
    return value


def _optional_interval(env: Mapping[str, str], name: str) -> str | None:
    return _interval(env, name, "") if env.get(name, "").strip() else None


def _market(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    try:
        return market_named(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _markets(env: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    """A comma-separated list of markets, each once, in the order given."""
    raw = env.get(name, "").strip() or default
    names = [part.strip() for part in raw.split(",") if part.strip()]
    if not names:
        raise ConfigError(f"{name}: name at least one market, e.g. XNYS or XNYS,24/7")
    return tuple(dict.fromkeys(_market({name: part}, name, "") for part in names))


def _cron(env: Mapping[str, str], name: str) -> str | None:
    """A cron expression: five fields (minute hour day month weekday), or six with the
    seconds first. Its values are checked where the trigger is built (jobs.schedule)."""
    raw = " ".join(env.get(name, "").split())
    if not raw:
        return None
    if len(raw.split()) not in (5, 6):
        raise ConfigError(
            f"{name}: {raw!r} is not a cron expression: give five fields (minute hour day"
            " month weekday, e.g. '0 20 * * sun') or six with the seconds first"
        )
    return raw


def _intervals(env: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    """A comma-separated list of intervals; 'none' for an empty list."""
    raw = env.get(name, "").strip() or default
    if raw.lower() == "none":
        return ()
    return tuple(_interval({name: part.strip()}, name, "") for part in raw.split(","))


def _webhook_url(env: Mapping[str, str], name: str) -> str | None:
    """An http(s) URL, or None when unset. The value is never quoted in the error: it holds
    the webhook's token."""
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:  # a malformed host ("http://[x"): its message names no value
        parts = urlsplit("")
    if parts.scheme not in ("https", "http") or not parts.netloc or " " in value:
        raise ConfigError(
            f"{name} must be a Discord webhook URL (https://discord.com/api/webhooks/ID/TOKEN);"
            " the value set is not one (not shown: it would hold the token)"
        )
    return value


def _public_url(env: Mapping[str, str], name: str) -> str | None:
    """The dashboard's public address (http or https, no query), without a trailing slash."""
    value = env.get(name, "").strip().rstrip("/")
    if not value:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or " " in value:
        raise ConfigError(
            f"{name} must be the dashboard's address, e.g. https://edgeledger.example.com,"
            f" got {value!r}"
        )
    return value


def _seconds_or_none(env: Mapping[str, str], name: str, default: float) -> float | None:
    """A number of seconds; 0 for no limit (None)."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(_ascii_number(raw))
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{name} must be 0 (no limit) or a positive number, got {raw!r}")
    return value or None


def _ascii_number(text: str) -> str:
    """The text of a number as written in ASCII: int() and float() also read other
    scripts' digits (Arabic-Indic ٤ is 4) and underscores (1_0 is 10), which a setting
    should not silently become."""
    if not text.isascii() or "_" in text:
        raise ValueError(text)
    return text


def _positive_int(
    env: Mapping[str, str], name: str, default: int, *, least: int = 1, most: int | None = None
) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(_ascii_number(raw))
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < least:
        raise ConfigError(f"{name} must be at least {least}, got {value}")
    if most is not None and value > most:
        raise ConfigError(f"{name} must be at most {most}, got {value}")
    return value


def _snowflakes(env: Mapping[str, str], name: str) -> tuple[int, ...]:
    """Discord ids (snowflakes), comma-separated, each once."""
    raw = env.get(name, "").strip()
    found: list[int] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if not part.isascii() or not part.isdigit() or not 0 < int(part) < 2**64:
            raise ConfigError(
                f"{name} must be Discord ids (numbers, comma-separated), got {part!r}"
                " (Developer Mode, right-click, Copy ID)"
            )
        found.append(int(part))
    return tuple(dict.fromkeys(found))


def _snowflake(env: Mapping[str, str], name: str) -> int | None:
    ids = _snowflakes(env, name)
    if len(ids) > 1:
        raise ConfigError(f"{name} must be one Discord id, got {len(ids)}")
    return ids[0] if ids else None


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be on or off (true/false), got {raw!r}")
