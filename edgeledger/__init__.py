"""EdgeLedger: a ledger of trade signals, settled against price bars, to learn which edges work."""

__version__ = "0.1.0"
