-- Tables the outcome job, the weekly report and the scheduler write.

CREATE TABLE price_bars (
    ticker      text        NOT NULL,
    interval    text        NOT NULL CHECK (interval IN ('1m', '5m', '15m', '30m', '1h', '1d')),
    start       timestamptz NOT NULL,
    open        numeric(20, 8) NOT NULL CHECK (open > 0),
    high        numeric(20, 8) NOT NULL,
    low         numeric(20, 8) NOT NULL CHECK (low > 0),
    close       numeric(20, 8) NOT NULL CHECK (close > 0),
    volume      numeric(24, 4) CHECK (volume >= 0),
    provider    text        NOT NULL,
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ticker, interval, start),
    CONSTRAINT bar_prices_consistent CHECK (
        low <= high AND open BETWEEN low AND high AND close BETWEEN low AND high
    )
);

CREATE TABLE weekly_reports (
    week_start   date        PRIMARY KEY,
    generated_at timestamptz NOT NULL DEFAULT now(),
    summary      jsonb       NOT NULL DEFAULT '{}',
    html         text        NOT NULL,
    posted_at    timestamptz
);

CREATE TABLE job_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_name       text        NOT NULL,
    scheduled_for  timestamptz,            -- the slot a scheduled run stands for; NULL: manual
    status         text        NOT NULL DEFAULT 'running'
                   CHECK (status IN ('running', 'succeeded', 'failed')),
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    counts         jsonb       NOT NULL DEFAULT '{}',
    error          text,
    UNIQUE (job_name, scheduled_for)
);
