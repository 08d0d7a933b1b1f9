-- State that must not lie: runs whose holder died are marked.

-- A run records the backend that holds its advisory lock. A later run that finds a row
-- still 'running' whose holder no longer holds the lock (killed with -9, or the database
-- went away) marks it 'abandoned', with when (finished_at) and why (error).
ALTER TABLE job_runs ADD COLUMN holder_pid integer;
ALTER TABLE job_runs DROP CONSTRAINT job_runs_status_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_status_check
    CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned'));
