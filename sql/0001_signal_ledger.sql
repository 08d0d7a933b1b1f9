-- The signal ledger: every signal as published, its outcome, and an append-only history.

CREATE TABLE trade_signals (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trade_id            text        NOT NULL UNIQUE
                        CHECK (trade_id ~ '^\^?[A-Za-z0-9][A-Za-z0-9._^=:-]{0,63}$'),
    ticker              text        NOT NULL
                        CHECK (ticker ~ '^\^?[A-Z0-9]+([.-][A-Z0-9]+)*(=[A-Z]+)?$' AND length(ticker) <= 24),
    trade_type          text        NOT NULL CHECK (trade_type IN ('day', 'swing')),
    direction           text        NOT NULL CHECK (direction IN ('long', 'short')),
    entry               numeric(20, 8) NOT NULL CHECK (entry > 0),
    stop                numeric(20, 8) NOT NULL CHECK (stop > 0),
    target              numeric(20, 8) NOT NULL CHECK (target > 0),
    target2             numeric(20, 8) CHECK (target2 > 0),
    confidence          smallint    NOT NULL CHECK (confidence BETWEEN 0 AND 5),
    edges               jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(edges) = 'array'),
    rationale           text,
    strategy            text,
    source              text        NOT NULL
                        CHECK (source IN ('discord', 'channel', 'api', 'import', 'backtest')),
    source_key          text,
    atr_value           numeric(20, 8) CHECK (atr_value >= 0),
    market_volatility   text,
    spy_bias            text,
    context             jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(context) = 'object'),
    fingerprint         text        NOT NULL,
    created_at          timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    logged_at           timestamptz NOT NULL DEFAULT now(),
    -- outcome (see docs/outcome-rules.md)
    status              text        NOT NULL DEFAULT 'PENDING'
                        CHECK (status IN ('PENDING', 'OPEN', 'WIN', 'LOSS', 'EXPIRED', 'CANCELLED')),
    fill_price          numeric(20, 8) CHECK (fill_price > 0),
    triggered_at        timestamptz,
    exit_price          numeric(20, 8) CHECK (exit_price > 0),
    closed_at           timestamptz,
    exit_reason         text
                        CHECK (exit_reason IN ('target', 'stop', 'timeout', 'not_triggered', 'manual')),
    r_achieved          numeric(12, 4),
    ambiguous           boolean     NOT NULL DEFAULT false,
    mfe_r               numeric(12, 4),
    mae_r               numeric(12, 4),
    target2_hit         boolean,
    -- the trader's marks
    user_notes          text,
    flagged_for_review  boolean     NOT NULL DEFAULT false,
    updated_at          timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT levels_in_order CHECK (
        (direction = 'long'  AND stop < entry AND entry < target AND (target2 IS NULL OR target2 > target))
     OR (direction = 'short' AND target < entry AND entry < stop AND (target2 IS NULL OR target2 < target))
    ),
    CONSTRAINT expires_after_created CHECK (expires_at > created_at),
    CONSTRAINT filled_outcome_has_fill CHECK (
        status NOT IN ('OPEN', 'WIN', 'LOSS') OR (fill_price IS NOT NULL AND triggered_at IS NOT NULL)
    ),
    CONSTRAINT settled_outcome_has_reason CHECK (
        status NOT IN ('WIN', 'LOSS', 'EXPIRED') OR exit_reason IS NOT NULL
    ),
    CONSTRAINT exit_has_time_and_price CHECK (
        (status NOT IN ('WIN', 'LOSS') AND exit_reason IS DISTINCT FROM 'timeout')
        OR (closed_at IS NOT NULL AND exit_price IS NOT NULL)
    )
);

CREATE UNIQUE INDEX trade_signals_source_key ON trade_signals (source, source_key)
    WHERE source_key IS NOT NULL;
-- The same terms logged twice are the same signal: a repeat finds the first, never a copy.
CREATE UNIQUE INDEX trade_signals_fingerprint ON trade_signals (fingerprint);
CREATE INDEX trade_signals_unsettled ON trade_signals (ticker, created_at)
    WHERE status IN ('PENDING', 'OPEN');
CREATE INDEX trade_signals_created_at ON trade_signals (created_at);
CREATE INDEX trade_signals_closed_at ON trade_signals (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX trade_signals_edges ON trade_signals USING gin (edges jsonb_path_ops);

COMMENT ON TABLE trade_signals IS
    'One row per published signal. Published terms are immutable (see trigger); only outcome, notes and flag change.';
COMMENT ON COLUMN trade_signals.fingerprint IS
    'Hash of the published terms: the same signal logged twice has the same fingerprint.';


-- trade_id numbering: TICKER-YYYYMMDD-NNN by the US/Eastern date of creation. The row lock on
-- the counter serialises concurrent inserts for one ticker and day, so numbers never collide.
CREATE TABLE trade_id_counters (
    ticker      text    NOT NULL,
    trade_date  date    NOT NULL,
    last_number integer NOT NULL CHECK (last_number >= 0),
    PRIMARY KEY (ticker, trade_date)
);


-- Published terms never change; outcome, notes and flag fields do.
CREATE FUNCTION reject_published_signal_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'trade_signals is a ledger: signal % cannot be deleted (cancel it instead)',
            OLD.trade_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.trade_id, NEW.ticker, NEW.trade_type, NEW.direction, NEW.entry, NEW.stop, NEW.target,
        NEW.target2, NEW.confidence, NEW.edges, NEW.rationale, NEW.strategy, NEW.source,
        NEW.source_key, NEW.atr_value, NEW.market_volatility, NEW.spy_bias, NEW.context,
        NEW.fingerprint, NEW.created_at, NEW.expires_at, NEW.logged_at, NEW.id)
       IS DISTINCT FROM
       (OLD.trade_id, OLD.ticker, OLD.trade_type, OLD.direction, OLD.entry, OLD.stop, OLD.target,
        OLD.target2, OLD.confidence, OLD.edges, OLD.rationale, OLD.strategy, OLD.source,
        OLD.source_key, OLD.atr_value, OLD.market_volatility, OLD.spy_bias, OLD.context,
        OLD.fingerprint, OLD.created_at, OLD.expires_at, OLD.logged_at, OLD.id)
    THEN
        RAISE EXCEPTION 'signal % is published: its terms cannot be changed', OLD.trade_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER trade_signals_published_terms_immutable
    BEFORE UPDATE OR DELETE ON trade_signals
    FOR EACH ROW EXECUTE FUNCTION reject_published_signal_change();

CREATE FUNCTION reject_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: it cannot be truncated', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER trade_signals_no_truncate
    BEFORE TRUNCATE ON trade_signals
    FOR EACH STATEMENT EXECUTE FUNCTION reject_truncate();


-- The audit trail: every change to a signal, appended, never rewritten.
CREATE TABLE signal_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trade_id    text        NOT NULL REFERENCES trade_signals (trade_id),
    kind        text        NOT NULL
                CHECK (kind IN ('created', 'triggered', 'resolved', 'overridden', 'note', 'flag', 'cancelled')),
    actor       text        NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    payload     jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object')
);

CREATE INDEX signal_events_trade_id ON signal_events (trade_id, id);

CREATE FUNCTION reject_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'signal_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER signal_events_append_only
    BEFORE UPDATE OR DELETE ON signal_events
    FOR EACH ROW EXECUTE FUNCTION reject_event_change();

CREATE TRIGGER signal_events_no_truncate
    BEFORE TRUNCATE ON signal_events
    FOR EACH STATEMENT EXECUTE FUNCTION reject_truncate();
