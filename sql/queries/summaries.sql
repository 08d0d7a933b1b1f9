-- The day summaries and day counts of sql/0008 (storage/summaries.py).

-- name: trade_day_changes
-- Days changed since they were summed up (as far as this snapshot sees).
SELECT id, day FROM trade_day_changes;

-- name: lock_day_summaries
-- One refresher at a time, until its transaction ends; what it reads after this lock sees
-- every change committed before it.
SELECT pg_advisory_xact_lock(hashtext('edgeledger:day_summaries'));

-- name: forget_day_summaries
WITH summaries AS (DELETE FROM trade_day_summaries WHERE day = ANY(%(days)s::date[]))
DELETE FROM signal_day_counts WHERE day = ANY(%(days)s::date[]);

-- name: forget_day_r_bins
DELETE FROM trade_day_r_bins WHERE day = ANY(%(days)s::date[]);

-- name: day_r_bins
-- The R bins of sql/0012 summed over [first_day, end_day).
SELECT bin, sum(n) AS n FROM trade_day_r_bins
WHERE population = %(population)s
  AND (%(first_day)s::date IS NULL OR day >= %(first_day)s)
  AND (%(end_day)s::date IS NULL OR day < %(end_day)s)
GROUP BY bin ORDER BY bin;

-- name: analyze_day_summaries
ANALYZE trade_day_summaries, signal_day_counts, trade_day_r_bins;

-- name: forget_trade_day_changes
DELETE FROM trade_day_changes WHERE id = ANY(%(ids)s);

-- name: day_summary_rows
-- One population and dimension over [first_day, end_day), each column one binary array
-- ({fields}), the keys joined by U+001F (NULL as U+001E), all in one order.
SELECT count(*),
       string_agg(coalesce(key, E'\x1e'), E'\x1f'),
       {fields}
FROM trade_day_summaries
WHERE population = %(population)s AND dimension = %(dimension)s
  AND (%(first_day)s::date IS NULL OR day >= %(first_day)s)
  AND (%(end_day)s::date IS NULL OR day < %(end_day)s);

-- name: day_count_rows
SELECT status, exit_reason, filled, sum(n) AS n, max(last_created_at) AS last_created_at
FROM signal_day_counts
WHERE population = %(population)s
  AND (%(first_day)s::date IS NULL OR day >= %(first_day)s)
  AND (%(end_day)s::date IS NULL OR day < %(end_day)s)
GROUP BY status, exit_reason, filled
ORDER BY status, exit_reason, filled;

-- name: day_summary_totals
-- One population and dimension over [first_day, end_day), the columns that add up totalled
-- per key ({fields}: sums); `squares` is the sum over days of m2_r + sum_r²/n, from which
-- the key's m2_r follows (the parallel-variance formula).
SELECT key, max(last_closed_at) AS last_closed_at, sum(m2_r + sum_r * sum_r / n) AS squares,
       {fields}
FROM trade_day_summaries
WHERE population = %(population)s AND dimension = %(dimension)s
  AND (%(first_day)s::date IS NULL OR day >= %(first_day)s)
  AND (%(end_day)s::date IS NULL OR day < %(end_day)s)
GROUP BY key;
