"""The data access layer: every read and write of the database goes through here.

Statements live in sql/queries/*.sql; these modules bind parameters and turn rows into the
frozen dataclasses of edgeledger.model. Callers own the transaction. Split by what is
stored (signals, bars, outcomes and runs); callers use the names re-exported here.
"""

from edgeledger.storage.bars import (
    bar_coverage,
    bar_versions,
    bars_for_export,
    load_bar_arrays,
    store_bars,
)
from edgeledger.storage.outcomes import (
    claim_job_run,
    finish_job_run,
    holds_run_lock,
    open_signals_of,
    save_ticker_resolutions,
    settled_signals,
    ticker_resolutions,
    unresolved_books,
    write_outcomes,
)
from edgeledger.storage.rows import dumps, signal_from_row, signal_params
from edgeledger.storage.signals import (
    claim_trade_number,
    events_for_signal,
    export_rows,
    insert_events,
    insert_signal,
    insert_staged,
    next_trade_number,
    signal_by_trade_id,
    signals_matching,
    stage_import,
    staged_conflicts,
    unstage,
)

__all__ = [
    "bar_coverage",
    "bar_versions",
    "bars_for_export",
    "claim_job_run",
    "claim_trade_number",
    "dumps",
    "events_for_signal",
    "export_rows",
    "finish_job_run",
    "holds_run_lock",
    "insert_events",
    "insert_signal",
    "insert_staged",
    "load_bar_arrays",
    "next_trade_number",
    "open_signals_of",
    "save_ticker_resolutions",
    "settled_signals",
    "signal_by_trade_id",
    "signal_from_row",
    "signal_params",
    "signals_matching",
    "stage_import",
    "staged_conflicts",
    "store_bars",
    "ticker_resolutions",
    "unresolved_books",
    "unstage",
    "write_outcomes",
]
