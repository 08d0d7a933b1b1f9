-- Named queries for the analytics: the trades frame, rolling metrics, feedback decisions and
-- weekly reports.

-- name: trades_packed
-- A slice of the trades frame, aggregated now (see trade_frame_packed in sql/0007).
-- Only the packed fields a caller needs ({fields}); the planner inlines the function and
-- skips the aggregates of the others.
SELECT n, {fields}
FROM trade_frame_packed(NULL, NULL, %(closed_from)s, %(closed_to)s, %(created_from)s,
                        %(created_to)s);

-- name: count_trades
-- How many signals a slice holds: a few thousand are aggregated directly, more are read
-- from the cached blocks.
SELECT count(*) FROM trade_signals t
WHERE (%(closed_from)s::timestamptz IS NULL OR t.closed_at >= %(closed_from)s)
  AND (%(closed_to)s::timestamptz IS NULL OR t.closed_at < %(closed_to)s)
  AND (%(created_from)s::timestamptz IS NULL OR t.created_at >= %(created_from)s)
  AND (%(created_to)s::timestamptz IS NULL OR t.created_at < %(created_to)s);

-- name: trade_frame_changes
-- Blocks changed since they were built (as far as this snapshot sees).
SELECT id, block FROM trade_frame_changes;

-- name: add_trade_blocks
INSERT INTO trade_frame_blocks (block) SELECT unnest(%(blocks)s::int8[])
ON CONFLICT (block) DO NOTHING;

-- name: lock_trade_blocks
-- The blocks to rebuild, locked in order, so two readers rebuild one block in turn: the
-- second aggregates after the first committed, never older content than it stored.
SELECT block FROM trade_frame_blocks WHERE block = ANY(%(blocks)s) ORDER BY block FOR UPDATE;

-- name: forget_trade_frame_changes
DELETE FROM trade_frame_changes WHERE id = ANY(%(ids)s);

-- name: rebuild_trade_blocks
-- Each block aggregated afresh (a statement after the lock: it sees every committed change).
UPDATE trade_frame_blocks AS b
SET n = p.n, id = p.id, kinds = p.kinds, trade_id = p.trade_id,
    ticker = p.ticker, named_market = p.named_market, strategy = p.strategy, edges = p.edges,
    entry = p.entry, stop = p.stop, target = p.target, target2 = p.target2,
    fill_price = p.fill_price, exit_price = p.exit_price, r = p.r, mfe_r = p.mfe_r,
    mae_r = p.mae_r, created_at = p.created_at, triggered_at = p.triggered_at,
    closed_at = p.closed_at
FROM unnest(%(blocks)s::int8[]) AS k(block)
CROSS JOIN LATERAL trade_frame_packed(k.block * 16384, (k.block + 1) * 16384,
                                      NULL, NULL, NULL, NULL) AS p
WHERE b.block = k.block;

-- name: trade_blocks
-- The cached blocks, only the packed fields a caller needs ({fields}: names of columns).
SELECT n, {fields}
FROM trade_frame_blocks
WHERE n > 0
ORDER BY block;

-- name: instrument_markets
SELECT ticker, market FROM instruments;

-- name: upsert_rolling_metrics
-- One row per (scope, key, window): a recalculation replaces it.
INSERT INTO rolling_metrics AS m (scope, key, window_days, as_of, figures, updated_at)
SELECT r.scope, r.key, r.window_days, r.as_of, r.figures, coalesce(%(at)s, now())
FROM jsonb_to_recordset(%(rows)s::jsonb)
     AS r(scope text, key text, window_days integer, as_of timestamptz, figures jsonb)
ON CONFLICT (scope, key, window_days) DO UPDATE
SET as_of = EXCLUDED.as_of, figures = EXCLUDED.figures, updated_at = EXCLUDED.updated_at;

-- name: rolling_metrics
SELECT scope, key, window_days, as_of, figures, updated_at FROM rolling_metrics
WHERE %(scope)s::text IS NULL OR scope = %(scope)s
ORDER BY scope, key, window_days;

-- name: insert_feedback_decisions
-- Appended in the order given; their ids come back in that order.
INSERT INTO feedback_decisions (scope, key, action, findings, figures, rule_version, decided_at)
SELECT d ->> 'scope', d ->> 'key', d ->> 'action', d -> 'findings', d -> 'figures',
       d ->> 'rule_version', (d ->> 'decided_at')::timestamptz
FROM jsonb_array_elements(%(decisions)s::jsonb) WITH ORDINALITY AS x(d, k)
ORDER BY x.k
RETURNING id;

-- name: feedback_decisions
SELECT id, scope, key, action, findings, figures, rule_version, decided_at
FROM feedback_decisions
WHERE %(since)s::timestamptz IS NULL OR decided_at >= %(since)s
ORDER BY decided_at, id;

-- name: save_weekly_report
-- A rebuild of a week replaces its row and takes the next revision; posted_at is kept (the
-- week was posted; whether to post a revision again is the poster's call).
INSERT INTO weekly_reports AS w (week_start, generated_at, summary, data, html, revision)
VALUES (%(week_start)s, %(generated_at)s, %(summary)s, %(data)s, %(html)s, 1)
ON CONFLICT (week_start) DO UPDATE
SET generated_at = EXCLUDED.generated_at, summary = EXCLUDED.summary, data = EXCLUDED.data,
    html = EXCLUDED.html, revision = w.revision + 1
RETURNING revision;

-- name: weekly_report
SELECT week_start, generated_at, summary, data, html, revision, posted_at
FROM weekly_reports WHERE week_start = %(week_start)s;

-- name: weekly_reports
SELECT week_start, generated_at, summary, revision, posted_at
FROM weekly_reports ORDER BY week_start DESC;

-- name: rationales_closed_between
-- The rationale of each signal closed in [start, end): text the trades frame leaves out.
SELECT trade_id, rationale FROM trade_signals
WHERE closed_at >= %(start)s AND closed_at < %(end)s AND rationale IS NOT NULL;

-- name: job_run_counts
-- What each run of a job that finished in [start, end) reported.
SELECT counts FROM job_runs
WHERE job_name = %(job_name)s AND finished_at >= %(start)s AND finished_at < %(end)s
ORDER BY finished_at;
