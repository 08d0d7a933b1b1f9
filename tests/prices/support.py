"""Helpers shared by the price tests: fixture files and a fake clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "price-apis"


def load(name: str, **replace: str) -> Any:
    """A fixture file as JSON; {key} placeholders (e.g. {server}) are filled in first."""
    text = (FIXTURES / name).read_text()
    for key, value in replace.items():
        text = text.replace("{" + key + "}", value)
    return json.loads(text)


def yahoo_body(name: str) -> Any:
    """The body of a recorded Yahoo envelope, or a hand-made body as is."""
    data = load(name)
    return data["response"]["bodyJson"] if "response" in data else data


class FakeTime:
    """A clock and a sleep that only move when the code under test sleeps."""

    def __init__(self, start: datetime = datetime(2025, 2, 20, 12, tzinfo=UTC)) -> None:
        self.now = start
        self.monotonic_now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.monotonic_now += seconds
        self.now += timedelta(seconds=seconds)

    def clock(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.monotonic_now

    def advance(self, seconds: float) -> None:
        self.monotonic_now += seconds
        self.now += timedelta(seconds=seconds)
