"""The data access layer: every read and write of the database goes through here.

Statements live in sql/queries/*.sql; these modules bind parameters and turn rows into the
frozen dataclasses of edgeledger.core.model. Callers own the transaction. Split by what is
stored (signals, bars, outcomes and runs); callers use the names re-exported here.
"""

from edgeledger.storage.bars import (
    bar_coverage,
    bar_versions,
    bars_for_export,
    load_bar_arrays,
    store_bars,
)
from edgeledger.storage.instruments import (
    all_instruments,
    clear_instrument_setting,
    market_book,
    record_markets,
    set_instrument_market,
)
from edgeledger.storage.outcomes import (
    abandon_dead_job_runs,
    claim_job_run,
    clear_rederive,
    finish_job_run,
    holds_run_lock,
    open_signals_of,
    outcome_evidence,
    request_rederive,
    save_ticker_resolutions,
    settled_signals,
    ticker_resolutions,
    unresolved_books,
    write_outcomes,
)
from edgeledger.storage.rows import dumps, signal_from_row, signal_params
from edgeledger.storage.signals import (
    cancel_signal,
    claim_trade_number,
    events_for_signal,
    export_rows,
    insert_events,
    insert_signal,
    insert_staged,
    instrument_of,
    list_signals,
    next_trade_number,
    signal_by_trade_id,
    signals_matching,
    stage_import,
    staged_conflicts,
    unstage,
)

__all__ = [
    "abandon_dead_job_runs",
    "all_instruments",
    "bar_coverage",
    "bar_versions",
    "bars_for_export",
    "cancel_signal",
    "claim_job_run",
    "claim_trade_number",
    "clear_instrument_setting",
    "clear_rederive",
    "dumps",
    "events_for_signal",
    "export_rows",
    "finish_job_run",
    "holds_run_lock",
    "insert_events",
    "insert_signal",
    "insert_staged",
    "instrument_of",
    "list_signals",
    "load_bar_arrays",
    "market_book",
    "next_trade_number",
    "open_signals_of",
    "outcome_evidence",
    "record_markets",
    "request_rederive",
    "save_ticker_resolutions",
    "set_instrument_market",
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
