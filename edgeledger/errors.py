"""The project's exceptions. Each class docstring is its default message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class EdgeLedgerError(Exception):
    """EdgeLedger failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


@dataclass(frozen=True)
class FieldProblem:
    """One bad field: which field, why, and (for files) on which line."""

    field: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.field}: {self.reason}"


class InvalidSignal(EdgeLedgerError):
    """The signal is invalid."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__("invalid signal: " + "; ".join(str(p) for p in self.problems))


class InvalidImport(EdgeLedgerError):
    """The file has invalid rows; nothing was written."""

    def __init__(self, problems: Sequence[FieldProblem], rows: int | None) -> None:
        """rows is None when the file cannot be split into rows, so they cannot be counted."""
        self.problems = list(problems)
        self.rows = rows
        bad_lines = len({p.line for p in self.problems})
        if rows is None:
            summary = "the file cannot be split into rows"
        elif rows == 0:  # no row was read: the file itself (missing, empty, its header)
            summary = "the file cannot be imported"
        else:
            summary = f"{bad_lines} of {rows} rows are invalid"
        super().__init__(
            f"{summary}; nothing was written:\n" + "\n".join(f"  {p}" for p in self.problems)
        )


class InvalidOption(EdgeLedgerError):
    """A command option has an invalid value."""

    def __init__(self, option: str, reason: str) -> None:
        self.option = option
        self.reason = reason
        super().__init__(f"{option}: {reason}")


class SignalConflict(EdgeLedgerError):
    """A different signal is already logged under this trade_id or source key."""


class SignalNotFound(EdgeLedgerError):
    """No signal has that trade_id."""


class DatabaseUnavailable(EdgeLedgerError):
    """The database could not be reached."""

    def __init__(self, message: str | None = None) -> None:
        # psycopg's reasons run over several lines ("This probably means..."): one line.
        super().__init__(" ".join(message.split()) if message else None)


class MigrationError(EdgeLedgerError):
    """The database schema could not be brought up to date."""


class ConfigError(EdgeLedgerError):
    """A setting is missing or invalid."""


class ReportPostFailed(EdgeLedgerError):
    """The weekly report could not be posted to Discord; the next run tries again."""


class WebhookGone(ReportPostFailed):
    """Discord says the webhook of DISCORD_REPORT_WEBHOOK_URL does not exist (404): it was
    deleted, or the URL is wrong. Make a new webhook and update the setting."""


class ReportTooLarge(ReportPostFailed):
    """Discord refused the weekly report's message as too large, even without its files."""


class ReportPostBusy(ReportPostFailed):
    """Another run is posting this week's report right now; nothing was sent."""
