"""Subject access: everything Doorstep holds about one pupil and their household, as one
ZIP archive (a JSON file per kind and a README.txt), for a subject access request.

Gathered in one read snapshot through the stores' own readers (``SqliteTxn.find``, the
register's ``pupil_marks``/``pupil_figures``, the audit log's ``ENTITY_AUDIT_IDS``; the kinds
added with casework, relationships and transport planning in ``subject_records``); the
export itself is then written to the audit log (``subject_export``), indexed by the pupil,
the household and the cases. Deleted records (tombstones) are included and marked.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

import orjson

from sync import Record

from .. import audit
from ..register import queries
from ..register.marks_read import pupil_marks
from ..sqlite_txn import entity_change_seqs
from ..storage import Database, SqliteTxn
from . import subject_records

UPN_RE = re.compile(r"[A-Z0-9]{13}")


class UnknownPupil(ValueError):
    """No pupil record has the UPN (or the UPN is not one)."""


@dataclass
class Subject:
    upn: str
    pupil_ids: list[str]
    files: dict[str, Any] = field(default_factory=dict)  # name (without .json) -> content
    indexed: set[str] = field(default_factory=set)  # the personal records (audit index)
    ids: set[str] = field(default_factory=set)  # every record gathered
    attachments: dict[str, bytes] = field(default_factory=dict)  # archive path -> bytes (letters' PDFs)

    def counts(self) -> dict[str, int]:
        return {name: _count(v) for name, v in self.files.items()}


def _count(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):
        return sum(_count(v) for v in value.values())
    return 1


def normalise_upn(raw: str) -> str:
    upn = raw.strip().upper()
    if not UPN_RE.fullmatch(upn):
        raise UnknownPupil(f"{raw.strip()[:20]!r} is not a UPN (13 letters and digits)")
    return upn


def _record(r: Record) -> dict[str, Any]:
    return {"type": r.type, "id": r.id, "version": r.version, "deleted": r.deleted, "fields": r.fields,
            "created_at": r.created_at, "created_by": r.created_by, "updated_at": r.updated_at,
            "updated_by": r.updated_by, "flags": r.flags}


def _find(txn: SqliteTxn, type_: str, field_: str, values: set[str]) -> list[Record]:
    """Every record (deleted too) whose ``field_`` is one of ``values``, oldest first."""
    if not values:
        return []
    found = list(txn.get(type_, values).values()) if field_ == "id" else txn.find(type_, field_, values)
    return sorted(found, key=lambda r: (r.created_at or "", r.id))


def _ids(records: list[Record]) -> set[str]:
    return {r.id for r in records}


def _json_rows(txn: SqliteTxn, sql: str, ids: set[str] | set[int], *json_columns: str) -> list[dict[str, Any]]:
    rows = txn.rows(sql, (orjson.dumps(sorted(ids)).decode(),))
    for row in rows:
        for col in json_columns:
            if isinstance(row.get(col), str):
                row[col] = orjson.loads(row[col])
    return rows


def gather(db: Database, raw_upn: str) -> Subject:
    """Everything held about the pupil with this UPN and their household; ``UnknownPupil`` if none."""
    upn = normalise_upn(raw_upn)
    with db.read() as txn:
        pupils = _find(txn, "pupil", "upn", {upn})
        if not pupils:
            raise UnknownPupil(f"no pupil has the UPN {upn}")
        p_ids = _ids(pupils)
        h_ids = {r.fields["household_id"] for r in pupils if r.fields.get("household_id")}
        households = _find(txn, "household", "id", h_ids)
        members = [r for r in _find(txn, "pupil", "household_id", h_ids) if r.id not in p_ids]
        schools = _find(txn, "school", "id", {r.fields["school_id"] for r in pupils if r.fields.get("school_id")})
        cases = _find(txn, "case", "pupil_id", p_ids)
        c_ids = _ids(cases)
        visits = {r.id: r for r in _find(txn, "visit", "case_id", c_ids) + _find(txn, "visit", "household_id", h_ids)}
        v_ids = set(visits)
        conversations = {r.id: r for r in _find(txn, "conversation", "case_id", c_ids)
                         + _find(txn, "conversation", "visit_id", v_ids)}
        tasks = _find(txn, "task", "case_id", c_ids)
        stops = _find(txn, "transport_stop", "pupil_id", p_ids)
        runs = _find(txn, "transport_run", "id", {r.fields["run_id"] for r in stops if r.fields.get("run_id")})
        about = p_ids | h_ids | c_ids | v_ids | set(conversations) | _ids(tasks) | _ids(stops)
        notes = {r.id: r for r in _find(txn, "note", "case_id", c_ids) + _find(txn, "note", "subject_id", about)}
        reviews = {r.id: r for r in _find(txn, "review", "case_id", c_ids)
                   + _find(txn, "review", "subject_id", about | set(notes))}
        all_ids = about | set(notes) | set(reviews) | _ids(runs)
        notices = {r.id: r for r in _find(txn, "notice", "case_id", c_ids) + _find(txn, "notice", "record_id", all_ids)}
        all_ids |= set(notices)
        more = subject_records.gather(txn, _find, _record, p_ids, h_ids, c_ids)
        all_ids |= more.ids
        s = Subject(upn, sorted(p_ids), indexed=p_ids | h_ids | c_ids | more.indexed,
                    ids=all_ids | {r.id for r in members}, attachments=more.attachments)
        s.files = {
            "pupil": [_record(r) for r in pupils],
            "household": [_record(r) for r in households],
            "household_members": [_record(r) for r in members],
            "school": [_record(r) for r in schools],
            "cases": [_record(r) for r in cases],
            "visits": [_record(r) for r in visits.values()],
            "conversations": [_record(r) for r in conversations.values()],
            "notes": [_record(r) for r in notes.values()],
            "tasks": [_record(r) for r in tasks],
            "transport": {"stops": [_record(r) for r in stops], "runs": [_record(r) for r in runs]},
            "reviews": {
                "records": [_record(r) for r in reviews.values()],
                "office_states": _json_rows(txn, "SELECT * FROM reviews WHERE entity_id IN "
                                            "(SELECT value FROM json_each(?)) ORDER BY at", all_ids),
                "office_history": _json_rows(txn, "SELECT * FROM review_history WHERE entity_id IN "
                                             "(SELECT value FROM json_each(?)) ORDER BY id", all_ids)},
            "notices": [_record(r) for r in notices.values()],
            **more.files,
            "attendance": {pid: _attendance(txn, pid) for pid in sorted(p_ids)},
            "conflicts": _json_rows(txn, "SELECT * FROM conflicts WHERE entity_id IN (SELECT value FROM json_each(?)) "
                                    "ORDER BY created_at", all_ids, "kept", "lost"),
            "changes": _changes(txn, [*pupils, *households, *cases, *visits.values(), *conversations.values(),
                                      *notes.values(), *tasks, *stops, *reviews.values(), *more.records]),
            "audit": _audit(txn, all_ids),
        }
        s.files["staff"] = _staff(txn, s.files)
    return s


def _attendance(txn: SqliteTxn, pupil_id: str) -> dict[str, Any]:
    years = queries.years_of(txn, pupil_id)
    return {
        "register": txn.rows("SELECT upn, on_roll_from, left_on FROM register_pupils WHERE pupil_id = ?", (pupil_id,)),
        "enrolments": txn.rows(
            "SELECT s.school_id, e.from_date, e.to_date, e.main FROM enrolments e "
            "JOIN register_pupils p ON p.pk = e.pupil_pk LEFT JOIN register_schools s ON s.pk = e.school_pk "
            "WHERE p.pupil_id = ? ORDER BY e.from_date", (pupil_id,)),
        "figures": {str(y): _figures(txn, pupil_id, y) for y in years},
        "marks": [{"date": d.isoformat(), "session": s, "code": c} for d, s, c in pupil_marks(txn, pupil_id)],
        "alerts": txn.rows("SELECT * FROM register_alerts WHERE pupil_id = ? ORDER BY created_at", (pupil_id,)),
        "recent_trend": txn.rows(  # each year's last 4 school weeks against the 4 before (tenths of a per cent)
            "SELECT f.year, f.recent_pct, f.prior_pct, f.improving FROM figures f JOIN register_pupils p "
            "ON p.pk = f.pupil_pk WHERE p.pupil_id = ? ORDER BY f.year", (pupil_id,)),
    }


def _figures(txn: SqliteTxn, pupil_id: str, year: int) -> dict[str, Any] | None:
    figures = queries.pupil_figures(txn, pupil_id, year)
    if figures is not None:
        figures["threshold_sessions"] = queries.threshold_sessions(txn, pupil_id, figures.pop("threshold_window"))
    return figures


def _changes(txn: SqliteTxn, records: list[Record]) -> list[dict[str, Any]]:
    """Every change-log row of the gathered records: who changed what, when, from which device."""
    out = []
    for r in records:
        out += txn.rows(
            "SELECT seq, change_id, type, entity_id, version, status, user_id, device_id, received_at, hlc, fields, "
            f"lost_fields FROM changes WHERE seq IN ({entity_change_seqs(r.type)}) ORDER BY seq", (r.id, r.type, r.id))
    for row in out:
        row["fields"], row["lost_fields"] = orjson.loads(row["fields"]), orjson.loads(row["lost_fields"])
    return sorted(out, key=lambda row: row["seq"])


def _audit(txn: SqliteTxn, ids: set[str]) -> list[dict[str, Any]]:
    """Who saw or changed any gathered record (the audit log as ``GET /api/audit`` finds it)."""
    found: set[int] = set()
    for entity_id in sorted(ids):
        found.update(r[0] for r in txn.execute(audit.ENTITY_AUDIT_IDS, audit.entity_audit_params(entity_id)))
    rows = _json_rows(txn, "SELECT a.id, a.at, a.user_id, a.device_id, d.name AS device_name, a.action, a.entity_ids, "
                      "a.detail FROM audit a LEFT JOIN devices d ON d.id = a.device_id WHERE a.id IN "
                      "(SELECT CAST(value AS INTEGER) FROM json_each(?)) ORDER BY a.id", found, "entity_ids", "detail")
    for row in rows:  # other records a row names (other pupils on a list page) are not this subject's
        row["entity_ids"] = [i for i in row["entity_ids"] if i in ids]
    return rows


def _staff(txn: SqliteTxn, files: dict[str, Any]) -> list[dict[str, Any]]:
    """The staff the other files name by id (their user names and roles, nothing else)."""
    text = orjson.dumps(files).decode()
    return [u for u in txn.rows("SELECT id, username, display_name, role FROM users ORDER BY username")
            if u["id"] in text]


README = """Subject access export from Doorstep
===================================

Pupil UPN: {upn}
Taken: {at} (UTC)
Taken by: {by}

Everything Doorstep holds about this pupil and their household, one JSON file per kind.
Records are shown as stored: "fields" are the record's values, "deleted": true marks a
record that was deleted (its last values are kept until retention removes it). Times are
UTC; user and device ids are named in staff.json and in each audit entry.

{listing}

{attachments}A case's stage on the ladder, and every change to it, are in cases.json and
changes.json; the notices of each legal step are in legal_steps.json. This export is itself
written to the audit log (action "subject_export").
"""

DESCRIPTIONS = {
    "pupil": "the pupil record (name, date of birth, school, roll dates, flags, register figures)",
    "household": "the household: address, contacts (names, relationships, phone numbers), access notes",
    "household_members": "other pupils recorded in the same household",
    "school": "the pupil's school",
    "cases": "the pupil's education welfare cases (officer, stage, agencies, consent, summary)",
    "visits": "home visits on those cases or to the household",
    "conversations": "doorstep conversations on those cases or visits",
    "notes": "notes about any of these records",
    "tasks": "tasks on the cases",
    "transport": "school-run pickups naming the pupil (stops) and the runs they were on",
    "reviews": "office reviews of visits and conversations, and their history",
    "notices": "notices to officers about values of these records set aside in a conflict",
    "persons": "the household's parents and carers (names, contact details, parental responsibility)",
    "support_plans": "attendance support plans on the cases, every version (a review supersedes the last)",
    "wellbeing_plans": "wellbeing plans on the cases, every version",
    "check_ins": "officers' lone-working check-ins for visits on the cases or to the household, and the "
                 "office's acknowledgements of overdue ones",
    "legal_steps": "Notices to Improve and penalty notices to each parent, their history, the register sessions "
                   "a penalty notice rests on, and the letters (the PDFs are in letters/)",
    "targeting": "termly targeting meetings' decisions about the pupil, with the figures they saw",
    "messages": "texts to the family (praise) and the household's contact preferences",
    "transport_planning": "the pupil's transport needs, and the stored county plans that placed the pupil "
                          "(the pupil's own entry and stops only)",
    "attendance": "the attendance register: roll dates, enrolments, every mark, figures per academic year",
    "conflicts": "conflicting edits of these records and how they were resolved",
    "changes": "the change log: every change to these records, by whom, when, from which device",
    "audit": "the audit log: who saw or changed any of these records, when, from which device",
    "staff": "the staff named in the other files",
}


def archive(subject: Subject, taken_by: str, at: str) -> bytes:
    counts = subject.counts()
    listing = "\n".join(f"{name}.json ({counts[name]} item{'' if counts[name] == 1 else 's'}): {DESCRIPTIONS[name]}"
                        for name in subject.files)
    out = io.BytesIO()
    n = len(subject.attachments)
    attached = (f"letters/ ({n} PDF file{'' if n == 1 else 's'}): each letter as it was made, named by its id in "
                "legal_steps.json (its sha256 is there too).\n\n" if n else "")
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("README.txt", README.format(upn=subject.upn, at=at, by=taken_by, listing=listing,
                                                attachments=attached))
        for name, content in subject.files.items():
            zf.writestr(f"{name}.json", orjson.dumps(content, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        for path, blob in sorted(subject.attachments.items()):
            zf.writestr(path, blob)
    return out.getvalue()


def export(db: Database, raw_upn: str, user_id: str, taken_by: str, via: str) -> tuple[bytes, Subject]:
    """The archive for one pupil, with the export written to the audit log."""
    subject = gather(db, raw_upn)
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    data = archive(subject, taken_by, at)
    with db.write() as txn:
        audit.record(txn, user_id, None, "subject_export", subject.ids,
                     {"upn": subject.upn, "via": via, "files": subject.counts(), "bytes": len(data),
                      "letters": len(subject.attachments)},
                     indexed=subject.indexed)
    return data, subject


def filename(subject: Subject) -> str:
    return f"subject-access-{subject.upn}-{dt.date.today().isoformat()}.zip"
