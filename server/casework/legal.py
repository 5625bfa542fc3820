"""The legal steps, read (by the API and the office pages alike): calendars, notices, the
sessions a penalty notice may rest on, the support a case has had, what is due."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import orjson

from ..office.labels import OUTCOMES
from ..office.people import entity, pupil_name
from ..register.codes import SESSIONS
from ..register.tally import UNAUTHORISED_CODES
from ..storage import SqliteTxn
from . import legal_rules
from .school_calendar import Period, SchoolCalendar, for_school

NTI, PN = "notice_to_improve", "penalty_notice"
KINDS = (NTI, PN)
KIND_WORDS = {NTI: "Notice to Improve", PN: "Penalty notice"}
STATUS_WORDS = {"issued": "Issued", "improved": "Improved", "not_improved": "Not improved",
                "requested": "Requested, awaiting review", "approved": "Approved, not yet issued",
                "refused": "Refused", "paid": "Paid", "withdrawn": "Withdrawn",
                "unpaid": "Not paid: consider prosecution"}
OPEN_STATUSES = ("issued", "requested", "approved")


def _periods(txn: SqliteTxn, school_id: str | None) -> list[Period]:
    sql = ("SELECT kind, starts_on, ends_on, name FROM term_dates WHERE "
           + ("school_id IS NULL" if school_id is None else "school_id = ?") + " ORDER BY starts_on")
    return [Period(r["kind"], dt.date.fromisoformat(r["starts_on"]), dt.date.fromisoformat(r["ends_on"]), r["name"])
            for r in txn.rows(sql, () if school_id is None else (school_id,))]


def calendar_for(txn: SqliteTxn, school_id: str | None) -> SchoolCalendar:
    """The school's calendar: its own dates for the years it has them, the authority's for the rest."""
    return for_school(_periods(txn, None), _periods(txn, school_id) if school_id else [])


def term_rows(txn: SqliteTxn) -> list[dict[str, Any]]:
    return txn.rows("SELECT t.id, t.school_id, t.kind, t.starts_on, t.ends_on, t.name, "
                    "json_extract(s.data, '$.name') AS school FROM term_dates t "
                    "LEFT JOIN schools s ON s.id = t.school_id ORDER BY t.school_id IS NOT NULL, school, t.starts_on")


def school_by_urn(txn: SqliteTxn) -> dict[str, str]:
    return {r["urn"]: r["id"] for r in txn.rows(
        "SELECT id, json_extract(data, '$.urn') AS urn FROM schools WHERE deleted = 0 "
        "AND json_extract(data, '$.urn') IS NOT NULL")}


def attendance_record(txn: SqliteTxn, pupil_id: str) -> dict[str, Any]:
    """The pupil's register figures for their latest academic year (empty counts when none)."""
    rows = txn.rows("SELECT f.year, f.possible, f.attended, f.authorised, f.unauthorised, f.pct FROM figures f "
                    "JOIN register_pupils p ON p.pk = f.pupil_pk WHERE p.pupil_id = ? ORDER BY f.year DESC LIMIT 1",
                    (pupil_id,))
    if not rows:
        return {"year": None, "possible": 0, "attended": 0, "authorised": 0, "unauthorised": 0, "pct": None}
    r = rows[0]
    return {**r, "pct": r["pct"] / 10}


def support_offered(txn: SqliteTxn, case_id: str) -> list[str]:
    """The support a case's record shows, one line each, oldest first: visits, conversations
    (with their agreed actions) and attendance support plans."""
    lines: list[tuple[str, str]] = []
    for r in txn.rows("SELECT coalesce(json_extract(data, '$.started_at'), json_extract(data, '$.planned_for')) AS at,"
                      " json_extract(data, '$.outcome') AS outcome FROM visits WHERE case_id = ? AND deleted = 0 "
                      "AND json_extract(data, '$.status') = 'submitted'", (case_id,)):
        lines.append(((r["at"] or "")[:10], "Home visit: " + OUTCOMES.get(r["outcome"], r["outcome"] or "recorded")))
    for day, data, actions in _with_actions(txn, "conversations", case_id, "agreed_actions"):
        lines.append((day, f"Conversation with {data.get('spoke_with') or 'the family'}"
                      + (f", agreed: {actions}" if actions else "")))
    for day, data, actions in _with_actions(txn, "support_plans", case_id, "actions"):
        lines.append((day, f"Attendance support plan (version {data.get('plan_version') or 1})"
                      + (f": {actions}" if actions else "")))
    return [f"{day}: {text}" for day, text in sorted(lines)]


def _with_actions(txn: SqliteTxn, table: str, case_id: str, key: str) -> Iterator[tuple[str, dict[str, Any], str]]:
    """A case's live records in ``table`` (conversations, support plans): the day each was made,
    its fields, and its agreed actions (the list at ``key``) in one line."""
    for r in txn.rows(f"SELECT created_at AS at, data FROM {table} WHERE case_id = ? AND deleted = 0", (case_id,)):
        data = orjson.loads(r["data"])
        yield r["at"][:10], data, "; ".join(a.get("action", "") for a in data.get(key) or [] if a.get("action"))


def parents(txn: SqliteTxn, case: dict[str, Any]) -> list[dict[str, Any]]:
    """The persons with parental responsibility the case names (or its household's), with their address."""
    pupil = entity(txn, "pupils", case.get("pupil_id")) or {}
    household = entity(txn, "households", pupil.get("household_id")) or {}
    ids = case.get("parent_ids") or []
    rows = (txn.rows("SELECT id, data FROM persons WHERE deleted = 0 AND id IN (SELECT value FROM json_each(?))",
                     (orjson.dumps(ids).decode(),)) if ids else
            txn.rows("SELECT id, data FROM persons WHERE deleted = 0 AND household_id = ?", (household.get("id"),)))
    out = []
    for r in rows:
        data = orjson.loads(r["data"])
        if data.get("parental_responsibility") is False or data.get("no_longer_involved"):
            continue
        out.append({"id": r["id"], "name": data.get("name", ""),
                    "address": data.get("address") or household.get("address") or ""})
    return sorted(out, key=lambda p: p["name"])


def person(txn: SqliteTxn, person_id: str) -> dict[str, Any] | None:
    return entity(txn, "persons", person_id)


def _notice(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in row.items() if k != "data"}, **orjson.loads(row["data"]),
            "kind_words": KIND_WORDS[row["kind"]], "status_words": STATUS_WORDS.get(row["status"], row["status"])}


def notice(txn: SqliteTxn, notice_id: str) -> dict[str, Any] | None:
    rows = txn.rows("SELECT * FROM legal_notices WHERE id = ?", (notice_id,))
    return _notice(rows[0]) if rows else None


def notices_of_case(txn: SqliteTxn, case_id: str) -> list[dict[str, Any]]:
    out = []
    for row in txn.rows("SELECT * FROM legal_notices WHERE case_id = ? ORDER BY created_at, id", (case_id,)):
        n = _notice(row)
        n["sessions"] = sessions_of(txn, n["id"])
        n["letters"] = txn.rows("SELECT id, created_at, template_version, sha256 FROM letters WHERE notice_id = ? "
                                "ORDER BY created_at", (n["id"],))
        n["events"] = events(txn, n["id"])
        out.append(n)
    return out


def events(txn: SqliteTxn, notice_id: str) -> list[dict[str, Any]]:
    return [{**r, "detail": orjson.loads(r["detail"])} for r in txn.rows(
        "SELECT e.at, e.action, e.detail, u.username FROM legal_events e LEFT JOIN users u ON u.id = e.user_id "
        "WHERE e.notice_id = ? ORDER BY e.id", (notice_id,))]


def sessions_of(txn: SqliteTxn, notice_id: str) -> list[dict[str, Any]]:
    return [{"date": dt.date.fromordinal(r["day"]).isoformat(), "session": SESSIONS[r["session"]], "code": r["code"]}
            for r in txn.rows("SELECT day, session, code FROM penalty_sessions WHERE notice_id = ? "
                              "ORDER BY day, session", (notice_id,))]


def unauthorised_sessions(txn: SqliteTxn, pupil_id: str) -> list[dict[str, Any]]:
    """Every unauthorised session of the pupil on the register, newest first, with the parents
    whose standing notices already rest on it."""
    marks = ",".join("?" * len(UNAUTHORISED_CODES))
    rows = txn.rows(f"SELECT m.day, m.session, m.code FROM register_marks m JOIN register_pupils p "
                    f"ON p.pk = m.pupil_pk WHERE p.pupil_id = ? AND m.code IN ({marks}) ORDER BY m.day DESC, m.session",
                    (pupil_id, *UNAUTHORISED_CODES))
    used: dict[tuple[int, int], list[str]] = {}
    for r in txn.rows("SELECT s.day, s.session, n.data FROM penalty_sessions s JOIN legal_notices n "
                      "ON n.id = s.notice_id WHERE s.pupil_id = ? AND s.active = 1", (pupil_id,)):
        used.setdefault((r["day"], r["session"]), []).append(orjson.loads(r["data"]).get("parent_name", ""))
    return [{"day": r["day"], "session": r["session"], "code": r["code"], "key": f"{r['day']}-{r['session']}",
             "date": dt.date.fromordinal(r["day"]).isoformat(), "session_name": SESSIONS[r["session"]],
             "used_by": used.get((r["day"], r["session"]), [])} for r in rows]


def used_sessions(txn: SqliteTxn, pupil_id: str, parent_key: str) -> list[tuple[int, int]]:
    return [(r["day"], r["session"]) for r in txn.rows(
        "SELECT day, session FROM penalty_sessions WHERE pupil_id = ? AND parent_key = ? AND active = 1",
        (pupil_id, parent_key))]


def issued_dates(txn: SqliteTxn, pupil_id: str, parent_key: str, not_id: str = "") -> list[dt.date]:
    """The issue dates of the parent's penalty notices for this child that stand (not withdrawn)."""
    return [dt.date.fromisoformat(r["d"]) for r in txn.rows(
        "SELECT json_extract(data, '$.issued_on') AS d FROM legal_notices WHERE kind = ? AND pupil_id = ? "
        "AND parent_key = ? AND id != ? AND status IN ('issued', 'paid', 'unpaid') "
        "AND json_extract(data, '$.issued_on') IS NOT NULL",
        (PN, pupil_id, parent_key, not_id))]


def nti_for(txn: SqliteTxn, case_id: str, parent_key: str) -> dict[str, Any] | None:
    """The parent's latest Notice to Improve on this case."""
    rows = txn.rows("SELECT * FROM legal_notices WHERE kind = ? AND case_id = ? AND parent_key = ? "
                    "ORDER BY created_at DESC LIMIT 1", (NTI, case_id, parent_key))
    return _notice(rows[0]) if rows else None


def due(txn: SqliteTxn, today: dt.date) -> list[dict[str, Any]]:
    """What the office must do now: improvement periods ended without an outcome, requests to
    review, approved notices to issue, issued notices past their last day to pay."""
    out = []
    for row in txn.rows("SELECT n.*, p.data AS pupil FROM legal_notices n LEFT JOIN pupils p ON p.id = n.pupil_id "
                        "WHERE n.status IN ('issued', 'requested', 'approved') ORDER BY n.due_on, n.id"):
        pupil = orjson.loads(row.pop("pupil") or "{}")
        n = _notice(row)
        # a period's outcome is due on its last day; non-payment only once the last day to pay has passed
        on = dt.date.fromisoformat(n["due_on"]) if n["due_on"] else dt.date.max
        is_due = n["status"] in ("requested", "approved") or (on <= today if n["kind"] == NTI else on < today)
        n["action"] = {("notice_to_improve", "issued"): "Record the outcome of the improvement period",
                       ("penalty_notice", "requested"): "Review the request",
                       ("penalty_notice", "approved"): "Issue the notice",
                       ("penalty_notice", "issued"): "Record payment or non-payment"}[(n["kind"], n["status"])]
        out.append({**n, "pupil_name": pupil_name(pupil), "is_due": is_due})
    return out


def unpaid(txn: SqliteTxn) -> list[dict[str, Any]]:
    return [_notice(r) for r in txn.rows("SELECT * FROM legal_notices WHERE status = 'unpaid' ORDER BY updated_at")]


def evidence_window_ok(calendar: SchoolCalendar, chosen: list[tuple[int, int]], weeks: int) -> bool:
    """The chosen sessions fall within ``weeks`` school weeks."""
    days = sorted(d for d, _ in chosen)
    first, last = dt.date.fromordinal(days[0]), dt.date.fromordinal(days[-1])
    if calendar.last_day() is None:  # no term dates entered: calendar weeks, a stricter count
        return (last - dt.timedelta(days=last.weekday()) - (first - dt.timedelta(days=first.weekday()))).days // 7 < weeks
    return calendar.school_weeks_between(first, last) <= weeks


def cap_state(txn: SqliteTxn, pupil_id: str, parent_key: str, day: dt.date, not_id: str = "") -> tuple[bool, int]:
    """(the cap is reached on ``day``, earlier notices in the window)."""
    earlier = legal_rules.notices_in_window(issued_dates(txn, pupil_id, parent_key, not_id), day)
    return len(earlier) >= legal_rules.CAP, len(earlier)
