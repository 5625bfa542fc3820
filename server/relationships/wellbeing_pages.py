"""The office's wellbeing plans (docs/relationships.md, "Wellbeing plans"): record a plan, or
review one (a new version superseding it). The case page shows them with the return timetable
against the register (``_case_wellbeing.html``, from ``wellbeing.case_context``).

Every write is a change pushed through the sync engine (``server.office.writes.put``), so the
engine's rules apply and the case's officer pulls the plan like any other change.
"""
from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync.schema import is_uuid

from ..casework.plan_save import save_plan
from ..office.pages import PageError, app_state, form, me, page, record_view, render, uuid_param
from ..office.people import entity, pupil_name
from ..state import AppState
from . import wellbeing


def _load(st: AppState, case_id: str, previous_id: str) -> dict[str, Any]:
    with st.db.read() as txn:
        case = entity(txn, "cases", case_id)
        if case is None:
            raise PageError(404, "Not found", "There is no case with that id.")
        pupil = entity(txn, "pupils", case.get("pupil_id"))
        previous = entity(txn, "wellbeing_plans", previous_id) if is_uuid(previous_id) else None
        if previous is not None and (previous.get("case_id") != case_id or previous.get("status") != "submitted"):
            previous = None
        return {"case": case, "pupil": pupil, "name": pupil_name(pupil), "previous": previous}


async def _form(request: Request, case_id: str, values: dict[str, Any] | None, errors: list[str],
                status: int = 200) -> Response:
    st = app_state(request)
    previous_id = (values or {}).get("supersedes") or request.query_params.get("reviews", "")
    data = await run_in_threadpool(_load, st, case_id, previous_id.lower())
    await run_in_threadpool(record_view, st, me(request).user.id, [data["case"].get("pupil_id"), case_id],
                            "wellbeing plan form")
    if values is None:
        values = wellbeing.blank_values(data["previous"])
    reviewing = data["previous"] is not None
    return render(request, "wellbeing_form.html", {
        "title": f"{'Review the wellbeing plan' if reviewing else 'Record a wellbeing plan'}: {data['name']}",
        "errors": errors, "values": values, "reviewing": reviewing, **data}, status=status, active="cases")


def _case_id(request: Request) -> str:
    return uuid_param(request, "case_id", "case").lower()


@page
async def new_plan(request: Request) -> Response:
    return await _form(request, _case_id(request), None, [])


@page
async def create_plan(request: Request) -> Response:
    case_id = _case_id(request)
    await run_in_threadpool(_load, app_state(request), case_id, "")  # a 404 for a case that is not there
    return await save_plan(request, "wellbeing_plan", case_id, wellbeing.form_values(form(request)),
                           wellbeing.plan_fields, _form, "wellbeing#wellbeing-heading")


routes = [
    Route("/office/cases/{case_id}/wellbeing/new", new_plan, methods=["GET"]),
    Route("/office/cases/{case_id}/wellbeing", create_plan, methods=["POST"]),
]
