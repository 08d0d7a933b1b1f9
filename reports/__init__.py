"""Renderers of report data: the weekly report as one self-contained HTML file (Jinja) and
as a Discord summary. They draw a `edgeledger.core.report_data.WeeklyReport` and compute no
statistic; an import-linter contract keeps them off storage, prices and the database."""
