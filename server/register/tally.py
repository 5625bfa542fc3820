"""Incremental register figures: per-pupil weekly counts, school weeks, per-year figures.

A mark changes four counters of its pupil's week (present, approved activity,
authorised, unauthorised) and, unless it is ``#``, its school's session count
for the week. A slice of an import adds its deltas here in one go; the per-year
figures (counts, attendance %, band) follow in the same transaction, in SQL, so
a pupil's marks and figures always agree. The window figures (the last 10
school weeks, the penalty threshold) are recomputed in Python for the pupils
whose unauthorised sessions changed, and for every pupil of a school whose
school weeks moved (``roll_forward``). Rules: docs/register.md.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import orjson

from ..storage import SqliteTxn
from .codes import (
    CATEGORY_APPROVED,
    CATEGORY_AUTHORISED,
    CATEGORY_PRESENT,
    CATEGORY_UNAUTHORISED,
    CODES,
)
from .figures import BandThresholds
from .portable import PAIRS, element, empty, one
from .window import THRESHOLD_SESSIONS, WINDOW_WEEKS
from .years import year_of

# code -> index of its counter (0 present, 1 approved, 2 authorised, 3 unauthorised), -1 not counted
COUNTER: dict[str, int] = {
    code: {CATEGORY_PRESENT: 0, CATEGORY_APPROVED: 1, CATEGORY_AUTHORISED: 2,
           CATEGORY_UNAUTHORISED: 3}.get(category, -1)
    for code, category in CODES.items()}
UNAUTHORISED_CODES = tuple(c for c, i in COUNTER.items() if i == 3)
CLOSED = "#"


class Tally:
    """The deltas of one slice of marks."""

    def __init__(self) -> None:
        self.weeks: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        self.school_weeks: dict[tuple[int, int], int] = defaultdict(int)
        self.years: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        self.school_of: dict[int, int | None] = {}
        self.unauthorised: set[tuple[int, int]] = set()
        self.last_day: dict[int, int] = {}

    def add(self, pupil: int, school: int | None, day: int, code: str, sign: int, year: int,
            week: int) -> None:
        counter = COUNTER[code]
        self.school_of[pupil] = school
        if counter >= 0:
            self.weeks[(pupil, year, week)][counter] += sign
            self.years[(pupil, year)][counter] += sign
            if counter == 3:
                self.unauthorised.add((pupil, year))
        if school is not None and code != CLOSED:
            self.school_weeks[(school, week)] += sign
            if sign > 0 and day > self.last_day.get(school, 0):
                self.last_day[school] = day


# attendance in tenths of a per cent, half up, as figures._percent; 1000 (sorts last) with no sessions
_PCT = "CASE WHEN {p} = 0 THEN 1000 ELSE (2000 * {a} + {p}) / (2 * {p}) END"


def _band_sql(bands: BandThresholds, possible: str = "possible", attended: str = "attended") -> tuple[str, list[int]]:
    """CASE expression of the band from the possible and attended sessions, exact as band_for."""
    parts, params = [], []
    for name, value in (("severe", bands.severe), ("persistent", bands.persistent),
                        ("at_risk", bands.at_risk)):
        f = Fraction(str(value))
        parts.append(f"WHEN ({possible} - {attended}) * ? >= ? * {possible} THEN '{name}'")
        params += [f.denominator, f.numerator]
    return f"CASE WHEN {possible} = 0 THEN 'ok' " + " ".join(parts) + " ELSE 'ok' END", params


def apply(txn: SqliteTxn, tally: Tally, bands: BandThresholds) -> set[tuple[int, int]]:
    """Write a slice's deltas; returns the (school, year) pairs whose school weeks moved."""
    txn.executemany(
        "INSERT INTO pupil_weeks (pupil_pk, year, week, present, approved, authorised, unauthorised) "
        f"VALUES (?, ?, ?, ?, ?, ?, ?) {_ADD_WEEKS}", [(*k, *v) for k, v in tally.weeks.items() if any(v)])
    moved: set[tuple[int, int]] = set()
    changes = [(k, d) for k, d in tally.school_weeks.items() if d]
    if changes:
        before = {(s, w): n for s, w, n in txn.execute(
            f"SELECT school_pk, week, sessions FROM school_weeks WHERE (school_pk, week) IN ({PAIRS})",
            (orjson.dumps([list(k) for k, _ in changes]).decode(),))}
        for (school, week), delta in changes:
            old = before.get((school, week), 0)
            if (old > 0) != (old + delta > 0):
                moved.add((school, year_of_week(week)))
        txn.executemany(f"INSERT INTO school_weeks (school_pk, week, sessions) VALUES (?, ?, ?) {_ADD_SESSIONS}",
                        [(s, w, d) for (s, w), d in changes])
    rows = [(pupil, year, tally.school_of.get(pupil), v[0] + v[1] + v[2] + v[3], v[0] + v[1], v[2], v[3])
            for (pupil, year), v in tally.years.items() if any(v)]
    txn.executemany(
        "INSERT INTO figures (pupil_pk, year, school_pk, possible, attended, authorised, unauthorised, dirty) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (pupil_pk, year) DO UPDATE SET "
        "possible = figures.possible + excluded.possible, attended = figures.attended + excluded.attended, "
        "authorised = figures.authorised + excluded.authorised, "
        "unauthorised = figures.unauthorised + excluded.unauthorised, dirty = 1, "
        "school_pk = coalesce(excluded.school_pk, figures.school_pk)", rows)
    band, params = _band_sql(bands)
    txn.execute(
        f"UPDATE figures SET pct = {_PCT.format(p='possible', a='attended')}, band = {band} "
        f"WHERE (pupil_pk, year) IN ({PAIRS})", (*params, orjson.dumps([[r[0], r[1]] for r in rows]).decode()))
    _last_marks(txn, tally.last_day.items())
    windows(txn, sorted(tally.unauthorised))
    return moved


def _last_marks(txn: SqliteTxn, last_day: Iterable[tuple[int, int]]) -> None:
    """Each school's last marked day, from (school, latest day of a slice's marks)."""
    txn.executemany("UPDATE register_schools SET last_mark_date = max(coalesce(last_mark_date, ''), ?) "
                    "WHERE pk = ?", [(_iso(day), school) for school, day in last_day])


# a slice's deltas added to the rows there (the target's columns named: PostgreSQL's upsert needs it)
_ADD_WEEKS = ("ON CONFLICT (pupil_pk, year, week) DO UPDATE SET present = pupil_weeks.present + excluded.present, "
              "approved = pupil_weeks.approved + excluded.approved, "
              "authorised = pupil_weeks.authorised + excluded.authorised, "
              "unauthorised = pupil_weeks.unauthorised + excluded.unauthorised")
_ADD_SESSIONS = "ON CONFLICT (school_pk, week) DO UPDATE SET sessions = school_weeks.sessions + excluded.sessions"


STAGE = """CREATE TEMP TABLE IF NOT EXISTS stage (
  line INTEGER, pupil_pk INTEGER, day INTEGER, session INTEGER, code TEXT, k INTEGER, school_pk INTEGER,
  year INTEGER, week INTEGER, old TEXT, ko INTEGER, old_import INTEGER)"""
# k, ko: the counter of the new code and of the code it replaces (COUNTER; -1 not counted)


def prepare_stage(txn: SqliteTxn) -> None:
    """The connection's staging table for a slice of marks (TEMP: this connection's alone), empty."""
    txn.execute(STAGE)
    txn.execute("CREATE TEMP TABLE IF NOT EXISTS code_counter (code TEXT PRIMARY KEY, counter INTEGER)")
    if txn.execute("SELECT count(*) FROM code_counter").fetchone()[0] != len(COUNTER):
        txn.execute("DELETE FROM code_counter")
        txn.executemany("INSERT INTO code_counter (code, counter) VALUES (?, ?)", list(COUNTER.items()))
    empty(txn, "stage")


def _delta(new: str, old: str) -> str:
    """+1 for a staged mark meeting ``new``, -1 for the mark it replaced meeting ``old``."""
    return f"{one(new)} - {one(old)}"


_COUNTS = ", ".join(f"sum({_delta(f'k = {i}', f'ko = {i}')})" for i in range(4))
_SESSIONS = "sum(" + _delta("code != '#'", "old != '#'") + ")"  # a school's sessions: marks other than #


def apply_stage(txn: SqliteTxn, bands: BandThresholds) -> set[tuple[int, int]]:
    """The counts, school weeks and figures that the marks left in ``stage`` move (each row a
    mark written: its code, and the code it replaced, if any), all in SQL. Returns the
    (school, year) pairs whose school weeks moved."""
    txn.execute(
        "INSERT INTO pupil_weeks (pupil_pk, year, week, present, approved, authorised, unauthorised) "
        f"SELECT pupil_pk, year, week, {_COUNTS} FROM stage WHERE true GROUP BY pupil_pk, year, week {_ADD_WEEKS}")
    moved: set[tuple[int, int]] = set()
    weeks = txn.execute(
        "SELECT d.school_pk, d.week, coalesce(w.sessions, 0), d.n FROM (SELECT school_pk, week, "
        f"{_SESSIONS} AS n FROM stage WHERE school_pk IS NOT NULL "
        "GROUP BY school_pk, week) d LEFT JOIN school_weeks w ON w.school_pk = d.school_pk AND w.week = d.week "
        "WHERE d.n != 0").fetchall()
    for school, week, old, delta in weeks:
        if (old > 0) != (old + delta > 0):
            moved.add((school, year_of_week(week)))
    txn.executemany(f"INSERT INTO school_weeks (school_pk, week, sessions) VALUES (?, ?, ?) {_ADD_SESSIONS}",
                    [(school, week, delta) for school, week, _old, delta in weeks])
    band_new, params_new = _band_sql(bands, "possible", "attended")
    band_upd, params_upd = _band_sql(bands, "(figures.possible + excluded.possible)",
                                     "(figures.attended + excluded.attended)")
    txn.execute(
        "INSERT INTO figures (pupil_pk, year, school_pk, possible, attended, authorised, unauthorised, pct, band, "
        f"dirty) SELECT *, {_PCT.format(p='possible', a='attended')}, {band_new}, 1 FROM (SELECT pupil_pk, year, "
        f"max(school_pk) AS school_pk, sum({_delta('k >= 0', 'ko >= 0')}) AS possible, "
        f"sum({_delta('k IN (0, 1)', 'ko IN (0, 1)')}) AS attended, sum({_delta('k = 2', 'ko = 2')}) AS authorised, "
        f"sum({_delta('k = 3', 'ko = 3')}) AS unauthorised FROM stage WHERE k >= 0 OR ko >= 0 "
        "GROUP BY pupil_pk, year) d "
        "WHERE true ON CONFLICT (pupil_pk, year) DO UPDATE SET possible = figures.possible + excluded.possible, "
        "attended = figures.attended + excluded.attended, authorised = figures.authorised + excluded.authorised, "
        "unauthorised = figures.unauthorised + excluded.unauthorised, "
        f"pct = {_PCT.format(p='(figures.possible + excluded.possible)', a='(figures.attended + excluded.attended)')}, "
        f"band = {band_upd}, dirty = 1, school_pk = coalesce(excluded.school_pk, figures.school_pk)",
        [*params_new, *params_upd])
    _last_marks(txn, txn.execute("SELECT school_pk, max(day) FROM stage WHERE code != '#' "
                                 "AND school_pk IS NOT NULL GROUP BY school_pk").fetchall())
    windows(txn, txn.execute("SELECT DISTINCT pupil_pk, year FROM stage WHERE k = 3 OR ko = 3").fetchall())
    return moved


def year_of_week(week: int) -> int:

    return year_of(dt.date.fromordinal(week))


def _year_start_week(year: int) -> int:

    start = dt.date(year, 9, 1)
    return start.toordinal() - start.weekday()


def _iso(day: int) -> str:

    return dt.date.fromordinal(day).isoformat()


def _school_weeks(txn: SqliteTxn, school: int | None, year: int,
                  cache: dict[tuple[int | None, int], list[int]]) -> list[int]:
    """The school's school weeks that windows ending in ``year`` may use: the year's own and
    the WINDOW_WEEKS - 1 before it (the window may start in the previous year)."""
    key = (school, year)
    if key not in cache:

        start = _year_start_week(year)
        end = dt.date(year + 1, 8, 31).toordinal()
        if school is None:
            cache[key] = []
        else:
            before = [w for (w,) in txn.execute(
                "SELECT week FROM school_weeks WHERE school_pk = ? AND sessions > 0 AND week < ? "
                "ORDER BY week DESC LIMIT ?", (school, start, WINDOW_WEEKS - 1))]
            during = [w for (w,) in txn.execute(
                "SELECT week FROM school_weeks WHERE school_pk = ? AND sessions > 0 AND week >= ? "
                "AND week <= ? ORDER BY week", (school, start, end))]
            cache[key] = sorted(before) + during
    return cache[key]


def scan_counts(per_week: dict[int, int], weeks: list[int]) -> tuple[bool, int | None, int | None, int]:
    """(met, first week, last week of the latest qualifying window, count in the latest window)
    over consecutive school weeks; with fewer weeks than the window, the one window is all."""
    if not weeks:
        return False, None, None, 0
    counts = [per_week.get(w, 0) for w in weeks]
    size = min(WINDOW_WEEKS, len(weeks))
    total = sum(counts[:size])
    latest = 0 if total >= THRESHOLD_SESSIONS else None
    for start in range(1, len(weeks) - size + 1):
        total += counts[start + size - 1] - counts[start - 1]
        if total >= THRESHOLD_SESSIONS:
            latest = start
    if latest is None:
        return False, None, None, total
    return True, weeks[latest], weeks[latest + size - 1], total


def windows(txn: SqliteTxn, pairs: Iterable[tuple[int, int]],
            cache: dict[tuple[int | None, int], list[int]] | None = None) -> int:
    """Recompute the window figures of these (pupil, year) pairs; returns how many changed."""
    pairs = list(pairs)
    if not pairs:
        return 0
    cache = {} if cache is None else cache
    wanted = orjson.dumps([list(p) for p in pairs]).decode()
    current = {(r[0], r[1]): r[2:] for r in txn.execute(
        "SELECT pupil_pk, year, school_pk, last10, threshold_met, threshold_from, threshold_to FROM figures "
        f"WHERE (pupil_pk, year) IN ({PAIRS})", (wanted,))}
    unauthorised: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    own_weeks: dict[tuple[int, int], set[int]] = defaultdict(set)
    pupil_, year_ = element("j", 0), element("j", 1)
    for pupil, year, week, count, any_count in txn.execute(
            f"SELECT w.pupil_pk, {year_}, w.week, w.unauthorised, "
            "w.present + w.approved + w.authorised + w.unauthorised FROM json_each(?) j "
            f"JOIN pupil_weeks w ON w.pupil_pk = {pupil_} AND w.year IN ({year_}, {year_} - 1)", (wanted,)):
        if count:
            unauthorised[(pupil, year)][week] = count
        if any_count:
            own_weeks[(pupil, year)].add(week)
    updates = []
    for pair in pairs:
        row = current.get(pair)
        if row is None:
            continue
        school = row[0]
        weeks = _school_weeks(txn, school, pair[1], cache)
        if school is None:  # no school known: the pupil's own weeks
            weeks = sorted(own_weeks.get(pair, ()))
        elif unauthorised.get(pair):  # a pupil's own weeks at another school count too
            lo = weeks[0] if weeks else _year_start_week(pair[1])
            extra = {w for w in unauthorised[pair] if w >= lo} - set(weeks)
            if extra:
                weeks = sorted(set(weeks) | extra)
        met, first, last, last10 = scan_counts(unauthorised.get(pair, {}), weeks)
        new = (last10, int(met), first, last)
        if tuple(row[1:]) != new:
            updates.append((*new, *pair))
    txn.executemany("UPDATE figures SET last10 = ?, threshold_met = ?, threshold_from = ?, threshold_to = ?, "
                    "dirty = 1 WHERE pupil_pk = ? AND year = ?", updates)
    return len(updates)


def pupils_of(txn: SqliteTxn, school: int, year: int, after: int, limit: int) -> list[tuple[int, int]]:
    """(pupil, year) pairs of a school's figures rows, keyset-paged by pupil."""
    return [(pk, year) for (pk,) in txn.execute(
        "SELECT pupil_pk FROM figures WHERE year = ? AND school_pk = ? AND pupil_pk > ? "
        "ORDER BY pupil_pk LIMIT ?", (year, school, after, limit))]


def register_fields(row: dict[str, Any] | tuple[Any, ...]) -> dict[str, Any]:
    """The pupil record's read-only register fields from a figures row
    (possible, attended, authorised, unauthorised, pct, band, last10, threshold_met)."""
    possible, attended, authorised, unauthorised, pct, band, last10, met = row
    return {"possible_sessions": possible, "attended_sessions": attended,
            "authorised_absences": authorised, "unauthorised_absences": unauthorised,
            "attendance_pct": pct / 10 if possible else 0.0, "band": band,
            "unauthorised_last_10_weeks": last10, "penalty_threshold_met": bool(met)}

