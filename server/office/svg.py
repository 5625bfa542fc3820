"""A pupil's weekly attendance as a server-rendered SVG bar chart (no script, no outside service).

Presentation attributes only (``fill``, ``stroke``): the pages' Content-Security-Policy
allows no inline styles. The chart has a title and a description for screen
readers; the page shows the same figures as a table beside it.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from markupsafe import Markup, escape

WIDTH, HEIGHT = 960, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 48, 16, 56
GOOD, WARN, BAD, INK, GRID = "#2f6f3e", "#9a4d00", "#b00020", "#1a1a1a", "#767676"
PERSISTENT_LINE = 90.0  # attendance below 90% is persistent absence (10%+ absence)
SEVERE_LINE = 50.0


def _colour(pct: float) -> str:
    if pct >= PERSISTENT_LINE:
        return GOOD
    return WARN if pct > SEVERE_LINE else BAD


def _label(week: str) -> str:
    day = dt.date.fromisoformat(week)
    return f"{day.day} {day:%b}"


def weekly_chart(weeks: list[dict[str, Any]], chart_id: str, name: str) -> Markup:
    """Bars of attendance % per week (``weekly_attendance`` items); gaps where no session counted."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = max(len(weeks), 1)
    slot = plot_w / count
    bar_w = max(2.0, slot * 0.7)

    def y(pct: float) -> float:
        return TOP + plot_h * (1 - pct / 100)

    counted = [w for w in weeks if w["possible"]]
    if counted:
        low = min(counted, key=lambda w: w["pct"])
        summary = (f"{len(weeks)} weeks from {_label(weeks[0]['week'])} to {_label(weeks[-1]['week'])}; "
                   f"lowest {low['pct']:.1f}% in the week of {_label(low['week'])}.")
    else:
        summary = "No counted sessions in this term."
    parts = [
        (f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
         f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" xmlns="http://www.w3.org/2000/svg">'),
        f'<title id="{escape(chart_id)}-title">Weekly attendance of {escape(name)}</title>',
        (f'<desc id="{escape(chart_id)}-desc">{escape(summary)} Lines mark 90% (below it: persistent absence) '
         'and 50% (below it: severe absence).</desc>'),
    ]
    for pct in (0.0, 25.0, 50.0, 75.0, 100.0):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(pct):.1f}" y2="{y(pct):.1f}" '
                     f'stroke="{GRID}" stroke-width="0.5"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(pct) + 4:.1f}" text-anchor="end" font-size="14" '
                     f'fill="{INK}">{pct:.0f}%</text>')
    step = max(1, round(count / 12))  # at most ~12 week labels
    for i, w in enumerate(weeks):
        x = LEFT + slot * i + (slot - bar_w) / 2
        centre = LEFT + slot * i + slot / 2
        if w["possible"]:
            top = y(w["pct"])
            height = max(TOP + plot_h - top, 1.0)
            tip = (f"Week of {_label(w['week'])}: {w['pct']:.1f}% "
                   f"({w['attended']} of {w['possible']} sessions)")
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{top:.1f}" width="{bar_w:.1f}" height="{height:.1f}" '
                         f'fill="{_colour(w["pct"])}"><title>{escape(tip)}</title></rect>')
        else:
            parts.append(f'<text x="{centre:.1f}" y="{TOP + plot_h - 4:.1f}" text-anchor="middle" font-size="13" '
                         f'fill="{INK}">–<title>Week of {escape(_label(w["week"]))}: no counted sessions</title></text>')
        if i % step == 0:
            parts.append(f'<text x="{centre:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" font-size="13" '
                         f'fill="{INK}">{escape(_label(w["week"]))}</text>')
    for pct in (PERSISTENT_LINE, SEVERE_LINE):  # the band lines, over the bars, labelled on the right
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(pct):.1f}" y2="{y(pct):.1f}" '
                     f'stroke="#ffffff" stroke-width="3.5"/>')
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(pct):.1f}" y2="{y(pct):.1f}" '
                     f'stroke="{INK}" stroke-width="1.5" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{WIDTH - RIGHT + 6}" y="{y(pct) + 4:.1f}" font-size="14" font-weight="bold" '
                     f'fill="{INK}">{pct:.0f}%</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
                 f'stroke="{INK}" stroke-width="1"/>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 12}" text-anchor="middle" font-size="14" '
                 f'fill="{INK}">Week beginning</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
