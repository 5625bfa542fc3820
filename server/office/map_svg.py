"""Transport runs drawn as a server-rendered SVG map: no tiles, no script, no outside service.

Positions are projected equirectangularly (x = longitude x cos(mean latitude),
y = latitude), which is true to within a fraction of a percent across a town,
and scaled to the bounding box of everything drawn. Presentation attributes
only (the pages' Content-Security-Policy allows no inline styles). Each run is
one polyline from its start through its stops, numbered in driving order, to
the school; runs differ by colour and by dash pattern, so colour is never the
only difference. The map has a title and a description; the page shows the
same stops as a table beside it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, PLOT_H = 640, 440
PAD = 34  # room inside the plot for markers and labels at the edges
LEGEND_ROW = 22
INK, HALO, MUTED = "#1a1a1a", "#ffffff", "#4d4d4d"
# dark enough for white numbers (contrast >= 4.5:1 against white text)
COLOURS = ("#0b57a4", "#b3400b", "#1d7044", "#7b3f9e", "#7a5c00", "#0f6f7c", "#a3195b", "#3d4f63")
DASHES = ("", "10 5", "3 4", "12 4 3 4")
MIN_SPAN_DEG = 0.004  # about 400 m: a single point still gets a sensible scale
KM_PER_DEG_LAT = 111.32


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    label: str


@dataclass
class MapRun:
    label: str
    stops: list[Place]  # in driving order
    start: Place | None = None


@dataclass
class _Frame:
    """The projection from lat/lon to the plot's pixels."""

    cos_lat: float
    min_x: float
    max_y: float
    scale: float
    off_x: float
    off_y: float

    def xy(self, p: Place) -> tuple[float, float]:
        x = (p.lon * self.cos_lat - self.min_x) * self.scale + self.off_x
        y = (self.max_y - p.lat) * self.scale + self.off_y
        return x, y


def _frame(places: list[Place]) -> _Frame:
    lats = [p.lat for p in places]
    cos_lat = math.cos(math.radians((min(lats) + max(lats)) / 2))
    xs = [p.lon * cos_lat for p in places]
    span_x = max(max(xs) - min(xs), MIN_SPAN_DEG)
    span_y = max(max(lats) - min(lats), MIN_SPAN_DEG)
    inner_w, inner_h = WIDTH - 2 * PAD, PLOT_H - 2 * PAD
    scale = min(inner_w / span_x, inner_h / span_y)
    centre_x, centre_y = (max(xs) + min(xs)) / 2, (max(lats) + min(lats)) / 2
    # centre the box: (centre_x - min_x) * scale + off_x == WIDTH / 2
    min_x, max_y = centre_x - span_x / 2, centre_y + span_y / 2
    return _Frame(cos_lat, min_x, max_y, scale, PAD + (inner_w - span_x * scale) / 2,
                  PAD + (inner_h - span_y * scale) / 2)


def _scale_bar(frame: _Frame) -> str:
    px_per_km = frame.scale / KM_PER_DEG_LAT
    km = next((k for k in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50) if k * px_per_km >= 60), 50)
    length = km * px_per_km
    x0, y0 = 14, PLOT_H - 14
    words = f"{km:g} km" if km >= 1 else f"{km * 1000:.0f} m"
    return (f'<g aria-hidden="true"><path d="M{x0} {y0 - 6}V{y0}H{x0 + length:.1f}V{y0 - 6}" fill="none" '
            f'stroke="{INK}" stroke-width="2"/><text x="{x0 + length + 6:.1f}" y="{y0}" font-size="13" '
            f'fill="{INK}">{words}</text></g>'
            f'<text x="{WIDTH - 16}" y="24" text-anchor="end" font-size="13" fill="{INK}" '
            f'aria-hidden="true">N ↑</text>')


def _marker_groups(frame: _Frame, stops: list[Place]) -> list[tuple[float, float, list[int], list[str]]]:
    """Stops at (nearly) the same spot share one marker: siblings from one household."""
    groups: list[tuple[float, float, list[int], list[str]]] = []
    for n, stop in enumerate(stops, start=1):
        x, y = frame.xy(stop)
        for gx, gy, numbers, labels in groups:
            if abs(gx - x) < 6 and abs(gy - y) < 6:
                numbers.append(n)
                labels.append(stop.label)
                break
        else:
            groups.append((x, y, [n], [stop.label]))
    return groups


def route_map(map_id: str, title: str, school: Place, runs: list[MapRun],
              unplaced: list[Place] | None = None) -> Markup:
    """The runs to ``school`` as an SVG with a legend; ``unplaced`` pupils drawn as crosses."""
    unplaced = unplaced or []
    everything = [school, *unplaced] + [p for r in runs for p in [*r.stops, *([r.start] if r.start else [])]]
    frame = _frame(everything)
    mid = escape(map_id)
    school_x, school_y = frame.xy(school)
    legend_rows = len(runs) + 1 + (1 if any(r.start for r in runs) else 0) + (1 if unplaced else 0)
    height = PLOT_H + 12 + LEGEND_ROW * legend_rows
    stops_total = sum(len(r.stops) for r in runs)
    summary = (f"{len(runs)} run{'s' if len(runs) != 1 else ''} to {school.label} with {stops_total} "
               f"stop{'s' if stops_total != 1 else ''}, numbered in driving order"
               + (f"; {len(unplaced)} pupil{'s' if len(unplaced) != 1 else ''} not placed, drawn as crosses"
                  if unplaced else "")
               + ". The table beside the map lists every stop.")
    parts = [
        (f'<svg class="route-map" id="{mid}" viewBox="0 0 {WIDTH} {height}" role="img" '
         f'aria-labelledby="{mid}-title {mid}-desc" xmlns="http://www.w3.org/2000/svg">'),
        f'<title id="{mid}-title">{escape(title)}</title>',
        f'<desc id="{mid}-desc">{escape(summary)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{PLOT_H}" fill="#f3f5f2" stroke="#8c8c8c"/>',
        _scale_bar(frame),
    ]
    for i, run in enumerate(runs):  # lines first, markers over them
        colour, dash = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)]
        path = [*([run.start] if run.start else []), *run.stops]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (frame.xy(p) for p in path))
        points += f" {school_x:.1f},{school_y:.1f}"
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<polyline points="{points}" fill="none" stroke="{HALO}" stroke-width="7" '
                     f'stroke-linejoin="round" stroke-linecap="round"/>')
        parts.append(f'<polyline class="run-line" data-run="{i + 1}" points="{points}" fill="none" '
                     f'stroke="{colour}" stroke-width="3.5" stroke-linejoin="round"{dash_attr}>'
                     f'<title>{escape(run.label)}</title></polyline>')
    for p in unplaced:
        x, y = frame.xy(p)
        parts.append(f'<g class="unplaced"><path d="M{x - 6:.1f} {y - 6:.1f}L{x + 6:.1f} {y + 6:.1f}'
                     f'M{x - 6:.1f} {y + 6:.1f}L{x + 6:.1f} {y - 6:.1f}" stroke="{HALO}" stroke-width="6"/>'
                     f'<path d="M{x - 6:.1f} {y - 6:.1f}L{x + 6:.1f} {y + 6:.1f}M{x - 6:.1f} {y + 6:.1f}'
                     f'L{x + 6:.1f} {y - 6:.1f}" stroke="{MUTED}" stroke-width="3"/>'
                     f'<title>Not placed: {escape(p.label)}</title></g>')
    for i, run in enumerate(runs):
        colour = COLOURS[i % len(COLOURS)]
        if run.start is not None:
            x, y = frame.xy(run.start)
            if abs(x - school_x) > 8 or abs(y - school_y) > 8:
                parts.append(f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="{HALO}" '
                             f'stroke="{colour}" stroke-width="3"><title>Start of {escape(run.label)}'
                             f'</title></rect>')
        for x, y, numbers, labels in _marker_groups(frame, run.stops):
            text = ",".join(str(n) for n in numbers)
            r = 11 if len(text) <= 2 else 6 + 4 * len(text)
            tip = "; ".join(f"Stop {n}: {label}" for n, label in zip(numbers, labels, strict=True))
            parts.append(f'<g class="stop" data-run="{i + 1}" data-stop="{text}">'
                         f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{r}" ry="11" fill="{colour}" stroke="{HALO}" '
                         f'stroke-width="2"/><text x="{x:.1f}" y="{y + 4.5:.1f}" text-anchor="middle" '
                         f'font-size="13" font-weight="bold" fill="{HALO}">{text}</text>'
                         f'<title>{escape(run.label)} — {escape(tip)}</title></g>')
    # the school on top: a black square with a white border, named beside it
    anchor = "end" if school_x > WIDTH - 200 else "start"
    label_x = school_x - 14 if anchor == "end" else school_x + 14
    parts.append(f'<g class="school"><rect x="{school_x - 9:.1f}" y="{school_y - 9:.1f}" width="18" height="18" '
                 f'fill="{INK}" stroke="{HALO}" stroke-width="2"/>'
                 f'<text x="{label_x:.1f}" y="{school_y + 5:.1f}" text-anchor="{anchor}" font-size="14" '
                 f'font-weight="bold" fill="{INK}" stroke="{HALO}" stroke-width="4" paint-order="stroke">'
                 f'{escape(school.label)}</text><title>School: {escape(school.label)}</title></g>')
    parts.append(_legend(runs, bool(unplaced), any(r.start for r in runs), PLOT_H + 12))
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(runs: list[MapRun], unplaced: bool, starts: bool, top: int) -> str:
    out = ['<g class="legend">']
    y = top + LEGEND_ROW / 2
    for i, run in enumerate(runs):
        colour, dash = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="8" x2="48" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="3.5"'
                   f'{dash_attr}/><circle cx="28" cy="{y:.1f}" r="7" fill="{colour}"/>'
                   f'<text x="58" y="{y + 5:.1f}" font-size="15" fill="{INK}">{escape(run.label)}</text>')
        y += LEGEND_ROW
    # one key a row, so no row runs past the map's width
    out.append(f'<rect x="21" y="{y - 7:.1f}" width="14" height="14" fill="{INK}"/>'
               f'<text x="58" y="{y + 5:.1f}" font-size="15" fill="{INK}">School; numbered circles: stops in '
               f'driving order</text>')
    y += LEGEND_ROW
    if starts:
        out.append(f'<rect x="22" y="{y - 6:.1f}" width="12" height="12" fill="#fff" stroke="{INK}" stroke-width="2"/>'
                   f'<text x="58" y="{y + 5:.1f}" font-size="15" fill="{INK}">Open square: where a run starts</text>')
        y += LEGEND_ROW
    if unplaced:
        out.append(f'<path d="M22 {y - 6:.1f}L34 {y + 6:.1f}M22 {y + 6:.1f}L34 {y - 6:.1f}" stroke="{MUTED}" '
                   f'stroke-width="3"/><text x="58" y="{y + 5:.1f}" font-size="15" fill="{INK}">'
                   f'Pupil not placed in any run</text>')
    out.append("</g>")
    return "".join(out)
