"""Cases: the open caseload, opening a case, reassigning it and moving it along the ladder.

Every write is a change pushed through the sync engine (``writes.put``), so a
reassigned case leaves the old officer's devices at their next sync and the
ladder's consistency rule is the engine's.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync.schema import is_uuid
from sync.schema_codes import STAGES

from ..casework import plans
from ..relationships import praise, wellbeing
from ..state import AppState
from ..util import today
from . import labels, writes
from .exports import csv_response, csv_text
from .pages import (PageError, app_state, form, me, page, record_view, redirect, render, text_field,
                    uuid_param)
from .people import Directory, entity, history, pupil_name

DONE = {"created": "Case opened.", "assigned": "Case reassigned. The previous officer's devices drop it at "
        "their next sync.", "stage": "Stage moved.", "plan": "Support plan saved. The officer's phone has it at its "
        "next sync.", "parents": "Saved who the case concerns.",
        "wellbeing": "Wellbeing plan saved. The officer's phone has it at its next sync."}
UPN_RE = re.compile(r"[A-Z0-9]{13}")


def _list(st: AppState, officer: str, stage: str) -> tuple[list[dict[str, Any]], Directory]:
    sql = ("SELECT c.id, c.data, c.version, p.id AS pupil_id, p.data AS pupil, "
           "json_extract(s.data, '$.name') AS school, "
           "(SELECT max(coalesce(json_extract(v.data, '$.started_at'), json_extract(v.data, '$.planned_for'))) "
           " FROM visits v WHERE v.case_id = c.id AND v.deleted = 0) AS last_visit "
           "FROM cases c LEFT JOIN pupils p ON p.id = c.pupil_id LEFT JOIN schools s ON s.id = p.school_id "
           "WHERE c.deleted = 0 AND c.status = 'open'")
    params: list[Any] = []
    if officer:
        sql += " AND c.assigned_officer_id = ?"
        params.append(officer)
    if stage:
        sql += " AND json_extract(c.data, '$.stage') = ?"
        params.append(stage)
    sql += " ORDER BY coalesce(json_extract(p.data, '$.attendance_pct'), 100.0), c.id"
    with st.db.read() as txn:
        rows = []
        for r in txn.rows(sql, params):
            pupil = {"id": r["pupil_id"], **orjson.loads(r["pupil"] or "{}")}
            rows.append({"id": r["id"], **orjson.loads(r["data"]), "pupil": pupil, "name": pupil_name(pupil),
                         "school": r["school"] or "", "last_visit": r["last_visit"]})
        return rows, Directory(txn)


def _filters(request: Request) -> tuple[str, str]:
    officer = request.query_params.get("officer", "")
    stage = request.query_params.get("stage", "")
    return (officer if is_uuid(officer) else "", stage if stage in STAGES else "")


async def _caseload(request: Request, what: str) -> tuple[str, str, list[dict[str, Any]], Directory]:
    """The query's filters (officer, stage) and the open cases they pick; the view is audited as ``what``."""
    st = app_state(request)
    officer, stage = _filters(request)
    rows, directory = await run_in_threadpool(_list, st, officer, stage)
    await run_in_threadpool(record_view, st, me(request).user.id, [r["pupil"]["id"] for r in rows], what)
    return officer, stage, rows, directory


@page
async def case_list(request: Request) -> Response:
    officer, stage, rows, directory = await _caseload(request, "cases")
    return render(request, "cases.html", {
        "title": "Cases", "rows": rows, "directory": directory, "officer": officer, "stage": stage,
        "stages": labels.STAGE_LABELS}, active="cases")


@page
async def case_csv(request: Request) -> Response:
    _officer, _stage, rows, directory = await _caseload(request, "cases CSV")
    header = ["case_id", "pupil_id", "upn", "pupil", "school", "attendance_pct", "band", "stage", "officer",
              "opened_on", "last_visit", "agencies", "family_consent", "summary"]
    body = [[r["id"], r["pupil"]["id"], r["pupil"].get("upn"), r["name"], r["school"],
             r["pupil"].get("attendance_pct"), r["pupil"].get("band"), r.get("stage"),
             directory.name(r.get("assigned_officer_id")), r.get("opened_on"), r["last_visit"],
             labels.value_text(r.get("agencies") or [], "agencies"), r.get("family_consent"), r.get("summary")]
            for r in rows]
    return csv_response("open-cases.csv", csv_text(header, body))


# -- opening a case -------------------------------------------------------------

def _find_pupil(st: AppState, pupil_id: str, upn: str) -> tuple[dict[str, Any] | None, str | None]:
    """(pupil, id of its open case) by id or UPN."""
    with st.db.read() as txn:
        if pupil_id and is_uuid(pupil_id):
            pupil = entity(txn, "pupils", pupil_id.lower())
        elif upn:
            rows = txn.rows("SELECT id FROM pupils WHERE upn = ? AND deleted = 0", (upn,))
            pupil = entity(txn, "pupils", rows[0]["id"]) if rows else None
        else:
            pupil = None
        if pupil is None:
            return None, None
        open_case = txn.rows("SELECT id FROM cases WHERE pupil_id = ? AND status = 'open' AND deleted = 0",
                             (pupil["id"],))
        return pupil, open_case[0]["id"] if open_case else None


def _officers(st: AppState) -> list[dict[str, Any]]:
    with st.db.read() as txn:
        return Directory(txn).officers()


async def _new_form(request: Request, values: dict[str, str], errors: list[str], status: int = 200) -> Response:
    st = app_state(request)
    pupil, open_case = await run_in_threadpool(_find_pupil, st, values.get("pupil_id", ""), "")
    return render(request, "case_new.html", {
        "title": "Open a case", "values": values, "errors": errors, "pupil": pupil, "open_case": open_case,
        "pupil_name": pupil_name(pupil) if pupil else "", "officers": await run_in_threadpool(_officers, st),
        "stages": labels.STAGE_LABELS}, status=status, active="cases")


@page
async def new_case(request: Request) -> Response:
    pupil_id = request.query_params.get("pupil", "")
    values = {"pupil_id": pupil_id if is_uuid(pupil_id) else "", "upn": "", "officer": "", "stage": "support",
              "opened_on": dt.date.today().isoformat(), "summary": ""}
    return await _new_form(request, values, [])


@page
async def create_case(request: Request) -> Response:
    st = app_state(request)
    data = form(request)
    values = {"pupil_id": text_field(data, "pupil_id", 36), "upn": text_field(data, "upn", 20).upper(),
              "officer": text_field(data, "officer", 36), "stage": text_field(data, "stage", 40),
              "opened_on": text_field(data, "opened_on", 10), "summary": text_field(data, "summary", 10_000)}
    errors = []
    if not values["pupil_id"] and not UPN_RE.fullmatch(values["upn"]):
        errors.append("Give the pupil's UPN: 13 letters and digits.")
    pupil, open_case = await run_in_threadpool(_find_pupil, st, values["pupil_id"], values["upn"])
    if pupil is None and not errors:
        errors.append("No pupil has that UPN.")
    if open_case:
        errors.append("This pupil already has an open case.")
    if not is_uuid(values["officer"]):
        errors.append("Choose the officer who will hold the case.")
    if values["stage"] not in STAGES:
        errors.append("Choose a stage.")
    try:
        dt.date.fromisoformat(values["opened_on"])
    except ValueError:
        errors.append("Give the date the case opened, like 2026-11-04.")
    if errors or pupil is None:
        return await _new_form(request, values, errors, 422)
    case_id = str(uuid.uuid4())
    fields = {"pupil_id": pupil["id"], "assigned_officer_id": values["officer"], "status": "open",
              "stage": values["stage"], "opened_on": values["opened_on"], "summary": values["summary"] or None}
    result = await run_in_threadpool(writes.put, st, me(request).user, "case", case_id, fields, None)
    if writes.problems(result):
        return await _new_form(request, {**values, "pupil_id": pupil["id"]}, writes.problems(result), 422)
    return redirect(f"/office/cases/{case_id}?done=created")


# -- one case -----------------------------------------------------------------------

def _case(st: AppState, case_id: str) -> dict[str, Any] | None:
    with st.db.read() as txn:
        case = entity(txn, "cases", case_id)
        if case is None:
            return None
        directory = Directory(txn)
        pupil = entity(txn, "pupils", case.get("pupil_id"))
        visits = txn.rows(
            "SELECT id, coalesce(json_extract(data, '$.started_at'), json_extract(data, '$.planned_for')) AS at, "
            "json_extract(data, '$.outcome') AS outcome, json_extract(data, '$.safeguarding_concern') AS concern, "
            "json_extract(data, '$.status') AS status FROM visits WHERE case_id = ? AND deleted = 0 "
            "ORDER BY at DESC", (case_id,))
        conversations = txn.rows(
            "SELECT id, created_at AS at, json_extract(data, '$.spoke_with') AS spoke_with FROM conversations "
            "WHERE case_id = ? AND deleted = 0 ORDER BY created_at DESC", (case_id,))
        return {"case": case, "pupil": pupil, "name": pupil_name(pupil), "directory": directory,
                "visits": visits, "conversations": conversations, "history": history(txn, "case", case_id, directory),
                "messages": praise.for_case_or_pupil(txn, case_id=case_id),
                "school": entity(txn, "schools", (pupil or {}).get("school_id")),
                **plans.case_context(txn, case, pupil),  # parents and support plans (server/casework/)
                **wellbeing.case_context(txn, case, pupil, today())}  # wellbeing plans (server/relationships/)


def case_id_of(request: Request) -> str:
    """The case named by the path (a 404 when it is not a case's id)."""
    return uuid_param(request, "case_id", "case").lower()


async def _case_page(request: Request, case_id: str, errors: list[str], status: int = 200) -> Response:
    st = app_state(request)
    data = await run_in_threadpool(_case, st, case_id)
    if data is None:
        raise PageError(404, "Not found", "There is no case with that id.")
    await run_in_threadpool(record_view, st, me(request).user.id, [data["case"].get("pupil_id"), case_id], "case")
    done = DONE.get(request.query_params.get("done", ""), "") if not errors else ""
    reached = set(data["case"]["_flags"].get("stages", []))
    return render(request, "case.html", {
        "title": f"Case: {data['name']}", "errors": errors, "done": done, "stages": labels.STAGE_LABELS,
        "reached": reached, "officers": data["directory"].officers(), **data}, status=status, active="cases")


@page
async def case_page(request: Request) -> Response:
    return await _case_page(request, case_id_of(request), [])


def _base_version(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


def case_version(st: AppState, case_id: str) -> int:
    """The case's current version; 404 when there is no such case."""
    rows = st.db.query("SELECT version FROM cases WHERE id = ? AND deleted = 0", (case_id,))
    if not rows:
        raise PageError(404, "Not found", "There is no case with that id.")
    return int(rows[0]["version"])


async def _change_case(request: Request, change_of: Callable[[FormData], dict[str, Any] | None], refusal: str,
                       done: str) -> Response:
    """Push the case page form's change to the case (``change_of(form)``; None: the form's choice
    is not one, and the page says ``refusal``) over the version the page showed; then the case
    page with ``done``, or again with the problems."""
    st = app_state(request)
    case_id = case_id_of(request)
    current = await run_in_threadpool(case_version, st, case_id)
    data = form(request)
    change = change_of(data)
    if change is None:
        return await _case_page(request, case_id, [refusal], 422)
    result = await run_in_threadpool(writes.put, st, me(request).user, "case", case_id, change,
                                     _base_version(text_field(data, "version", 12)) or current)
    if writes.problems(result):
        return await _case_page(request, case_id, writes.problems(result), 422)
    return redirect(f"/office/cases/{case_id}?done={done}")


def _officer(data: FormData) -> dict[str, Any] | None:
    officer = text_field(data, "officer", 36)
    return {"assigned_officer_id": officer.lower()} if is_uuid(officer) else None


def _stage(data: FormData) -> dict[str, Any] | None:
    stage = text_field(data, "stage", 40)
    return {"stage": stage} if stage in STAGES else None


@page
async def assign(request: Request) -> Response:
    return await _change_case(request, _officer, "Choose the officer to hold the case.", "assigned")


@page
async def move_stage(request: Request) -> Response:
    return await _change_case(request, _stage, "Choose a stage on the ladder.", "stage")


routes = [
    Route("/office/cases", case_list, methods=["GET"]),
    Route("/office/cases", create_case, methods=["POST"]),
    Route("/office/cases.csv", case_csv, methods=["GET"]),
    Route("/office/cases/new", new_case, methods=["GET"]),
    Route("/office/cases/{case_id}", case_page, methods=["GET"]),
    Route("/office/cases/{case_id}/assign", assign, methods=["POST"]),
    Route("/office/cases/{case_id}/stage", move_stage, methods=["POST"]),
]
