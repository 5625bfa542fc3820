"""The benchmarks' figures: percentiles, a figure over several runs, number formatting,
the Markdown table and the machine line."""
from __future__ import annotations

import math
import os
import sqlite3
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


@dataclass
class Figure:
    """One measured quantity over several runs."""

    name: str
    unit: str
    values: list[float] = field(default_factory=list)

    def add(self, v: float) -> None:
        self.values.append(v)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    def line(self) -> str:
        if not self.values:
            return f"| {self.name} | – | – | {self.unit} |"
        lo, hi = min(self.values), max(self.values)
        return f"| {self.name} | {fmt(self.median)} | {fmt(lo)} – {fmt(hi)} | {self.unit} |"


def fmt(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def table(figures: Sequence[Figure], runs: int) -> str:
    lines = [f"| figure | median of {runs} | min – max | unit |", "| --- | --- | --- | --- |"]
    return "\n".join(lines + [f.line() for f in figures])


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cpu ({cpu}), {mem:.0f} GiB, Python {sys.version.split()[0]}, "
            f"SQLite {sqlite3.sqlite_version}")
