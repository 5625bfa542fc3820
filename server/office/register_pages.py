"""The register in the office: who is severely or persistently absent, who is over the
penalty-notice threshold, and each pupil's weekly attendance over the term."""
from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync.schema import is_uuid

from .. import marks
from ..register import BandThresholds, compute_figures, weekly_attendance
from ..storage import SqliteTxn
from . import labels, svg
from .exports import csv_response, csv_text
from .pages import PageError, app_state, me, page, record_view, render
from .people import Directory, entity, pupil_name

LISTS = {
    "severe": ("Severely absent", "50% or more of sessions missed."),
    "persistent": ("Persistently absent", "10% or more of sessions missed, severe absence included."),
    "threshold": ("Over the penalty-notice threshold",
                  ("10 or more unauthorised sessions within a rolling 10 school weeks: a penalty notice "
                   "must be considered.")),
}
_WHERE = {
    "severe": "json_extract(p.data, '$.band') = 'severe'",
    "persistent": "json_extract(p.data, '$.band') IN ('persistent', 'severe')",
    "threshold": "coalesce(json_extract(p.data, '$.penalty_threshold_met'), 0) = 1",
}


def thresholds(request: Request) -> BandThresholds:
    return BandThresholds(at_risk=app_state(request).settings.at_risk_threshold)


def _threshold_sessions(txn: SqliteTxn, pupil: dict[str, Any], weeks_cache: dict[str, list[dt.date]],
                        bands: BandThresholds) -> list[dict[str, Any]]:
    school_id = pupil.get("school_id", "")
    weeks = weeks_cache.get(school_id)
    if weeks is None:
        weeks = weeks_cache[school_id] = marks.school_weeks(txn, school_id)
    figures = compute_figures(marks.pupil_marks(txn, pupil["id"], pupil.get("upn", "")), bands,
                              school_weeks=weeks)
    return figures.threshold_sessions


def register_list(txn: SqliteTxn, which: str, school: str, bands: BandThresholds) -> list[dict[str, Any]]:
    sql = (f"SELECT p.id, p.data, c.id AS case_id, c.assigned_officer_id AS officer_id, "
           f"json_extract(c.data, '$.stage') AS stage, s.data AS school "
           f"FROM pupils p LEFT JOIN cases c ON c.pupil_id = p.id AND c.status = 'open' AND c.deleted = 0 "
           f"LEFT JOIN schools s ON s.id = p.school_id "
           f"WHERE p.deleted = 0 AND {_WHERE[which]}")
    params: list[Any] = []
    if school:
        sql += " AND p.school_id = ?"
        params.append(school)
    sql += " GROUP BY p.id ORDER BY coalesce(json_extract(p.data, '$.attendance_pct'), 100.0), p.id"
    weeks_cache: dict[str, list[dt.date]] = {}
    out = []
    for r in txn.rows(sql, params):
        pupil = {"id": r["id"], **orjson.loads(r["data"])}
        sessions = (_threshold_sessions(txn, pupil, weeks_cache, bands)
                    if pupil.get("penalty_threshold_met") else [])
        out.append({"pupil": pupil, "name": pupil_name(pupil), "case_id": r["case_id"],
                    "officer_id": r["officer_id"], "stage": r["stage"],
                    "school": orjson.loads(r["school"]).get("name", "") if r["school"] else "",
                    "threshold_sessions": sessions})
    return out


def _schools(txn: SqliteTxn) -> list[dict[str, Any]]:
    return [{"id": r["id"], "name": r["name"]} for r in txn.rows(
        "SELECT id, json_extract(data, '$.name') AS name FROM schools WHERE deleted = 0 ORDER BY name")]


def _which(request: Request) -> tuple[str, str]:
    which = request.query_params.get("list", "severe")
    if which not in LISTS:
        which = "severe"
    school = request.query_params.get("school", "")
    return which, school if is_uuid(school) else ""


@page
async def register(request: Request) -> Response:
    st = app_state(request)
    which, school = _which(request)
    bands = thresholds(request)

    def work() -> dict[str, Any]:
        with st.db.read() as txn:
            rows = register_list(txn, which, school, bands)
            counts = {k: txn.rows(f"SELECT count(*) AS n FROM pupils p WHERE p.deleted = 0 AND {w}"
                                  + (" AND p.school_id = ?" if school else ""),
                                  [school] if school else [])[0]["n"] for k, w in _WHERE.items()}
            return {"rows": rows, "counts": counts, "schools": _schools(txn), "directory": Directory(txn)}

    data = await run_in_threadpool(work)
    await run_in_threadpool(record_view, st, me(request).user.id, [r["pupil"]["id"] for r in data["rows"]],
                            f"register {which}")
    return render(request, "register.html", {
        "title": f"Register: {LISTS[which][0].lower()}", "which": which, "lists": LISTS, "school": school,
        **data}, active="register")


def _sessions_text(sessions: list[dict[str, Any]]) -> str:
    return "; ".join(f"{s['date']} {s['session']} {s['code']}" for s in sessions)


@page
async def register_csv(request: Request) -> Response:
    st = app_state(request)
    which, school = _which(request)
    bands = thresholds(request)

    def work() -> tuple[list[dict[str, Any]], Directory]:
        with st.db.read() as txn:
            return register_list(txn, which, school, bands), Directory(txn)

    rows, directory = await run_in_threadpool(work)
    await run_in_threadpool(record_view, st, me(request).user.id, [r["pupil"]["id"] for r in rows],
                            f"register {which} CSV")
    header = ["pupil_id", "upn", "first_name", "last_name", "school", "year_group", "possible_sessions",
              "attended_sessions", "authorised_absences", "unauthorised_absences", "attendance_pct", "band",
              "unauthorised_last_10_weeks", "penalty_threshold_met", "threshold_sessions", "open_case_id",
              "case_stage", "officer"]
    body = []
    for r in rows:
        p = r["pupil"]
        body.append([p["id"], p.get("upn"), p.get("first_name"), p.get("last_name"), r["school"],
                     p.get("year_group"), p.get("possible_sessions"), p.get("attended_sessions"),
                     p.get("authorised_absences"), p.get("unauthorised_absences"), p.get("attendance_pct"),
                     p.get("band"), p.get("unauthorised_last_10_weeks"), p.get("penalty_threshold_met"),
                     _sessions_text(r["threshold_sessions"]), r["case_id"], r["stage"],
                     directory.name(r["officer_id"]) if r["officer_id"] else ""])
    return csv_response(f"register-{which}.csv", csv_text(header, body))


def term_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The school term around a day: autumn Sep–Dec, spring Jan to mid-April, summer to August."""
    if day.month >= 9:
        return dt.date(day.year, 9, 1), dt.date(day.year, 12, 31)
    if day < dt.date(day.year, 4, 15):
        return dt.date(day.year, 1, 1), dt.date(day.year, 4, 14)
    return dt.date(day.year, 4, 15), dt.date(day.year, 8, 31)


def _pupil(st: Any, pupil_id: str, bands: BandThresholds) -> dict[str, Any] | None:
    with st.db.read() as txn:
        pupil = entity(txn, "pupils", pupil_id)
        if pupil is None:
            return None
        all_marks = marks.pupil_marks(txn, pupil_id, pupil.get("upn", ""))
        term: tuple[dt.date, dt.date] | None = None
        if all_marks:
            term = term_of(max(m.date for m in all_marks))
            in_term = [m for m in all_marks if term[0] <= m.date <= term[1]]
        else:
            in_term = []
        weeks = weekly_attendance(in_term)
        sessions = _threshold_sessions(txn, pupil, {}, bands) if pupil.get("penalty_threshold_met") else []
        cases = txn.rows("SELECT id, data FROM cases WHERE pupil_id = ? AND deleted = 0 ORDER BY created_at",
                         (pupil_id,))
        visits = txn.rows(
            "SELECT v.id, coalesce(json_extract(v.data, '$.started_at'), json_extract(v.data, '$.planned_for')) "
            "AS at, json_extract(v.data, '$.outcome') AS outcome FROM visits v JOIN cases c ON c.id = v.case_id "
            "WHERE c.pupil_id = ? AND v.deleted = 0 ORDER BY at DESC", (pupil_id,))
        return {"pupil": pupil, "weeks": weeks, "term": term, "threshold_sessions": sessions,
                "cases": [{"id": c["id"], **orjson.loads(c["data"])} for c in cases], "visits": visits,
                "school": entity(txn, "schools", pupil.get("school_id")),
                "household": entity(txn, "households", pupil.get("household_id")),
                "directory": Directory(txn)}


@page
async def pupil_page(request: Request) -> Response:
    st = app_state(request)
    pupil_id = request.path_params["pupil_id"].lower()
    if not is_uuid(pupil_id):
        raise PageError(404, "Not found", "There is no pupil with that id.")
    data = await run_in_threadpool(_pupil, st, pupil_id, thresholds(request))
    if data is None:
        raise PageError(404, "Not found", "There is no pupil with that id.")
    await run_in_threadpool(record_view, st, me(request).user.id, [pupil_id], "pupil")
    name = pupil_name(data["pupil"])
    chart = svg.weekly_chart(data["weeks"], "attendance-chart", name)
    return render(request, "pupil.html", {"title": name, "name": name, "chart": chart, "labels": labels, **data},
                  active="register")


routes = [
    Route("/office/register", register, methods=["GET"]),
    Route("/office/register.csv", register_csv, methods=["GET"]),
    Route("/office/pupils/{pupil_id}", pupil_page, methods=["GET"]),
]
