"""What every `edgeledger` command shares: its context, and how commands are declared."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from edgeledger import migrations
from edgeledger.database import Database
from edgeledger.prices import PriceProvider, PriceSettings, make_provider
from edgeledger.settings import Settings

EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_UNEXPECTED = 70
EXIT_BROKEN_PIPE = 128 + 13  # the reader closed the pipe: as a process ended by SIGPIPE


@dataclass
class Context:
    """What a command gets: settings, the time it started, and the database on first use."""

    settings: Settings
    environ: Mapping[str, str]
    now: datetime
    out: TextIO
    err: TextIO
    _stack: ExitStack = field(default_factory=ExitStack)
    _db: Database | None = None

    def db(self, *, migrate: bool = True) -> Database:
        if self._db is None:
            self._db = self._stack.enter_context(Database.from_settings(self.settings))
            if migrate:
                migrations.upgrade(self._db)
        return self._db

    def price_provider(self) -> PriceProvider:
        """The configured price provider (settings read from the environment here)."""
        return make_provider(PriceSettings.from_env(self.environ))

    def close(self) -> None:
        self._stack.close()


Command = Callable[[argparse.Namespace, Context], int]


def examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def add_group(groups: Any, name: str, help_: str, *example_lines: str) -> Any:
    """A command group (`edgeledger NAME ...`); returns its subcommand registry."""
    group = groups.add_parser(
        name,
        help=help_,
        description=help_[0].upper() + help_[1:] + ".",
        epilog=examples(*example_lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return group.add_subparsers(dest="command", required=True, metavar="COMMAND")


def add_command(sub: Any, name: str, func: Command, help_: str, *example_lines: str) -> Any:
    """A command with its help text and at least one example."""
    p = sub.add_parser(
        name,
        help=help_,
        description=help_,
        epilog=examples(*example_lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=func)
    return p
