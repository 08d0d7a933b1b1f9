"""Settings from the environment: defaults, and a clear error naming a bad variable."""

from __future__ import annotations

import pytest

from edgeledger.errors import ConfigError
from edgeledger.settings import Settings


def test_resolve_defaults():
    settings = Settings.from_env({})
    assert (settings.resolve_interval, settings.drill_intervals) == ("1h", ("1m",))
    assert (settings.resolve_group, settings.fetch_workers, settings.pool_max_size) == (50, 4, 4)


def test_resolve_tuning_is_read_from_the_environment():
    settings = Settings.from_env(
        {
            "EDGELEDGER_RESOLVE_GROUP": "10",
            "EDGELEDGER_FETCH_WORKERS": "8",
            "EDGELEDGER_DB_POOL_SIZE": "6",
        }
    )
    assert (settings.resolve_group, settings.fetch_workers, settings.pool_max_size) == (10, 8, 6)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("EDGELEDGER_DB_POOL_SIZE", "2", "EDGELEDGER_DB_POOL_SIZE must be at least 3, got 2"),
        ("EDGELEDGER_FETCH_WORKERS", "0", "EDGELEDGER_FETCH_WORKERS must be at least 1, got 0"),
        ("EDGELEDGER_FETCH_WORKERS", "17", "EDGELEDGER_FETCH_WORKERS must be at most 16, got 17"),
        ("EDGELEDGER_RESOLVE_GROUP", "ten", "EDGELEDGER_RESOLVE_GROUP must be a whole number"),
        ("EDGELEDGER_RESOLVE_DEADLINE", "soon", "EDGELEDGER_RESOLVE_DEADLINE must be a number"),
        ("EDGELEDGER_RESOLVE_DEADLINE", "-1", "EDGELEDGER_RESOLVE_DEADLINE must be 0 .no limit."),
        ("EDGELEDGER_RESOLVE_DEADLINE", "nan", "EDGELEDGER_RESOLVE_DEADLINE must be 0 .no limit."),
    ],
)
def test_a_bad_value_names_the_variable_and_the_reason(name, value, message):
    with pytest.raises(ConfigError, match=f"^{message}"):
        Settings.from_env({name: value})


def test_a_resolve_run_is_bounded_by_default_and_0_lifts_the_bound():
    assert Settings.from_env({}).resolve_deadline == 3000.0
    assert Settings.from_env({"EDGELEDGER_RESOLVE_DEADLINE": "90.5"}).resolve_deadline == 90.5
    assert Settings.from_env({"EDGELEDGER_RESOLVE_DEADLINE": "0"}).resolve_deadline is None


@pytest.mark.parametrize("value", ["٤", "1_0", "４"])
def test_numbers_in_settings_are_ascii_digits(value):
    with pytest.raises(ConfigError, match="EDGELEDGER_DB_POOL_SIZE must be a whole number"):
        Settings.from_env({"EDGELEDGER_DB_POOL_SIZE": value})


def test_the_intervals_of_day_and_swing_trades_default_to_the_resolve_interval():
    settings = Settings.from_env(
        {"EDGELEDGER_RESOLVE_INTERVAL": "30m", "EDGELEDGER_RESOLVE_INTERVAL_DAY": "5m"}
    )
    assert settings.resolve_intervals == {"day": "5m", "swing": "30m"}


def test_the_default_market_is_read_by_its_name_or_alias():
    assert Settings.from_env({"EDGELEDGER_DEFAULT_MARKET": "lse"}).default_market == "XLON"
    with pytest.raises(ConfigError, match="EDGELEDGER_DEFAULT_MARKET: unknown market"):
        Settings.from_env({"EDGELEDGER_DEFAULT_MARKET": "MOON"})


def test_the_report_webhook_url_is_read_and_kept_out_of_repr():
    url = "https://discord.com/api/webhooks/1300000000000000001/secret-token-value"
    settings = Settings.from_env({"DISCORD_REPORT_WEBHOOK_URL": f" {url} "})
    assert settings.report_webhook_url == url
    assert "secret-token-value" not in repr(settings)
    assert Settings.from_env({}).report_webhook_url is None


@pytest.mark.parametrize("value", ["discord.com/api/webhooks/1/tok-secret", "ftp://x/tok-secret"])
def test_a_report_webhook_url_that_is_not_one_is_refused_without_quoting_it(value):
    with pytest.raises(ConfigError, match="DISCORD_REPORT_WEBHOOK_URL must be") as caught:
        Settings.from_env({"DISCORD_REPORT_WEBHOOK_URL": value})
    assert "tok-secret" not in str(caught.value)


def test_every_setting_is_in_the_readme_table():
    import re
    from pathlib import Path

    import edgeledger.settings

    source = Path(edgeledger.settings.__file__).read_text()
    names = set(re.findall(r'"((?:EDGELEDGER_|DATABASE_URL|PORT|DISCORD_)[A-Z_]*)"', source))
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = [line for line in readme.splitlines() if line.startswith("| `")]
    missing = sorted(n for n in names if not any(f"`{n}`" in line for line in table))
    assert names and not missing


def test_the_service_settings_and_their_defaults():
    settings = Settings.from_env(
        {"EDGELEDGER_RESOLVE_MARKETS": "nyse, crypto, XNYS", "EDGELEDGER_API_TOKEN": "tok3n-abc"}
    )
    assert settings.resolve_markets == ("XNYS", "24/7")
    assert settings.port == 8000 and settings.api_token == "tok3n-abc"
    assert "tok3n-abc" not in repr(settings)
    assert Settings.from_env({}).api_token is None


def test_a_bad_service_setting_is_named():
    with pytest.raises(ConfigError, match="EDGELEDGER_RESOLVE_MARKETS: unknown market 'MOON'"):
        Settings.from_env({"EDGELEDGER_RESOLVE_MARKETS": "XNYS,MOON"})
    with pytest.raises(ConfigError, match="PORT must be at most 65535"):
        Settings.from_env({"PORT": "70000"})


def test_the_dashboard_settings_are_read_and_checked():
    found = Settings.from_env(
        {
            "EDGELEDGER_DASHBOARD_TOKEN": " tok-123456 ",
            "EDGELEDGER_PUBLIC_URL": "https://dash.example/",
            "EDGELEDGER_REPORT_LINK_DAYS": "7",
            "EDGELEDGER_SESSION_HOURS": "2",
        }
    )
    assert found.dashboard_token == "tok-123456" and found.dashboard_secret is None
    assert found.public_url == "https://dash.example"
    assert (found.report_link_days, found.session_hours) == (7, 2)
    assert "tok-123456" not in repr(found)
    assert Settings.from_env({}).dashboard_token is None  # the dashboard is off
    with pytest.raises(ConfigError, match="EDGELEDGER_PUBLIC_URL must be the dashboard"):
        Settings.from_env({"EDGELEDGER_PUBLIC_URL": "dash.example"})


def test_the_discord_bot_settings():
    settings = Settings.from_env({
        "DISCORD_TOKEN": " tok.en ",
        "DISCORD_GUILD_ID": "123456789012345678",
        "DISCORD_SIGNAL_CHANNEL_IDS": "11, 22,11",
        "DISCORD_REPORT_CHANNEL_ID": "33",
        "DISCORD_ALLOWED_ROLE_IDS": "44",
        "DISCORD_ALLOWED_USER_IDS": "",
        "DISCORD_CLOSE_REPLIES": "off",
    })  # fmt: skip
    assert settings.discord_token == "tok.en" and "tok.en" not in repr(settings)
    assert settings.discord_guild_id == 123456789012345678
    assert settings.discord_signal_channel_ids == (11, 22)
    assert settings.discord_report_channel_id == 33 and settings.bot_posts_report
    assert settings.discord_allowed_role_ids == (44,) and settings.discord_allowed_user_ids == ()
    assert settings.discord_close_replies is False
    defaults = Settings.from_env({})
    assert defaults.discord_close_replies and not defaults.bot_posts_report


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("DISCORD_SIGNAL_CHANNEL_IDS", "general", "must be Discord ids"),
        ("DISCORD_ALLOWED_ROLE_IDS", "12,-3", "must be Discord ids"),
        ("DISCORD_REPORT_CHANNEL_ID", "1,2", "must be one Discord id"),
        ("DISCORD_CLOSE_REPLIES", "maybe", "must be on or off"),
    ],
)
def test_a_bad_discord_setting_names_itself(name, value, says):
    with pytest.raises(ConfigError, match=f"{name} {says}"):
        Settings.from_env({name: value})
