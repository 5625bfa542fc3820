"""The termly targeting meeting's worklist for one school (read side, shared by its pages).

The worklist is the register's own lists for the school (``server/register/queries.py``:
persistently absent, severe included, and over the penalty-notice threshold), each pupil
with their trend since the school's last meeting (the figures that meeting saw, kept with
it), any open case and whether they have an attendance support plan. Every read goes
through the register's per-year figures and their indexes, never the marks.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..migrations import ENTITY_TABLES
from ..office.people import pupil_name
from ..register import queries
from ..storage import SqliteTxn

PAGE = 500
PLAN_TYPE = "support_plan"  # synced records, one version a record (docs/protocol.md §7.9)
# A pupil has a plan in place when a submitted version on one of their cases is the latest (no
# submitted version supersedes it) and does not record that the plan ended.
PLAN_ENDED = "improved_ended"

@dataclass
class Row:
    """One pupil on a school's worklist."""

    pupil_id: str
    record: dict[str, Any]
    figures: dict[str, Any]
    pct_tenths: int
    lists: list[str]
    case_id: str | None
    officer_id: str | None
    stage: str | None
    has_plan: bool = False
    then: dict[str, Any] | None = None  # the last meeting's snapshot of this pupil, if they were on it

    @property
    def name(self) -> str:
        return pupil_name(self.record)

    @property
    def band(self) -> str:
        return self.figures["band"]

    @property
    def severe_without_plan(self) -> bool:
        return self.band == "severe" and not self.has_plan

    @property
    def trend(self) -> dict[str, Any]:
        """How the pupil moved since the last meeting: kind (new, better, worse, same) and words."""
        return trend(self.then, self.figures["attendance_pct"], self.band)


@dataclass
class Worklist:
    school: dict[str, Any]
    year: int
    rows: list[Row]
    last_meeting: dict[str, Any] | None
    gone: list[dict[str, Any]] = field(default_factory=list)  # on the last meeting's list, not on this one

    @property
    def severe_without_plan(self) -> list[Row]:
        return [r for r in self.rows if r.severe_without_plan]

    def counts(self) -> dict[str, int]:
        return {"all": len(self.rows), "severe": sum(r.band == "severe" for r in self.rows),
                "persistent": sum("persistent" in r.lists for r in self.rows),
                "threshold": sum("threshold" in r.lists for r in self.rows),
                "severe_without_plan": len(self.severe_without_plan)}


def _pct(tenths: int | None) -> float | None:
    return None if tenths is None else tenths / 10


def trend(then: dict[str, Any] | None, now_pct: float, now_band: str) -> dict[str, Any]:
    if then is None:
        return {"kind": "new", "words": "New to the list since the last meeting", "points": None}
    before = then["pct"]
    points = None if before is None else round(now_pct - before, 1)
    if then["band"] != now_band:
        order = ("ok", "at_risk", "persistent", "severe")
        worse = order.index(now_band) > order.index(then["band"]) if then["band"] in order else False
        kind = "worse" if worse else "better"
    elif points is None or points == 0:
        kind = "same"
    else:
        kind = "better" if points > 0 else "worse"
    return {"kind": kind, "points": points, "band_then": then["band"], "pct_then": before,
            "words": {"better": "Better", "worse": "Worse", "same": "No change"}[kind]}


def _list(txn: SqliteTxn, listing: str, school_id: str, year: int, today: dt.date) -> list[dict[str, Any]]:
    """Every pupil of one register list for one school (keyset pages of the register's query)."""
    f = queries.Filter(year=year, today=today, listing=listing, school_id=school_id)
    out: list[dict[str, Any]] = []
    after = None
    while True:
        page = queries.pupils(txn, f, after, PAGE)
        out += page
        if len(page) < PAGE:
            return out
        after = page[-1]["key"]


def _plan_table(txn: SqliteTxn) -> str | None:
    """The support plans' table, or None while the type does not exist."""
    entry = ENTITY_TABLES.get(PLAN_TYPE)
    if entry is None or not txn.execute(f"PRAGMA table_info({entry[0]})").fetchall():
        return None
    return entry[0]


def pupils_with_plans(txn: SqliteTxn, pupil_ids: list[str]) -> set[str]:
    """Which of these pupils have a support plan in place (through their cases, by index)."""
    table = _plan_table(txn)
    if table is None or not pupil_ids:
        return set()
    return {r[0] for r in txn.execute(
        f"SELECT DISTINCT c.pupil_id FROM cases c JOIN {table} sp ON sp.case_id = c.id "
        "WHERE c.pupil_id IN (SELECT value FROM json_each(?)) AND c.deleted = 0 AND sp.deleted = 0 "
        "AND json_extract(sp.data, '$.status') = 'submitted' "
        "AND coalesce(json_extract(sp.data, '$.review_outcome'), '') != ? "
        f"AND NOT EXISTS (SELECT 1 FROM {table} n WHERE n.supersedes = sp.id AND n.deleted = 0 "
        "AND json_extract(n.data, '$.status') = 'submitted')",
        (orjson.dumps(pupil_ids).decode(), PLAN_ENDED))}


def last_meeting(txn: SqliteTxn, school_id: str) -> dict[str, Any] | None:
    rows = txn.rows("SELECT id, held_on, year, attendees FROM targeting_meetings WHERE school_id = ? "
                    "ORDER BY held_on DESC, created_at DESC LIMIT 1", (school_id,))
    if not rows:
        return None
    return {**rows[0], "attendees": orjson.loads(rows[0]["attendees"])}


def snapshot_of(txn: SqliteTxn, meeting_id: str) -> dict[str, dict[str, Any]]:
    """pupil id -> what the meeting saw of them (attendance %, band, threshold) and its decision."""
    return {r["pupil_id"]: {"pct": _pct(r["pct"]), "band": r["band"], "threshold_met": bool(r["threshold_met"]),
                            "decision": r["decision"]}
            for r in txn.rows("SELECT pupil_id, pct, band, threshold_met, decision FROM targeting_decisions "
                              "WHERE meeting_id = ?", (meeting_id,))}


def school(txn: SqliteTxn, school_id: str) -> dict[str, Any] | None:
    rows = txn.rows("SELECT id, json_extract(data, '$.name') AS name FROM schools WHERE id = ? AND deleted = 0",
                    (school_id,))
    return rows[0] if rows else None


def worklist(txn: SqliteTxn, school_id: str, year: int, today: dt.date) -> Worklist | None:
    """The school's worklist, lowest attendance first; None when there is no such school."""
    found = school(txn, school_id)
    if found is None:
        return None
    rows: dict[str, Row] = {}
    for listing in ("persistent", "threshold"):
        for r in _list(txn, listing, school_id, year, today):
            row = rows.get(r["id"])
            if row is None:
                row = rows[r["id"]] = Row(r["id"], r["record"], r["figures"], r["key"][0], [], r["case_id"],
                                          r["officer_id"], r["stage"])
            row.lists.append(listing)
    ordered = sorted(rows.values(), key=lambda x: (x.pct_tenths, x.pupil_id))
    for row in ordered:
        if row.band == "severe":
            row.lists.insert(0, "severe")
    plans = pupils_with_plans(txn, list(rows))
    last = last_meeting(txn, school_id)
    seen = snapshot_of(txn, last["id"]) if last else {}
    for row in ordered:
        row.has_plan = row.pupil_id in plans
        row.then = seen.get(row.pupil_id)
    gone = []
    for pupil_id, then in seen.items():
        if pupil_id in rows:
            continue
        record = txn.rows("SELECT data FROM pupils WHERE id = ? AND deleted = 0", (pupil_id,))
        if not record:
            continue
        now = queries.pupil_figures(txn, pupil_id, year)
        gone.append({"pupil_id": pupil_id, "name": pupil_name(orjson.loads(record[0]["data"])), "then": then,
                     "now_pct": now["attendance_pct"] if now else None, "now_band": now["band"] if now else None})
    gone.sort(key=lambda g: g["name"])
    return Worklist(found, year, ordered, last, gone)


def schools_overview(txn: SqliteTxn, year: int, today: dt.date) -> list[dict[str, Any]]:
    """Each school with its list sizes, severely absent pupils without a plan, and last meeting."""
    out = []
    for s in txn.rows("SELECT id, json_extract(data, '$.name') AS name FROM schools WHERE deleted = 0 "
                      "ORDER BY name"):
        counts = {k: queries.count(txn, queries.Filter(year=year, today=today, listing=k, school_id=s["id"]))
                  for k in ("severe", "persistent", "threshold")}
        severe = [r["id"] for r in _list(txn, "severe", s["id"], year, today)]
        counts["severe_without_plan"] = len(set(severe) - pupils_with_plans(txn, severe))
        out.append({**s, "counts": counts, "last_meeting": last_meeting(txn, s["id"])})
    return out


def meetings_of(txn: SqliteTxn, school_id: str) -> list[dict[str, Any]]:
    """The school's meetings, newest first, with how many decisions each recorded."""
    return txn.rows(
        "SELECT m.id, m.held_on, m.year, (SELECT count(*) FROM targeting_decisions d WHERE d.meeting_id = m.id "
        "AND d.decision IS NOT NULL) AS decisions FROM targeting_meetings m WHERE m.school_id = ? "
        "ORDER BY m.held_on DESC, m.created_at DESC", (school_id,))
