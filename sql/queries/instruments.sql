-- Named queries for instruments: the market each ticker trades on, and where it came from.

-- name: all_instruments
SELECT ticker, market, market_source, decided_at FROM instruments ORDER BY ticker;

-- name: instruments_of
SELECT ticker, market, market_source, decided_at FROM instruments
WHERE ticker = ANY(%(tickers)s);

-- name: record_markets
-- Each choice is kept unless the instrument already has one from a stronger source (a
-- person's setting beats a signal, which beats the provider, the ticker's form, the default).
INSERT INTO instruments AS i (ticker, market, market_source, decided_at)
SELECT * FROM unnest(%(tickers)s::text[], %(markets)s::text[], %(sources)s::text[],
                     %(decided_at)s::timestamptz[])
ON CONFLICT (ticker) DO UPDATE
SET market = EXCLUDED.market, market_source = EXCLUDED.market_source,
    decided_at = EXCLUDED.decided_at
WHERE (i.market, i.market_source) IS DISTINCT FROM (EXCLUDED.market, EXCLUDED.market_source)
  AND array_position(ARRAY['setting', 'signal', 'provider', 'ticker', 'default'], EXCLUDED.market_source)
   <= array_position(ARRAY['setting', 'signal', 'provider', 'ticker', 'default'], i.market_source)
RETURNING ticker, market, market_source;

-- name: set_instrument_market
-- A person's setting: always wins, and replaces any earlier setting.
INSERT INTO instruments AS i (ticker, market, market_source, decided_at)
VALUES (%(ticker)s, %(market)s, 'setting', %(decided_at)s)
ON CONFLICT (ticker) DO UPDATE
SET market = EXCLUDED.market, market_source = 'setting', decided_at = EXCLUDED.decided_at;

-- name: clear_instrument_setting
-- Forget a person's setting: the next run decides again from the signals, provider and rules.
DELETE FROM instruments WHERE ticker = %(ticker)s AND market_source = 'setting'
RETURNING ticker;
