"""The report's charts, drawn from report data only: the equity curve and the R
distribution as small inline SVG for the HTML (no script, no network, a title and a
description for screen readers), and the equity curve as a PNG for Discord, which shows
no SVG. No figure is computed here beyond placing the given points."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from edgeledger.core.report_data import ChartBar, EquityPoint, Level, RatePoint, RBin
from reports import formatting

WIN = "#1a7f37"
LOSS = "#cf222e"
INK = "#57606a"
GRID = "#d0d7de"

_W, _H = 520, 210
_LEFT, _RIGHT, _TOP, _BOTTOM = 62, 14, 16, 32


DASHES = ("6 4", "2 3", "9 3 2 3")  # the other curves: one pattern each, then again


def equity_svg(
    points: Sequence[EquityPoint],
    *,
    chart_id: str,
    title: str,
    timezone: str,
    others: Sequence[tuple[str, Sequence[EquityPoint]]] = (),
) -> Markup:
    """Cumulative R against time, from 0 before the first trade; a line and its last value.
    `others` are more curves (a label and its points, e.g. without an edge) drawn dashed
    over the same axes, with a legend. Dates read in the report's timezone."""
    if not points:
        return _empty_svg(chart_id, title, "No closed trades in this period.", "equity")
    tz = ZoneInfo(timezone)
    values = [0.0, *(p.r for p in points)]
    times = [points[0].at, *(p.at for p in points)]
    every = [*values, *(p.r for _, curve in others for p in curve)]
    lo, hi = min(every), max(every)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    t0, t1 = times[0].timestamp(), times[-1].timestamp()
    span = (t1 - t0) or 1.0
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(at: datetime, i: int) -> float:
        if t1 == t0:  # every trade at one moment: spread them by order
            return _LEFT + plot_w * i / max(1, len(times) - 1)
        return _LEFT + plot_w * (at.timestamp() - t0) / span

    def y(v: float) -> float:
        return _TOP + plot_h * (hi - v) / (hi - lo)

    pairs = enumerate(zip(times, values, strict=True))
    line = " ".join(f"{x(t, i):.1f},{y(v):.1f}" for i, (t, v) in pairs)
    colour = WIN if values[-1] >= 0 else LOSS
    desc = (
        f"Cumulative R over {formatting.count(len(points))} closed trades, from "
        f"{points[0].at.astimezone(tz):%b %d, %Y} to {points[-1].at.astimezone(tz):%b %d, %Y}: "
        f"ends at "
        f"{formatting.r(values[-1])}, lowest {formatting.r(min(values))}, "
        f"highest {formatting.r(max(values))}."
        + "".join(
            f" Dashed: {label}, ending at {formatting.r(curve[-1].r)}."
            for label, curve in others
            if curve
        )
    )
    parts = [
        _open(chart_id, title, desc, "equity"),
        _hline(y(0), dashed=True),
        _ylabel(y(hi), formatting.r(hi)),
        _ylabel(y(lo), formatting.r(lo)),
    ]
    if lo < 0 < hi and min(y(0) - y(hi), y(lo) - y(0)) > 18:  # not on top of min or max
        parts.append(_ylabel(y(0), "0R"))
    for n, (label, curve) in enumerate(others):
        if not curve:
            continue
        other = " ".join(
            f"{x(t, i):.1f},{y(v):.1f}"
            for i, (t, v) in enumerate([(curve[0].at, 0.0), *((p.at, p.r) for p in curve)])
        )
        dash = DASHES[n % len(DASHES)]
        parts += [
            f'<polyline points="{other}" fill="none" stroke="{INK}" stroke-width="1.5" '
            f'stroke-dasharray="{dash}" stroke-linejoin="round"/>',
            f'<line x1="{_LEFT + 8}" y1="{_TOP + 8 + 16 * n}" x2="{_LEFT + 30}" '
            f'y2="{_TOP + 8 + 16 * n}" stroke="{INK}" stroke-width="1.5" '
            f'stroke-dasharray="{dash}"/>',
            _text(
                _LEFT + 36,
                _TOP + 12 + 16 * n,
                f"{label}: {formatting.r(curve[-1].r)}",
                anchor="start",
                size=12,
            ),
        ]
    parts += [
        f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2" '
        'stroke-linejoin="round" stroke-linecap="round"/>',
        f'<circle cx="{x(times[-1], len(times) - 1):.1f}" cy="{y(values[-1]):.1f}" r="3.5" '
        f'fill="{colour}"/>',
        _text(_LEFT, _H - 8, f"{times[0].astimezone(tz):%b %d}", anchor="start"),
        _text(_W - _RIGHT, _H - 8, f"{times[-1].astimezone(tz):%b %d}", anchor="end"),
        "</svg>",
    ]
    return Markup("".join(parts))


def r_distribution_svg(bins: Sequence[RBin], *, chart_id: str, title: str) -> Markup:
    """One bar per R bin, losses red and gains green, the count above each bar."""
    if not bins:
        return _empty_svg(chart_id, title, "No closed trades in this period.", "r-distribution")
    top = max(b.count for b in bins) or 1
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM - 12
    slot = plot_w / len(bins)
    desc = "Closed trades per R range: " + "; ".join(
        f"{formatting.r(b.lo)} to {formatting.r(b.hi)}: {formatting.count(b.count)}" for b in bins
    )
    parts = [_open(chart_id, title, desc, "r-distribution")]
    base = _TOP + 12 + plot_h
    for i, b in enumerate(bins):
        height = plot_h * b.count / top
        left = _LEFT + i * slot + slot * 0.1
        colour = LOSS if b.hi <= 0 else WIN if b.lo >= 0 else INK
        parts.append(
            f'<rect x="{left:.1f}" y="{base - height:.1f}" width="{slot * 0.8:.1f}" '
            f'height="{height:.1f}" fill="{colour}" rx="2"/>'
        )
        parts.append(_text(left + slot * 0.4, base - height - 4, formatting.count(b.count)))
        parts.append(_text(_LEFT + i * slot, _H - 8, f"{b.lo:+g}", anchor="middle"))
    parts.append(_text(_LEFT + len(bins) * slot, _H - 8, f"{bins[-1].hi:+g}", anchor="middle"))
    parts.append(_hline(base, dashed=False))
    parts.append("</svg>")
    return Markup("".join(parts))


def win_rate_svg(points: Sequence[RatePoint], *, chart_id: str, title: str) -> Markup:
    """The win rate of each bucket (0-100%), a dot per bucket with decided trades, the
    50% line dashed."""
    decided = [(i, p) for i, p in enumerate(points) if p.win_rate is not None]
    if not decided:
        return _empty_svg(chart_id, title, "No wins or losses in this period.", "win-rate")
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    slots = max(1, len(points) - 1)

    def x(i: int) -> float:
        return _LEFT + (plot_w * i / slots if len(points) > 1 else plot_w / 2)

    def y(rate: float) -> float:
        return _TOP + plot_h * (1 - rate)

    desc = "Win rate per period: " + "; ".join(
        f"{p.start:%b %d, %Y}: {formatting.pct(p.win_rate)} of "
        f"{formatting.count(p.wins + p.losses)}"
        for _, p in decided[-12:]
    )
    line = " ".join(f"{x(i):.1f},{y(p.win_rate or 0):.1f}" for i, p in decided)
    parts = [
        _open(chart_id, title, desc, "win-rate"),
        _hline(y(0.5), dashed=True),
        _ylabel(y(1), "100%"),
        _ylabel(y(0.5), "50%"),
        _ylabel(y(0), "0%"),
        f'<polyline points="{line}" fill="none" stroke="{INK}" stroke-width="2" '
        'stroke-linejoin="round"/>',
    ]
    for i, p in decided:
        colour = WIN if (p.win_rate or 0) >= 0.5 else LOSS
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(p.win_rate or 0):.1f}" r="3" fill="{colour}"/>'
        )
    parts += [
        _text(_LEFT, _H - 8, f"{points[0].start:%b %d, %Y}", anchor="start"),
        _text(_W - _RIGHT, _H - 8, f"{points[-1].start:%b %d, %Y}", anchor="end"),
        "</svg>",
    ]
    return Markup("".join(parts))


def bars_svg(
    bars: Sequence[ChartBar], levels: Sequence[Level], *, chart_id: str, title: str, timezone: str
) -> Markup:
    """Candles of the stored bars around a trade, with its levels as labelled lines."""
    if not bars:
        return _empty_svg(chart_id, title, "No stored bars around this trade.", "bars")
    tz = ZoneInfo(timezone)
    prices = [b.low for b in bars] + [b.high for b in bars] + [lv.price for lv in levels]
    lo, hi = min(prices), max(prices)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad
    right = _RIGHT + 56  # room for the levels' names
    plot_w, plot_h = _W - _LEFT - right, _H - _TOP - _BOTTOM
    slot = plot_w / len(bars)

    def y(price: float) -> float:
        return _TOP + plot_h * (hi - price) / (hi - lo)

    desc = (
        f"{formatting.count(len(bars))} bars from {bars[0].at.astimezone(tz):%b %d %H:%M} to "
        f"{bars[-1].at.astimezone(tz):%b %d %H:%M}; levels: "
        + ", ".join(f"{lv.name} {lv.price:g}" for lv in levels)
    )
    parts = [_open(chart_id, title, desc, "bars")]
    for i, b in enumerate(bars):
        mid = _LEFT + slot * (i + 0.5)
        colour = WIN if b.close >= b.open else LOSS
        top, bottom = y(max(b.open, b.close)), y(min(b.open, b.close))
        parts.append(
            f'<line x1="{mid:.1f}" x2="{mid:.1f}" y1="{y(b.high):.1f}" y2="{y(b.low):.1f}" '
            f'stroke="{colour}" stroke-width="1"/>'
            f'<rect x="{mid - slot * 0.35:.1f}" y="{top:.1f}" width="{max(slot * 0.7, 0.8):.1f}" '
            f'height="{max(bottom - top, 0.8):.1f}" fill="{colour}"/>'
        )
    names: dict[float, list[str]] = {}  # levels at one price share a line and a label
    for lv in levels:
        names.setdefault(lv.price, []).append(lv.name)
    for at, named in names.items():
        colour = _LEVEL_COLOURS.get(named[0], INK)
        parts.append(
            f'<line x1="{_LEFT}" x2="{_W - right}" y1="{y(at):.1f}" y2="{y(at):.1f}" '
            f'stroke="{colour}" stroke-width="1" stroke-dasharray="5 3"/>'
        )
        label = " · ".join(named)
        parts.append(_text(_W - right + 4, y(at) + 4, label, anchor="start", size=12))
    parts += [
        _ylabel(y(hi - pad), f"{hi - pad:g}"),
        _ylabel(y(lo + pad), f"{lo + pad:g}"),
        _text(_LEFT, _H - 8, f"{bars[0].at.astimezone(tz):%b %d %H:%M}", anchor="start"),
        _text(_W - right, _H - 8, f"{bars[-1].at.astimezone(tz):%b %d %H:%M}", anchor="end"),
        "</svg>",
    ]
    return Markup("".join(parts))


_LEVEL_COLOURS = {"stop": LOSS, "target": WIN, "target2": WIN, "entry": "#0969da"}


def equity_png(points: Sequence[EquityPoint], *, title: str, timezone: str) -> bytes:
    """The equity curve as a PNG (800x320) for the Discord embed's image."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title, loc="left", fontsize=12)
    if points:
        times = [points[0].at, *(p.at for p in points)]
        values = [0.0, *(p.r for p in points)]
        colour = WIN if values[-1] >= 0 else LOSS
        ax.plot(times, values, color=colour, linewidth=2)
        ax.fill_between(times, values, 0, color=colour, alpha=0.12)
        ax.annotate(formatting.r(values[-1]), (times[-1], values[-1]), textcoords="offset points",
                    xytext=(-4, 6), ha="right", color=colour, fontweight="bold")  # fmt: skip
        import matplotlib.dates as mdates

        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d", tz=timezone))
    else:
        ax.text(0.5, 0.5, "No closed trades this week", ha="center", va="center",
                transform=ax.transAxes, color=INK)  # fmt: skip
        ax.set_xticks([])
    ax.axhline(0, color=GRID, linewidth=1, linestyle="--")
    ax.set_ylabel("cumulative R")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _open(chart_id: str, title: str, desc: str, kind: str, *, empty: bool = False) -> str:
    cid = escape(chart_id)
    css = "chart empty" if empty else "chart"
    return (
        f'<svg class="{css}" data-chart="{escape(kind)}" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(desc)}</desc>'
    )


def _empty_svg(chart_id: str, title: str, message: str, kind: str) -> Markup:
    return Markup(
        _open(chart_id, title, message, kind, empty=True)
        + _text(_W / 2, _H / 2, message, size=16)
        + "</svg>"
    )


def _hline(y: float, *, dashed: bool) -> str:
    dash = ' stroke-dasharray="4 4"' if dashed else ""
    return (
        f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
        f'stroke="{GRID}" stroke-width="1"{dash}/>'
    )


def _ylabel(y: float, text: str) -> str:
    return _text(_LEFT - 6, y + 4, text, anchor="end")


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = 15) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{INK}">{escape(text)}</text>'
    )
