-- Named queries for bulk import: rows are COPYed into a temporary staging table, numbered and
-- inserted together with their `created` events in one transaction.

-- name: create_import_staging
CREATE TEMPORARY TABLE import_staging (
    line              integer     NOT NULL,
    trade_id          text,
    id_number         integer,
    trade_date        date        NOT NULL,
    ticker            text        NOT NULL,
    trade_type        text        NOT NULL,
    direction         text        NOT NULL,
    entry             numeric     NOT NULL,
    stop              numeric     NOT NULL,
    target            numeric     NOT NULL,
    target2           numeric,
    confidence        smallint    NOT NULL,
    edges             jsonb       NOT NULL,
    rationale         text,
    strategy          text,
    source            text        NOT NULL,
    source_key        text,
    atr_value         numeric,
    market_volatility text,
    spy_bias          text,
    context           jsonb       NOT NULL,
    fingerprint       text        NOT NULL,
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    market            text,
    -- a backtest trade's outcome (NULL for live signals, which the rules settle)
    status            text,
    fill_price        numeric,
    triggered_at      timestamptz,
    exit_price        numeric,
    closed_at         timestamptz,
    exit_reason       text,
    r_achieved        numeric,
    ambiguous         boolean,
    mfe_r             numeric,
    mae_r             numeric,
    target2_hit       boolean
) ON COMMIT DROP;

-- name: copy_import_staging
COPY import_staging (
    line, trade_id, id_number, trade_date, ticker, trade_type, direction, entry, stop, target,
    target2, confidence, edges, rationale, strategy, source, source_key, atr_value,
    market_volatility, spy_bias, context, fingerprint, created_at, expires_at, market,
    status, fill_price, triggered_at, exit_price, closed_at, exit_reason, r_achieved, ambiguous,
    mfe_r, mae_r, target2_hit
) FROM STDIN;

-- name: staged_conflicts
-- Lines whose trade_id or source key is already held by a different signal.
SELECT s.line, 'trade_id' AS field, s.trade_id, s.source, s.source_key, t.trade_id AS held_by
FROM import_staging s
JOIN trade_signals t ON t.trade_id = s.trade_id
WHERE t.fingerprint <> s.fingerprint
UNION ALL
SELECT s.line, 'source_key', s.trade_id, s.source, s.source_key, t.trade_id
FROM import_staging s
JOIN trade_signals t ON t.source = s.source AND t.source_key = s.source_key
WHERE t.fingerprint <> s.fingerprint
ORDER BY line, field DESC;

-- name: unstage
DELETE FROM import_staging WHERE line = ANY(%(lines)s);

-- name: drop_already_logged
-- Re-importing adds nothing: rows whose terms are already in the ledger go. (A row whose
-- trade_id or source key the ledger holds for other terms was refused before this.)
DELETE FROM import_staging s
USING trade_signals t
WHERE t.fingerprint = s.fingerprint;

-- name: claim_staged_trade_numbers
INSERT INTO trade_id_counters AS c (ticker, trade_date, last_number)
SELECT ticker, trade_date, max(id_number) FROM import_staging
WHERE id_number IS NOT NULL
GROUP BY ticker, trade_date
ON CONFLICT (ticker, trade_date) DO UPDATE SET last_number = greatest(c.last_number, EXCLUDED.last_number);

-- name: count_staged
SELECT count(*) FROM import_staging;

-- name: count_unnumbered_staged
SELECT count(*) FROM import_staging WHERE trade_id IS NULL;

-- name: number_staged_signals
-- Reserve a block of numbers per (ticker, day) and hand them out in order of creation. An id
-- another signal holds (given explicitly, in the ledger or in this file, to a signal of another
-- ticker, so it moved no counter) is not handed out: its row stays unnumbered, and the next
-- round numbers it past the block.
WITH wanted AS (
    SELECT ticker, trade_date, count(*) AS n FROM import_staging
    WHERE trade_id IS NULL
    GROUP BY ticker, trade_date
), reserved AS (
    INSERT INTO trade_id_counters AS c (ticker, trade_date, last_number)
    SELECT ticker, trade_date, n FROM wanted
    ON CONFLICT (ticker, trade_date) DO UPDATE SET last_number = c.last_number + EXCLUDED.last_number
    RETURNING ticker, trade_date, last_number
), ordered AS (
    SELECT s.line, s.ticker, s.trade_date,
           row_number() OVER (PARTITION BY s.ticker, s.trade_date ORDER BY s.created_at, s.line) AS k
    FROM import_staging s WHERE s.trade_id IS NULL
), numbered AS (
    SELECT o.line,
           o.ticker || '-' || to_char(o.trade_date, 'YYYYMMDD') || '-'
           || lpad((r.last_number - w.n + o.k)::text,
                   greatest(3, length((r.last_number - w.n + o.k)::text)), '0') AS trade_id
    FROM ordered o
    JOIN reserved r USING (ticker, trade_date)
    JOIN wanted w USING (ticker, trade_date)
)
UPDATE import_staging s
SET trade_id = n.trade_id
FROM numbered n
WHERE s.line = n.line
  AND NOT EXISTS (SELECT 1 FROM trade_signals t WHERE t.trade_id = n.trade_id)
  AND NOT EXISTS (SELECT 1 FROM import_staging e WHERE e.trade_id = n.trade_id);

-- name: insert_staged_signals
WITH inserted AS (
    INSERT INTO trade_signals (
        trade_id, ticker, trade_type, direction, entry, stop, target, target2, confidence, edges,
        rationale, strategy, source, source_key, atr_value, market_volatility, spy_bias, context,
        fingerprint, created_at, expires_at, logged_at, updated_at, market,
        status, fill_price, triggered_at, exit_price, closed_at, exit_reason, r_achieved,
        ambiguous, mfe_r, mae_r, target2_hit
    )
    SELECT trade_id, ticker, trade_type, direction, entry, stop, target, target2, confidence,
           edges, rationale, strategy, source, source_key, atr_value, market_volatility,
           spy_bias, context, fingerprint, created_at, expires_at, %(logged_at)s, %(logged_at)s,
           market,
           coalesce(status, 'PENDING'), fill_price, triggered_at, exit_price, closed_at,
           exit_reason, r_achieved, coalesce(ambiguous, false), mfe_r, mae_r, target2_hit
    FROM import_staging
    ORDER BY line
    ON CONFLICT DO NOTHING
    RETURNING trade_id, source, source_key, strategy
)
INSERT INTO signal_events (trade_id, kind, actor, occurred_at, payload)
SELECT trade_id, 'created', %(actor)s, %(logged_at)s,
       jsonb_strip_nulls(jsonb_build_object('source', source, 'source_key', source_key,
                                            'strategy', strategy, 'via', 'import'))
FROM inserted;

-- name: staged_passed_over
-- Staged lines the insert passed over although the ledger does not hold their terms: another
-- writer took their trade_id or source key between the check and the insert.
SELECT s.line FROM import_staging s
WHERE NOT EXISTS (SELECT 1 FROM trade_signals t WHERE t.fingerprint = s.fingerprint)
ORDER BY s.line;
