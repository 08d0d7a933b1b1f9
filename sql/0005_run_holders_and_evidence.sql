-- State that must not lie: runs whose holder died are marked, and each outcome keeps a
-- digest of the bars it was derived from, so `outcomes verify` sees changed evidence.

-- A run records the backend that holds its advisory lock. A later run that finds a row
-- still 'running' whose holder no longer holds the lock (killed with -9, or the database
-- went away) marks it 'abandoned', with when (finished_at) and why (error).
ALTER TABLE job_runs ADD COLUMN holder_pid integer;
ALTER TABLE job_runs DROP CONSTRAINT job_runs_status_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_status_check
    CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned'));

-- Each bar's hash, kept by the database itself: any UPDATE of a bar changes it (a
-- generated column cannot be written, nor skipped by disabling triggers).
ALTER TABLE price_bars ADD COLUMN evidence_hash bigint GENERATED ALWAYS AS (
    hashtextextended(
        interval || ' ' || extract(epoch FROM timezone('UTC', start))::text || ' '
        || open::text || ' ' || high::text || ' ' || low::text || ' ' || close::text, 0)
) STORED;

-- The evidence of an outcome: the stored bars of its ticker, of its interval and every finer
-- one, from `lo` to `hi`, as stored by `stored_by` (the run's time: bars stored later, such
-- as finer bars fetched for another signal, are not part of it). Any edit, deletion or
-- back-dated insertion of such a bar changes the digest. The bars' hashes are summed, so a
-- digest costs one pass over the bars' index entries and rows, no text.
CREATE FUNCTION bar_evidence_digest(
    p_ticker text, p_intervals text[], lo timestamptz, hi timestamptz, stored_by timestamptz
) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT md5(count(*) || ':' || coalesce(sum(b.evidence_hash), 0))
    FROM price_bars b
    WHERE b.ticker = p_ticker AND b.interval = ANY(p_intervals)
      AND b.start >= lo AND b.start < hi AND b.fetched_at <= stored_by
$$;

-- Per outcome: the run time it was derived at (bars stored later are not its evidence) and
-- the digest of its evidence then. NULL for outcomes derived before this migration.
ALTER TABLE trade_signals
    ADD COLUMN evidence_at timestamptz,
    ADD COLUMN evidence_digest text;
