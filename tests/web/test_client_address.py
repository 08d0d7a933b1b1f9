"""Whose failures a rate limit counts: the peer, or behind trusted proxies the address the
nearest proxy saw; never an address the client wrote itself."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from edgeledger.errors import ConfigError
from edgeledger.settings import Settings
from edgeledger.web.auth import client_of


def request(forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return make_mocked_request("POST", "/login", headers=headers)


def test_without_trusted_proxies_the_header_is_never_read():
    assert client_of(request("6.6.6.6")) == client_of(request())


def test_behind_one_proxy_the_address_it_appended_counts():
    # the client wrote 6.6.6.6 itself; Railway's edge appended the address it saw
    assert client_of(request("6.6.6.6, 203.0.113.7"), 1) == "203.0.113.7"
    assert client_of(request("203.0.113.7"), 1) == "203.0.113.7"


def test_behind_two_proxies_the_outer_ones_entry_counts():
    assert client_of(request("6.6.6.6, 203.0.113.7, 10.0.0.2"), 2) == "203.0.113.7"


def test_a_request_that_did_not_come_through_the_proxies_counts_as_its_peer():
    assert client_of(request(), 1) == client_of(request())
    assert client_of(request("203.0.113.7"), 2) == client_of(request())


def test_the_setting_is_a_small_count():
    assert Settings.from_env({}).trusted_proxies == 0
    assert Settings.from_env({"EDGELEDGER_TRUSTED_PROXIES": "1"}).trusted_proxies == 1
    with pytest.raises(ConfigError, match="EDGELEDGER_TRUSTED_PROXIES must be at most 5"):
        Settings.from_env({"EDGELEDGER_TRUSTED_PROXIES": "9"})
