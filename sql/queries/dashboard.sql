-- The dashboard's reads (edgeledger/storage/dashboard.py).

-- name: trade_page
-- One page of the trade table, newest first, below the keyset (created_at, id) when given.
-- {where} holds the filters the page asks for, each a fixed clause with its own parameter.
SELECT s.id, s.trade_id, s.ticker, s.trade_type, s.direction, s.entry, s.stop, s.target,
       s.confidence, s.edges, s.strategy, COALESCE(s.market, i.market) AS market,
       s.created_at, s.status, s.exit_reason, s.r_achieved, s.closed_at, s.flagged_for_review
FROM trade_signals s
LEFT JOIN instruments i ON i.ticker = s.ticker
WHERE {where}
ORDER BY s.created_at DESC, s.id DESC
LIMIT %(limit)s;

-- name: r_bin_counts
-- The counted closed trades closed in [closed_from, closed_to) by R bin: floor(R / width),
-- the population of core/trades.py (counted, then closed). Only for a period that ends
-- inside a day (the day bins of sql/0012 cannot cut it); those are short.
SELECT floor(r_achieved / %(width)s)::bigint AS bin, count(*) AS n
FROM trade_signals
WHERE source <> 'backtest' AND status IN ('WIN', 'LOSS', 'EXPIRED')
  AND fill_price IS NOT NULL AND r_achieved IS NOT NULL
  AND exit_reason IS DISTINCT FROM 'no_data'
  AND (%(closed_from)s::timestamptz IS NULL OR closed_at >= %(closed_from)s)
  AND closed_at < %(closed_to)s
GROUP BY 1
ORDER BY 1;
