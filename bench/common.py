"""What the benchmarks share: a PostgreSQL server to make scratch databases on."""

from __future__ import annotations

import contextlib
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

from edgeledger.database import start_embedded_server


@contextlib.contextmanager
def server(database_url: str | None, data_dir: Path | None) -> Iterator[str]:
    """Conninfo of a server we may create databases on: the one given, or an embedded one."""
    if database_url:
        yield database_url
        return
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_pg_")))
        conninfo = start_embedded_server(data_dir)
        stack.callback(_stop_embedded, data_dir)
        yield conninfo


def _stop_embedded(data_dir: Path) -> None:
    """Stop the server before its temporary directory is removed from under it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    pgserver.get_server(data_dir / "pgdata").cleanup()
