-- Named queries of the Discord bot (sql/0011): signal messages, close replies, channel cursors.

-- name: record_signal_message
INSERT INTO discord_signal_messages (trade_id, channel_id, message_id, recorded_at)
VALUES (%(trade_id)s, %(channel_id)s, %(message_id)s, %(recorded_at)s)
ON CONFLICT (trade_id) DO NOTHING;

-- name: claim_close_replies
-- Discord signals a run settled whose close is not announced yet (a no_data expiry may
-- still settle otherwise: it waits), claimed for this sender; a stale claim is taken over.
UPDATE discord_signal_messages AS m
SET close_claimed_at = %(now)s
FROM trade_signals s
WHERE s.trade_id = m.trade_id
  AND m.trade_id IN (
      SELECT m2.trade_id FROM discord_signal_messages m2
      JOIN trade_signals s2 ON s2.trade_id = m2.trade_id
      WHERE m2.close_announced_at IS NULL
        AND (m2.close_claimed_at IS NULL OR m2.close_claimed_at < %(stale_before)s)
        AND s2.status IN ('WIN', 'LOSS', 'EXPIRED')
        AND s2.exit_reason IS DISTINCT FROM 'no_data'
      ORDER BY s2.closed_at NULLS LAST, m2.trade_id
      LIMIT %(limit)s
      FOR UPDATE OF m2 SKIP LOCKED)
RETURNING m.trade_id, m.channel_id, m.message_id, s.status, s.r_achieved, s.exit_reason;

-- name: record_close_reply
UPDATE discord_signal_messages
SET close_announced_at = %(at)s, close_message_id = %(reply_id)s, close_claimed_at = NULL,
    close_error = NULL
WHERE trade_id = %(trade_id)s;

-- name: release_close_reply
UPDATE discord_signal_messages SET close_claimed_at = NULL, close_error = %(error)s
WHERE trade_id = %(trade_id)s AND close_announced_at IS NULL;

-- name: channel_cursor
SELECT last_message_id FROM discord_channel_cursors WHERE channel_id = %(channel_id)s;

-- name: advance_channel_cursor
-- Only forward: message ids (snowflakes) grow with time.
INSERT INTO discord_channel_cursors AS c (channel_id, last_message_id, updated_at)
VALUES (%(channel_id)s, %(message_id)s, %(at)s)
ON CONFLICT (channel_id) DO UPDATE
SET last_message_id = greatest(c.last_message_id, EXCLUDED.last_message_id),
    updated_at = EXCLUDED.updated_at;

-- name: last_logged_channel_message
-- Without a cursor: the newest message of the channel a signal was logged from.
SELECT max(message_id) AS message_id FROM discord_signal_messages m
JOIN trade_signals s ON s.trade_id = m.trade_id
WHERE m.channel_id = %(channel_id)s AND s.source = 'channel';
