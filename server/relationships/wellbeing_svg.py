"""A wellbeing plan's gradual return against the register, as a small server-rendered SVG:
per planned week an outlined bar of the sessions planned and a filled bar of the sessions
attended (the case page's table beside it holds the same figures). Drawn like
``server/office/svg.py`` (its colours and week labels; presentation attributes only)."""
from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from ..office.svg import GOOD, GRID, INK, WARN, _label

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 16, 12, 44
MAX_SESSIONS = 10  # a school week's half-day sessions


def return_chart(weeks: list[dict[str, Any]], chart_id: str, name: str) -> Markup:
    """``weeks``: ``wellbeing.against_marks`` rows."""
    if not weeks:
        return Markup("")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(weeks)
    bar_w = max(4.0, slot * 0.6)

    def y(n: float) -> float:
        return TOP + plot_h * (1 - n / MAX_SESSIONS)

    counted = [w for w in weeks if w["attended"] is not None]
    met = sum(1 for w in counted if w["state"] == "met")
    summary = (f"{len(weeks)} planned weeks from {_label(weeks[0]['week_starting'])}; "
               f"{len(counted)} with marks, {met} of them as planned or better.")
    cid = escape(chart_id)
    parts = [f'<svg class="chart wellbeing-chart" id="{cid}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="{cid}-title {cid}-desc" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{cid}-title">Gradual return of {escape(name)}: sessions planned and attended</title>',
             f'<desc id="{cid}-desc">{escape(summary)} Outlined bars: planned; filled bars: attended.</desc>']
    for n in (0, 5, 10):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(n):.1f}" y2="{y(n):.1f}" stroke="{GRID}" '
                     f'stroke-width="0.5"/><text x="{LEFT - 6}" y="{y(n) + 4:.1f}" text-anchor="end" font-size="12" '
                     f'fill="{INK}">{n}</text>')
    for i, w in enumerate(weeks):
        x = LEFT + slot * i + (slot - bar_w) / 2
        centre = LEFT + slot * i + slot / 2
        top = y(w["planned"])
        parts.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar_w:.1f}" height="{TOP + plot_h - top:.1f}" '
                     f'fill="none" stroke="{INK}" stroke-width="1.5" stroke-dasharray="4 3">'
                     f'<title>Week of {escape(_label(w["week_starting"]))}: {w["planned"]} planned</title></rect>')
        if w["attended"] is not None:
            a = y(min(w["attended"], MAX_SESSIONS))
            parts.append(f'<rect class="attended" x="{x + bar_w * 0.2:.1f}" y="{a:.1f}" width="{bar_w * 0.6:.1f}" '
                         f'height="{max(TOP + plot_h - a, 1.0):.1f}" fill="{GOOD if w["state"] == "met" else WARN}">'
                         f'<title>Week of {escape(_label(w["week_starting"]))}: {w["attended"]} attended of '
                         f'{w["planned"]} planned</title></rect>')
        parts.append(f'<text x="{centre:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="12" '
                     f'fill="{INK}">{escape(_label(w["week_starting"]))}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="{INK}"/>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="12" '
                 f'fill="{INK}">Week beginning (sessions out of 10)</text></svg>')
    return Markup("".join(parts))
