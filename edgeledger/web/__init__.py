"""The HTTP adapter of `edgeledger run`: /healthz for the platform, /api/signals for the
trader's analysis service. Handlers parse, call a use case in a thread, and format."""

from edgeledger.web.app import make_app

__all__ = ["make_app"]
