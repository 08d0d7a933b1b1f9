"""The `edgeledger` command line."""

from edgeledger.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
