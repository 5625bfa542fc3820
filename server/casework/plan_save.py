"""A versioned plan's office form (a support plan, ``plans_pages.py``; a wellbeing plan,
``server/relationships/wellbeing_pages.py``): what the form shows (``form_data``: the case, its
pupil and the version a review supersedes), and saving it: checked, then pushed through the sync
engine as a new record (a review is a new version that supersedes the last), or the form again
with what is wrong; and the two routes of a plan's form (``plan_routes``)."""
from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync.schema import is_uuid

from ..office import writes
from ..office.cases import case_id_of
from ..office.pages import PageError, app_state, form, me, page, record_view, redirect
from ..office.people import entity, pupil_name
from ..state import AppState
from ..storage import SqliteTxn

Form = Callable[[Request, str, "dict[str, Any] | None", "list[str]", int], Awaitable[Response]]
Fields = Callable[[str, "dict[str, Any]"], "tuple[dict[str, Any], list[str]]"]
More = Callable[[SqliteTxn, "dict[str, Any]"], "dict[str, Any]"]


def _load(st: AppState, table: str, case_id: str, previous_id: str, more: More | None) -> dict[str, Any]:
    with st.db.read() as txn:
        case = entity(txn, "cases", case_id)
        if case is None:
            raise PageError(404, "Not found", "There is no case with that id.")
        pupil = entity(txn, "pupils", case.get("pupil_id"))
        # only a submitted version of this case's plan can be reviewed (the engine's rule, sync/casework.py)
        previous = entity(txn, table, previous_id) if is_uuid(previous_id) else None
        if previous is not None and (previous.get("case_id") != case_id or previous.get("status") != "submitted"):
            previous = None
        data = {"case": case, "pupil": pupil, "name": pupil_name(pupil), "previous": previous}
        return {**data, **more(txn, data)} if more else data


async def form_data(request: Request, case_id: str, values: dict[str, Any] | None, table: str, what: str,
                    more: More | None = None) -> dict[str, Any]:
    """What a plan's form shows (a 404 for an unknown case): ``case``, ``pupil``, ``name``,
    ``previous`` (the version under review: named by the form's ``supersedes`` or the query's
    ``reviews``) and ``reviewing``, plus ``more(txn, data)``; the view is audited as ``what``."""
    st = app_state(request)
    previous_id = (values or {}).get("supersedes") or request.query_params.get("reviews", "")
    data = await run_in_threadpool(_load, st, table, case_id, previous_id.lower(), more)
    await run_in_threadpool(record_view, st, me(request).user.id, [data["case"].get("pupil_id"), case_id],
                            f"{what} form")
    return {**data, "reviewing": data["previous"] is not None}


async def save_plan(request: Request, type_: str, case_id: str, values: dict[str, Any], fields_of: Fields,
                    again: Form, done: str) -> Response:
    """``fields_of(case_id, values)``: the record's fields and the problems; ``again``: the form
    with the values and problems (422); ``done``: where the case page goes after, e.g.
    ``plan#plans-heading``."""
    if values.get("supersedes") and not is_uuid(values["supersedes"]):
        values["supersedes"] = ""
    await run_in_threadpool(_load, app_state(request), "cases", case_id, "", None)  # a 404 for an unknown case
    fields, errors = fields_of(case_id, values)
    if errors:
        return await again(request, case_id, values, errors, 422)
    result = await run_in_threadpool(writes.put, app_state(request), me(request).user, type_, str(uuid.uuid4()),
                                     fields, None)
    if writes.problems(result):
        return await again(request, case_id, values, writes.problems(result), 422)
    return redirect(f"/office/cases/{case_id}?done={done}")


def plan_routes(path: str, type_: str, values_of: Callable[[FormData], dict[str, Any]], fields_of: Fields,
                show: Form, done: str) -> list[Route]:
    """A plan's form, GET ``/office/cases/{case_id}/<path>/new`` (``show``), and saving it, POST
    ``/office/cases/{case_id}/<path>`` (``save_plan`` of ``values_of(form)`` as ``type_``)."""

    @page
    async def new_plan(request: Request) -> Response:
        return await show(request, case_id_of(request), None, [], 200)

    @page
    async def create_plan(request: Request) -> Response:
        case_id = case_id_of(request)
        return await save_plan(request, type_, case_id, values_of(form(request)), fields_of, show, done)

    return [Route(f"/office/cases/{{case_id}}/{path}/new", new_plan, methods=["GET"]),
            Route(f"/office/cases/{{case_id}}/{path}", create_plan, methods=["POST"])]
