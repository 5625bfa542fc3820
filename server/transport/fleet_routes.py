"""The fleet and pupils' transport needs through the API (office, admin): list, add, change,
retire. The rules are ``fleet.py``'s; errors are the house 422 with every problem by field."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import ADMIN, OFFICE
from sync.schema import is_uuid

from ..errors import invalid, not_found
from ..http import Auth, audit_read, authenticate, read_json, state
from ..jsonresp import JSONResponse
from ..state import AppState
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


async def _add(request: Request, save: Callable[[AppState, Auth, dict[str, Any]], dict[str, Any]]) -> Response:
    """An office user's new record: the JSON body, saved by ``save(st, auth, body)``; 201."""
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    body = await read_json(request, MAX_BODY)
    return JSONResponse(await run_in_threadpool(save, st, auth, body), status_code=201)


async def _change(request: Request, key: str, missing: str,
                  save: Callable[[AppState, Auth, str, dict[str, Any], bool | None], dict[str, Any]]) -> Response:
    """An office user's change to the record named by the path parameter ``key`` (404 ``missing``
    when it is not an id): the JSON body less its ``retired`` flag, saved by
    ``save(st, auth, id, body, retired)`` as a patch."""
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    record_id = request.path_params[key]
    body = await read_json(request, MAX_BODY)
    retired = _retired_flag(body)
    if not is_uuid(record_id):
        raise not_found(missing)
    return JSONResponse(await run_in_threadpool(save, st, auth, record_id, body, retired))


async def add_vehicle(request: Request) -> Response:
    return await _add(request, lambda st, auth, body: fleet.save_vehicle(st, auth.user.id, auth.device_id, body))


async def change_vehicle(request: Request) -> Response:
    return await _change(request, "vehicle_id", "no such vehicle", lambda st, auth, vehicle_id, body, retired: (
        fleet.save_vehicle(st, auth.user.id, auth.device_id, body, vehicle_id, retired, patch=True)))


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


def _new_need(st: AppState, auth: Auth, body: dict[str, Any]) -> dict[str, Any]:
    pupil_id = body.pop("pupil_id", None)
    if not is_uuid(pupil_id):
        raise invalid("pupil_id must be a pupil's id", field="pupil_id", fields={"pupil_id": "a pupil's id"})
    return fleet.save_need(st, auth.user.id, auth.device_id, pupil_id, body, create=True)


async def add_need(request: Request) -> Response:
    return await _add(request, _new_need)


async def change_need(request: Request) -> Response:
    return await _change(request, "pupil_id", "no transport needs are recorded for this pupil",
                         lambda st, auth, pupil_id, body, retired: fleet.save_need(
                             st, auth.user.id, auth.device_id, pupil_id, body, create=False, retired=retired,
                             patch=True))


routes = [
    Route("/api/transport/vehicles", list_vehicles, methods=["GET"]),
    Route("/api/transport/vehicles", add_vehicle, methods=["POST"]),
    Route("/api/transport/vehicles/{vehicle_id}", change_vehicle, methods=["PATCH"]),
    Route("/api/transport/needs", list_needs, methods=["GET"]),
    Route("/api/transport/needs", add_need, methods=["POST"]),
    Route("/api/transport/needs/{pupil_id}", change_need, methods=["PATCH"]),
]
