"""``register_scale.py``'s report: a table a size and the summary across sizes (Markdown)."""
from __future__ import annotations

import os
import sqlite3
import sys
from typing import Any

from _common import fmt, percentile


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:,.0f}" if values else "–"


def size_table(r: dict[str, Any]) -> str:
    def lst(key: str) -> str:
        got = r.get(key)
        if not got:
            return "–"
        fail = f", {got['failures']} failed" if got["failures"] else ""
        return f"{ms(got['latencies'], 50)} / {ms(got['latencies'], 95)}{fail}"

    rows = [
        ("authority", f"{r['pupils']:,} pupils, {r['schools']} schools, {r['households_created']:,} households", ""),
        ("roll import", f"{fmt(r['roll_rate'])} pupils/s ({r['roll_s']:.1f} s)", ""),
        ("marks file", f"{r['marks']:,} marks, {r['weeks']} weeks, {r['marks_mb']:.0f} MB", ""),
        ("bands (persistent incl. severe / severe)", f"{r['persistent_share']:.1%} / {r['severe_share']:.1%}",
         "~20 % / ~2 %"),
        ("raw csv.reader + executemany", f"{fmt(r['raw_rate'])} rows/s", ""),
        ("`doorstep marks import`", f"{fmt(r['import_rate'])} rows/s ({r['import_s']:.1f} s)", ""),
        ("**import ÷ raw**", f"**{r['ratio']:.2f}**", "≥ 0.33"),
        ("import peak RSS (VmHWM; sampled heap / mapped file)",
         f"{r['import_rss']:.0f} MB ({r['import_anon']:.0f} / {r['import_file']:.0f} MB)", "≤ 300 MB"),
        ("bytes a mark: register_marks", f"{r['bpm_marks']:.1f}", ""),
        ("bytes a mark: weekly counts + figures (+ indexes)", f"{r['bpm_weekly']:.1f}", ""),
        ("bytes a mark: whole database", f"{r['bpm_db']:.1f}", ""),
        ("next school day import", f"{r['next_s']:.1f} s ({r['next_rows']:,} marks)", "≤ 60 s at 200,000"),
        ("same rows again", f"{r['again_s']:.1f} s = {r['again_vs_next']:.2f} × next day, "
                            f"{r['again_vs_first']:.3f} × term import", "≤ 0.3 ×"),
        ("API ?band=persistent&limit=200, p50 / p95", f"{lst('api_persistent')} ms", "p95 ≤ 200 ms"),
        ("API ?limit=200, p50 / p95", f"{lst('api_all')} ms", "p95 ≤ 200 ms"),
        ("office /office/register?list=persistent, p50 / p95", f"{lst('office_persistent')} ms", "p95 ≤ 500 ms"),
    ]
    load = r.get("load")
    if load:
        lat = load["latencies"]
        cut = "" if load["rows"] >= r["load_wanted"] else f" (cut from {r['load_wanted']:,}: upload limit)"
        rows += [
            ("office upload under load", f"{load['rows']:,} marks{cut}, import {load.get('import_s', float('nan')):.1f} s "
                                         f"(wall {load['wall_s']:.1f} s)", ""),
            ("officers' pushes during it (8 × 200 visits / 0.5 s)",
             f"{load['pushes']} pushes, {load['failures']} failures, p50 {ms(lat, 50)} ms, **p99 {ms(lat, 99)} ms**",
             "p99 < 1 s, 0 failures"),
            ("the same pushes with no import (10 s baseline)",
             f"{len(r['alone'].latencies)} pushes, p50 {ms(r['alone'].latencies, 50)} ms, "
             f"p99 {ms(r['alone'].latencies, 99)} ms", ""),
        ]
    out = [f"### {r['pupils']:,} pupils, {r['weeks']} weeks ({r['wall_s'] / 60:.1f} min)", "",
           "| figure | measured | target |", "| --- | --- | --- |"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(out)


def summary(results: list[dict[str, Any]]) -> str:
    head = "| figure | " + " | ".join(f"{r['pupils']:,} pupils ({r['weeks']} wk)" for r in results) + " | target |"
    out = [head, "| --- |" + " --- |" * (len(results) + 1)]

    def line(name: str, target: str, value: Any) -> None:
        cells = []
        for r in results:
            try:
                cells.append(value(r))
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                cells.append("–")
        out.append(f"| {name} | " + " | ".join(cells) + f" | {target} |")

    line("roll import, pupils/s", "", lambda r: fmt(r["roll_rate"]))
    line("marks in the term file", "", lambda r: f"{r['marks']:,}")
    line("persistent / severe share", "~20 % / ~2 %", lambda r: f"{r['persistent_share']:.1%} / {r['severe_share']:.1%}")
    line("raw insert, rows/s", "", lambda r: fmt(r["raw_rate"]))
    line("doorstep marks import, rows/s", "", lambda r: fmt(r["import_rate"]))
    line("**import ÷ raw**", "≥ 0.33", lambda r: f"**{r['ratio']:.2f}**")
    line("import peak RSS, MB (heap / mapped DB)", "≤ 300",
         lambda r: f"{r['import_rss']:.0f} ({r['import_anon']:.0f} / {r['import_file']:.0f})")
    line("bytes a mark: marks table / weekly + figures / whole DB", "",
         lambda r: f"{r['bpm_marks']:.1f} / {r['bpm_weekly']:.1f} / {r['bpm_db']:.1f}")
    line("next-day import, s", "≤ 60 at 200,000", lambda r: f"{r['next_s']:.1f}")
    line("same rows again, s (÷ next day; ÷ term import)", "≤ 0.3 ×",
         lambda r: f"{r['again_s']:.1f} ({r['again_vs_next']:.2f}; {r['again_vs_first']:.3f})")
    line("API band=persistent p50 / p95, ms", "p95 ≤ 200",
         lambda r: f"{ms(r['api_persistent']['latencies'], 50)} / {ms(r['api_persistent']['latencies'], 95)}")
    line("API unfiltered p50 / p95, ms", "p95 ≤ 200",
         lambda r: f"{ms(r['api_all']['latencies'], 50)} / {ms(r['api_all']['latencies'], 95)}")
    line("office list=persistent p50 / p95, ms", "p95 ≤ 500",
         lambda r: f"{ms(r['office_persistent']['latencies'], 50)} / {ms(r['office_persistent']['latencies'], 95)}")
    line("import under load: marks, import s", "",
         lambda r: f"{r['load']['rows']:,}, {r['load']['import_s']:.1f}" if r.get("load") else "not run")
    line("pushes during it: n, failures, p50 / p99 ms", "p99 < 1000, 0 failures",
         lambda r: (f"{r['load']['pushes']}, {r['load']['failures']}, {ms(r['load']['latencies'], 50)} / "
                    f"**{ms(r['load']['latencies'], 99)}**") if r.get("load") else "not run")
    line("the same pushes, no import: p50 / p99 ms", "",
         lambda r: f"{ms(r['alone'].latencies, 50)} / {ms(r['alone'].latencies, 99)}" if r.get("alone") else "not run")
    return "\n".join(out)


def machine_line() -> str:
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (f"{os.cpu_count()} cores, load average {load}, Python {sys.version.split()[0]}, "
            f"SQLite {sqlite3.sqlite_version}")
