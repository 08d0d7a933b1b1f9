-- Day and swing trades may be settled on different primary intervals (e.g. day trades on
-- 5m bars, swings on 1h): where resolution of a ticker stands is kept per interval.
ALTER TABLE ticker_resolution DROP CONSTRAINT ticker_resolution_pkey;
ALTER TABLE ticker_resolution ADD PRIMARY KEY (ticker, interval);
