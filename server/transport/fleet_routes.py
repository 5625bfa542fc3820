"""The fleet and pupils' transport needs through the API (office, admin): list, add, change,
retire. The rules are ``fleet.py``'s; errors are the house 422 with every problem by field."""
from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import ADMIN, OFFICE
from sync.schema import is_uuid

from ..errors import invalid, not_found
from ..http import audit_read, authenticate, read_json, state
from ..jsonresp import JSONResponse
from . import fleet

MAX_BODY = 64 * 1024  # a vehicle or a need is small; the limit other office endpoints use


def _retired_flag(body: dict[str, Any]) -> bool | None:
    retired = body.pop("retired", None)
    if retired is not None and not isinstance(retired, bool):
        raise invalid("retired must be true or false", field="retired", fields={"retired": "true or false"})
    return retired


def _include_retired(request: Request) -> bool:
    value = request.query_params.get("retired", "exclude")
    if value not in ("exclude", "include"):
        raise invalid("retired must be exclude or include", field="retired")
    return value == "include"


async def list_vehicles(request: Request) -> Response:
    st = state(request)
    await authenticate(request, OFFICE, ADMIN)
    items = await run_in_threadpool(fleet.vehicles, st, _include_retired(request))
    return JSONResponse({"items": items, "next": None})


async def add_vehicle(request: Request) -> Response:
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    body = await read_json(request, MAX_BODY)
    made = await run_in_threadpool(fleet.save_vehicle, st, auth.user.id, auth.device_id, body)
    return JSONResponse(made, status_code=201)


async def change_vehicle(request: Request) -> Response:
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    vehicle_id = request.path_params["vehicle_id"]
    body = await read_json(request, MAX_BODY)
    retired = _retired_flag(body)
    if not is_uuid(vehicle_id):
        raise not_found("no such vehicle")
    saved = await run_in_threadpool(lambda: fleet.save_vehicle(st, auth.user.id, auth.device_id, body, vehicle_id,
                                                               retired, patch=True))
    return JSONResponse(saved)


async def list_needs(request: Request) -> Response:
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    school_id = request.query_params.get("school_id")
    if school_id is not None and not is_uuid(school_id):
        raise invalid("school_id must be a school's id", field="school_id")
    items = await run_in_threadpool(fleet.needs, st, _include_retired(request),
                                    None if school_id is None else [school_id])
    await audit_read(request, auth, "read_transport_needs", [n["pupil_id"] for n in items])
    return JSONResponse({"items": items, "next": None})


async def add_need(request: Request) -> Response:
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    body = await read_json(request, MAX_BODY)
    pupil_id = body.pop("pupil_id", None)
    if not is_uuid(pupil_id):
        raise invalid("pupil_id must be a pupil's id", field="pupil_id", fields={"pupil_id": "a pupil's id"})
    made = await run_in_threadpool(lambda: fleet.save_need(st, auth.user.id, auth.device_id, pupil_id, body,
                                                           create=True))
    return JSONResponse(made, status_code=201)


async def change_need(request: Request) -> Response:
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    pupil_id = request.path_params["pupil_id"]
    body = await read_json(request, MAX_BODY)
    retired = _retired_flag(body)
    if not is_uuid(pupil_id):
        raise not_found("no transport needs are recorded for this pupil")
    saved = await run_in_threadpool(lambda: fleet.save_need(st, auth.user.id, auth.device_id, pupil_id, body,
                                                            create=False, retired=retired, patch=True))
    return JSONResponse(saved)


routes = [
    Route("/api/transport/vehicles", list_vehicles, methods=["GET"]),
    Route("/api/transport/vehicles", add_vehicle, methods=["POST"]),
    Route("/api/transport/vehicles/{vehicle_id}", change_vehicle, methods=["PATCH"]),
    Route("/api/transport/needs", list_needs, methods=["GET"]),
    Route("/api/transport/needs", add_need, methods=["POST"]),
    Route("/api/transport/needs/{pupil_id}", change_need, methods=["PATCH"]),
]
