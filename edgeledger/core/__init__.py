"""The pure core: what a signal is, the outcome rules, markets, and the figures drawn from
outcomes. Functions over plain data and DataFrames, given the time; no database, network
or clock. An import-linter contract (pyproject.toml) keeps it so."""
