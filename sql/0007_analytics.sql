-- Analytics (issue 10): rolling metrics, audited feedback decisions, and weekly reports that
-- keep their data and a revision.

-- Rolling 7- and 30-day figures per strategy or edge, recalculated after a resolve run that
-- closed new trades: one row per (scope, key, window), replaced in place, never duplicated.
CREATE TABLE rolling_metrics (
    scope        text        NOT NULL CHECK (scope <> ''),      -- 'strategy', 'edge', ...
    key          text        NOT NULL,                          -- the strategy or edge name
    window_days  integer     NOT NULL CHECK (window_days > 0),
    as_of        timestamptz NOT NULL,                          -- the window ends here
    figures      jsonb       NOT NULL CHECK (jsonb_typeof(figures) = 'object'),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key, window_days)
);

-- What the feedback rules of docs/metrics.md decided, with the figures that triggered it and
-- the rule version, so any recommendation in a report can be traced to its numbers.
-- Append-only, like signal_events: a decision is superseded by a later one, never rewritten.
CREATE TABLE feedback_decisions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope        text        NOT NULL CHECK (scope <> ''),
    key          text        NOT NULL,
    action       text        NOT NULL CHECK (action <> ''),     -- keep, monitor, disable, re-optimize
    findings     jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(findings) = 'array'),
    figures      jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(figures) = 'object'),
    rule_version text        NOT NULL CHECK (rule_version <> ''),
    decided_at   timestamptz NOT NULL
);

CREATE INDEX feedback_decisions_decided_at ON feedback_decisions (decided_at, id);

CREATE FUNCTION reject_decision_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'feedback_decisions is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER feedback_decisions_append_only
    BEFORE UPDATE OR DELETE ON feedback_decisions
    FOR EACH ROW EXECUTE FUNCTION reject_decision_change();

CREATE TRIGGER feedback_decisions_no_truncate
    BEFORE TRUNCATE ON feedback_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION reject_truncate();

-- A weekly report keeps the data it was drawn from, and a rebuild of a week replaces its row
-- with the next revision (the week is the primary key, so a week never has two rows).
ALTER TABLE weekly_reports
    ADD COLUMN data     jsonb   NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    ADD COLUMN revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1);

