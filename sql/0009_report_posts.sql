-- Posting the weekly report to Discord (issue 11): what the post of a week's report did.
-- posted_at (sql/0002) is set once, when Discord confirmed the message; a run claims the
-- post first (post_claimed_at), so two processes never both send it. A claim older than the
-- longest a post can take is a crashed run's and may be taken over (edgeledger/report_posting).
-- 0008 is the service's migration (issue 11, on its own branch): the gap is expected.
ALTER TABLE weekly_reports
    ADD COLUMN post_claimed_at  timestamptz,          -- a run is posting since; NULL: none
    ADD COLUMN post_attempts    integer NOT NULL DEFAULT 0 CHECK (post_attempts >= 0),
    ADD COLUMN post_error       text,                 -- why the last attempt failed
    ADD COLUMN post_message_id  text,                 -- Discord's message id, once posted
    ADD COLUMN posted_revision  integer;              -- the revision that was posted
