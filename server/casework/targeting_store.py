"""A targeting meeting as records: the form checked field by field, then saved in one transaction
with the figures the meeting saw of every pupil on the worklist (the next meeting's trend is
measured from them) and the decision agreed per pupil, audited."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from .. import audit
from ..office import labels
from ..office.people import Directory, pupil_name
from ..storage import Database, SqliteTxn
from ..util import now_iso
from .targeting import Row

DECISIONS: dict[str, str] = {c: e["label"] for c, e in labels.VOCABULARY["enums"]["targeting_decision"].items()}
DECISION_HELP: dict[str, str] = {c: e.get("help", "") for c, e in
                                 labels.VOCABULARY["enums"]["targeting_decision"].items()}
SIDES: dict[str, str] = {c: e["label"] for c, e in labels.VOCABULARY["enums"]["attendee_side"].items()}
ATTENDEE_ROWS = 8
NAME_MAX, NOTE_MAX, NOTES_MAX = 100, 2000, 10_000


@dataclass
class Draft:
    """What the meeting form sent, as it was typed (to show again beside its errors)."""

    held_on: str = ""
    attendees: list[dict[str, str]] = field(default_factory=list)
    notes: str = ""
    decisions: dict[str, dict[str, str]] = field(default_factory=dict)  # pupil id -> decision, agreed_by, note
    errors: dict[str, str] = field(default_factory=dict)  # field name -> message ("" key: the whole form)

    def attendee_rows(self) -> list[dict[str, str]]:
        rows = list(self.attendees) + [{"name": "", "role": "", "side": ""}] * ATTENDEE_ROWS
        return rows[:max(ATTENDEE_ROWS, len(self.attendees))]


def _text(data: Mapping[str, Any], name: str, limit: int) -> str:
    value = data.get(name, "")
    return value.strip()[:limit + 1] if isinstance(value, str) else ""


def parse(data: Mapping[str, Any], worklist_ids: list[str], today: dt.date) -> Draft:
    """The form's values and, per field, what is wrong with them (empty: it may be saved)."""
    d = Draft(held_on=_text(data, "held_on", 10), notes=_text(data, "notes", NOTES_MAX))
    err = d.errors
    try:
        held = dt.date.fromisoformat(d.held_on)
        if held > today:
            err["held_on"] = "The meeting cannot be in the future: give the day it was held."
        elif held < today - dt.timedelta(days=366):
            err["held_on"] = "Give a date within the last year."
    except ValueError:
        err["held_on"] = "Give the date the meeting was held, like 2026-11-04."
    for i in range(ATTENDEE_ROWS):
        row = {k: _text(data, f"a_{k}_{i}", NAME_MAX) for k in ("name", "role", "side")}
        if not any(row.values()):
            continue
        d.attendees.append(row)
        if not row["name"]:
            err[f"a_name_{i}"] = "Give this attendee's name, or clear the row."
        elif len(row["name"]) > NAME_MAX:
            err[f"a_name_{i}"] = f"At most {NAME_MAX} characters."
        if not row["role"]:
            err[f"a_role_{i}"] = "Give their role, for example Attendance lead or Education welfare officer."
        elif len(row["role"]) > NAME_MAX:
            err[f"a_role_{i}"] = f"At most {NAME_MAX} characters."
        if row["side"] not in SIDES:
            err[f"a_side_{i}"] = "Choose the school or the local authority."
    sides = {a["side"] for a in d.attendees}
    if not d.attendees:
        err["attendees"] = "Name who attended: at least one person from the school and one from the authority."
    elif not {"school", "la"} <= sides:
        err["attendees"] = "A targeting meeting needs someone from the school and someone from the authority."
    if len(d.notes) > NOTES_MAX:
        err["notes"] = f"At most {NOTES_MAX:,} characters."
    on_list = set(worklist_ids)
    for key, value in data.items():
        if key.startswith("d_") and key[2:] not in on_list and value:
            err[""] = ("A decision was sent for a pupil who is no longer on this school's list (the register "
                       "changed since the form was opened). Check the list below and send it again.")
    for pupil_id in worklist_ids:
        entry = {"decision": _text(data, f"d_{pupil_id}", 40), "agreed_by": _text(data, f"by_{pupil_id}", NAME_MAX),
                 "note": _text(data, f"note_{pupil_id}", NOTE_MAX)}
        if not any(entry.values()):
            continue
        d.decisions[pupil_id] = entry
        if entry["decision"] not in DECISIONS:
            err[f"d_{pupil_id}"] = ("Choose a decision, or clear who agreed it and the note."
                                   if not entry["decision"] else "Choose one of the decisions listed.")
        if not entry["agreed_by"]:
            err[f"by_{pupil_id}"] = "Say who agreed this decision."
        elif len(entry["agreed_by"]) > NAME_MAX:
            err[f"by_{pupil_id}"] = f"At most {NAME_MAX} characters."
        if len(entry["note"]) > NOTE_MAX:
            err[f"note_{pupil_id}"] = f"At most {NOTE_MAX:,} characters."
    if not d.decisions and "" not in err:
        err[""] = "Record at least one decision: choose it beside the pupil, with who agreed it."
    return d


@dataclass(frozen=True)
class Seen:
    """What a meeting saw of one pupil on its worklist."""

    pupil_id: str
    pct_tenths: int | None
    band: str | None
    threshold_met: bool
    case_id: str | None
    has_plan: bool


def seen_from(rows: list[Row]) -> list[Seen]:
    return [Seen(r.pupil_id, round(r.figures["attendance_pct"] * 10), r.band,
                 bool(r.figures["penalty_threshold_met"]), r.case_id, r.has_plan) for r in rows]


def save(txn: SqliteTxn, user_id: str | None, school_id: str, year: int, held_on: str,
         attendees: list[dict[str, str]], notes: str, seen: list[Seen],
         decisions: Mapping[str, Mapping[str, str]], meeting_id: str | None = None) -> str:
    """Write one meeting (inside the caller's transaction) and its audit row; returns its id."""
    meeting_id = meeting_id or str(uuid.uuid4())
    txn.execute("INSERT INTO targeting_meetings (id, school_id, held_on, year, attendees, notes, created_at, "
                "created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (meeting_id, school_id, held_on, year,
                 orjson.dumps([{k: a[k] for k in ("name", "role", "side")} for a in attendees]).decode(),
                 notes, now_iso(), user_id))
    rows = []
    for s in seen:
        chosen = decisions.get(s.pupil_id) or {}
        rows.append((meeting_id, s.pupil_id, s.pct_tenths, s.band, int(s.threshold_met), s.case_id,
                     int(s.has_plan), chosen.get("decision") or None, chosen.get("agreed_by", ""),
                     chosen.get("note", "")))
    txn.executemany(
        "INSERT INTO targeting_decisions (meeting_id, pupil_id, pct, band, threshold_met, case_id, has_plan, "
        "decision, agreed_by, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    audit.record(txn, user_id, None, "targeting_meeting", [meeting_id, school_id, *(s.pupil_id for s in seen)],
                 {"school_id": school_id, "held_on": held_on, "pupils": len(seen),
                  "decisions": {p: v.get("decision") for p, v in decisions.items()}})
    return meeting_id


def record(db: Database, user_id: str, school_id: str, year: int, draft: Draft, rows: list[Row]) -> str:
    """Save a checked draft: one transaction for the meeting, its rows and the audit."""
    with db.write() as txn:
        return save(txn, user_id, school_id, year, draft.held_on, draft.attendees, draft.notes, seen_from(rows),
                    draft.decisions)


def load(txn: SqliteTxn, meeting_id: str) -> dict[str, Any] | None:
    """A meeting with its school, and every pupil it saw: name, figures then, decision."""
    found = txn.rows("SELECT m.*, json_extract(s.data, '$.name') AS school_name FROM targeting_meetings m "
                     "LEFT JOIN schools s ON s.id = m.school_id WHERE m.id = ?", (meeting_id,))
    if not found:
        return None
    meeting = {**found[0], "attendees": orjson.loads(found[0]["attendees"])}
    pupils = []
    for r in txn.rows(
            "SELECT d.*, p.data AS pupil, (SELECT c.id FROM cases c WHERE c.pupil_id = d.pupil_id AND "
            "c.status = 'open' AND c.deleted = 0 ORDER BY c.id LIMIT 1) AS open_case "
            "FROM targeting_decisions d LEFT JOIN pupils p ON p.id = d.pupil_id WHERE d.meeting_id = ? "
            "ORDER BY d.decision IS NULL, d.pct, d.pupil_id", (meeting_id,)):
        record_ = orjson.loads(r["pupil"]) if r["pupil"] else {}
        pupils.append({**r, "name": pupil_name(record_), "upn": record_.get("upn"),
                       "pct": None if r["pct"] is None else r["pct"] / 10})
    meeting["pupils"] = pupils
    meeting["directory"] = Directory(txn)
    return meeting
