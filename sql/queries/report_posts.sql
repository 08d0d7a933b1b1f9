-- Named queries for posting the weekly report (edgeledger/report_posting.py).

-- name: claim_report_post
-- Take the week's post for this run: only while it is not posted, and nobody else is posting
-- it (or the other claim is older than `stale_before`: its run died). One statement, so of
-- two runs at once exactly one gets the row back.
UPDATE weekly_reports
SET post_claimed_at = %(now)s, post_attempts = post_attempts + 1
WHERE week_start = %(week_start)s
  AND posted_at IS NULL
  AND (post_claimed_at IS NULL OR post_claimed_at < %(stale_before)s)
RETURNING week_start, generated_at, data, html, revision, post_attempts;

-- name: record_report_posted
-- Discord has the message: recorded even if this run's claim was taken over meanwhile (the
-- message exists either way); false when the week was already recorded as posted.
UPDATE weekly_reports
SET posted_at = %(posted_at)s, post_message_id = %(message_id)s,
    posted_revision = %(revision)s, post_claimed_at = NULL, post_error = NULL
WHERE week_start = %(week_start)s AND posted_at IS NULL
RETURNING week_start;

-- name: release_report_post
-- The post failed: keep why, and leave it for the next run.
UPDATE weekly_reports
SET post_claimed_at = NULL, post_error = %(error)s
WHERE week_start = %(week_start)s AND post_claimed_at = %(claimed_at)s AND posted_at IS NULL;

-- name: report_post_state
SELECT week_start, revision, posted_at, posted_revision, post_message_id, post_claimed_at,
       post_attempts, post_error
FROM weekly_reports WHERE week_start = %(week_start)s;
