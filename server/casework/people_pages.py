"""The office's household page: its parents and carers as ``person`` records, added and changed
(docs/casework.md, "Parents and support plans"). Each write is pushed through the sync engine
(``server.office.writes.put``), which checks the fields against the schema (sync/schema.py)."""
from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..office import writes
from ..office.pages import PageError, app_state, form, me, page, record_view, redirect, render, text_field, uuid_param
from ..office.people import entity, pupil_name
from ..state import AppState
from .plans import household_persons

TEXT = {"name": 200, "relationship": 100, "address": 500, "phone": 40, "email": 254, "preferred_language": 100}
TRI = {"": None, "yes": True, "no": False}


def _household(st: AppState, household_id: str) -> dict[str, Any]:
    with st.db.read() as txn:
        household = entity(txn, "households", household_id)
        if household is None:
            raise PageError(404, "Not found", "There is no household with that id.")
        pupils = txn.rows("SELECT p.id, p.data, c.id AS case_id FROM pupils p LEFT JOIN cases c ON c.pupil_id = p.id "
                          "AND c.deleted = 0 AND c.status = 'open' WHERE p.household_id = ? AND p.deleted = 0",
                          (household_id,))
        return {"household": household, "persons": household_persons(txn, household_id),
                "pupils": [{"id": r["id"], "name": pupil_name(orjson.loads(r["data"])), "case_id": r["case_id"]}
                           for r in pupils]}


def _person(st: AppState, person_id: str) -> dict[str, Any]:
    with st.db.read() as txn:
        person = entity(txn, "persons", person_id)
        if person is None:
            raise PageError(404, "Not found", "There is no parent or carer with that id.")
        return {"person": person, "household": entity(txn, "households", person.get("household_id"))}


def _values(request: Request) -> dict[str, Any]:
    data = form(request)
    values: dict[str, Any] = {name: text_field(data, name, limit) for name, limit in TEXT.items()}
    for name in ("parental_responsibility", "needs_interpreter"):
        values[name] = text_field(data, name, 3) if text_field(data, name, 3) in TRI else ""
    values["no_longer_involved"] = data.get("no_longer_involved") == "yes"
    return values


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {name: values[name] or None for name in TEXT}
    fields.update(parental_responsibility=TRI[values["parental_responsibility"]],
                  needs_interpreter=TRI[values["needs_interpreter"]],
                  no_longer_involved=values["no_longer_involved"] or None)
    return fields


def _as_values(person: dict[str, Any]) -> dict[str, Any]:
    values = {name: person.get(name) or "" for name in TEXT}
    for name in ("parental_responsibility", "needs_interpreter"):
        values[name] = {True: "yes", False: "no"}.get(person.get(name), "")
    values["no_longer_involved"] = bool(person.get("no_longer_involved"))
    return values


async def _household_page(request: Request, household_id: str, values: dict[str, Any] | None,
                          errors: list[str], status: int = 200) -> Response:
    st = app_state(request)
    data = await run_in_threadpool(_household, st, household_id)
    await run_in_threadpool(record_view, st, me(request).user.id,
                            [household_id, *(p["id"] for p in data["pupils"])], "household")
    blank = {**{name: "" for name in TEXT}, "parental_responsibility": "", "needs_interpreter": "",
             "no_longer_involved": False, "preferred_language": data["household"].get("language") or ""}
    return render(request, "casework_household.html", {
        "title": f"Household: {data['household'].get('address')}", "errors": errors, "values": values or blank,
        "done": request.query_params.get("done") == "person" and not errors, **data}, status=status, active="cases")


@page
async def household_page(request: Request) -> Response:
    return await _household_page(request, uuid_param(request, "household_id", "household").lower(), None, [])


@page
async def add_person(request: Request) -> Response:
    st = app_state(request)
    household_id = uuid_param(request, "household_id", "household").lower()
    values = _values(request)
    fields = {"household_id": household_id, **_fields(values)}
    result = await run_in_threadpool(writes.put, st, me(request).user, "person", str(uuid.uuid4()), fields, None)
    if writes.problems(result):
        return await _household_page(request, household_id, values, writes.problems(result), 422)
    return redirect(f"/office/households/{household_id}?done=person")


async def _person_page(request: Request, person_id: str, values: dict[str, Any] | None, errors: list[str],
                       status: int = 200) -> Response:
    st = app_state(request)
    data = await run_in_threadpool(_person, st, person_id)
    await run_in_threadpool(record_view, st, me(request).user.id, [person_id, data["person"].get("household_id")],
                            "person")
    return render(request, "casework_person.html", {
        "title": f"Parent or carer: {data['person'].get('name')}", "errors": errors,
        "values": values or _as_values(data["person"]), **data}, status=status, active="cases")


@page
async def person_page(request: Request) -> Response:
    return await _person_page(request, uuid_param(request, "person_id", "parent or carer").lower(), None, [])


@page
async def change_person(request: Request) -> Response:
    st = app_state(request)
    person_id = uuid_param(request, "person_id", "parent or carer").lower()
    data = await run_in_threadpool(_person, st, person_id)
    values = _values(request)
    version = text_field(form(request), "version", 12)
    result = await run_in_threadpool(writes.put, st, me(request).user, "person", person_id, _fields(values),
                                     int(version) if version.isdigit() else data["person"]["_version"])
    if writes.problems(result):
        return await _person_page(request, person_id, values, writes.problems(result), 422)
    return redirect(f"/office/households/{data['person'].get('household_id')}?done=person")


routes = [
    Route("/office/households/{household_id}", household_page, methods=["GET"]),
    Route("/office/households/{household_id}/persons", add_person, methods=["POST"]),
    Route("/office/persons/{person_id}", person_page, methods=["GET"]),
    Route("/office/persons/{person_id}", change_person, methods=["POST"]),
]
