"""Codes used consistently: how often each school uses a code, against the authority and against
schools like it (same phase and size band), with 99.8% funnel limits.

The sessions per school, academic year and code are kept on import (``school_codes``, in each
slice's transaction, as ``school_weeks`` are); each school's phase and pupils on roll are taken
once after each marks import (``school_profiles``). A page view reads those two small tables,
never the marks. Method and wording: docs/relationships.md.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..storage import Database, SqliteTxn
from ..util import now_iso
from .codes import CODE_MEANINGS
from .portable import one
from .tally import COUNTER

# code (Y: Y1 to Y7 together) -> the sessions it is a rate of
RATES: dict[str, str] = {"B": "possible", "C": "possible", "C2": "possible", "M": "possible", "I": "possible",
                         "G": "possible", "N": "possible", "X": "recorded", "Y": "recorded"}
MEANINGS = {**{c: CODE_MEANINGS[c] for c in RATES if c != "Y"},
            "Y": "unable to attend for an unavoidable cause (Y1 to Y7)"}
Z = 3.09  # the standard normal quantile of 0.999: two-sided 99.8% limits
PER = 1000
# pupils on roll: (below this many, band name); the last is open-ended (docs/relationships.md)
SIZE_BANDS: dict[str, tuple[tuple[int | None, str], ...]] = {
    "primary": ((210, "small"), (420, "medium"), (None, "large")),
    "secondary": ((600, "small"), (1200, "medium"), (None, "large")),
    "all-through": ((600, "small"), (1200, "medium"), (None, "large")),
}
SECONDARY_YEAR = 7  # year 7 and above: secondary
MIXED_SHARE = 0.2  # with between 20% and 80% of pupils in year 7 and above: all-through


def after_slice(txn: SqliteTxn) -> None:
    """In an import slice's transaction: the sessions per school, year and code that the marks in
    ``stage`` move (each a mark written, and the code it replaced, if any)."""
    txn.execute(
        "INSERT INTO school_codes (school_pk, year, code, sessions) SELECT * FROM (SELECT school_pk, year, code, "
        "sum(n) AS n FROM (SELECT school_pk, year, code, 1 AS n FROM stage WHERE school_pk IS NOT NULL "
        "UNION ALL SELECT school_pk, year, old, -1 FROM stage WHERE school_pk IS NOT NULL AND old IS NOT NULL) u "
        "GROUP BY school_pk, year, code) d WHERE n != 0 "
        "ON CONFLICT (school_pk, year, code) DO UPDATE SET sessions = school_codes.sessions + excluded.sessions")


def phase_of(pupils: int, secondary: int, known: int) -> str:
    """A school's phase from its pupils' year groups (``known`` of them have one)."""
    if not known:
        return "unknown"
    share = secondary / known
    if share < MIXED_SHARE:
        return "primary"
    return "secondary" if share > 1 - MIXED_SHARE else "all-through"


def size_band(phase: str, pupils: int) -> str:
    for below, name in SIZE_BANDS.get(phase, ()):
        if below is None or pupils < below:
            return name
    return "any size"


_SECONDARY = one("CAST(json_extract(p.data, '$.year_group') AS INTEGER) >= ?")


def refresh_profiles(db: Database, today: dt.date) -> None:
    """Each school's phase and pupils on roll (read with no lock, written in one short write)."""
    with db.read() as txn:
        rows = txn.execute(
            f"SELECT rp.school_pk, count(*), sum({_SECONDARY}), "
            "count(json_extract(p.data, '$.year_group')) FROM register_pupils rp JOIN pupils p ON p.id = rp.pupil_id "
            "WHERE rp.school_pk IS NOT NULL AND p.deleted = 0 AND (rp.left_on IS NULL OR rp.left_on > ?) "
            "GROUP BY rp.school_pk", (SECONDARY_YEAR, today.isoformat())).fetchall()
        old = {pk: (phase, n) for pk, phase, n in txn.execute("SELECT school_pk, phase, pupils FROM school_profiles")}
    new = {pk: (phase_of(n, sec or 0, known), n) for pk, n, sec, known in rows}
    if new == old:
        return  # an import that changed nothing leaves the database as it was
    stamp = now_iso()
    with db.write(timeout=60.0) as txn:
        txn.executemany("DELETE FROM school_profiles WHERE school_pk = ?", [(pk,) for pk in old.keys() - new.keys()])
        txn.executemany(
            "INSERT INTO school_profiles (school_pk, phase, pupils, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (school_pk) DO UPDATE SET phase = excluded.phase, pupils = excluded.pupils, "
            "updated_at = excluded.updated_at",
            [(pk, *value, stamp) for pk, value in new.items() if old.get(pk) != value])


def limits(p: float, n: int) -> tuple[float, float]:
    """The 99.8% limits of a rate around ``p`` for ``n`` sessions (normal approximation to the
    binomial: p ± 3.09·sqrt(p(1−p)/n)), kept within 0 and 1."""
    half = Z * math.sqrt(p * (1 - p) / n)
    return max(0.0, p - half), min(1.0, p + half)


def flag(count: int, n: int, p: float) -> str | None:
    """'high' above the upper limit, 'low' below the lower one, None within them."""
    low, high = limits(p, n)
    rate = count / n
    if rate > high:
        return "high"
    return "low" if rate < low else None


@dataclass
class School:
    school_id: str
    name: str
    phase: str
    pupils: int
    counts: dict[str, int] = field(default_factory=dict)  # code (Y together) -> sessions
    possible: int = 0
    recorded: int = 0

    @property
    def group(self) -> str:
        return f"{self.phase}, {size_band(self.phase, self.pupils)}"

    def n(self, code: str) -> int:
        return self.possible if RATES[code] == "possible" else self.recorded


def schools(txn: SqliteTxn, year: int) -> list[School]:
    """Every school with sessions recorded in ``year``, with its counts of the compared codes."""
    by_pk: dict[int, School] = {}
    for pk, school_id, name, phase, pupils in txn.execute(
            "SELECT r.pk, r.school_id, coalesce(json_extract(s.data, '$.name'), r.school_id), "
            "coalesce(f.phase, 'unknown'), coalesce(f.pupils, 0) FROM register_schools r "
            "LEFT JOIN schools s ON s.id = r.school_id LEFT JOIN school_profiles f ON f.school_pk = r.pk "
            "WHERE r.pk IN (SELECT school_pk FROM school_codes WHERE year = ?)", (year,)):
        by_pk[pk] = School(school_id, name, phase, pupils)
    for pk, code, sessions in txn.execute("SELECT school_pk, code, sessions FROM school_codes WHERE year = ?",
                                          (year,)):
        school = by_pk.get(pk)
        if school is None or code == "#":
            continue
        school.recorded += sessions
        if COUNTER.get(code, -1) >= 0:
            school.possible += sessions
        key = "Y" if code.startswith("Y") else code
        if key in RATES:
            school.counts[key] = school.counts.get(key, 0) + sessions
    return sorted((s for s in by_pk.values() if s.recorded), key=lambda s: s.name)


def _per(count: int, n: int) -> float | None:
    return count * PER / n if n else None


def compare(all_schools: list[School], code: str) -> dict[str, Any]:
    """One code's comparison: the authority's rate, each group's, and per school its rate, its
    99.8% limits around the authority's rate and its group's, and whether it is outside them."""
    total = sum(s.counts.get(code, 0) for s in all_schools)
    sessions = sum(s.n(code) for s in all_schools)
    p = total / sessions if sessions else 0.0
    groups: dict[str, list[School]] = defaultdict(list)
    for s in all_schools:
        groups[s.group].append(s)
    group_p = {}
    for name, members in groups.items():
        n = sum(s.n(code) for s in members)
        group_p[name] = (sum(s.counts.get(code, 0) for s in members) / n if n else 0.0, len(members))
    rows = []
    for s in all_schools:
        n, count = s.n(code), s.counts.get(code, 0)
        if not n:
            continue
        low, high = limits(p, n)
        gp, members = group_p[s.group]
        rows.append({"school_id": s.school_id, "name": s.name, "group": s.group, "sessions": n, "count": count,
                     "rate": _per(count, n), "low": low * PER, "high": high * PER, "flag": flag(count, n, p),
                     "group_rate": gp * PER, "group_schools": members,
                     "group_flag": flag(count, n, gp) if members > 1 else None})
    return {"code": code, "meaning": MEANINGS[code], "per": RATES[code], "authority_rate": p * PER,
            "authority_sessions": sessions, "authority_count": total, "rows": rows,
            "groups": {name: {"rate": gp * PER, "schools": m} for name, (gp, m) in sorted(group_p.items())}}


def comparisons(txn: SqliteTxn, year: int) -> tuple[list[School], list[dict[str, Any]]]:
    found = schools(txn, year)
    return found, [compare(found, code) for code in RATES]
