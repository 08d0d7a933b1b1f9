-- Named queries for the resolve job: open signals, the bar store, and the bookkeeping that
-- makes runs incremental.

-- name: unresolved_books
-- One row per ticker with unresolved signals of these trade types (or a request to derive
-- its settled ones again): what a run's pass on one interval needs to plan without
-- loading them. next_expiry is the earliest
-- expiry after the ticker's last evaluation; named_market the market its latest signal
-- named, if any.
SELECT s.ticker,
       count(*) AS signals,
       min(s.created_at) AS first_created,
       max(s.expires_at) AS last_expiry,
       bool_or(s.resolved_as_of IS NULL) AS unevaluated,
       min(s.expires_at) FILTER (WHERE r.as_of IS NULL OR s.expires_at > r.as_of) AS next_expiry,
       (array_agg(s.market ORDER BY s.id DESC) FILTER (WHERE s.market IS NOT NULL))[1] AS named_market,
       bool_or(s.exit_reason = 'no_data') AS waiting_for_prices,
       bool_or(q.ticker IS NOT NULL) AS rederive
FROM trade_signals s
LEFT JOIN ticker_resolution r ON r.ticker = s.ticker AND r.interval = %(interval)s
LEFT JOIN rederive_requests q ON q.ticker = s.ticker
WHERE s.trade_type = ANY(%(trade_types)s)
  AND s.source <> 'backtest'  -- settled by the backtester, never by the rules
  AND s.exit_reason IS DISTINCT FROM 'manual'  -- set by a person, never by the rules
  AND (s.status IN ('PENDING', 'OPEN')
       OR (s.status = 'WIN' AND s.target2 IS NOT NULL AND s.target2_hit IS NULL)
       OR (s.status = 'EXPIRED' AND s.exit_reason = 'no_data')
       OR (q.ticker IS NOT NULL AND s.status <> 'CANCELLED'
           AND s.exit_reason IS DISTINCT FROM 'manual'))
GROUP BY s.ticker
ORDER BY s.ticker;

-- name: open_signals_of
-- What resolution needs of the unresolved signals of some tickers: terms (prices as the
-- floats the rules walk), the stored outcome, and the edge names a closed trade reports.
SELECT trade_id, ticker, strategy,
       ARRAY(SELECT CASE jsonb_typeof(e) WHEN 'string' THEN e #>> '{}' ELSE e ->> 'name' END
             FROM jsonb_array_elements(edges) AS e) AS edge_names,
       direction, entry::float8, stop::float8, target::float8, target2::float8,
       created_at, expires_at,
       status, fill_price, triggered_at, exit_price, closed_at, exit_reason, r_achieved,
       ambiguous, mfe_r, mae_r, target2_hit, resolved_as_of, market
FROM trade_signals s
WHERE ticker = ANY(%(tickers)s) AND trade_type = ANY(%(trade_types)s)
  AND source <> 'backtest'  -- settled by the backtester, never by the rules
  AND exit_reason IS DISTINCT FROM 'manual'  -- set by a person, never by the rules
  AND (status IN ('PENDING', 'OPEN')
       OR (status = 'WIN' AND target2 IS NOT NULL AND target2_hit IS NULL)
       OR (status = 'EXPIRED' AND exit_reason = 'no_data')
       OR (status <> 'CANCELLED' AND exit_reason IS DISTINCT FROM 'manual'
           AND EXISTS (SELECT 1 FROM rederive_requests q WHERE q.ticker = s.ticker)))
ORDER BY ticker, id;

-- name: settled_signals
SELECT * FROM trade_signals
WHERE resolved_as_of IS NOT NULL AND status <> 'CANCELLED'
  AND exit_reason IS DISTINCT FROM 'manual'
ORDER BY ticker, id;

-- name: bar_coverage_for
SELECT ticker, interval, covered_from, covered_to FROM bar_coverage
WHERE ticker = ANY(%(tickers)s)
ORDER BY ticker, interval, covered_from;

-- name: ticker_bar_versions
SELECT ticker, bars_version FROM ticker_bar_state WHERE ticker = ANY(%(tickers)s);

-- name: ticker_resolutions
SELECT ticker, bars_version, as_of, interval, market FROM ticker_resolution
WHERE ticker = ANY(%(tickers)s) AND interval = %(interval)s;

-- name: insert_bars
-- The bars of several fetches in one statement. Each column travels as one array literal
-- (numbers written as the shortest text that reads back as the same float, so numeric
-- keeps the provider's digits); bar.batch points into the (ticker, interval) arrays. The
-- first stored version of a bar is kept: outcomes already derived from it stay
-- re-derivable even if a provider later revises its history.
WITH fetched AS (
    SELECT f.ticker, f.interval, f.batch
    FROM unnest(%(tickers)s::text[], %(intervals)s::text[]) WITH ORDINALITY AS f(ticker, interval, batch)
), inserted AS (
    INSERT INTO price_bars AS p (ticker, interval, start, open, high, low, close, volume, provider, fetched_at)
    SELECT fetched.ticker, fetched.interval,
           timestamptz 'epoch' + bar.start_us * interval '1 microsecond',
           bar.open, bar.high, bar.low, bar.close, bar.volume, %(provider)s, %(fetched_at)s
    FROM unnest(%(batch)s::int8[], %(starts)s::int8[], %(opens)s::numeric[], %(highs)s::numeric[],
                %(lows)s::numeric[], %(closes)s::numeric[], %(volumes)s::numeric[])
         AS bar(batch, start_us, open, high, low, close, volume)
    JOIN fetched ON fetched.batch = bar.batch
    ORDER BY fetched.ticker, fetched.interval, bar.start_us
    ON CONFLICT (ticker, interval, start) DO NOTHING
    RETURNING p.ticker, p.interval
)
SELECT ticker, interval, count(*) AS added FROM inserted GROUP BY ticker, interval;

-- name: delete_coverage
DELETE FROM bar_coverage c
USING unnest(%(tickers)s::text[], %(intervals)s::text[]) AS k(ticker, interval)
WHERE c.ticker = k.ticker AND c.interval = k.interval;

-- name: insert_coverage
INSERT INTO bar_coverage (ticker, interval, covered_from, covered_to)
SELECT * FROM unnest(%(tickers)s::text[], %(intervals)s::text[], %(froms)s::timestamptz[], %(tos)s::timestamptz[]);

-- name: bump_bar_versions
INSERT INTO ticker_bar_state AS s (ticker, bars_version, last_bar_end)
SELECT b.ticker, nextval('bar_batch_numbers'), b.last_bar_end
FROM unnest(%(tickers)s::text[], %(ends)s::timestamptz[]) AS b(ticker, last_bar_end)
ON CONFLICT (ticker) DO UPDATE
SET bars_version = EXCLUDED.bars_version,
    last_bar_end = greatest(s.last_bar_end, EXCLUDED.last_bar_end)
RETURNING ticker, bars_version;

-- name: load_bars
-- Bars as the outcome rules walk them, one row per (ticker, interval): each column packed
-- into one bytea of big-endian int8 (epoch microseconds) or float8 values, which numpy
-- reads without a Python object per bar. The rows are sorted once, below, and every
-- aggregate reads that one sorted stream, so the columns line up bar for bar (the caller
-- also checks that the starts ascend).
SELECT ticker, interval,
       string_agg(int8send(start_us), '') AS starts,
       string_agg(float8send(open), '') AS open,
       string_agg(float8send(high), '') AS high,
       string_agg(float8send(low), '') AS low,
       string_agg(float8send(close), '') AS close
FROM (
    SELECT b.ticker, b.interval, (extract(epoch FROM b.start) * 1000000)::int8 AS start_us,
           b.open::float8 AS open, b.high::float8 AS high, b.low::float8 AS low,
           b.close::float8 AS close
    FROM price_bars b
    JOIN unnest(%(tickers)s::text[], %(froms)s::timestamptz[], %(tos)s::timestamptz[])
         AS w(ticker, lo, hi)
      ON b.ticker = w.ticker AND b.start >= w.lo AND b.start < w.hi
    WHERE b.interval = ANY(%(intervals)s)
    ORDER BY b.ticker, b.interval, b.start
) AS sorted
GROUP BY ticker, interval;

-- name: bars_for_export
SELECT start, open, high, low, close, volume, provider FROM price_bars
WHERE ticker = %(ticker)s AND interval = %(interval)s
  AND (%(start)s::timestamptz IS NULL OR start >= %(start)s)
  AND (%(end)s::timestamptz IS NULL OR start < %(end)s)
ORDER BY start;

-- name: write_outcomes
-- A ticker's new or newly stamped outcomes in one statement, as one JSON array of objects.
UPDATE trade_signals AS s
SET status = o.status, fill_price = o.fill_price, triggered_at = o.triggered_at,
    exit_price = o.exit_price, closed_at = o.closed_at, exit_reason = o.exit_reason,
    r_achieved = o.r_achieved, ambiguous = o.ambiguous, mfe_r = o.mfe_r, mae_r = o.mae_r,
    target2_hit = o.target2_hit,
    resolved_as_of = %(resolved_as_of)s, resolved_interval = %(resolved_interval)s,
    evidence_at = %(evidence_at)s,
    evidence_digest = bar_evidence_digest(
        s.ticker, %(evidence_intervals)s::text[], s.created_at - %(lookback)s::interval,
        LEAST(s.expires_at, %(resolved_as_of)s::timestamptz, %(evidence_at)s::timestamptz),
        %(evidence_at)s)
FROM json_to_recordset(%(outcomes)s::json)
     AS o(trade_id text, status text, fill_price numeric, triggered_at timestamptz,
          exit_price numeric, closed_at timestamptz, exit_reason text, r_achieved numeric,
          ambiguous boolean, mfe_r numeric, mae_r numeric, target2_hit boolean)
WHERE s.trade_id = o.trade_id AND s.status <> 'CANCELLED'
  -- a person's outcome set while the run was deriving this one stays
  AND s.exit_reason IS DISTINCT FROM 'manual'
RETURNING s.trade_id;

-- name: outcome_evidence
-- Per outcome with a digest: the digest of its evidence when it was derived and now (see
-- bar_evidence_digest in sql/0005). The window and intervals per resolved_interval come as
-- JSON objects keyed by interval.
SELECT trade_id, evidence_at, evidence_digest AS stored,
       bar_evidence_digest(
           ticker,
           ARRAY(SELECT jsonb_array_elements_text(%(intervals)s::jsonb -> resolved_interval)),
           created_at - (%(lookbacks)s::jsonb ->> resolved_interval)::interval,
           LEAST(expires_at, resolved_as_of, evidence_at), evidence_at) AS current
FROM trade_signals
WHERE evidence_digest IS NOT NULL AND resolved_as_of IS NOT NULL AND status <> 'CANCELLED'
  AND exit_reason IS DISTINCT FROM 'manual'
ORDER BY ticker, id;

-- name: save_ticker_resolutions
INSERT INTO ticker_resolution AS r (ticker, bars_version, as_of, interval, resolved_at, market)
SELECT t.ticker, t.bars_version, %(as_of)s, %(interval)s, %(resolved_at)s, t.market
FROM unnest(%(tickers)s::text[], %(versions)s::int8[], %(markets)s::text[])
     AS t(ticker, bars_version, market)
ON CONFLICT (ticker, interval) DO UPDATE
SET bars_version = EXCLUDED.bars_version, as_of = EXCLUDED.as_of,
    resolved_at = EXCLUDED.resolved_at, market = EXCLUDED.market;

-- name: request_rederive
-- Ask the next run to derive these tickers' settled outcomes again (all tickers with
-- settled outcomes when none are named).
INSERT INTO rederive_requests (ticker, requested_at, reason)
SELECT DISTINCT ticker, %(requested_at)s, %(reason)s FROM trade_signals
WHERE status IN ('WIN', 'LOSS', 'EXPIRED') AND exit_reason IS DISTINCT FROM 'manual'
  AND source <> 'backtest'
  AND (cardinality(%(tickers)s::text[]) = 0 OR ticker = ANY(%(tickers)s))
ON CONFLICT (ticker) DO UPDATE SET requested_at = EXCLUDED.requested_at, reason = EXCLUDED.reason
RETURNING ticker;

-- name: clear_rederive
-- Requests a run fulfilled: for these tickers, made before the run began.
DELETE FROM rederive_requests WHERE ticker = ANY(%(tickers)s) AND requested_at <= %(before)s;

-- name: holds_run_lock
-- Does this backend still hold the run's advisory lock? A bigint advisory key shows in
-- pg_locks as classid (high 32 bits) and objid (low 32 bits), with objsubid 1.
SELECT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND pid = %(pid)s
      AND classid = %(high)s::oid AND objid = %(low)s::oid AND objsubid = 1
) AS held;

-- name: abandon_dead_job_runs
-- Rows left 'running' whose holder no longer holds the job's advisory lock: the run was
-- killed or its database session ended, and it will never finish them. A row naming the
-- caller's own lock session is dead too (the backend pid was reused).
UPDATE job_runs AS j
SET status = 'abandoned', finished_at = %(at)s,
    error = 'abandoned: the run ended without finishing (killed, or its database session'
            || coalesce(' ' || j.holder_pid, '') || ' ended)'
WHERE j.job_name = %(job_name)s AND j.status = 'running'
  AND (j.holder_pid IS NULL OR j.holder_pid = %(own_pid)s OR NOT EXISTS (
      SELECT 1 FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND pid = j.holder_pid
        AND classid = %(high)s::oid AND objid = %(low)s::oid AND objsubid = 1))
RETURNING j.id, j.scheduled_for, j.started_at, j.holder_pid;

-- name: claim_job_run
-- One row per (job, scheduled slot). A row left 'running' by a crashed run is taken over;
-- the caller holds the job's advisory lock, so no live run owns it.
INSERT INTO job_runs AS j (job_name, scheduled_for, status, started_at, holder_pid)
VALUES (%(job_name)s, %(scheduled_for)s, 'running', %(started_at)s, %(holder_pid)s)
ON CONFLICT (job_name, scheduled_for) DO UPDATE
SET status = 'running', started_at = EXCLUDED.started_at, finished_at = NULL, error = NULL,
    holder_pid = EXCLUDED.holder_pid
WHERE j.status <> 'succeeded'
RETURNING id;

-- name: start_manual_job_run
INSERT INTO job_runs (job_name, scheduled_for, status, started_at, holder_pid)
VALUES (%(job_name)s, NULL, 'running', %(started_at)s, %(holder_pid)s)
RETURNING id;

-- name: finish_job_run
UPDATE job_runs SET status = %(status)s, finished_at = %(finished_at)s, counts = %(counts)s,
                    error = %(error)s
WHERE id = %(id)s;
