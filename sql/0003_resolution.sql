-- What the resolve job needs to be incremental and crash-safe.

-- The spans of bars a provider has been asked for (and whose complete bars are stored), so a
-- run asks only for what is missing. Several disjoint spans per (ticker, interval) may exist.
CREATE TABLE bar_coverage (
    ticker       text        NOT NULL,
    interval     text        NOT NULL,
    covered_from timestamptz NOT NULL,
    covered_to   timestamptz NOT NULL,
    PRIMARY KEY (ticker, interval, covered_from),
    CHECK (covered_to > covered_from)
);

-- Every batch of stored bars takes a number from this sequence; a ticker's bar version is
-- the number of its latest batch, so "new bars since I last looked" is one comparison.
CREATE SEQUENCE bar_batch_numbers;

CREATE TABLE ticker_bar_state (
    ticker         text        PRIMARY KEY,
    bars_version   bigint      NOT NULL,
    last_bar_end   timestamptz
);

-- Where resolution of each ticker stands: the bar version and as-of time it last saw.
CREATE TABLE ticker_resolution (
    ticker        text        PRIMARY KEY,
    bars_version  bigint      NOT NULL,
    as_of         timestamptz NOT NULL,
    interval      text        NOT NULL,
    resolved_at   timestamptz NOT NULL
);

-- Per signal: the run time and interval its stored outcome was derived at (for `outcomes
-- verify`); NULL until first evaluated. Outcome bookkeeping, not published terms.
ALTER TABLE trade_signals
    ADD COLUMN resolved_as_of  timestamptz,
    ADD COLUMN resolved_interval text CHECK (resolved_interval IN ('1m', '5m', '15m', '30m', '1h', '1d'));

-- The signals a run must look at: unsettled, or a WIN still watching for target2.
CREATE INDEX trade_signals_unresolved ON trade_signals (ticker)
    WHERE status IN ('PENDING', 'OPEN') OR (status = 'WIN' AND target2 IS NOT NULL AND target2_hit IS NULL);

DROP INDEX trade_signals_unsettled;
