"""Office alerts from a roll import: a pupil who left with an open case or no known
destination is a possible child missing education. The office sees the alert (``/office/roll``)
and the case officer gets a task on each open case."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sync import Record
from sync.clock_mark import UNSTAMPED

from .. import audit
from ..storage import Database, SqliteTxn
from ..util import now_iso
from .roll_ids import uuid5
from .roll_report import RollReport

ALERT_KIND = "possible_cme"
TASK_DUE_DAYS = 5


@dataclass(slots=True)
class Leaver:
    pupil_id: str
    fields: dict[str, Any]  # the pupil as it is once left
    school_name: str
    left_on: str
    destination: str | None


def leaver_alerts(db: Database, day: str, report: RollReport, leavers: list[Leaver],
                  tasks: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Office alerts for leavers with an open case or no known destination (a possible child
    missing education), and a task on each open case for its officer (added to ``tasks``,
    stamped inside the write transaction that applies them)."""
    if not leavers:
        return []
    with db.read() as txn:
        found = txn.find("case", "pupil_id", [lv.pupil_id for lv in leavers])
    cases: dict[str, list[Record]] = {}
    for c in sorted(found, key=lambda c: c.id):
        if not c.deleted and c.fields.get("status") == "open":
            cases.setdefault(c.fields["pupil_id"], []).append(c)
    rows: list[tuple[Any, ...]] = []
    now = now_iso()
    due = (dt.date.fromisoformat(day) + dt.timedelta(days=TASK_DUE_DAYS)).isoformat()
    for lv in leavers:
        open_cases = cases.get(lv.pupil_id, [])
        if not open_cases and lv.destination:
            continue
        f = lv.fields
        who = f"{f.get('first_name', '')} {f.get('last_name', '')}".strip()
        school = lv.school_name or "school"
        why = (["no known destination"] if not lv.destination else []) + (["an open case"] if open_cases else [])
        detail = (f"Possible child missing education: {who} ({f.get('upn', '')}) left {school} on "
                  f"{lv.left_on}" + (f" (destination: {lv.destination})" if lv.destination else "")
                  + "; " + " and ".join(why) + ".")
        alert_id = uuid5(f"alert:{ALERT_KIND}:{lv.pupil_id}:{lv.left_on}")
        report.alerts.append({
            "id": alert_id, "pupil_id": lv.pupil_id, "upn": f.get("upn"), "name": who, "school": lv.school_name,
            "left_on": lv.left_on, "destination": lv.destination, "case_ids": [c.id for c in open_cases],
            "officer_ids": [c.fields.get("assigned_officer_id") for c in open_cases], "detail": detail})
        rows.append((alert_id, ALERT_KIND, lv.pupil_id, f.get("school_id"), now, detail))
        for case in open_cases:
            task_id = uuid5(f"task:{ALERT_KIND}:{case.id}:{lv.left_on}")
            title = (f"Possible child missing education: {who} left {school} on {lv.left_on}"
                     + (f" (destination: {lv.destination})" if lv.destination else " with no known destination")
                     + ". Find out where they are now.")
            fields: dict[str, Any] = {"case_id": case.id, "title": title[:300], "due_on": due, "done": False}
            if case.fields.get("assigned_officer_id"):
                fields["assigned_to"] = case.fields["assigned_officer_id"]
            tasks.append({"change_id": uuid5(f"change:{task_id}"), "type": "task",
                          "id": task_id, "op": "put", "fields": fields, "base_version": None,
                          "hlc": UNSTAMPED})
    return rows


def save_alerts(txn: SqliteTxn, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        txn.executemany("INSERT OR IGNORE INTO register_alerts (id, kind, pupil_id, school_id, created_at, "
                             "detail) VALUES (?, ?, ?, ?, ?, ?)", rows)


def open_alerts(db: Database, limit: int = 50) -> list[dict[str, Any]]:
    """Unresolved register alerts, newest first."""
    return db.query("SELECT a.id, a.kind, a.pupil_id, a.school_id, a.created_at, a.detail, "
                    "json_extract(s.data, '$.name') AS school FROM register_alerts a "
                    "LEFT JOIN schools s ON s.id = a.school_id WHERE a.resolved_at IS NULL "
                    "ORDER BY a.created_at DESC, a.id LIMIT ?", (limit,))


def count_open_alerts(db: Database) -> int:
    return db.query("SELECT count(*) AS n FROM register_alerts WHERE resolved_at IS NULL")[0]["n"]


def resolve_alert(db: Database, alert_id: str, user_id: str) -> bool:
    with db.write() as txn:
        cur = txn.execute("UPDATE register_alerts SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL",
                          (now_iso(), alert_id))
        if cur.rowcount:
            audit.record(txn, user_id, None, "register_alert_resolved", [alert_id])
        return bool(cur.rowcount)
