-- The dashboard's reads (edgeledger/web/dashboard.py), fast at a million signals.
--
-- The trade table pages by keyset, newest first: (created_at, id) below the last row shown.
-- These indexes let the first page and every next one read only the rows they show, with
-- or without the most common filters (a ticker, a status). The other filters (type,
-- confidence, strategy, market, edge) are checked while walking the newest-first index.
CREATE INDEX trade_signals_created_id ON trade_signals (created_at, id);
CREATE INDEX trade_signals_ticker_created_id ON trade_signals (ticker, created_at, id);
CREATE INDEX trade_signals_status_created_id ON trade_signals (status, created_at, id);

-- The overview's R distribution counts the counted closed trades of a period by R bin: an
-- index-only scan of this partial index instead of a read of every signal. Its predicate is
-- the population of core/trades.py (counted, then closed), as the query spells it.
CREATE INDEX trade_signals_counted_closed_r ON trade_signals (closed_at, r_achieved)
    WHERE source <> 'backtest' AND status IN ('WIN', 'LOSS', 'EXPIRED')
      AND fill_price IS NOT NULL AND r_achieved IS NOT NULL
      AND exit_reason IS DISTINCT FROM 'no_data';
