-- Analytics (issue 10): rolling metrics, audited feedback decisions, and weekly reports that
-- keep their data and a revision.

-- Rolling 7- and 30-day figures per strategy or edge, recalculated after a resolve run that
-- closed new trades: one row per (scope, key, window), replaced in place, never duplicated.
CREATE TABLE rolling_metrics (
    scope        text        NOT NULL CHECK (scope <> ''),      -- 'strategy', 'edge', ...
    key          text        NOT NULL,                          -- the strategy or edge name
    window_days  integer     NOT NULL CHECK (window_days > 0),
    as_of        timestamptz NOT NULL,                          -- the window ends here
    figures      jsonb       NOT NULL CHECK (jsonb_typeof(figures) = 'object'),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key, window_days)
);

-- What the feedback rules of docs/metrics.md decided, with the figures that triggered it and
-- the rule version, so any recommendation in a report can be traced to its numbers.
-- Append-only, like signal_events: a decision is superseded by a later one, never rewritten.
CREATE TABLE feedback_decisions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope        text        NOT NULL CHECK (scope <> ''),
    key          text        NOT NULL,
    action       text        NOT NULL CHECK (action <> ''),     -- keep, monitor, disable, re-optimize
    findings     jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(findings) = 'array'),
    figures      jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(figures) = 'object'),
    rule_version text        NOT NULL CHECK (rule_version <> ''),
    decided_at   timestamptz NOT NULL
);

CREATE INDEX feedback_decisions_decided_at ON feedback_decisions (decided_at, id);

CREATE FUNCTION reject_decision_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'feedback_decisions is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER feedback_decisions_append_only
    BEFORE UPDATE OR DELETE ON feedback_decisions
    FOR EACH ROW EXECUTE FUNCTION reject_decision_change();

CREATE TRIGGER feedback_decisions_no_truncate
    BEFORE TRUNCATE ON feedback_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION reject_truncate();

-- A weekly report keeps the data it was drawn from, and a rebuild of a week replaces its row
-- with the next revision (the week is the primary key, so a week never has two rows).
ALTER TABLE weekly_reports
    ADD COLUMN data     jsonb   NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    ADD COLUMN revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1);


-- The trades frame, cached in blocks of 16384 signals (by id), each column packed as
-- load_trades reads it: reading a million trades is then reading 62 rows of packed columns,
-- not aggregating a million rows again (seconds). A statement that inserts or updates
-- signals appends their blocks to trade_frame_changes (no lock taken: writers never wait for
-- readers, nor for each other); the next reader rebuilds those blocks under their row locks
-- and removes the changes it saw, so a change it could not see stays listed for the next one
-- (see storage/analytics.py). A cache: emptying it loses nothing but time.
CREATE TABLE trade_frame_blocks (
    block         bigint      PRIMARY KEY,    -- trade_signals.id / 16384
    n             integer,                    -- NULL until built
    id            bytea,
    kinds         bytea,
    trade_id      text,
    ticker        text,
    named_market  text,
    strategy      text,
    edges         text,
    entry         bytea,
    stop          bytea,
    target        bytea,
    target2       bytea,
    fill_price    bytea,
    exit_price    bytea,
    r             bytea,
    mfe_r         bytea,
    mae_r         bytea,
    created_at    bytea,
    triggered_at  bytea,
    closed_at     bytea
);
-- Read whole and often: stored uncompressed, so reading is copying.
ALTER TABLE trade_frame_blocks
    ALTER COLUMN id SET STORAGE EXTERNAL, ALTER COLUMN kinds SET STORAGE EXTERNAL,
    ALTER COLUMN trade_id SET STORAGE EXTERNAL, ALTER COLUMN ticker SET STORAGE EXTERNAL,
    ALTER COLUMN named_market SET STORAGE EXTERNAL, ALTER COLUMN strategy SET STORAGE EXTERNAL,
    ALTER COLUMN edges SET STORAGE EXTERNAL, ALTER COLUMN entry SET STORAGE EXTERNAL,
    ALTER COLUMN stop SET STORAGE EXTERNAL, ALTER COLUMN target SET STORAGE EXTERNAL,
    ALTER COLUMN target2 SET STORAGE EXTERNAL, ALTER COLUMN fill_price SET STORAGE EXTERNAL,
    ALTER COLUMN exit_price SET STORAGE EXTERNAL, ALTER COLUMN r SET STORAGE EXTERNAL,
    ALTER COLUMN mfe_r SET STORAGE EXTERNAL, ALTER COLUMN mae_r SET STORAGE EXTERNAL,
    ALTER COLUMN created_at SET STORAGE EXTERNAL, ALTER COLUMN triggered_at SET STORAGE EXTERNAL,
    ALTER COLUMN closed_at SET STORAGE EXTERNAL;

CREATE TABLE trade_frame_changes (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    block  bigint NOT NULL
);

INSERT INTO trade_frame_changes (block) SELECT DISTINCT id / 16384 FROM trade_signals;

CREATE FUNCTION record_trade_frame_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO trade_frame_changes (block) SELECT DISTINCT id / 16384 FROM changed;
    RETURN NULL;
END;
$$;

CREATE TRIGGER trade_signals_inserted_frame_changes
    AFTER INSERT ON trade_signals REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION record_trade_frame_changes();

CREATE TRIGGER trade_signals_updated_frame_changes
    AFTER UPDATE ON trade_signals REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION record_trade_frame_changes();

-- The trades frame's columns for the signals with ids in [lo, hi) closed in
-- [closed_from, closed_to) and created in [created_from, created_to) (NULL: unbounded), each
-- column aggregated into one value: numbers as float8 (NULL as NaN) and times as timestamptz
-- (NULL as -infinity), each column one binary array (array_send: a 20-byte header, then a
-- length and a value per element); the choices of fixed vocabulary (type, direction, source,
-- status, exit reason) as their positions in the lists below, packed with confidence,
-- ambiguous and target2_hit into one int4 a signal; free text joined by U+001F, NULL as U+001E
-- (the ledger's validation stores neither). Edges come as the JSON list of their names (or,
-- when a list holds bare strings, the list as stored). Only the market a signal named: the
-- reader adds the instruments'. The rows may be read in parallel, so they come in no
-- particular order, but every column in the same one, with their ids.
CREATE FUNCTION trade_frame_packed(
    lo bigint, hi bigint, closed_from timestamptz, closed_to timestamptz,
    created_from timestamptz, created_to timestamptz
) RETURNS TABLE (
    n integer, id bytea, kinds bytea, trade_id text, ticker text, named_market text,
    strategy text, edges text, entry bytea, stop bytea, target bytea, target2 bytea,
    fill_price bytea, exit_price bytea, r bytea, mfe_r bytea, mae_r bytea, created_at bytea,
    triggered_at bytea, closed_at bytea
)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT count(*)::integer,
           array_send(array_agg(t.id)),
           array_send(array_agg(
               array_position('{day,swing}'::text[], t.trade_type) - 1
               + (array_position('{long,short}'::text[], t.direction) - 1) * 2
               + (array_position('{discord,channel,api,import,backtest}'::text[], t.source) - 1) * 4
               + (array_position('{PENDING,OPEN,WIN,LOSS,EXPIRED,CANCELLED}'::text[], t.status) - 1) * 32
               + coalesce(array_position('{target,stop,timeout,not_triggered,no_data,manual}'::text[],
                                         t.exit_reason), 0) * 256
               + t.confidence * 4096 + t.ambiguous::int * 32768
               + coalesce(t.target2_hit::int, 2) * 65536)),
           string_agg(t.trade_id, E'\x1f'),
           string_agg(t.ticker, E'\x1f'),
           string_agg(coalesce(t.market, E'\x1e'), E'\x1f'),
           string_agg(coalesce(t.strategy, E'\x1e'), E'\x1f'),
           string_agg(CASE WHEN t.edges @? '$[*] ? (@.type() == "string")' THEN t.edges
                           ELSE jsonb_path_query_array(t.edges, '$[*].name') END::text, E'\x1f'),
           array_send(array_agg(t.entry::float8)),
           array_send(array_agg(t.stop::float8)),
           array_send(array_agg(t.target::float8)),
           array_send(array_agg(coalesce(t.target2::float8, 'NaN'))),
           array_send(array_agg(coalesce(t.fill_price::float8, 'NaN'))),
           array_send(array_agg(coalesce(t.exit_price::float8, 'NaN'))),
           array_send(array_agg(coalesce(t.r_achieved::float8, 'NaN'))),
           array_send(array_agg(coalesce(t.mfe_r::float8, 'NaN'))),
           array_send(array_agg(coalesce(t.mae_r::float8, 'NaN'))),
           array_send(array_agg(t.created_at)),
           array_send(array_agg(coalesce(t.triggered_at, '-infinity'))),
           array_send(array_agg(coalesce(t.closed_at, '-infinity')))
    FROM trade_signals t
    WHERE (lo IS NULL OR t.id >= lo) AND (hi IS NULL OR t.id < hi)
      AND (closed_from IS NULL OR t.closed_at >= closed_from)
      AND (closed_to IS NULL OR t.closed_at < closed_to)
      AND (created_from IS NULL OR t.created_at >= created_from)
      AND (created_to IS NULL OR t.created_at < created_to)
$$;
