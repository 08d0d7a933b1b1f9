"""Secrets out of every error, log line and traceback.

A password in a connection string, a provider's key or token: any of them can end up in an
exception's text (psycopg quotes a malformed URL whole) and from there in a log or on the
screen. So the entry points build one Redactor from the environment they were given and
apply it where errors and logs are formatted (edgeledger.logs, the CLI's error printing),
rather than trusting every message to leave secrets out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import unquote

MASK = "***"

# Settings whose values are secrets: EDGELEDGER_POLYGON_API_KEY, EDGELEDGER_ALPACA_SECRET_KEY,
# EDGELEDGER_SCHWAB_APP_SECRET, EDGELEDGER_SCHWAB_REFRESH_TOKEN, a bot's DISCORD_TOKEN,
# PGPASSWORD, and DISCORD_REPORT_WEBHOOK_URL (whoever has a webhook's URL can post with it).
# Client ids (EDGELEDGER_SCHWAB_APP_KEY, EDGELEDGER_ALPACA_KEY_ID) are not: they travel in
# the URLs a user must open (`prices schwab-login` prints one).
SECRET_NAME = re.compile(r"API_KEY|SECRET|TOKEN|PASSWORD|WEBHOOK", re.I)
# The password of any URL (`scheme://user:password@host`), even one too malformed to parse.
URL_PASSWORD = re.compile(
    r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)(?P<secret>[^\s@]+)(?=@)", re.I
)
# `password=...` in a key/value connection string, quoted or not.
KEYWORD_PASSWORD = re.compile(
    r"(?P<head>\bpassword\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|[^\s'\"]+)", re.I
)
# The token of a Discord webhook URL (`.../api/webhooks/<id>/<token>`), wherever the URL or
# only its path shows up (urllib3's debug log writes the path without the host).
WEBHOOK_TOKEN = re.compile(r"(?P<head>/webhooks/\d+/)(?P<secret>[\w.~%-]+)", re.I)
# Shorter values are left alone: masking "1" or "true" everywhere would garble output
# (a URL's password is still masked by its place in the URL).
SHORTEST_SECRET = 6


@dataclass(frozen=True)
class Redactor:
    """Replaces known secret values, and any URL or keyword password, with ***."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Redactor:
        """Secrets of this environment: values of secret-named variables, and the password of
        every URL or connection string in any variable (DATABASE_URL above all)."""
        found: set[str] = set()
        for name, value in environ.items():
            if SECRET_NAME.search(name):
                found.add(value.strip())
            found.update(passwords(value))
        return cls.of(found)

    @classmethod
    def of(cls, secrets: Iterable[str]) -> Redactor:
        usable = {s for s in secrets if len(s) >= SHORTEST_SECRET}
        return cls(tuple(sorted(usable, key=len, reverse=True)))  # longest first

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        text = URL_PASSWORD.sub(rf"\g<head>{MASK}", text)
        text = WEBHOOK_TOKEN.sub(rf"\g<head>{MASK}", text)
        return KEYWORD_PASSWORD.sub(rf"\g<head>{MASK}", text)


def passwords(value: str) -> set[str]:
    """The passwords of the URLs and key/value connection strings in `value`, and the
    tokens of the webhook URLs in it."""
    found: set[str] = set()
    for pattern in (URL_PASSWORD, KEYWORD_PASSWORD, WEBHOOK_TOKEN):
        for match in pattern.finditer(value):
            secret = match.group("secret")
            found |= {secret, unquote(secret), secret.strip("'")}
    return found


class RedactingStream:
    """A text stream that redacts what is written to it: the CLI's stderr, where errors,
    skipped tickers and --debug tracebacks go."""

    def __init__(self, stream: TextIO, redactor: Redactor) -> None:
        self.stream, self.redactor = stream, redactor

    def write(self, text: str) -> int:
        return self.stream.write(self.redactor(text))

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
