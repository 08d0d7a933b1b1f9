-- name: claim_job_slot
-- The slot is this caller's when its row is new; NULL when another process claimed it.
INSERT INTO job_slots (job, slot, claimed_at, claimed_by)
VALUES (%(job)s, %(slot)s, %(claimed_at)s, %(claimed_by)s)
ON CONFLICT (job, slot) DO NOTHING
RETURNING job, slot;

-- name: finish_job_slot
UPDATE job_slots SET status = %(status)s, finished_at = %(finished_at)s, detail = %(detail)s
WHERE job = %(job)s AND slot = %(slot)s;

-- name: last_job_slots
-- The latest claimed slot of each scheduled job.
SELECT DISTINCT ON (job) job, slot, claimed_at, claimed_by, status, finished_at, detail
FROM job_slots
ORDER BY job, slot DESC;

-- name: last_job_runs
-- The latest run of each job recorded in job_runs (scheduled or manual).
SELECT DISTINCT ON (job_name) job_name, scheduled_for, status, started_at, finished_at,
       counts, error
FROM job_runs
ORDER BY job_name, started_at DESC;
