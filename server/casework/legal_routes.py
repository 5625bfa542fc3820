"""The legal steps' API (docs/protocol.md): a case's notices, what is due, a school's request for a
penalty notice, and the school-week arithmetic. Office and admin only; reads are audited."""
from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import ADMIN, OFFICE

from ..errors import invalid, not_found
from ..http import audit_read, authenticate, query_int, read_json, state, string_field, uuid_param
from ..jsonresp import JSONResponse
from ..office.people import entity
from ..register.codes import SESSIONS
from ..util import today
from . import legal, legal_writes
from .school_calendar import CalendarGap

MAX_SESSIONS = 400


def _date(value: Any, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else _bad(name)
    except ValueError:
        return _bad(name)


def _bad(name: str) -> dt.date:
    raise invalid(f"{name} must be a date, YYYY-MM-DD", field=name)


async def case_legal(request: Request) -> Response:
    """``GET /api/casework/cases/{case_id}/legal``: the case's notices with their sessions, letters and history."""
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    case_id = uuid_param(request, "case_id", "case").lower()

    def work() -> dict[str, Any] | None:
        with st.db.read() as txn:
            case = entity(txn, "cases", case_id)
            if case is None:
                return None
            return {"case_id": case_id, "pupil_id": case["pupil_id"], "stage": case.get("stage"),
                    "notices": [{k: v for k, v in n.items() if k not in ("kind_words", "status_words")}
                                for n in legal.notices_of_case(txn, case_id)]}

    body = await run_in_threadpool(work)
    if body is None:
        raise not_found(f"no case {case_id}")
    await audit_read(request, auth, "read_legal", [body["pupil_id"], case_id])
    return JSONResponse(body)


async def due(request: Request) -> Response:
    """``GET /api/casework/legal/due``: notices in progress, due first."""
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)

    def work() -> list[dict[str, Any]]:
        with st.db.read() as txn:
            return legal.due(txn, today())

    rows = await run_in_threadpool(work)
    await audit_read(request, auth, "read_legal", sorted({r["pupil_id"] for r in rows}))
    return JSONResponse({"items": [{"id": r["id"], "kind": r["kind"], "case_id": r["case_id"],
                                    "pupil_id": r["pupil_id"], "parent_name": r["parent_name"], "status": r["status"],
                                    "due_on": r["due_on"], "is_due": r["is_due"], "action": r["action"]}
                                   for r in rows]})


async def request_penalty_notice(request: Request) -> Response:
    """``POST /api/casework/cases/{case_id}/penalty-notices``: a request for one parent, resting on
    the sessions named; 201 with its status (``refused`` with the reason for a third in 3 years)."""
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    case_id = uuid_param(request, "case_id", "case").lower()
    data = await read_json(request)
    sessions = data.get("sessions")
    if not isinstance(sessions, list) or not 0 < len(sessions) <= MAX_SESSIONS:
        raise invalid(f"sessions is a list of 1 to {MAX_SESSIONS} {{date, session}} objects", field="sessions")
    chosen = []
    for s in sessions:
        if not isinstance(s, dict) or s.get("session") not in SESSIONS:
            raise invalid("each session is {\"date\": \"YYYY-MM-DD\", \"session\": \"AM\" or \"PM\"}", field="sessions")
        chosen.append((_date(s.get("date"), "sessions").toordinal(), SESSIONS.index(s["session"])))
    person = data.get("person_id") or ""
    if not isinstance(person, str):
        raise invalid("person_id is a person's id", field="person_id")
    name = string_field(data, "parent_name", 200, required=not person)
    address = string_field(data, "parent_address", 500, required=not person)
    ground = data.get("ground", "threshold")
    on = _date(data["requested_on"], "requested_on") if data.get("requested_on") else today()

    def work() -> tuple[str, str]:
        with st.db.read() as txn:
            parent = legal_writes.resolve_parent(txn, person, name, address)
        return legal_writes.request_pn(st, auth.user, case_id, parent, ground if isinstance(ground, str) else "",
                                       string_field(data, "requested_by", 200, required=False) or "the school",
                                       chosen, string_field(data, "note", 2000, required=False), on)

    notice_id, status = await run_in_threadpool(work)

    def read() -> dict[str, Any] | None:
        with st.db.read() as txn:
            return legal.notice(txn, notice_id)

    n = await run_in_threadpool(read)
    assert n is not None
    return JSONResponse({"id": notice_id, "status": status, "refusal_reason": n.get("refusal_reason"),
                         "other_tools": n.get("other_tools", [])}, status_code=201)


async def school_weeks(request: Request) -> Response:
    """``GET /api/casework/school-weeks?start=&weeks=&school_id=``: the end of ``weeks`` school weeks."""
    st = state(request)
    await authenticate(request, OFFICE, ADMIN)
    start = _date(request.query_params.get("start"), "start")
    weeks = query_int(request, "weeks", st.settings.legal.nti_weeks, 1, 52)
    school = request.query_params.get("school_id") or None

    def work() -> dt.date:
        with st.db.read() as txn:
            return legal.calendar_for(txn, school.lower() if school else None).end_after_school_weeks(start, weeks)

    try:
        end = await run_in_threadpool(work)
    except CalendarGap as exc:
        raise invalid(str(exc), field="start") from None
    return JSONResponse({"start": start.isoformat(), "weeks": weeks, "ends_on": end.isoformat()})


routes = [
    Route("/api/casework/cases/{case_id}/legal", case_legal, methods=["GET"]),
    Route("/api/casework/cases/{case_id}/penalty-notices", request_penalty_notice, methods=["POST"]),
    Route("/api/casework/legal/due", due, methods=["GET"]),
    Route("/api/casework/school-weeks", school_weeks, methods=["GET"]),
]
