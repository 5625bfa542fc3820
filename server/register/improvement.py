"""Improvement spotted: attendance over a pupil's last 4 school weeks against the 4 before.

"School weeks" are the weeks the pupil's school recorded sessions in (``school_weeks``, as for
the penalty threshold); the 8 are the school's latest up to the end of the figures row's
academic year, so the windows may reach back into the year before. A pupil is *improving*
when attendance over the last 4 is at least ``BandThresholds.improvement_points`` percentage
points above the 4 before (exactly, no rounding), or its band over the last 4 is better. With
fewer than 8 school weeks, or no possible session in either window, there is nothing to compare.

The figures row keeps both percentages and the verdict; they are recomputed in the import's
own transactions (each slice's pupils, and every pupil of a school whose school weeks moved)
and published to the pupil record with the other register fields. Rules: docs/relationships.md.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import orjson

from ..storage import SqliteTxn
from . import tally
from .figures import BANDS, BandThresholds, band_for
from .portable import PAIRS, element

WEEKS = 4  # each window, in school weeks
FIELDS = ("improving", "attendance_last_4_weeks_pct", "attendance_previous_4_weeks_pct")


@functools.lru_cache(maxsize=1 << 16)  # exact fractions are slow; the same few windows come up again
def is_improving(recent: tuple[int, int], prior: tuple[int, int], bands: BandThresholds) -> bool:
    """``recent``, ``prior``: (attended, possible) sessions of the last 4 school weeks and the 4 before."""
    (attended_r, possible_r), (attended_p, possible_p) = recent, prior
    if not possible_r or not possible_p:
        return False
    gain = (Fraction(attended_r, possible_r) - Fraction(attended_p, possible_p)) * 100
    if gain >= Fraction(str(bands.improvement_points)):
        return True
    now = band_for(possible_r - attended_r, possible_r, bands)
    before = band_for(possible_p - attended_p, possible_p, bands)
    return BANDS.index(now) < BANDS.index(before)


def tenths(attended: int, possible: int) -> int | None:
    """Attendance in tenths of a per cent, half up (as the figures' ``pct``); None with no sessions."""
    return (2000 * attended + possible) // (2 * possible) if possible else None


def fields(recent_pct: int | None, prior_pct: int | None, improving: int | bool) -> dict[str, Any]:
    """The pupil record's read-only improvement fields from a figures row: the two percentages
    only while the pupil is improving, so a record changes when that does, not every week as the
    windows roll on (a new version of every pupil record each week would be pulled by every phone)."""
    if not improving or recent_pct is None or prior_pct is None:
        return {"improving": False, "attendance_last_4_weeks_pct": None, "attendance_previous_4_weeks_pct": None}
    return {"improving": True, "attendance_last_4_weeks_pct": recent_pct / 10,
            "attendance_previous_4_weeks_pct": prior_pct / 10}


def recompute(txn: SqliteTxn, pairs: Iterable[tuple[int, int]], bands: BandThresholds,
              cache: dict[tuple[int | None, int], list[int]] | None = None) -> int:
    """Recompute the improvement of these (pupil, year) figures rows; returns how many changed."""
    pairs = list(pairs)
    if not pairs:
        return 0
    cache = {} if cache is None else cache
    current = {(r[0], r[1]): r[2:] for r in txn.execute(
        "SELECT pupil_pk, year, school_pk, recent_pct, prior_pct, improving FROM figures "
        f"WHERE (pupil_pk, year) IN ({PAIRS})",
        (orjson.dumps([list(p) for p in pairs]).decode(),))}
    weeks_of: dict[tuple[int, int], list[int]] = {}
    for pair, (school, *_rest) in current.items():
        weeks = tally._school_weeks(txn, school, pair[1], cache)[-2 * WEEKS:] if school is not None else []
        if len(weeks) == 2 * WEEKS:
            weeks_of[pair] = weeks
    sums: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    if weeks_of:
        # per pair: (pupil, year, first week, last week of the 4 before, last week), summed in SQL:
        # the pupil's sessions from the first of the 8 school weeks to the last
        wanted = orjson.dumps([[p, y, w[0], w[WEEKS - 1], w[-1]] for (p, y), w in weeks_of.items()]).decode()
        pupil_, year_, first, middle, last = (element("j", i) for i in range(5))
        came, could = "w.present + w.approved", "w.present + w.approved + w.authorised + w.unauthorised"
        for pupil, year, *window_sums in txn.execute(
                f"SELECT {pupil_}, {year_}, sum(iif(w.week <= {middle}, {came}, 0)), "
                f"sum(iif(w.week <= {middle}, {could}, 0)), sum(iif(w.week > {middle}, {came}, 0)), "
                f"sum(iif(w.week > {middle}, {could}, 0)) FROM json_each(?) j JOIN pupil_weeks w "
                f"ON w.pupil_pk = {pupil_} AND w.year BETWEEN {year_} - 1 AND {year_} + 1 "
                f"AND w.week BETWEEN {first} AND {last} GROUP BY j.value", (wanted,)):
            sums[(pupil, year)] = tuple(window_sums)  # type: ignore[assignment]
    updates = []
    for pair, row in current.items():
        new: tuple[Any, ...] = (None, None, 0)
        weeks = weeks_of.get(pair)
        if weeks is not None:
            attended_p, possible_p, attended_r, possible_r = sums.get(pair, (0, 0, 0, 0))
            prior, recent = (attended_p, possible_p), (attended_r, possible_r)
            if prior[1] and recent[1]:
                new = (tenths(*recent), tenths(*prior), int(is_improving(recent, prior, bands)))
        if tuple(row[1:]) != new:
            published = fields(*row[1:]) != fields(*new)  # else no need to publish the record again
            updates.append((*new, int(published), *pair))
    txn.executemany("UPDATE figures SET recent_pct = ?, prior_pct = ?, improving = ?, dirty = max(dirty, ?) "
                    "WHERE pupil_pk = ? AND year = ?", updates)
    return len(updates)


def after_slice(txn: SqliteTxn, bands: BandThresholds) -> None:
    """In an import slice's transaction, after ``tally.apply_stage``: the improvement of every pupil
    whose marks the slice wrote (their figures row of the mark's year; a correction to the last
    weeks of an earlier year reaches this year's row at the next roll forward)."""
    pairs = txn.execute("SELECT DISTINCT pupil_pk, year FROM stage").fetchall()
    recompute(txn, [tuple(p) for p in pairs], bands)


def improving_pupil_ids(st: Any, *, school_id: str | None = None) -> list[str]:
    """The ids of the pupils on roll the register finds improving this academic year (the
    latest with figures), for one school or all (``st``: the app state)."""
    from ..util import today
    from . import queries

    with st.db.read() as txn:
        year = queries.default_year(txn, today())
        where, params, index = queries._where(queries.Filter(year=year, today=today(), listing="improving",
                                                             school_id=school_id))
        return [r[0] for r in txn.execute(
            f"SELECT rp.pupil_id FROM figures f INDEXED BY {index} JOIN register_pupils rp ON rp.pk = f.pupil_pk "
            f"JOIN pupils p ON p.id = rp.pupil_id WHERE {where} AND p.deleted = 0 ORDER BY f.pct, f.pupil_pk", params)]
