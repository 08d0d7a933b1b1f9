-- Named queries for the signal ledger. Loaded once by edgeledger.database.queries().

-- name: signal_by_trade_id
-- Exact first; otherwise the one signal whose id matches ignoring case (nvda-20261120-001).
(SELECT * FROM trade_signals WHERE trade_id = %(trade_id)s)
UNION ALL
(SELECT * FROM trade_signals WHERE upper(trade_id) = upper(%(trade_id)s)
   AND NOT EXISTS (SELECT 1 FROM trade_signals WHERE trade_id = %(trade_id)s)
 LIMIT 2);

-- name: instrument_of
SELECT market, market_source FROM instruments WHERE ticker = %(ticker)s;

-- name: list_signals
-- Signals to find without their exact id, newest first, with their outcome and market.
SELECT s.trade_id, s.ticker, s.trade_type, s.direction, s.entry, s.stop, s.target,
       s.confidence, s.created_at, s.status, s.exit_reason, s.r_achieved,
       COALESCE(s.market, i.market) AS market
FROM trade_signals s
LEFT JOIN instruments i ON i.ticker = s.ticker
WHERE (%(status)s::text IS NULL OR s.status = %(status)s)
  AND (%(ticker)s::text IS NULL OR s.ticker = %(ticker)s)
  AND (%(since)s::timestamptz IS NULL OR s.created_at >= %(since)s)
ORDER BY s.created_at DESC, s.id DESC
LIMIT %(limit)s;

-- name: cancel_signal
-- A person's decision: only a signal the rules have not settled (or that waits for prices).
UPDATE trade_signals SET status = 'CANCELLED'
WHERE trade_id = %(trade_id)s
  AND (status IN ('PENDING', 'OPEN') OR (status = 'EXPIRED' AND exit_reason = 'no_data'))
RETURNING trade_id;

-- name: signals_matching
-- The signals a new one could be a repeat of: same trade_id, same source key, or same terms.
SELECT * FROM trade_signals
WHERE trade_id = %(trade_id)s
   OR (source = %(source)s AND source_key = %(source_key)s)
   OR fingerprint = %(fingerprint)s
ORDER BY id;

-- name: next_trade_number
-- The counter's next number, and whether another signal already holds its id (one given
-- explicitly to a signal of another ticker moves no counter).
WITH counter AS (
    INSERT INTO trade_id_counters AS c (ticker, trade_date, last_number)
    VALUES (%(ticker)s, %(trade_date)s, 1)
    ON CONFLICT (ticker, trade_date) DO UPDATE SET last_number = c.last_number + 1
    RETURNING last_number
)
SELECT last_number,
       EXISTS (SELECT 1 FROM trade_signals t
               WHERE t.trade_id = %(ticker)s || '-' || to_char(%(trade_date)s::date, 'YYYYMMDD')
                                  || '-' || lpad(last_number::text,
                                                 greatest(3, length(last_number::text)), '0'))
       AS taken
FROM counter;

-- name: claim_trade_number
-- An explicit trade_id in the standard form moves the counter past its number.
INSERT INTO trade_id_counters AS c (ticker, trade_date, last_number)
VALUES (%(ticker)s, %(trade_date)s, %(number)s)
ON CONFLICT (ticker, trade_date) DO UPDATE SET last_number = greatest(c.last_number, EXCLUDED.last_number);

-- name: insert_signal
INSERT INTO trade_signals (
    trade_id, ticker, trade_type, direction, entry, stop, target, target2, confidence, edges,
    rationale, strategy, source, source_key, atr_value, market_volatility, spy_bias, context,
    fingerprint, created_at, expires_at, logged_at, updated_at, market
) VALUES (
    %(trade_id)s, %(ticker)s, %(trade_type)s, %(direction)s, %(entry)s, %(stop)s, %(target)s,
    %(target2)s, %(confidence)s, %(edges)s, %(rationale)s, %(strategy)s, %(source)s,
    %(source_key)s, %(atr_value)s, %(market_volatility)s, %(spy_bias)s, %(context)s,
    %(fingerprint)s, %(created_at)s, %(expires_at)s, %(logged_at)s, %(logged_at)s, %(market)s
)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: insert_events
-- A ticker's events in one statement, as one JSON array; ids are taken in the order given.
INSERT INTO signal_events (trade_id, kind, actor, occurred_at, payload)
SELECT e.trade_id, e.kind, %(actor)s, %(occurred_at)s, e.payload
FROM ROWS FROM (json_to_recordset(%(events)s::json) AS (trade_id text, kind text, payload jsonb))
     WITH ORDINALITY AS e(trade_id, kind, payload, n)
ORDER BY e.n;

-- name: events_for_signal
SELECT id, trade_id, kind, actor, occurred_at, payload
FROM signal_events WHERE trade_id = %(trade_id)s ORDER BY id;

-- name: export_signals
-- market_used: the market its outcome was read by (the one it named, else its instrument's).
SELECT s.*, COALESCE(s.market, i.market) AS market_used
FROM trade_signals s LEFT JOIN instruments i ON i.ticker = s.ticker
ORDER BY s.created_at, s.id;
