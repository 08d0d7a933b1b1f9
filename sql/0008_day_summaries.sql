-- Day summaries: the all-time answers without reading every trade.
--
-- `stats`, `edges` and the weekly report answer for all time; reading and grouping a million
-- trades for each takes seconds. So the closed trades are summed up per New York day of
-- closing, population (live, backtest), dimension (all, edge, edge_pair, confidence,
-- trade_type, direction, strategy) and key, in summaries that combine exactly across days
-- (edgeledger/core/summaries.py: drawdown and streaks included), and the signals are counted
-- per New York day of logging. Both are caches, kept like trade_frame_blocks: a statement
-- that inserts or updates signals lists the days it touched (the old and the new day of a
-- close) in trade_day_changes, without a lock; the next reader recomputes those days from
-- the signals (storage/summaries.py) and forgets the changes it saw. Emptying them loses
-- nothing but time. (Signals are never deleted: 0001 refuses it.)

CREATE TABLE trade_day_summaries (
    day             date        NOT NULL,
    population      text        NOT NULL CHECK (population IN ('live', 'backtest')),
    dimension       text        NOT NULL,
    key             text,                 -- NULL: trades without a value (no strategy)
    last_closed_at  timestamptz NOT NULL,
    n               integer NOT NULL,
    wins            integer NOT NULL,
    losses          integer NOT NULL,
    timeouts        integer NOT NULL,
    manual          integer NOT NULL,
    ambiguous       integer NOT NULL,
    sum_r           float8 NOT NULL,
    m2_r            float8 NOT NULL,
    gross_win       float8 NOT NULL,
    gross_loss      float8 NOT NULL,
    win_r           float8 NOT NULL,
    loss_r          float8 NOT NULL,
    mfe_sum         float8 NOT NULL,
    mfe_count       integer NOT NULL,
    mae_sum         float8 NOT NULL,
    mae_count       integer NOT NULL,
    capture_r       float8 NOT NULL,
    capture_mfe     float8 NOT NULL,
    peak            float8 NOT NULL,
    trough          float8 NOT NULL,
    drawdown        float8 NOT NULL,
    first_outcome   integer NOT NULL,
    first_run       integer NOT NULL,
    last_outcome    integer NOT NULL,
    last_run        integer NOT NULL,
    longest_win     integer NOT NULL,
    longest_loss    integer NOT NULL
);
-- One row per (population, dimension, key, day), a missing key counted as one key (an
-- expression rather than NULLS NOT DISTINCT, which PostgreSQL 14 does not have).
CREATE UNIQUE INDEX trade_day_summaries_key
    ON trade_day_summaries (population, dimension, coalesce(key, E'\x1e'), day);
CREATE INDEX trade_day_summaries_day ON trade_day_summaries (day);

CREATE TABLE signal_day_counts (
    day              date        NOT NULL,
    population       text        NOT NULL
                                 CHECK (population IN ('live', 'backtest', 'not_counted')),
    last_created_at  timestamptz NOT NULL,
    status           text        NOT NULL,
    exit_reason      text,
    filled           boolean     NOT NULL,
    n                integer     NOT NULL
);
CREATE UNIQUE INDEX signal_day_counts_key
    ON signal_day_counts (day, population, status, coalesce(exit_reason, ''), filled);

CREATE TABLE trade_day_changes (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day  date   NOT NULL
);

INSERT INTO trade_day_changes (day)
SELECT DISTINCT (created_at AT TIME ZONE 'America/New_York')::date FROM trade_signals
UNION
SELECT DISTINCT (closed_at AT TIME ZONE 'America/New_York')::date FROM trade_signals
WHERE closed_at IS NOT NULL;

-- The New York days a statement's rows were logged and closed on, before and after it.
CREATE FUNCTION record_trade_day_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO trade_day_changes (day)
    SELECT DISTINCT v.day FROM new_rows, LATERAL (VALUES
        ((new_rows.created_at AT TIME ZONE 'America/New_York')::date),
        ((new_rows.closed_at AT TIME ZONE 'America/New_York')::date)) AS v(day)
    WHERE v.day IS NOT NULL;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO trade_day_changes (day)
        SELECT DISTINCT (old_rows.closed_at AT TIME ZONE 'America/New_York')::date
        FROM old_rows JOIN new_rows USING (id)
        WHERE old_rows.closed_at IS DISTINCT FROM new_rows.closed_at
          AND old_rows.closed_at IS NOT NULL;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER trade_signals_inserted_day_changes
    AFTER INSERT ON trade_signals REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_trade_day_changes();

CREATE TRIGGER trade_signals_updated_day_changes
    AFTER UPDATE ON trade_signals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_trade_day_changes();
