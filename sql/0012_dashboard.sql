-- The dashboard's reads (edgeledger/web/dashboard.py), fast at a million signals.
--
-- The trade table pages by keyset, newest first: (created_at, id) below the last row shown.
-- These indexes let the first page and every next one read only the rows they show, with
-- or without the most common filters (a ticker, a status). The other filters (type,
-- confidence, strategy, market, edge) are checked while walking the newest-first index.
CREATE INDEX trade_signals_created_id ON trade_signals (created_at, id);
CREATE INDEX trade_signals_ticker_created_id ON trade_signals (ticker, created_at, id);
CREATE INDEX trade_signals_status_created_id ON trade_signals (status, created_at, id);

-- The overview's R distribution: the closed trades counted per New York day of closing,
-- population and R bin (floor(R / 0.5), core/dashboard_data.py). Counting a million rows
-- per page view takes seconds; a period's distribution is the sum of its days' bins. A
-- cache beside trade_day_summaries (sql/0008), kept by the same refresh in the same
-- transaction (storage/summaries.py): emptying it loses nothing but time.
CREATE TABLE trade_day_r_bins (
    day         date    NOT NULL,
    population  text    NOT NULL CHECK (population IN ('live', 'backtest')),
    bin         bigint  NOT NULL,
    n           integer NOT NULL CHECK (n > 0),
    PRIMARY KEY (population, day, bin)
);

-- Every day already summed up is summed up again by the next reader, bins included.
INSERT INTO trade_day_changes (day)
SELECT DISTINCT day FROM trade_day_summaries;
