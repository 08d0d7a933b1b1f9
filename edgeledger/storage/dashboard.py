"""The dashboard's own reads: a page of the trade table (keyset, newest first) and the R
bin counts of the overview. Everything else the dashboard shows is read by the reporting
use cases, as the CLI reads it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import psycopg
import psycopg.rows
from psycopg import sql
from psycopg.types.json import Jsonb

from edgeledger.storage.rows import named_query

# Each filter of the trade table: its clause, with a parameter of the filter's name.
TRADE_FILTERS: Mapping[str, str] = {
    "created_from": "s.created_at >= %(created_from)s",
    "created_to": "s.created_at < %(created_to)s",
    "ticker": "s.ticker = %(ticker)s",
    "trade_type": "s.trade_type = %(trade_type)s",
    "status": "s.status = %(status)s",
    "confidence": "s.confidence = %(confidence)s",
    "edge": "s.edges @> %(edge)s",
    "strategy": "s.strategy = %(strategy)s",
    "market": "COALESCE(s.market, i.market) = %(market)s",
}
_BELOW = "(s.created_at, s.id) < (%(before_at)s, %(before_id)s)"


def trade_page(
    conn: psycopg.Connection,
    filters: Mapping[str, Any],
    *,
    before: tuple[datetime, int] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to `limit` signals matching `filters` (names of TRADE_FILTERS; None or absent:
    not filtered), newest first, below the keyset `before` (created_at, id) when given."""
    clauses = [TRADE_FILTERS[name] for name, value in filters.items() if value is not None]
    params: dict[str, Any] = {k: v for k, v in filters.items() if v is not None}
    if "edge" in params:
        params["edge"] = Jsonb([{"name": params["edge"]}])
    if before is not None:
        clauses.append(_BELOW)
        params["before_at"], params["before_id"] = before
    params["limit"] = limit
    where = sql.SQL(" AND ").join(sql.SQL(c) for c in clauses) if clauses else sql.SQL("true")
    query = sql.SQL(named_query("trade_page")).format(where=where)
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cursor:
        return cursor.execute(query, params).fetchall()


def r_bin_counts(
    conn: psycopg.Connection, width: float, closed_from: datetime | None, closed_to: datetime
) -> dict[int, int]:
    """How many counted closed trades closed in [closed_from, closed_to) have
    floor(R / width) == bin, for each bin with any."""
    params = {"width": width, "closed_from": closed_from, "closed_to": closed_to}
    with conn.cursor(row_factory=psycopg.rows.tuple_row) as cursor:
        rows = cursor.execute(named_query("r_bin_counts"), params).fetchall()
    return {int(b): int(n) for b, n in rows}
