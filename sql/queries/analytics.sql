-- Named queries for the analytics: the trades frame, rolling metrics, feedback decisions and
-- weekly reports.

-- name: load_trades
-- The trades frame (edgeledger.core.trades) in one row: every column packed into one value,
-- so a million trades cost a few large values rather than a million Python rows. Numbers are
-- big-endian float8 (NULL as NaN); times are timestamptz_send's int8 microseconds since
-- 2000-01-01 (NULL as -infinity); confidence, ambiguous and target2_hit share one int2 per
-- row; text is joined by U+001F, a NULL written as U+001E (neither can be stored by the
-- ledger's validation). Edges come as the JSON text of their names, which the caller decodes
-- once per distinct list. Rows are in no particular order: their ids come too.
SELECT count(*) AS n,
       string_agg(int8send(t.id), '') AS id,
       string_agg(t.trade_id, E'\x1f') AS trade_id,
       string_agg(t.ticker, E'\x1f') AS ticker,
       string_agg(t.trade_type, E'\x1f') AS trade_type,
       string_agg(t.direction, E'\x1f') AS direction,
       string_agg(coalesce(t.market, i.market, E'\x1e'), E'\x1f') AS market,
       string_agg(coalesce(t.strategy, E'\x1e'), E'\x1f') AS strategy,
       string_agg(t.source, E'\x1f') AS source,
       string_agg(t.status, E'\x1f') AS status,
       string_agg(coalesce(t.exit_reason, E'\x1e'), E'\x1f') AS exit_reason,
       string_agg(
           CASE WHEN jsonb_path_exists(t.edges, '$[*] ? (@.type() != "object")')
                THEN (SELECT jsonb_agg(CASE jsonb_typeof(e) WHEN 'object' THEN e -> 'name' ELSE e END
                                       ORDER BY k)
                      FROM jsonb_array_elements(t.edges) WITH ORDINALITY AS x(e, k))
                ELSE jsonb_path_query_array(t.edges, '$[*].name')
           END::text, E'\x1f') AS edges,
       string_agg(int2send((t.confidence * 16 + t.ambiguous::int * 4
                            + coalesce(t.target2_hit::int, 2))::int2), '') AS flags,
       string_agg(float8send(t.entry::float8), '') AS entry,
       string_agg(float8send(t.stop::float8), '') AS stop,
       string_agg(float8send(t.target::float8), '') AS target,
       string_agg(float8send(coalesce(t.target2::float8, 'NaN')), '') AS target2,
       string_agg(float8send(coalesce(t.fill_price::float8, 'NaN')), '') AS fill_price,
       string_agg(float8send(coalesce(t.exit_price::float8, 'NaN')), '') AS exit_price,
       string_agg(float8send(coalesce(t.r_achieved::float8, 'NaN')), '') AS r,
       string_agg(float8send(coalesce(t.mfe_r::float8, 'NaN')), '') AS mfe_r,
       string_agg(float8send(coalesce(t.mae_r::float8, 'NaN')), '') AS mae_r,
       string_agg(timestamptz_send(t.created_at), '') AS created_at,
       string_agg(timestamptz_send(coalesce(t.triggered_at, '-infinity')), '') AS triggered_at,
       string_agg(timestamptz_send(coalesce(t.closed_at, '-infinity')), '') AS closed_at
FROM trade_signals t
LEFT JOIN instruments i ON i.ticker = t.ticker AND t.market IS NULL
WHERE (%(closed_from)s::timestamptz IS NULL OR t.closed_at >= %(closed_from)s)
  AND (%(closed_to)s::timestamptz IS NULL OR t.closed_at < %(closed_to)s)
  AND (%(created_from)s::timestamptz IS NULL OR t.created_at >= %(created_from)s)
  AND (%(created_to)s::timestamptz IS NULL OR t.created_at < %(created_to)s);

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
