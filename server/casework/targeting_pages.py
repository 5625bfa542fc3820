"""The termly targeting meetings in the office: each school's worklist, its printable form and CSV,
recording a meeting with its decisions, and a recorded meeting (docs/casework.md).

Office and admin staff only (the office's ``page``): a worklist spans a school, not one officer's
caseload, so an officer is refused like on every office page.
"""
from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..office import labels
from ..office.exports import csv_response, csv_text
from ..office.pages import PageError, app_state, form, me, page, record_view, redirect, render, uuid_param
from ..office.people import Directory
from ..register import audit_lists, queries, years
from ..register.pages import term_of
from ..state import AppState
from ..util import today
from . import targeting, targeting_store
from .targeting_store import DECISION_HELP, DECISIONS, SIDES

LIST_WORDS = {"severe": "Severe", "persistent": "Persistent", "threshold": "Over the threshold"}


def _year(txn: Any, request: Request) -> int:
    chosen = years.parse(request.query_params.get("year", "") or "")
    return chosen if chosen is not None else queries.default_year(txn, today())


def _school_id(request: Request) -> str:
    return uuid_param(request, "school_id", "school").lower()


def _worklist(st: AppState, school_id: str, request: Request) -> dict[str, Any]:
    with st.db.read() as txn:
        year = _year(txn, request)
        work = targeting.worklist(txn, school_id, year, today())
        if work is None:
            raise PageError(404, "Not found", "There is no school with that id.")
        return {"work": work, "year": year, "directory": Directory(txn),
                "meetings": targeting.meetings_of(txn, school_id),
                "years": sorted(set(queries.years_of(txn)) | {year}, reverse=True)}


def held_this_term(last_meeting: dict[str, Any] | None) -> bool:
    """Whether a school's last meeting was held in the current term (register/pages.py's terms)."""
    first, last = term_of(today())
    return bool(last_meeting and first.isoformat() <= last_meeting["held_on"] <= last.isoformat())


def _context(data: dict[str, Any]) -> dict[str, Any]:
    work = data["work"]
    return {**data, "counts": work.counts(), "list_words": LIST_WORDS, "decisions": DECISIONS,
            "decision_help": DECISION_HELP, "sides": SIDES, "year_label": years.label, "labels": labels,
            "held_this_term": held_this_term(work.last_meeting)}


@page
async def index(request: Request) -> Response:
    st = app_state(request)

    def work() -> dict[str, Any]:
        with st.db.read() as txn:
            year = _year(txn, request)
            return {"schools": targeting.schools_overview(txn, year, today()), "year": year}

    data = await run_in_threadpool(work)
    for school in data["schools"]:
        school["held_this_term"] = held_this_term(school["last_meeting"])
    return render(request, "targeting_index.html", {
        "title": "Targeting meetings", "year_label": years.label, "term": term_of(today()), **data},
        active="targeting")


async def _audit_list(request: Request, data: dict[str, Any], what: str, action: str = "office_view") -> None:
    st = app_state(request)
    ids = [r.pupil_id for r in data["work"].rows] + [g["pupil_id"] for g in data["work"].gone]
    await run_in_threadpool(audit_lists.view, st.db, me(request).user.id, None, action, ids,
                            {"page": what, "school_id": data["work"].school["id"]})


@page
async def worklist(request: Request) -> Response:
    data = await run_in_threadpool(_worklist, app_state(request), _school_id(request), request)
    await _audit_list(request, data, "targeting worklist")
    return render(request, "targeting_worklist.html", {
        "title": f"Targeting: {data['work'].school['name']}", **_context(data)}, active="targeting")


@page
async def print_form(request: Request) -> Response:
    data = await run_in_threadpool(_worklist, app_state(request), _school_id(request), request)
    await _audit_list(request, data, "targeting form (print)")
    return render(request, "targeting_print.html", {
        "title": f"Targeting meeting: {data['work'].school['name']}", "today": today(), **_context(data)},
        active="targeting")


CSV_HEADER = ["pupil_id", "upn", "first_name", "last_name", "year_group", "attendance_pct", "attended_sessions",
              "possible_sessions", "band", "lists", "penalty_threshold_met", "unauthorised_last_10_weeks",
              "severe_without_plan", "support_plan", "open_case_id", "case_stage", "officer",
              "last_meeting_on", "pct_at_last_meeting", "band_at_last_meeting", "trend", "points_change",
              "decision_at_last_meeting"]


def csv_rows(data: dict[str, Any]) -> list[list[Any]]:
    work, directory = data["work"], data["directory"]
    last_on = work.last_meeting["held_on"] if work.last_meeting else None
    out = []
    for r in work.rows:
        p, f, t, then = r.record, r.figures, r.trend, r.then or {}
        out.append([r.pupil_id, p.get("upn"), p.get("first_name"), p.get("last_name"), p.get("year_group"),
                    f["attendance_pct"], f["attended_sessions"], f["possible_sessions"], r.band, " ".join(r.lists),
                    f["penalty_threshold_met"], f["unauthorised_last_10_weeks"], r.severe_without_plan, r.has_plan,
                    r.case_id, r.stage, directory.name(r.officer_id) if r.officer_id else "", last_on,
                    then.get("pct"), then.get("band"), t["kind"], t["points"], then.get("decision")])
    return out


@page
async def worklist_csv(request: Request) -> Response:
    data = await run_in_threadpool(_worklist, app_state(request), _school_id(request), request)
    await _audit_list(request, data, "targeting worklist CSV", "office_export")
    name = f"targeting-{years.label(data['year']).replace('/', '-')}-{data['work'].school['id'][:8]}.csv"
    return csv_response(name, csv_text(CSV_HEADER, csv_rows(data)))


async def _meeting_form(request: Request, data: dict[str, Any], draft: targeting_store.Draft,
                        status: int = 200) -> Response:
    return render(request, "targeting_meeting_form.html", {
        "title": f"Record a targeting meeting: {data['work'].school['name']}", "draft": draft,
        "today": today(), **_context(data)}, status=status, active="targeting")


@page
async def new_meeting(request: Request) -> Response:
    data = await run_in_threadpool(_worklist, app_state(request), _school_id(request), request)
    await _audit_list(request, data, "targeting meeting form")
    return await _meeting_form(request, data, targeting_store.Draft(held_on=today().isoformat()))


@page(max_form_bytes=1024 * 1024)  # three fields a pupil on the list, each note up to 2,000 characters
async def create_meeting(request: Request) -> Response:
    st = app_state(request)
    school_id = _school_id(request)
    data = await run_in_threadpool(_worklist, st, school_id, request)
    work = data["work"]
    draft = targeting_store.parse(form(request), [r.pupil_id for r in work.rows], today())
    if draft.errors:
        return await _meeting_form(request, data, draft, 422)
    meeting_id = await run_in_threadpool(targeting_store.record, st.db, me(request).user.id, school_id,
                                         data["year"], draft, work.rows)
    return redirect(f"/office/targeting/meetings/{meeting_id}?done=recorded")


@page
async def meeting_page(request: Request) -> Response:
    st = app_state(request)
    meeting_id = uuid_param(request, "meeting_id", "meeting").lower()

    def work() -> dict[str, Any] | None:
        with st.db.read() as txn:
            return targeting_store.load(txn, meeting_id)

    meeting = await run_in_threadpool(work)
    if meeting is None:
        raise PageError(404, "Not found", "There is no targeting meeting with that id.")
    await run_in_threadpool(record_view, st, me(request).user.id, [p["pupil_id"] for p in meeting["pupils"]],
                            "targeting meeting")
    decided = [p for p in meeting["pupils"] if p["decision"]]
    return render(request, "targeting_meeting.html", {
        "title": f"Targeting meeting: {meeting['school_name']}, {labels.when(meeting['held_on'])}",
        "meeting": meeting, "decided": decided, "others": [p for p in meeting["pupils"] if not p["decision"]],
        "decisions": DECISIONS, "sides": SIDES, "year_label": years.label,
        "done": request.query_params.get("done") == "recorded"}, active="targeting")


routes = [
    Route("/office/targeting", index, methods=["GET"]),
    Route("/office/targeting/schools/{school_id}", worklist, methods=["GET"]),
    Route("/office/targeting/schools/{school_id}/worklist.csv", worklist_csv, methods=["GET"]),
    Route("/office/targeting/schools/{school_id}/print", print_form, methods=["GET"]),
    Route("/office/targeting/schools/{school_id}/meeting", new_meeting, methods=["GET"]),
    Route("/office/targeting/schools/{school_id}/meeting", create_meeting, methods=["POST"]),
    Route("/office/targeting/meetings/{meeting_id}", meeting_page, methods=["GET"]),
]
