"""The one Jinja environment of the report, the dashboard and the bot's text (style.md,
habit 11): autoescaped, so an edge name or rationale holding markup shows as text, and
StrictUndefined, so a misspelt field fails loudly instead of printing nothing."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reports import formatting

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> Environment:
    """The shared environment, made once per process, with the formatting filters."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pct=formatting.pct,
        r=formatting.r,
        count=formatting.count,
        number=formatting.number,
        price=formatting.price,
        pct_range=formatting.pct_range,
        r_range=formatting.r_range,
        stars=formatting.stars,
        when=formatting.when,
        day=formatting.day,
        figure_of=lambda value, name: formatting.figure(name, value),
        label=formatting.label,
    )
    env.globals["week_span"] = formatting.week_span
    env.globals["sign"] = sign
    return env


def sign(value: float | None) -> str:
    """The CSS class of a figure's sign, so gains and losses read at a glance."""
    if value is None or value == 0:
        return ""
    return "pos" if value > 0 else "neg"
