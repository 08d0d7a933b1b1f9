-- The Discord bot (issue 12): where each Discord signal's message is, whether its close was
-- announced, and how far the bot has read each signal channel.

-- A signal's message on Discord: the channel post it was captured from (source 'channel',
-- source_key = message_id), or the bot's reply to /signal. A run that closes the signal
-- gets one reply under it: claimed (close_claimed_at) before it is sent, recorded
-- (close_announced_at) once Discord took it, so no close is announced twice or lost across
-- restarts. A claim older than the bot's lease is a dead process's and is taken over.
CREATE TABLE discord_signal_messages (
    trade_id            text        PRIMARY KEY REFERENCES trade_signals (trade_id),
    channel_id          bigint      NOT NULL,
    message_id          bigint      NOT NULL,
    recorded_at         timestamptz NOT NULL,
    close_claimed_at    timestamptz,
    close_announced_at  timestamptz,
    close_message_id    bigint,
    close_error         text
);
CREATE INDEX discord_signal_messages_unannounced ON discord_signal_messages (trade_id)
    WHERE close_announced_at IS NULL;

-- The last message of each signal channel the bot has handled (logged, refused or passed
-- over as no signal): after downtime it reads the history after it, so no signal is lost.
CREATE TABLE discord_channel_cursors (
    channel_id       bigint      PRIMARY KEY,
    last_message_id  bigint      NOT NULL,
    updated_at       timestamptz NOT NULL
);
