-- Named queries for a person's corrections (edgeledger/corrections.py): a manual outcome,
-- a note, the review flag. Each runs in the transaction that appends its event.

-- name: signal_for_update
-- The signal a correction changes, locked until the correction's transaction ends.
SELECT * FROM trade_signals WHERE trade_id = %(trade_id)s FOR UPDATE;

-- name: write_manual_outcome
-- A person's outcome: exit_reason 'manual', which no resolve run re-derives or overwrites.
UPDATE trade_signals
SET status = %(status)s, fill_price = %(fill_price)s, triggered_at = %(triggered_at)s,
    exit_price = %(exit_price)s, closed_at = %(closed_at)s, exit_reason = 'manual',
    r_achieved = %(r_achieved)s, ambiguous = %(ambiguous)s, mfe_r = %(mfe_r)s,
    mae_r = %(mae_r)s, target2_hit = %(target2_hit)s
WHERE trade_id = %(trade_id)s
RETURNING *;

-- name: append_note
-- user_notes keeps every note, oldest first, one per line.
UPDATE trade_signals
SET user_notes = CASE WHEN user_notes IS NULL OR user_notes = '' THEN %(text)s
                      ELSE user_notes || E'\n' || %(text)s END
WHERE trade_id = %(trade_id)s
RETURNING *;

-- name: set_review_flag
UPDATE trade_signals SET flagged_for_review = %(flagged)s
WHERE trade_id = %(trade_id)s
RETURNING *;

-- name: edge_names_used
-- Edge names already used, most used first, optionally those containing some text.
SELECT name, count(*) AS n
FROM trade_signals s,
     LATERAL (SELECT CASE jsonb_typeof(e) WHEN 'string' THEN e #>> '{}' ELSE e ->> 'name' END
              FROM jsonb_array_elements(s.edges) AS e) AS x(name)
WHERE s.source <> 'backtest' AND name IS NOT NULL
  AND (%(containing)s::text IS NULL OR name ILIKE '%%' || %(containing)s || '%%')
GROUP BY name
ORDER BY n DESC, name
LIMIT %(limit)s;

-- name: trade_ids_like
-- Recent trade ids beginning or containing some text, for autocomplete.
SELECT trade_id, ticker, status FROM trade_signals
WHERE %(text)s = '' OR trade_id ILIKE '%%' || %(text)s || '%%'
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s;
