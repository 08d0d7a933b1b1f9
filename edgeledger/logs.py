"""The one logging setup of the CLI and the jobs: how every log line is formatted.

Every line passes the Redactor (no secret in any log or traceback). Without debug, a line
stays one line: an exception logged with it shows as its type and first line, not a
traceback, and the connection pool, which warns at every failed reconnect with the
server's multi-line message, says so once (a minute).
"""

from __future__ import annotations

import logging
import time
from typing import TextIO

from edgeledger.redaction import Redactor

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
POOL_LOGGER = "psycopg.pool"  # psycopg_pool logs under this name


def flat(text: str) -> str:
    """A multi-line message (psycopg's DETAIL and HINT lines) as one line, nothing lost."""
    return " ".join(text.split())


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then redacts; without `debug`, exceptions take one line."""

    def __init__(self, redactor: Redactor, *, debug: bool, fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        self.redactor, self.debug = redactor, debug

    def format(self, record: logging.LogRecord) -> str:
        if not self.debug and (record.exc_info or record.stack_info):
            exc = record.exc_info[1] if record.exc_info else None
            record = logging.makeLogRecord(record.__dict__)
            if exc is not None:
                record.msg, record.args = f"{record.getMessage()}: {one_line(exc)}", None
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return self.redactor(super().format(record))


class OnceFilter(logging.Filter):
    """Lets one record a minute through, as one line, and drops the rest: a run that lost
    its database says so once; a long-running scheduler still says it again next hour."""

    def __init__(self, note: str, *, every: float = 60.0) -> None:
        super().__init__()
        self.note, self.every = note, every
        self.last: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if self.last is not None and now - self.last < self.every:
            return False
        self.last = now
        lines = record.getMessage().strip().splitlines() or [""]
        record.msg, record.args, record.exc_info = f"{lines[0]} ({self.note})", None, None
        return True


def configure_logging(
    *, level: str | int, stream: TextIO, redactor: Redactor, debug: bool = False
) -> None:
    """Route every log record through one redacting handler on `stream`."""
    handler = _RedactingHandler(stream)
    handler.setFormatter(RedactingFormatter(redactor, debug=debug))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _RedactingHandler)]:
        root.removeHandler(old)  # configured again (tests, a scheduler's reload): replace
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else level)
    pool = logging.getLogger(POOL_LOGGER)
    for old_filter in [f for f in pool.filters if isinstance(f, OnceFilter)]:
        pool.removeFilter(old_filter)
    quiet = {POOL_LOGGER: logging.WARNING, "pgserver": logging.WARNING}  # play-by-play INFO
    for name, quiet_level in quiet.items():
        logging.getLogger(name).setLevel(logging.NOTSET if debug else quiet_level)
    if not debug:
        pool.addFilter(OnceFilter("further connection pool warnings hidden; --debug shows them"))


class _RedactingHandler(logging.StreamHandler):
    """The handler configure_logging installs (so a second call replaces it)."""
