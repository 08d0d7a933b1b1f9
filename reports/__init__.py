"""Renderers of report data: the weekly report as HTML (Jinja) and as a Discord summary
(arrive with the weekly-report issue)."""
