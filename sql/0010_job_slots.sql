-- The slots of the scheduled jobs, each claimed once. Every `edgeledger run` process fires
-- every job; the one whose INSERT takes the (job, slot) row does the work, the others see
-- the row and stand down. A deploy overlap (two processes for a minute) or a second
-- replica therefore runs each slot once. A claimer that dies leaves its row 'running': the
-- slot is not retried (the next slot carries on; resolve keeps its own job_runs record).
-- 0008 and 0009 are taken by work in progress elsewhere; the gap is expected.

CREATE TABLE job_slots (
    job          text        NOT NULL,
    slot         timestamptz NOT NULL,
    claimed_at   timestamptz NOT NULL,
    claimed_by   text        NOT NULL,          -- host and process id of the claimer
    status       text        NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running', 'succeeded', 'failed')),
    finished_at  timestamptz,
    detail       text,                          -- counts or the error, one line
    PRIMARY KEY (job, slot)
);
