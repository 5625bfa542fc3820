"""The register in the office: who is severely or persistently absent, who is over the
penalty-notice threshold, and each pupil's weekly attendance over the term."""
from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from sync.schema import is_uuid

from ..office import labels, svg
from ..office.exports import csv_text
from ..office.pages import PageError, app_state, me, page, record_view, render, uuid_param
from ..office.people import Directory, entity, pupil_name
from ..storage import SqliteTxn
from ..util import today
from . import audit_lists, marks, queries, years
from .codes import Mark
from .figures import weekly_attendance

LISTS = {
    "severe": ("Severely absent", "50% or more of sessions missed."),
    "persistent": ("Persistently absent", "10% or more of sessions missed, severe absence included."),
    "threshold": ("Over the penalty-notice threshold",
                  ("10 or more unauthorised sessions within a rolling 10 school weeks: a penalty notice "
                   "must be considered.")),
}
PAGE = 200
OVERDUE_SCHOOL_DAYS = 2


def _schools(txn: SqliteTxn) -> list[dict[str, Any]]:
    return [{"id": r["id"], "name": r["name"]} for r in txn.rows(
        "SELECT id, json_extract(data, '$.name') AS name FROM schools WHERE deleted = 0 ORDER BY name")]


def _choice(request: Request) -> tuple[str, str, int | None]:
    which = request.query_params.get("list", "severe")
    if which not in LISTS:
        which = "severe"
    school = request.query_params.get("school", "")
    year = years.parse(request.query_params.get("year", "") or "")
    return which, school if is_uuid(school) else "", year


def _cursor(request: Request) -> tuple[int, int] | None:
    raw = request.query_params.get("after", "")
    pct, _, key = raw.partition(".")
    if pct.isascii() and key.isascii() and pct.isdigit() and key.isdigit() and len(pct) < 6 and len(key) < 19:
        return int(pct), int(key)
    return None


def _rows(txn: SqliteTxn, f: queries.Filter, after: tuple[int, int] | None, limit: int,
          names: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for r in queries.pupils(txn, f, after, limit):
        pupil = {"id": r["id"], **r["record"], **r["figures"]}
        sessions = (queries.threshold_sessions(txn, r["id"], r["threshold_window"])
                    if r["figures"]["penalty_threshold_met"] else [])
        out.append({"pupil": pupil, "name": pupil_name(pupil), "case_id": r["case_id"], "key": r["key"],
                    "officer_id": r["officer_id"], "stage": r["stage"], "school": names.get(r["school_id"] or "", ""),
                    "threshold_sessions": sessions})
    return out


def _filter(txn: SqliteTxn, which: str, school: str, year: int | None) -> queries.Filter:
    chosen = year if year is not None else queries.default_year(txn, today())
    return queries.Filter(year=chosen, today=today(), listing=which, school_id=school or None)


@page
async def register(request: Request) -> Response:
    st = app_state(request)
    which, school, year = _choice(request)
    after = _cursor(request)

    def work() -> dict[str, Any]:
        with st.db.read() as txn:
            f = _filter(txn, which, school, year)
            schools = _schools(txn)
            rows = _rows(txn, f, after, PAGE + 1, {s["id"]: s["name"] for s in schools})
            counts = {k: queries.count(txn, queries.Filter(year=f.year, today=f.today, listing=k,
                                                           school_id=f.school_id)) for k in LISTS}
            return {"rows": rows[:PAGE], "more": rows[PAGE]["key"] if len(rows) > PAGE else None,
                    "counts": counts, "schools": schools, "directory": Directory(txn), "year": f.year,
                    "years": sorted(set(queries.years_of(txn)) | {f.year}, reverse=True)}

    data = await run_in_threadpool(work)
    await run_in_threadpool(audit_lists.view, st.db, me(request).user.id, None, "office_view",
                            [r["pupil"]["id"] for r in data["rows"]], {"page": f"register {which}"})
    return render(request, "register.html", {
        "title": f"Register: {LISTS[which][0].lower()}", "which": which, "lists": LISTS, "school": school,
        "year_label": years.label, "after": after, **data}, active="register")


def _sessions_text(sessions: list[dict[str, Any]]) -> str:
    return "; ".join(f"{s['date']} {s['session']} {s['code']}" for s in sessions)


CSV_HEADER = ["pupil_id", "upn", "first_name", "last_name", "school", "year_group", "possible_sessions",
              "attended_sessions", "authorised_absences", "unauthorised_absences", "attendance_pct", "band",
              "unauthorised_last_10_weeks", "penalty_threshold_met", "threshold_sessions", "open_case_id",
              "case_stage", "officer"]


@page
async def register_csv(request: Request) -> Response:
    """The whole list, streamed a page at a time (keyset), so memory stays flat at any size."""
    st = app_state(request)
    which, school, year = _choice(request)
    user_id = me(request).user.id

    def page_of(after: tuple[int, int] | None, f: queries.Filter | None) -> tuple[Any, list[list[Any]], Any]:
        with st.db.read() as txn:
            f = f or _filter(txn, which, school, year)
            names = {s["id"]: s["name"] for s in _schools(txn)}
            rows, directory = _rows(txn, f, after, 1000, names), Directory(txn)
        audit_lists.view(st.db, user_id, None, "office_view", [r["pupil"]["id"] for r in rows],
                         {"page": f"register {which} CSV"})
        body = []
        for r in rows:
            p = r["pupil"]
            body.append([p["id"], p.get("upn"), p.get("first_name"), p.get("last_name"), r["school"],
                         p.get("year_group"), p.get("possible_sessions"), p.get("attended_sessions"),
                         p.get("authorised_absences"), p.get("unauthorised_absences"), p.get("attendance_pct"),
                         p.get("band"), p.get("unauthorised_last_10_weeks"), p.get("penalty_threshold_met"),
                         _sessions_text(r["threshold_sessions"]), r["case_id"], r["stage"],
                         directory.name(r["officer_id"]) if r["officer_id"] else ""])
        return (rows[-1]["key"] if len(rows) == 1000 else None), body, f

    async def chunks() -> AsyncIterator[bytes]:
        yield ("\ufeff" + csv_text(CSV_HEADER, [])).encode()
        after, f = None, None
        while True:
            after, body, f = await run_in_threadpool(page_of, after, f)
            if body:
                yield csv_text(None, body).encode()
            if after is None:
                return

    return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="register-{which}.csv"'})


@page
async def schools_page(request: Request) -> Response:
    """When each school last sent marks, and which are overdue."""
    st = app_state(request)

    def work() -> list[dict[str, Any]]:
        with st.db.read() as txn:
            return queries.schools_status(txn, today(), OVERDUE_SCHOOL_DAYS)

    rows = await run_in_threadpool(work)
    return render(request, "register_schools.html", {
        "title": "Schools' marks", "rows": rows, "overdue_days": OVERDUE_SCHOOL_DAYS,
        "overdue": [r for r in rows if r["overdue"]]}, active="register")


def term_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The school term around a day: autumn Sep–Dec, spring Jan to mid-April, summer to August."""
    if day.month >= 9:
        return dt.date(day.year, 9, 1), dt.date(day.year, 12, 31)
    if day < dt.date(day.year, 4, 15):
        return dt.date(day.year, 1, 1), dt.date(day.year, 4, 14)
    return dt.date(day.year, 4, 15), dt.date(day.year, 8, 31)


def _pupil(st: Any, pupil_id: str, year: int | None) -> dict[str, Any] | None:
    with st.db.read() as txn:
        pupil = entity(txn, "pupils", pupil_id)
        if pupil is None:
            return None
        chosen = year if year is not None else (queries.years_of(txn, pupil_id) or [years.current(today())])[0]
        figures = queries.pupil_figures(txn, pupil_id, chosen)
        sessions = []
        if figures is not None:
            pupil.update({k: v for k, v in figures.items() if k != "threshold_window"})
            if figures["penalty_threshold_met"]:
                sessions = queries.threshold_sessions(txn, pupil_id, figures["threshold_window"])
        first, last = years.bounds(chosen)
        year_marks = marks.pupil_marks(txn, pupil_id, first, last)
        term: tuple[dt.date, dt.date] | None = None
        in_term: list[Mark] = []
        if year_marks:
            term = term_of(max(d for d, _, _ in year_marks))
            in_term = [Mark("", d, s, c) for d, s, c in year_marks if term[0] <= d <= term[1]]
        cases = txn.rows("SELECT id, data FROM cases WHERE pupil_id = ? AND deleted = 0 ORDER BY created_at",
                         (pupil_id,))
        visits = txn.rows(
            "SELECT v.id, coalesce(json_extract(v.data, '$.started_at'), json_extract(v.data, '$.planned_for')) "
            "AS at, json_extract(v.data, '$.outcome') AS outcome FROM visits v JOIN cases c ON c.id = v.case_id "
            "WHERE c.pupil_id = ? AND v.deleted = 0 ORDER BY at DESC", (pupil_id,))
        return {"pupil": pupil, "weeks": weekly_attendance(in_term), "term": term, "threshold_sessions": sessions,
                "year": chosen, "years": sorted(set(queries.years_of(txn, pupil_id)) | {chosen}, reverse=True),
                "cases": [{"id": c["id"], **orjson.loads(c["data"])} for c in cases], "visits": visits,
                "school": entity(txn, "schools", pupil.get("school_id")),
                "household": entity(txn, "households", pupil.get("household_id")),
                "directory": Directory(txn)}


@page
async def pupil_page(request: Request) -> Response:
    st = app_state(request)
    pupil_id = uuid_param(request, "pupil_id", "pupil").lower()
    data = await run_in_threadpool(_pupil, st, pupil_id, years.parse(request.query_params.get("year", "") or ""))
    if data is None:
        raise PageError(404, "Not found", "There is no pupil with that id.")
    await run_in_threadpool(record_view, st, me(request).user.id, [pupil_id], "pupil")
    name = pupil_name(data["pupil"])
    chart = svg.weekly_chart(data["weeks"], "attendance-chart", name)
    return render(request, "pupil.html", {"title": name, "name": name, "chart": chart, "labels": labels,
                                          "year_label": years.label, **data},
                  active="register")


routes = [
    Route("/office/register", register, methods=["GET"]),
    Route("/office/register.csv", register_csv, methods=["GET"]),
    Route("/office/pupils/{pupil_id}", pupil_page, methods=["GET"]),
    Route("/office/register/schools", schools_page, methods=["GET"]),
]
