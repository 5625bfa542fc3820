"""The fleet and pupils' transport needs in the office: list, add, change, retire.

The forms are turned into the API's record shape and checked by ``fleet`` (one source for the
rules); each problem shows beside its field. Writes are ``fleet.save_*`` (audited); the needs
pages are audited as views of the pupils they show."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from sync.schema import is_uuid

from ..errors import ApiError
from ..office.pages import PageError, app_state, form, me, page, record_view, redirect, render, text_field
from ..state import AppState
from . import fleet

# API field -> the form field its problem shows beside
VEHICLE_SPOT = {"depot": "depot_lat"}
NEED_SPOT = {"pickup": "pickup_lat", "window": "window_from", "pupil_id": "pupil"}


def _number(value: str) -> Any:
    """A typed number as the API would get it; what is not a number stays text (and is refused)."""
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def _place(data: FormData, prefix: str) -> dict[str, Any] | str | None:
    lat, lon = text_field(data, f"{prefix}_lat"), text_field(data, f"{prefix}_lon")
    if not lat and not lon:
        return None
    return {"lat": _number(lat), "lon": _number(lon), "label": text_field(data, f"{prefix}_label")}


def vehicle_from_form(data: FormData) -> dict[str, Any]:
    out: dict[str, Any] = {k: text_field(data, k) for k in ("name", "contractor", "available_from", "available_to")}
    for key in ("seats", "wheelchair_places", "day_rate", "per_km"):
        value = text_field(data, key)
        out[key] = _number(value) if value else (None if key == "seats" else 0)
    out["escort"] = data.get("escort") == "1"
    out["depot"] = _place(data, "depot")
    return out


def need_from_form(data: FormData) -> dict[str, Any]:
    out: dict[str, Any] = {"pickup": _place(data, "pickup"), "driver_note": text_field(data, "driver_note")}
    start, end = text_field(data, "window_from"), text_field(data, "window_to")
    out["window"] = {"from": start, "to": end} if start or end else None
    for key in ("wheelchair", "escort", "travel_alone", "siblings_together"):
        out[key] = data.get(key) == "1"
    for key in ("seats", "boarding_s", "max_ride_min"):
        value = text_field(data, key)
        if value:
            out[key] = _number(value)
        elif key == "max_ride_min":
            out[key] = None
    return out


def vehicle_form_values(v: dict[str, Any]) -> dict[str, Any]:
    depot = v.get("depot") or {}
    return {**{k: v.get(k, "") for k in fleet.VEHICLE_KEYS}, "depot_lat": depot.get("lat", ""),
            "depot_lon": depot.get("lon", ""), "depot_label": depot.get("label", "")}


def need_form_values(n: dict[str, Any]) -> dict[str, Any]:
    pickup, window = n.get("pickup") or {}, n.get("window") or {}
    return {**{k: n.get(k) if n.get(k) is not None else "" for k in fleet.NEED_KEYS},
            "pickup_lat": pickup.get("lat", ""), "pickup_lon": pickup.get("lon", ""),
            "pickup_label": pickup.get("label", ""), "window_from": window.get("from", ""),
            "window_to": window.get("to", "")}


def _spots(exc: ApiError, spot: dict[str, str]) -> dict[str, str]:
    fields = exc.details.get("fields") or {exc.details.get("field", "form"): exc.message}
    return {spot.get(k.split(".")[0], k.split(".")[0]): v[:1].upper() + v[1:] + "." for k, v in fields.items()}


def _limits(request: Request) -> dict[str, int]:
    s = app_state(request).settings
    return {"primary": s.ride_limit_primary_min, "secondary": s.ride_limit_secondary_min}


def _form_page(request: Request, template: str, context: dict[str, Any], errors: dict[str, str] | None) -> Response:
    """A fleet or needs page with its form: 422 when it shows the form's problems."""
    return render(request, template, {**context, "errors": errors or {}}, status=422 if errors else 200,
                  active="transport")


def _raw(data: FormData) -> dict[str, str]:
    """What was typed, to show again beside its error."""
    return {k: v for k, v in data.items() if isinstance(v, str) and k != "csrf_token"}


async def _found(request: Request, key: str, load: Callable[[AppState, str], dict[str, Any] | None],
                 missing: str) -> dict[str, Any]:
    """The record named by the path parameter ``key``, or a 404 page saying ``missing``."""
    record_id = request.path_params[key]
    found = await run_in_threadpool(load, app_state(request), record_id) if is_uuid(record_id) else None
    if found is None:
        raise PageError(404, "Not found", missing)
    return found


def _edited(found: dict[str, Any], data: FormData, keys: tuple[str, ...],
            from_form: Callable[[FormData], dict[str, Any]]) -> tuple[dict[str, Any], bool | None]:
    """What an edit form saves, and its ``retired`` flag: the record as stored when the form's
    button retires (True) or restores (False) it, else the form as typed (None)."""
    action = data.get("action")
    retired = {"retire": True, "restore": False}.get(action if isinstance(action, str) else "")
    return (fleet.editable(found, keys) if retired is not None else from_form(data)), retired


async def _saved(save: Callable[[], str], again: Callable[[dict[str, str]], Awaitable[Response]],
                 spot: dict[str, str], back: str) -> Response:
    """Run ``save`` (it answers the saved record's id) and go ``back`` + that id; or, when the
    rules refuse it, show the form ``again`` with each problem beside its field."""
    try:
        saved = await run_in_threadpool(save)
    except ApiError as exc:
        return await again(_spots(exc, spot))
    return redirect(back + saved)


# ---- the fleet -------------------------------------------------------------------------------

async def _fleet_page(request: Request, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                      saved: str = "") -> Response:
    st = app_state(request)
    items = await run_in_threadpool(fleet.vehicles, st, True)
    blank = {k: "" for k in fleet.VEHICLE_KEYS} | {"available_from": fleet.DEFAULT_AVAILABLE[0],
                                                    "available_to": fleet.DEFAULT_AVAILABLE[1], "wheelchair_places": 0,
                                                    "depot_lat": "", "depot_lon": "", "depot_label": ""}
    return _form_page(request, "transport_fleet.html", {
        "title": "Fleet", "vehicles": items, "v": values or blank, "saved": saved}, errors)


@page
async def fleet_list(request: Request) -> Response:
    return await _fleet_page(request, saved=request.query_params.get("saved", "")[:100])


@page
async def fleet_add(request: Request) -> Response:
    st, user, data = app_state(request), me(request).user, form(request)
    body = vehicle_from_form(data)
    return await _saved(lambda: fleet.save_vehicle(st, user.id, None, body)["id"],
                        lambda problems: _fleet_page(request, {**body, **_raw(data)}, problems),
                        VEHICLE_SPOT, "/office/transport/fleet?saved=")


async def _vehicle_page(request: Request, found: dict[str, Any], values: dict[str, Any],
                        errors: dict[str, str] | None = None) -> Response:
    return _form_page(request, "transport_vehicle.html", {
        "title": f"Vehicle {found['name']}", "vehicle": found, "v": values}, errors)


async def _vehicle_of(request: Request) -> dict[str, Any]:
    return await _found(request, "vehicle_id", fleet.vehicle, "There is no such vehicle in the fleet.")


@page
async def vehicle_edit(request: Request) -> Response:
    found = await _vehicle_of(request)
    return await _vehicle_page(request, found, vehicle_form_values(found))


@page
async def vehicle_save(request: Request) -> Response:
    st, user, data = app_state(request), me(request).user, form(request)
    found = await _vehicle_of(request)
    body, retired = _edited(found, data, fleet.VEHICLE_KEYS, vehicle_from_form)
    return await _saved(lambda: fleet.save_vehicle(st, user.id, None, body, found["id"], retired)["id"],
                        lambda problems: _vehicle_page(request, found, {**body, **_raw(data)}, problems),
                        VEHICLE_SPOT, "/office/transport/fleet?saved=")


# ---- pupils' needs ---------------------------------------------------------------------------

def _addable(st: Any) -> list[dict[str, Any]]:
    """Pupils eligible for transport with no needs recorded yet (the add form's choices)."""
    return st.db.query(
        "SELECT p.id, trim(COALESCE(json_extract(p.data, '$.first_name'), '') || ' ' || "
        "COALESCE(json_extract(p.data, '$.last_name'), '')) AS name, json_extract(s.data, '$.name') AS school "
        "FROM pupils p LEFT JOIN schools s ON s.id = p.school_id WHERE p.deleted = 0 "
        "AND json_extract(p.data, '$.transport_eligible') = 1 "
        "AND p.id NOT IN (SELECT pupil_id FROM transport_needs) ORDER BY json_extract(p.data, '$.last_name'), name")


async def _needs_page(request: Request, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                      saved: str = "") -> Response:
    st = app_state(request)
    items = await run_in_threadpool(fleet.needs, st, True)
    addable = await run_in_threadpool(_addable, st)
    schools = {s["id"]: s["name"] for s in st.db.query("SELECT id, json_extract(data, '$.name') AS name FROM schools")}
    await run_in_threadpool(record_view, st, me(request).user.id, [n["pupil_id"] for n in items] +
                            [p["id"] for p in addable], "transport needs")
    blank = {k: "" for k in fleet.NEED_KEYS} | {"seats": 1, "boarding_s": 60, "pupil": "", "window_from": "",
                                                 "window_to": "", "pickup_lat": "", "pickup_lon": "", "pickup_label": ""}
    return _form_page(request, "transport_needs.html", {
        "title": "Pupils' transport needs", "needs": items, "addable": addable, "schools": schools,
        "n": values or blank, "saved": saved, "limits": _limits(request)}, errors)


@page
async def needs_list(request: Request) -> Response:
    return await _needs_page(request, saved=request.query_params.get("saved", "")[:100])


@page
async def need_add(request: Request) -> Response:
    st, user, data = app_state(request), me(request).user, form(request)
    pupil = text_field(data, "pupil")
    body = need_from_form(data)

    def add() -> str:
        if not is_uuid(pupil):
            raise ApiError(422, "validation_failed", "choose a pupil", {"fields": {"pupil_id": "choose a pupil"}})
        return fleet.save_need(st, user.id, None, pupil, body, create=True)["pupil_id"]

    return await _saved(add, lambda problems: _needs_page(request, {**need_form_values(body), **_raw(data)},
                                                          problems), NEED_SPOT, "/office/transport/needs?saved=")


async def _need_of(request: Request) -> dict[str, Any]:
    return await _found(request, "pupil_id", fleet.need, "No transport needs are recorded for that pupil.")


async def _need_page(request: Request, found: dict[str, Any], values: dict[str, Any],
                     errors: dict[str, str] | None = None) -> Response:
    await run_in_threadpool(record_view, app_state(request), me(request).user.id, [found["pupil_id"]],
                            "transport needs")
    return _form_page(request, "transport_need.html", {
        "title": f"Transport needs: {found['name']}", "need": found, "n": values, "limits": _limits(request)},
        errors)


@page
async def need_edit(request: Request) -> Response:
    found = await _need_of(request)
    return await _need_page(request, found, need_form_values(found))


@page
async def need_save(request: Request) -> Response:
    st, user, data = app_state(request), me(request).user, form(request)
    found = await _need_of(request)
    body, retired = _edited(found, data, fleet.NEED_KEYS, need_from_form)
    return await _saved(
        lambda: fleet.save_need(st, user.id, None, found["pupil_id"], body, create=False, retired=retired)["pupil_id"],
        lambda problems: _need_page(request, found, {**need_form_values(body), **_raw(data)}, problems),
        NEED_SPOT, "/office/transport/needs?saved=")
