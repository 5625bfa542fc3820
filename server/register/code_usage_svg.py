"""A funnel plot per code: each school's rate against its sessions, the authority's rate and
its 99.8% limits (server-rendered SVG, presentation attributes only, as ``office/svg.py``)."""
from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup, escape

from ..office.svg import BAD, GOOD, GRID, INK, WARN
from .code_usage import PER, limits

WIDTH, HEIGHT = 480, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 44
STEPS = 60  # points along each limit curve


def _step(value: float) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) at or above ``value``."""
    if value <= 0:
        return 0.25
    power = 10 ** math.floor(math.log10(value))
    return next(power * f for f in (1, 2, 2.5, 5, 10) if power * f >= value)


def funnel(comparison: dict[str, Any], chart_id: str) -> Markup:
    code, rows, p = comparison["code"], comparison["rows"], comparison["authority_rate"] / PER
    per = "possible" if comparison["per"] == "possible" else "recorded"
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    max_n = max((r["sessions"] for r in rows), default=1)
    lowest_n = max(1, min((r["sessions"] for r in rows), default=1) // 2)
    top = 4 * _step(max([r["rate"] for r in rows] + [limits(p, lowest_n)[1] * PER, p * PER, 0.1]) * 1.05 / 4)

    def x(n: float) -> float:
        return LEFT + plot_w * n / max_n

    def y(rate: float) -> float:
        return TOP + plot_h * (1 - min(rate, top) / top)

    flagged = [r["name"] for r in rows if r["flag"]]
    summary = (f"{len(rows)} schools; the authority's rate is {p * PER:.1f} per 1,000 {per} sessions. "
               + (f"Outside the 99.8% limits: {', '.join(flagged)}." if flagged else "No school is outside the limits."))
    cid = escape(chart_id)
    parts = [
        (f'<svg class="chart funnel" id="{cid}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
         f'aria-labelledby="{cid}-title {cid}-desc" xmlns="http://www.w3.org/2000/svg">'),
        f'<title id="{cid}-title">Code {escape(code)}: each school against the authority</title>',
        f'<desc id="{cid}-desc">{escape(summary)}</desc>',
    ]
    for i in range(5):
        value = top * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="{GRID}" stroke-width="0.5"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="12" '
                     f'fill="{INK}">{value:g}</text>')
    upper, lower = [], []
    for i in range(STEPS + 1):
        n = lowest_n + (max_n - lowest_n) * i / STEPS
        low, high = limits(p, max(1, round(n)))
        upper.append(f"{x(n):.1f},{y(high * PER):.1f}")
        lower.append(f"{x(n):.1f},{y(low * PER):.1f}")
    for points in (upper, lower):
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{WARN}" stroke-width="1.5" '
                     'stroke-dasharray="5 3"/>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(p * PER):.1f}" y2="{y(p * PER):.1f}" '
                 f'stroke="{INK}" stroke-width="1.5"/>')
    for r in rows:
        colour = BAD if r["flag"] == "high" else (WARN if r["flag"] == "low" else GOOD)
        tip = (f"{r['name']}: {r['rate']:.1f} per 1,000 ({r['count']} of {r['sessions']} sessions)"
               + (f", {r['flag']}" if r["flag"] else ""))
        shape = (f'<rect x="{x(r["sessions"]) - 5:.1f}" y="{y(r["rate"]) - 5:.1f}" width="10" height="10" '
                 if r["flag"] else f'<circle cx="{x(r["sessions"]):.1f}" cy="{y(r["rate"]):.1f}" r="5" ')
        parts.append(f'{shape}fill="{colour}" stroke="{INK}" stroke-width="0.5"><title>{escape(tip)}</title>'
                     + ("</rect>" if r["flag"] else "</circle>"))
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
                 f'stroke="{INK}" stroke-width="1"/>')
    parts.append(f'<text x="{LEFT}" y="{HEIGHT - 24}" font-size="12" fill="{INK}">0</text>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 24}" text-anchor="end" font-size="12" '
                 f'fill="{INK}">{max_n:,}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="12" '
                 f'fill="{INK}">{per.capitalize()} sessions at the school (rate per 1,000 up the side)</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
