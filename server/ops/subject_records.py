"""Subject access, the records added with casework, relationships and transport planning: the
parents (``person``), support and wellbeing plans (every version), lone-working check-ins, the
legal steps with their letters (the PDFs themselves), targeting decisions, praise texts and
contact preferences, transport needs and the stored county plans that place the pupil.

Read inside ``subject.gather``'s snapshot; each query is this module's own (the features' pages
read for one case or one school, not for one subject). What is shared with other people (a
meeting's notes, another pupil on a planned run) is left out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from sync import Record

from ..storage import SqliteTxn

_IN = "(SELECT value FROM json_each(?))"


@dataclass
class More:
    files: dict[str, Any] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)  # synced records (their change log is exported)
    ids: set[str] = field(default_factory=set)  # every record gathered here (the audit log is searched by them)
    indexed: set[str] = field(default_factory=set)  # personal records the export's audit row is indexed by
    attachments: dict[str, bytes] = field(default_factory=dict)  # archive path -> bytes (the letters' PDFs)


def _ids_json(values: set[str]) -> str:
    return orjson.dumps(sorted(values)).decode()


def _rows(txn: SqliteTxn, sql: str, params: tuple[Any, ...], *json_columns: str) -> list[dict[str, Any]]:
    rows = txn.rows(sql, params)
    for row in rows:
        for col in json_columns:
            if isinstance(row.get(col), str):
                row[col] = orjson.loads(row[col])
    return rows


def gather(txn: SqliteTxn, find: Any, record: Any, p_ids: set[str], h_ids: set[str], c_ids: set[str]) -> More:
    """Everything of these kinds about the pupils ``p_ids``, households ``h_ids`` and cases ``c_ids``;
    ``find(txn, type, field, values)`` and ``record(r)`` are ``subject``'s reader and shape."""
    more = More()
    persons = find(txn, "person", "household_id", h_ids)
    plans = find(txn, "support_plan", "case_id", c_ids)
    wellbeing = find(txn, "wellbeing_plan", "case_id", c_ids)
    check_ins = list({r.id: r for r in find(txn, "check_in", "case_id", c_ids)
                      + find(txn, "check_in", "household_id", h_ids)}.values())
    synced = [*persons, *plans, *wellbeing, *check_ins]
    more.records = synced
    more.ids |= {r.id for r in synced}
    more.indexed |= {r.id for r in persons}
    acks = _rows(txn, f"SELECT * FROM check_in_acks WHERE check_in_id IN {_IN} ORDER BY acknowledged_at",
                 (_ids_json({r.id for r in check_ins}),))
    more.files.update({
        "persons": [record(r) for r in persons],
        "support_plans": [record(r) for r in plans],
        "wellbeing_plans": [record(r) for r in wellbeing],
        "check_ins": {"records": [record(r) for r in check_ins], "office_acknowledgements": acks},
        "legal_steps": _legal(txn, more, p_ids, c_ids),
        "targeting": _targeting(txn, more, p_ids),
        "messages": _messages(txn, more, p_ids, h_ids, c_ids),
        "transport_planning": _transport(txn, more, p_ids),
    })
    return more


def _legal(txn: SqliteTxn, more: More, p_ids: set[str], c_ids: set[str]) -> dict[str, Any]:
    """Notices to Improve and penalty notices (one per parent), their history, the register
    sessions each penalty notice rests on, and the letters: their details here, the PDFs as sent
    in ``letters/``."""
    notices = _rows(txn, f"SELECT * FROM legal_notices WHERE pupil_id IN {_IN} OR case_id IN {_IN} "
                    "ORDER BY created_at, id", (_ids_json(p_ids), _ids_json(c_ids)), "data")
    n_ids = _ids_json({n["id"] for n in notices})
    events = _rows(txn, f"SELECT * FROM legal_events WHERE notice_id IN {_IN} ORDER BY id", (n_ids,), "detail")
    sessions = _rows(txn, f"SELECT * FROM penalty_sessions WHERE notice_id IN {_IN} ORDER BY notice_id, day, session",
                     (n_ids,))
    letters = _rows(txn, "SELECT id, notice_id, case_id, kind, template_version, created_at, created_by, sha256, pdf "
                    f"FROM letters WHERE notice_id IN {_IN} OR case_id IN {_IN} ORDER BY created_at, id",
                    (n_ids, _ids_json(c_ids)))
    for letter in letters:
        path = f"letters/{letter['id']}.pdf"
        more.attachments[path] = letter.pop("pdf")
        letter["file"] = path
    more.ids |= {n["id"] for n in notices} | {x["id"] for x in letters}
    return {"notices": notices, "events": events, "penalty_sessions": sessions, "letters": letters}


def _targeting(txn: SqliteTxn, more: More, p_ids: set[str]) -> list[dict[str, Any]]:
    """Each termly meeting's decision about the pupil, with the figures it saw and who attended
    (not the meeting's notes: they are about the whole list)."""
    rows = _rows(txn, "SELECT d.meeting_id, m.school_id, m.held_on, m.year, m.attendees, m.created_at, m.created_by, "
                 "d.pupil_id, d.pct, d.band, d.threshold_met, d.case_id, d.has_plan, d.decision, d.agreed_by, d.note "
                 "FROM targeting_decisions d JOIN targeting_meetings m ON m.id = d.meeting_id "
                 f"WHERE d.pupil_id IN {_IN} ORDER BY m.held_on, d.meeting_id", (_ids_json(p_ids),), "attendees")
    more.ids |= {r["meeting_id"] for r in rows}
    return rows


def _messages(txn: SqliteTxn, more: More, p_ids: set[str], h_ids: set[str], c_ids: set[str]) -> dict[str, Any]:
    """Praise texts about the pupil or to the household, and the household's contact preferences."""
    sent = _rows(txn, f"SELECT * FROM messages WHERE pupil_id IN {_IN} OR household_id IN {_IN} OR case_id IN {_IN} "
                 "ORDER BY created_at, id", (_ids_json(p_ids), _ids_json(h_ids), _ids_json(c_ids)))
    prefs = _rows(txn, f"SELECT * FROM contact_preferences WHERE household_id IN {_IN} ORDER BY household_id",
                  (_ids_json(h_ids),))
    more.ids |= {m["id"] for m in sent}
    return {"texts": sent, "contact_preferences": prefs}


def _transport(txn: SqliteTxn, more: More, p_ids: set[str]) -> dict[str, Any]:
    """The pupil's transport needs, and each stored county plan that placed the pupil: the pupil's
    own entry in the plan's request and their vehicle's trip with only the pupil's stops."""
    needs = _rows(txn, f"SELECT * FROM transport_needs WHERE pupil_id IN {_IN} ORDER BY pupil_id",
                  (_ids_json(p_ids),), "data")
    plans = []
    for pupil_id in sorted(p_ids):
        for row in _rows(txn, "SELECT id, date, run, created_at, created_by, problem, plan FROM transport_plans "
                         "WHERE instr(problem, ?) > 0 ORDER BY date, created_at", (pupil_id,), "problem", "plan"):
            entry = [p for p in row["problem"].get("pupils", []) if isinstance(p, dict) and p.get("id") == pupil_id]
            if not entry:
                continue
            plans.append({"id": row["id"], "date": row["date"], "run": row["run"], "created_at": row["created_at"],
                          "created_by": row["created_by"], "pupil_id": pupil_id, "request": entry[0],
                          "trips": _trips(row["plan"], pupil_id)})
    more.ids |= {p["id"] for p in plans}
    return {"needs": needs, "county_plans": plans}


def _trips(plan: Any, pupil_id: str) -> list[dict[str, Any]]:
    """The routes of a plan that carry the pupil, with only the stops naming them (other pupils'
    ids taken out) and the pupil's own ride time."""
    routes = plan.get("routes", []) if isinstance(plan, dict) else []
    out = []
    for route in routes:
        if not isinstance(route, dict):
            continue
        stops = [{**s, "pupils": [pupil_id]} for s in route.get("stops", [])
                 if isinstance(s, dict) and pupil_id in s.get("pupils", [])]
        if not stops:
            continue
        ride = (route.get("ride_s") or {}).get(pupil_id)
        out.append({**{k: v for k, v in route.items() if k not in ("stops", "ride_s")},
                    "stops": stops, "ride_s": ride})
    return out
