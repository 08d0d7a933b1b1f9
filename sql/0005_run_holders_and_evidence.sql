-- State that must not lie: runs whose holder died are marked, and each outcome keeps a
-- digest of the bars it was derived from, so `outcomes verify` sees changed evidence.

-- A run records the backend that holds its advisory lock. A later run that finds a row
-- still 'running' whose holder no longer holds the lock (killed with -9, or the database
-- went away) marks it 'abandoned', with when (finished_at) and why (error).
ALTER TABLE job_runs ADD COLUMN holder_pid integer;
ALTER TABLE job_runs DROP CONSTRAINT job_runs_status_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_status_check
    CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned'));

-- The evidence of an outcome: the stored bars of its ticker, of its interval and every finer
-- one, from `lo` to `hi`, as stored by `stored_by` (the run's time: bars stored later, such
-- as finer bars fetched for another signal, are not part of it). Any edit, deletion or
-- back-dated insertion of such a bar changes the digest. Prices are numeric text, exactly
-- as stored.
CREATE FUNCTION bar_evidence_digest(
    p_ticker text, p_intervals text[], lo timestamptz, hi timestamptz, stored_by timestamptz
) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(coalesce(string_agg(
               b.interval || ' ' || (extract(epoch FROM b.start) * 1000000)::int8 || ' '
               || b.open || ' ' || b.high || ' ' || b.low || ' ' || b.close,
               ';' ORDER BY b.interval, b.start), ''), 'UTF8')), 'hex')
    FROM price_bars b
    WHERE b.ticker = p_ticker AND b.interval = ANY(p_intervals)
      AND b.start >= lo AND b.start < hi AND b.fetched_at <= stored_by
$$;

-- Per outcome: the run time it was derived at (bars stored later are not its evidence) and
-- the digest of its evidence then. NULL for outcomes derived before this migration.
ALTER TABLE trade_signals
    ADD COLUMN evidence_at timestamptz,
    ADD COLUMN evidence_digest text;
