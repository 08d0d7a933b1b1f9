-- Markets (docs/outcome-rules.md, "Markets"): every instrument trades on a calendar, decided
-- once and kept here; signals may name one explicitly; `no_data` expiries; daily bars
-- stored as the date they name.

-- An instrument's market and where it came from (strongest first: a person's setting, an
-- explicit market on a signal, the price provider, the ticker's form, the default).
CREATE TABLE instruments (
    ticker        text        PRIMARY KEY,
    market        text        NOT NULL CHECK (market <> ''),
    market_source text        NOT NULL
                  CHECK (market_source IN ('setting', 'signal', 'provider', 'ticker', 'default')),
    decided_at    timestamptz NOT NULL DEFAULT now()
);

-- The market a signal named explicitly (NULL: its instrument's). Published terms.
ALTER TABLE trade_signals ADD COLUMN market text CHECK (market <> '');

CREATE OR REPLACE FUNCTION reject_published_signal_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'trade_signals is a ledger: signal % cannot be deleted (cancel it instead)',
            OLD.trade_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.trade_id, NEW.ticker, NEW.trade_type, NEW.direction, NEW.entry, NEW.stop, NEW.target,
        NEW.target2, NEW.confidence, NEW.edges, NEW.rationale, NEW.strategy, NEW.source,
        NEW.source_key, NEW.atr_value, NEW.market_volatility, NEW.spy_bias, NEW.context,
        NEW.fingerprint, NEW.created_at, NEW.expires_at, NEW.logged_at, NEW.id, NEW.market)
       IS DISTINCT FROM
       (OLD.trade_id, OLD.ticker, OLD.trade_type, OLD.direction, OLD.entry, OLD.stop, OLD.target,
        OLD.target2, OLD.confidence, OLD.edges, OLD.rationale, OLD.strategy, OLD.source,
        OLD.source_key, OLD.atr_value, OLD.market_volatility, OLD.spy_bias, OLD.context,
        OLD.fingerprint, OLD.created_at, OLD.expires_at, OLD.logged_at, OLD.id, OLD.market)
    THEN
        RAISE EXCEPTION 'signal % is published: its terms cannot be changed', OLD.trade_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- Trade ids are looked up ignoring case too (`signals show nvda-20261120-001`).
CREATE INDEX trade_signals_trade_id_upper ON trade_signals (upper(trade_id));

-- `no_data`: expired while prices for part of its window never came. Settled again by the
-- rules once they do, so such signals stay among those a run looks at.
ALTER TABLE trade_signals DROP CONSTRAINT trade_signals_exit_reason_check;
ALTER TABLE trade_signals ADD CONSTRAINT trade_signals_exit_reason_check
    CHECK (exit_reason IN ('target', 'stop', 'timeout', 'not_triggered', 'no_data', 'manual'));

DROP INDEX trade_signals_unresolved;
CREATE INDEX trade_signals_unresolved ON trade_signals (ticker)
    WHERE status IN ('PENDING', 'OPEN')
       OR (status = 'WIN' AND target2 IS NOT NULL AND target2_hit IS NULL)
       OR (status = 'EXPIRED' AND exit_reason = 'no_data');

-- A settled outcome that the rules, run again, leave unsettled.
ALTER TABLE signal_events DROP CONSTRAINT signal_events_kind_check;
ALTER TABLE signal_events ADD CONSTRAINT signal_events_kind_check
    CHECK (kind IN ('created', 'triggered', 'resolved', 'reopened', 'overridden', 'note', 'flag',
                    'cancelled'));

-- What a ticker was last evaluated with includes its market: a new market means a new look.
ALTER TABLE ticker_resolution ADD COLUMN market text;

-- Tickers whose settled outcomes the next run derives again from the stored bars (after
-- `resolve --rederive`, or after this migration changed how bars are read).
CREATE TABLE rederive_requests (
    ticker       text        PRIMARY KEY,
    requested_at timestamptz NOT NULL DEFAULT now(),
    reason       text        NOT NULL
);

-- Daily bars were stored at 09:30 America/New_York of their date; they are now stored at
-- midnight UTC of the date they name, and read as that date's session of their market.
UPDATE price_bars
SET start = (start AT TIME ZONE 'America/New_York')::date::timestamp AT TIME ZONE 'UTC'
WHERE interval = '1d' AND (start AT TIME ZONE 'America/New_York')::time = time '09:30';

INSERT INTO rederive_requests (ticker, reason)
SELECT DISTINCT ticker, 'bars are now read by their market (migration 0004)'
FROM trade_signals
WHERE resolved_as_of IS NOT NULL AND status IN ('WIN', 'LOSS', 'EXPIRED');
