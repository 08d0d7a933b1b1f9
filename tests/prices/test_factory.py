"""PriceSettings from the environment, make_provider, and the fallback provider."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edgeledger.errors import ConfigError
from edgeledger.prices.alpaca import AlpacaProvider
from edgeledger.prices.base import PriceProvider
from edgeledger.prices.csv_dir import CsvDirProvider
from edgeledger.prices.errors import TickerNotFound
from edgeledger.prices.factory import PriceSettings, make_provider
from edgeledger.prices.fallback import FallbackProvider
from edgeledger.prices.polygon import PolygonProvider
from edgeledger.prices.schwab import SchwabProvider
from edgeledger.prices.yahoo import YahooProvider

from .support import FakeTime, load

MONDAY = (datetime(2025, 2, 3, tzinfo=UTC), datetime(2025, 2, 4, tzinfo=UTC))
SCHWAB_ENV = {
    "EDGELEDGER_SCHWAB_APP_KEY": "app-key",
    "EDGELEDGER_SCHWAB_APP_SECRET": "app-secret",
    "EDGELEDGER_SCHWAB_REFRESH_TOKEN": "refresh-SECRET",
}


def test_settings_default_to_yahoo_with_a_10_second_timeout() -> None:
    settings = PriceSettings.from_env({})
    assert settings.provider == "yahoo"
    assert settings.fallback is None
    assert settings.http_timeout == 10.0
    assert settings.polygon_calls_per_minute == 5
    assert settings.yahoo_url == "https://query2.finance.yahoo.com"


def test_settings_read_every_variable() -> None:
    env = {
        "EDGELEDGER_PRICE_PROVIDER": "polygon",
        "EDGELEDGER_PRICE_FALLBACK": "alpaca",
        "EDGELEDGER_PRICE_DIR": "/data/prices",
        "EDGELEDGER_YAHOO_URL": "http://yahoo.test",
        "EDGELEDGER_POLYGON_URL": "http://polygon.test",
        "EDGELEDGER_POLYGON_API_KEY": "pk",
        "EDGELEDGER_POLYGON_CALLS_PER_MINUTE": "100",
        "EDGELEDGER_ALPACA_URL": "http://alpaca.test",
        "EDGELEDGER_ALPACA_KEY_ID": "ak",
        "EDGELEDGER_ALPACA_SECRET_KEY": "as",
        "EDGELEDGER_ALPACA_FEED": "sip",
        "EDGELEDGER_SCHWAB_URL": "http://schwab.test",
        **SCHWAB_ENV,
        "EDGELEDGER_HTTP_TIMEOUT": "2.5",
    }
    assert PriceSettings.from_env(env) == PriceSettings(
        provider="polygon",
        fallback="alpaca",
        price_dir=Path("/data/prices"),
        yahoo_url="http://yahoo.test",
        polygon_url="http://polygon.test",
        polygon_api_key="pk",
        polygon_calls_per_minute=100,
        alpaca_url="http://alpaca.test",
        alpaca_key_id="ak",
        alpaca_secret_key="as",
        alpaca_feed="sip",
        schwab_url="http://schwab.test",
        schwab_app_key="app-key",
        schwab_app_secret="app-secret",
        schwab_refresh_token="refresh-SECRET",
        http_timeout=2.5,
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"EDGELEDGER_PRICE_PROVIDER": "polygon"}, "EDGELEDGER_POLYGON_API_KEY"),
        ({"EDGELEDGER_PRICE_PROVIDER": "alpaca"}, "EDGELEDGER_ALPACA_KEY_ID"),
        (
            {"EDGELEDGER_PRICE_PROVIDER": "alpaca", "EDGELEDGER_ALPACA_KEY_ID": "ak"},
            "EDGELEDGER_ALPACA_SECRET_KEY",
        ),
        (
            {"EDGELEDGER_PRICE_PROVIDER": "schwab", "EDGELEDGER_SCHWAB_APP_KEY": "k"},
            "EDGELEDGER_SCHWAB_APP_SECRET",
        ),
        ({"EDGELEDGER_PRICE_PROVIDER": "csv"}, "EDGELEDGER_PRICE_DIR"),
        ({"EDGELEDGER_PRICE_FALLBACK": "polygon"}, "EDGELEDGER_POLYGON_API_KEY"),
        (
            {
                "EDGELEDGER_PRICE_FALLBACK": "schwab",
                **SCHWAB_ENV,
                "EDGELEDGER_SCHWAB_REFRESH_TOKEN": "",
            },
            "EDGELEDGER_SCHWAB_REFRESH_TOKEN",
        ),
    ],
)
def test_missing_required_setting_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        PriceSettings.from_env(env)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"EDGELEDGER_PRICE_PROVIDER": "bloomberg"}, "EDGELEDGER_PRICE_PROVIDER"),
        ({"EDGELEDGER_PRICE_FALLBACK": "yahoo"}, "EDGELEDGER_PRICE_FALLBACK"),
        ({"EDGELEDGER_HTTP_TIMEOUT": "ten"}, "EDGELEDGER_HTTP_TIMEOUT"),
        ({"EDGELEDGER_HTTP_TIMEOUT": "0"}, "EDGELEDGER_HTTP_TIMEOUT"),
        ({"EDGELEDGER_POLYGON_CALLS_PER_MINUTE": "5.5"}, "EDGELEDGER_POLYGON_CALLS_PER_MINUTE"),
        ({"EDGELEDGER_ALPACA_FEED": "nasdaq"}, "EDGELEDGER_ALPACA_FEED"),
    ],
)
def test_invalid_setting_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        PriceSettings.from_env(env)


def test_secrets_are_left_out_of_the_settings_repr() -> None:
    settings = PriceSettings.from_env({"EDGELEDGER_PRICE_PROVIDER": "schwab", **SCHWAB_ENV})
    assert "refresh-SECRET" not in repr(settings)
    assert "app-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "kind"),
    [
        ({}, YahooProvider),
        (
            {"EDGELEDGER_PRICE_PROVIDER": "polygon", "EDGELEDGER_POLYGON_API_KEY": "pk"},
            PolygonProvider,
        ),
        (
            {
                "EDGELEDGER_PRICE_PROVIDER": "alpaca",
                "EDGELEDGER_ALPACA_KEY_ID": "ak",
                "EDGELEDGER_ALPACA_SECRET_KEY": "as",
            },
            AlpacaProvider,
        ),
        ({"EDGELEDGER_PRICE_PROVIDER": "schwab", **SCHWAB_ENV}, SchwabProvider),
        ({"EDGELEDGER_PRICE_PROVIDER": "csv", "EDGELEDGER_PRICE_DIR": "/tmp"}, CsvDirProvider),
    ],
)
def test_make_provider_builds_the_chosen_provider(env: dict[str, str], kind: type) -> None:
    provider = make_provider(PriceSettings.from_env(env))
    assert isinstance(provider, kind)
    assert isinstance(provider, PriceProvider)


def test_make_provider_wraps_the_fallback() -> None:
    env = {"EDGELEDGER_PRICE_FALLBACK": "csv", "EDGELEDGER_PRICE_DIR": "/tmp"}
    provider = make_provider(PriceSettings.from_env(env))
    assert isinstance(provider, FallbackProvider)
    assert isinstance(provider, PriceProvider)
    assert provider.name == "yahoo+csv"


def test_fallback_is_used_when_the_first_provider_fails(
    server, tmp_path: Path, fake_time: FakeTime
) -> None:
    server.reply(
        "/v8/finance/chart/AAPL",
        status=404,
        json_body=load("yahoo_v8_error_bodies.json")["http_404_unknown_symbol"],
    )
    (tmp_path / "5m").mkdir()
    (tmp_path / "5m" / "AAPL.csv").write_text(
        "timestamp,open,high,low,close,volume\n2025-02-03T14:30:00Z,230,231,229,230.5,1000\n"
    )
    settings = PriceSettings(
        provider="yahoo", fallback="csv", yahoo_url=server.url, price_dir=tmp_path
    )
    provider = make_provider(settings, sleep=fake_time.sleep, clock=fake_time.clock)
    result = provider.fetch("AAPL", "5m", *MONDAY)
    assert result.source == "csv"
    assert len(result.bars) == 1


def test_when_both_fail_the_second_error_is_raised_noting_the_first(
    server, tmp_path: Path, fake_time: FakeTime
) -> None:
    server.reply(
        "/v8/finance/chart/AAPL",
        status=404,
        json_body=load("yahoo_v8_error_bodies.json")["http_404_unknown_symbol"],
    )
    settings = PriceSettings(
        provider="yahoo", fallback="csv", yahoo_url=server.url, price_dir=tmp_path
    )
    provider = make_provider(settings, sleep=fake_time.sleep, clock=fake_time.clock)
    with pytest.raises(TickerNotFound, match=r"^csv: AAPL not found") as raised:
        provider.fetch_bars("AAPL", "5m", *MONDAY)
    assert any("yahoo: AAPL not found (404" in note for note in raised.value.__notes__)


def test_fallback_does_not_hide_programming_errors(tmp_path: Path) -> None:
    settings = PriceSettings(fallback="csv", price_dir=tmp_path)
    naive = datetime(2025, 2, 3)
    with pytest.raises(ValueError, match="timezone-aware"):
        make_provider(settings).fetch_bars("AAPL", "5m", naive, naive.replace(day=4))


def test_importing_the_price_modules_reads_no_environment() -> None:
    script = """
import os
touched = []
class Watch(dict):
    def __getitem__(self, key):
        touched.append(key); return super().__getitem__(key)
    def get(self, key, default=None):
        touched.append(key); return super().get(key, default)
    def __contains__(self, key):
        touched.append(key); return super().__contains__(key)
os.environ = Watch(os.environ)
import edgeledger.prices, edgeledger.prices.factory, edgeledger.prices.yahoo
import edgeledger.prices.polygon, edgeledger.prices.alpaca, edgeledger.prices.schwab
import edgeledger.prices.csv_dir, edgeledger.prices.http
print(",".join(k for k in touched if k.startswith("EDGELEDGER")))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
