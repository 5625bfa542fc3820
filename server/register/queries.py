"""The register's read side, shared by the API and the office pages: keyset-paged lists of
pupils with their figures for an academic year, counts, threshold sessions, school status."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson

from ..storage import SqliteTxn
from .codes import SESSIONS
from .tally import UNAUTHORISED_CODES, register_fields

BANDS = ("ok", "at_risk", "persistent", "severe")
# the office's lists: severe; persistent (10%+, severe included); over the threshold
LISTS = {
    "severe": "f.band = 'severe'",
    "persistent": "f.band IN ('persistent', 'severe')",
    "threshold": "f.threshold_met = 1",
    "improving": "f.improving = 1",  # improvement.py
}
_INDEX = {"severe": "figures_band", "persistent": "figures_pct", "threshold": "figures_threshold",
          "improving": "figures_improving"}


@dataclass(frozen=True)
class Filter:
    year: int
    today: dt.date
    band: str | None = None  # one band exactly (the API's band=)
    listing: str | None = None  # one of LISTS (the office's lists)
    threshold: bool | None = None
    school_id: str | None = None
    officer_id: str | None = None


def _where(f: Filter) -> tuple[str, list[Any], str]:
    clauses = ["f.year = ?"]
    params: list[Any] = [f.year]
    index = "figures_pct"
    if f.band is not None:
        clauses.append("f.band = ?")
        params.append(f.band)
        index = "figures_band"
    if f.listing is not None:
        clauses.append(LISTS[f.listing])
        index = _INDEX[f.listing]
    if f.threshold is not None:  # a literal: figures_threshold is a partial index on threshold_met = 1
        clauses.append("f.threshold_met = 1" if f.threshold else "f.threshold_met = 0")
        if f.threshold and f.band is None and f.listing is None:
            index = "figures_threshold"
    if f.school_id is not None:
        clauses.append("f.school_pk = (SELECT pk FROM register_schools WHERE school_id = ?)")
        params.append(f.school_id)
        index = "figures_school"
    if f.officer_id is not None:
        clauses.append("rp.pupil_id IN (SELECT pupil_id FROM cases WHERE assigned_officer_id = ? "
                       "AND status = 'open' AND deleted = 0)")
        params.append(f.officer_id)
    clauses.append("(rp.left_on IS NULL OR rp.left_on > ?)")
    params.append(f.today.isoformat())
    return " AND ".join(clauses), params, index


def pupils(txn: SqliteTxn, f: Filter, after: tuple[int, int] | None, limit: int) -> list[dict[str, Any]]:
    """Worst attendance first; ``after`` is the (pct, key) of the last row of the previous page."""
    where, params, index = _where(f)
    if after is not None:
        where += " AND (f.pct, f.pupil_pk) > (?, ?)"
        params += list(after)
    sql = (
        "SELECT f.pupil_pk, f.pct, rp.pupil_id, p.data, f.possible, f.attended, f.authorised, f.unauthorised, "
        "f.pct, f.band, f.last10, f.threshold_met, f.threshold_from, f.threshold_to, rp.left_on, "
        "(SELECT c.id || ' ' || coalesce(c.assigned_officer_id, '') || ' ' || coalesce(json_extract(c.data, "
        "'$.stage'), '') FROM cases c WHERE c.pupil_id = rp.pupil_id AND c.status = 'open' AND c.deleted = 0 "
        "ORDER BY c.id LIMIT 1) AS open_case, s.school_id "
        f"FROM figures f INDEXED BY {index} JOIN register_pupils rp ON rp.pk = f.pupil_pk "
        "JOIN pupils p ON p.id = rp.pupil_id LEFT JOIN register_schools s ON s.pk = f.school_pk "
        f"WHERE {where} AND p.deleted = 0 ORDER BY f.pct, f.pupil_pk LIMIT ?")
    out = []
    for r in txn.execute(sql, [*params, limit]):
        case_id, officer_id, stage = (r[15].split(" ", 2) if r[15] else (None, None, None))
        out.append({"key": (r[1], r[0]), "id": r[2], "record": orjson.loads(r[3]),
                    "figures": register_fields(r[4:12]), "threshold_window": (r[12], r[13]),
                    "left_on": r[14], "case_id": case_id, "officer_id": officer_id or None,
                    "stage": stage or None, "school_id": r[16]})
    return out


def count(txn: SqliteTxn, f: Filter) -> int:
    where, params, _index = _where(f)
    return txn.execute(f"SELECT count(*) FROM figures f JOIN register_pupils rp "
                       f"ON rp.pk = f.pupil_pk WHERE {where}", params).fetchone()[0]


def threshold_sessions(txn: SqliteTxn, pupil_id: str, window: tuple[int | None, int | None]) -> list[dict[str, Any]]:
    """The unauthorised sessions of the latest qualifying window (first, last week's Monday)."""
    first, last = window
    if first is None or last is None:
        return []
    marks = ",".join("?" * len(UNAUTHORISED_CODES))
    return [{"date": dt.date.fromordinal(d).isoformat(), "session": SESSIONS[s], "code": c}
            for d, s, c in txn.execute(
                "SELECT m.day, m.session, m.code FROM register_marks m JOIN register_pupils p ON p.pk = m.pupil_pk "
                f"WHERE p.pupil_id = ? AND m.day BETWEEN ? AND ? AND m.code IN ({marks}) ORDER BY m.day, m.session",
                (pupil_id, first, last + 6, *UNAUTHORISED_CODES))]


def years_of(txn: SqliteTxn, pupil_id: str | None = None) -> list[int]:
    """Academic years with figures (of one pupil, or of anyone), newest first."""
    if pupil_id is None:
        return [y for (y,) in txn.execute(
            "WITH RECURSIVE y(v) AS (SELECT max(year) FROM figures UNION ALL "
            "SELECT (SELECT max(year) FROM figures WHERE year < y.v) FROM y WHERE y.v IS NOT NULL) "
            "SELECT v FROM y WHERE v IS NOT NULL")]
    return [y for (y,) in txn.execute(
        "SELECT f.year FROM figures f JOIN register_pupils p ON p.pk = f.pupil_pk WHERE p.pupil_id = ? "
        "ORDER BY f.year DESC", (pupil_id,))]


def default_year(txn: SqliteTxn, today: dt.date) -> int:
    """This academic year; until its first marks arrive, the latest year before it with figures."""
    from .years import year_of

    year = year_of(today)
    row = txn.execute("SELECT max(year) FROM figures WHERE year <= ?", (year,)).fetchone()
    has_this = txn.execute("SELECT 1 FROM figures WHERE year = ? LIMIT 1", (year,)).fetchone()
    return year if has_this or row[0] is None else row[0]


def pupil_figures(txn: SqliteTxn, pupil_id: str, year: int) -> dict[str, Any] | None:
    row = txn.execute(
        "SELECT f.possible, f.attended, f.authorised, f.unauthorised, f.pct, f.band, f.last10, f.threshold_met, "
        "f.threshold_from, f.threshold_to FROM figures f JOIN register_pupils p ON p.pk = f.pupil_pk "
        "WHERE p.pupil_id = ? AND f.year = ?", (pupil_id, year)).fetchone()
    if row is None:
        return None
    return {**register_fields(row[:8]), "threshold_window": (row[8], row[9])}


def schools_status(txn: SqliteTxn, today: dt.date, overdue_days: int) -> list[dict[str, Any]]:
    """Each school's last marked day and last import; overdue when its marks are more than
    ``overdue_days`` school days (Monday to Friday) behind today."""
    out = []
    for school_id, name, last_day, last_import in txn.execute(
            "SELECT s.id, json_extract(s.data, '$.name'), r.last_mark_date, r.last_import_at FROM schools s "
            "LEFT JOIN register_schools r ON r.school_id = s.id WHERE s.deleted = 0 "
            "ORDER BY json_extract(s.data, '$.name')"):
        behind = weekdays_between(dt.date.fromisoformat(last_day), today) if last_day else None
        out.append({"school_id": school_id, "name": name, "last_mark_date": last_day,
                    "last_import_at": last_import, "school_days_behind": behind,
                    "overdue": behind is None or behind > overdue_days})
    return out


def weekdays_between(first: dt.date, last: dt.date) -> int:
    """Weekdays after ``first`` up to and including ``last`` (0 when last <= first)."""
    if last <= first:
        return 0
    days = (last - first).days
    weeks, rest = divmod(days, 7)
    extra = sum(1 for i in range(1, rest + 1) if (first + dt.timedelta(days=i)).weekday() < 5)
    return weeks * 5 + extra
