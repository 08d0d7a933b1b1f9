"""Scheduled entry points: each reads the clock once and calls the core."""
