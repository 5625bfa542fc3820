"""The fleet and pupils' transport needs as records in the office (docs/routing.md section 8).

One source for their rules: ``vehicle_fields`` and ``need_fields`` check a whole record and
answer the clean record and what is wrong with it, field by field. The API answers those
problems as a 422 (``details.fields``), the office pages show each beside its field. Every
write is one transaction with its audit row; a need is pupil data, so reading one is audited
by the caller (API or page)."""
from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from .. import audit
from ..errors import ApiError, invalid
from ..state import AppState
from ..util import now_iso

CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
DEFAULT_AVAILABLE = ("07:00", "18:00")
MAX_VEHICLES, MAX_NEEDS = 500, 5000
VEHICLE_KEYS = ("name", "contractor", "seats", "wheelchair_places", "escort", "depot", "available_from",
                "available_to", "day_rate", "per_km")
NEED_KEYS = ("pickup", "window", "boarding_s", "seats", "wheelchair", "escort", "travel_alone",
             "siblings_together", "max_ride_min", "driver_note")

Problems = dict[str, str]



def _yes_no(value: bool | None) -> int | None:
    """A yes/no/unset parameter as an integer both stores type alike (unset: NULL)."""
    return None if value is None else int(bool(value))

def _text(v: Mapping[str, Any], key: str, out: dict[str, Any], bad: Problems, limit: int,
          required: bool = False) -> None:
    value = v.get(key, "")
    value = "" if value is None else value
    if not isinstance(value, str) or len(value.strip()) > limit:
        bad[key] = f"{key} must be text of at most {limit} characters"
    elif required and not value.strip():
        bad[key] = f"{key} is required"
    else:
        out[key] = value.strip()


def _int(v: Mapping[str, Any], key: str, out: dict[str, Any], bad: Problems, lo: int, hi: int,
         default: int | None) -> None:
    value = v.get(key, default)
    if value is None and default is None:
        out[key] = None
    elif isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        bad[key] = f"{key} must be a whole number from {lo} to {hi}"
    else:
        out[key] = value


def _flag(v: Mapping[str, Any], key: str, out: dict[str, Any], bad: Problems) -> None:
    value = v.get(key, False)
    if not isinstance(value, bool):
        bad[key] = f"{key} must be true or false"
    else:
        out[key] = value


def _money(v: Mapping[str, Any], key: str, out: dict[str, Any], bad: Problems) -> None:
    value = v.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= 10_000:
        bad[key] = f"{key} must be an amount in pounds from 0 to 10000"
    else:
        out[key] = round(float(value), 2)


def _place(value: Any, key: str, bad: Problems, required: bool) -> dict[str, Any] | None:
    if value is None:
        if required:
            bad[key] = f"{key} needs a latitude and a longitude"
        return None
    if not isinstance(value, dict) or set(value) - {"lat", "lon", "label"}:
        bad[key] = f"{key} must be an object with lat, lon and an optional label"
        return None
    place: dict[str, Any] = {}
    for part, lo, hi in (("lat", -90, 90), ("lon", -180, 180)):
        x = value.get(part)
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or not lo <= x <= hi:
            bad[key] = f"{key}.{part} must be a number from {lo} to {hi}"
            return None
        place[part] = float(x)
    label = value.get("label") or ""
    if not isinstance(label, str) or len(label) > 200:
        bad[key] = f"{key}.label must be text of at most 200 characters"
        return None
    place["label"] = label.strip()
    return place


def vehicle_fields(v: Mapping[str, Any]) -> tuple[dict[str, Any], Problems]:
    """A whole vehicle checked: (clean record, problems by field)."""
    out: dict[str, Any] = {}
    bad: Problems = {}
    if not isinstance(v, Mapping):
        return out, {"body": "a vehicle must be an object"}
    for key in set(v) - set(VEHICLE_KEYS):
        bad[key] = f"unknown field {key}"
    _text(v, "name", out, bad, 100, required=True)
    _text(v, "contractor", out, bad, 100)
    _int(v, "seats", out, bad, 0, 80, None)
    if out.get("seats") is None and "seats" not in bad:
        bad["seats"] = "seats must be a whole number from 0 to 80"
    _int(v, "wheelchair_places", out, bad, 0, 10, 0)
    if not bad.keys() & {"seats", "wheelchair_places"} and out["seats"] + out["wheelchair_places"] < 1:
        bad["seats"] = "a vehicle needs at least one seat or wheelchair place"
    _flag(v, "escort", out, bad)
    out["depot"] = _place(v.get("depot"), "depot", bad, required=True)
    for key, default in zip(("available_from", "available_to"), DEFAULT_AVAILABLE, strict=True):
        value = v.get(key, default)
        if not isinstance(value, str) or not CLOCK.fullmatch(value):
            bad[key] = f"{key} must be a time of day HH:MM"
        else:
            out[key] = value
    if not bad.keys() & {"available_from", "available_to"} and out["available_from"] >= out["available_to"]:
        bad["available_to"] = "available_to must be later than available_from"
    _money(v, "day_rate", out, bad)
    _money(v, "per_km", out, bad)
    return out, bad


def need_fields(v: Mapping[str, Any]) -> tuple[dict[str, Any], Problems]:
    """A pupil's whole transport need checked: (clean record, problems by field)."""
    out: dict[str, Any] = {}
    bad: Problems = {}
    if not isinstance(v, Mapping):
        return out, {"body": "a transport need must be an object"}
    for key in set(v) - set(NEED_KEYS):
        bad[key] = f"unknown field {key}"
    out["pickup"] = _place(v.get("pickup"), "pickup", bad, required=False)
    window = v.get("window")
    out["window"] = None
    if window is not None:
        if (not isinstance(window, dict) or set(window) != {"from", "to"}
                or not all(isinstance(window[k], str) and CLOCK.fullmatch(window[k]) for k in ("from", "to"))):
            bad["window"] = "window must be {from, to}, each a time of day HH:MM"
        elif window["from"] >= window["to"]:
            bad["window"] = "the window must end after it starts"
        else:
            out["window"] = {"from": window["from"], "to": window["to"]}
    _int(v, "boarding_s", out, bad, 0, 1800, 60)
    _flag(v, "wheelchair", out, bad)
    _int(v, "seats", out, bad, 0, 4, 0 if out.get("wheelchair") else 1)
    if not bad.keys() & {"seats", "wheelchair"} and out["seats"] == 0 and not out["wheelchair"]:
        bad["seats"] = "a pupil who is not a wheelchair user takes at least one seat"
    for key in ("escort", "travel_alone", "siblings_together"):
        _flag(v, key, out, bad)
    _int(v, "max_ride_min", out, bad, 5, 240, None)
    _text(v, "driver_note", out, bad, 200)
    return out, bad


def _over_stored(txn: Any, sql: str, key: str, keys: tuple[str, ...], fields: dict[str, Any],
                 missing: str) -> dict[str, Any]:
    """A patch's ``fields`` over the record as stored (read by ``sql`` inside the write
    transaction, so two patches of different fields never undo each other); 404 ``missing``."""
    row = txn.execute(sql, (key,)).fetchone()
    if row is None:
        raise ApiError(404, "not_found", missing)
    return {**editable(orjson.loads(row[0]), keys), **fields}


def raise_problems(bad: Problems) -> None:
    """The house 422: the first problem as the message, all of them by field."""
    if bad:
        field, message = sorted(bad.items())[0]
        raise invalid(message, field=field, fields=bad)


def _row(r: dict[str, Any], key: str) -> dict[str, Any]:
    return {key: r[key], **orjson.loads(r["data"]), "retired": r["retired_at"] is not None,
            "retired_at": r["retired_at"], "updated_at": r["updated_at"]}


def vehicles(st: AppState, include_retired: bool = False) -> list[dict[str, Any]]:
    rows = st.db.query("SELECT * FROM transport_vehicles" + ("" if include_retired else
                       " WHERE retired_at IS NULL") + " ORDER BY json_extract(data, '$.name'), id")
    return [_row(r, "id") for r in rows]


def vehicle(st: AppState, vehicle_id: str) -> dict[str, Any] | None:
    rows = st.db.query("SELECT * FROM transport_vehicles WHERE id = ?", (vehicle_id,))
    return _row(rows[0], "id") if rows else None


def save_vehicle(st: AppState, user_id: str, device_id: str | None, fields: Mapping[str, Any],
                 vehicle_id: str | None = None, retired: bool | None = None, patch: bool = False) -> dict[str, Any]:
    """Create (no id) or replace a vehicle with checked ``fields``, and audit it, in one
    transaction; ``retired`` True retires it, False brings it back; ``patch``: ``fields`` change
    only what they name, over the vehicle as stored when the write begins (no lost update)."""
    now = now_iso()
    with st.db.write() as txn:
        if patch and vehicle_id is not None:
            fields = _over_stored(txn, "SELECT data FROM transport_vehicles WHERE id = ?", vehicle_id,
                                  VEHICLE_KEYS, fields, "no such vehicle")
        clean, bad = vehicle_fields(fields)
        raise_problems(bad)
        if vehicle_id is None:
            if txn.execute("SELECT count(*) FROM transport_vehicles").fetchone()[0] >= MAX_VEHICLES:
                raise ApiError(409, "conflict", f"the fleet holds at most {MAX_VEHICLES} vehicles")
            vehicle_id = str(uuid.uuid4())
            txn.execute("INSERT INTO transport_vehicles (id, data, created_at, updated_at, updated_by) "
                        "VALUES (?, ?, ?, ?, ?)", (vehicle_id, orjson.dumps(clean).decode(), now, now, user_id))
            action = "transport_vehicle_create"
        else:
            txn.execute("UPDATE transport_vehicles SET data = ?, updated_at = ?, updated_by = ?, retired_at = "
                        "CASE WHEN CAST(? AS INTEGER) IS NULL THEN retired_at WHEN CAST(? AS INTEGER) = 1 "
                        "THEN COALESCE(retired_at, ?) ELSE NULL END "
                        "WHERE id = ?", (orjson.dumps(clean).decode(), now, user_id, _yes_no(retired), _yes_no(retired),
                                         now, vehicle_id))
            action = "transport_vehicle_update"
        audit.record(txn, user_id, device_id, action, [vehicle_id],
                     {"fields": sorted(clean), **({} if retired is None else {"retired": retired})})
    found = vehicle(st, vehicle_id)
    assert found is not None
    return found


_NEEDS_SQL = ("SELECT n.pupil_id, n.data, n.retired_at, n.updated_at, p.school_id, "
              "json_extract(p.data, '$.first_name') AS first_name, json_extract(p.data, '$.last_name') AS last_name, "
              "json_extract(p.data, '$.year_group') AS year_group, p.household_id "
              "FROM transport_needs n JOIN pupils p ON p.id = n.pupil_id AND p.deleted = 0")


def _need_row(r: dict[str, Any]) -> dict[str, Any]:
    out = _row(r, "pupil_id")
    out.update(school_id=r["school_id"], household_id=r["household_id"], year_group=r["year_group"],
               name=" ".join(x for x in (r["first_name"], r["last_name"]) if x))
    return out


def needs(st: AppState, include_retired: bool = False, school_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Pupils' transport needs with the pupil's name, school and household (live pupils only)."""
    sql, params = _NEEDS_SQL + " WHERE 1 = 1", []
    if not include_retired:
        sql += " AND n.retired_at IS NULL"
    if school_ids is not None:
        sql += " AND p.school_id IN (SELECT value FROM json_each(?))"
        params.append(orjson.dumps(school_ids).decode())
    rows = st.db.query(sql + " ORDER BY last_name, first_name, n.pupil_id", params)
    return [_need_row(r) for r in rows]


def need(st: AppState, pupil_id: str) -> dict[str, Any] | None:
    rows = st.db.query(_NEEDS_SQL + " WHERE n.pupil_id = ?", (pupil_id,))
    return _need_row(rows[0]) if rows else None


def save_need(st: AppState, user_id: str, device_id: str | None, pupil_id: str, fields: Mapping[str, Any],
              *, create: bool, retired: bool | None = None, patch: bool = False) -> dict[str, Any]:
    """Record (``create``) or replace a pupil's transport need with checked ``fields``, audited
    as a write of the pupil's record, in one transaction; ``patch``: ``fields`` change only what
    they name, over the need as stored when the write begins (no lost update)."""
    now = now_iso()
    with st.db.write() as txn:
        if patch and not create:
            fields = _over_stored(txn, "SELECT data FROM transport_needs WHERE pupil_id = ?", pupil_id,
                                  NEED_KEYS, fields, "no transport needs are recorded for this pupil")
        clean, bad = need_fields(fields)
        raise_problems(bad)
        pupil = txn.execute("SELECT 1 FROM pupils WHERE id = ? AND deleted = 0", (pupil_id,)).fetchone()
        if pupil is None:
            raise invalid("pupil_id must be a pupil's id", field="pupil_id", fields={"pupil_id": "no such pupil"})
        exists = txn.execute("SELECT 1 FROM transport_needs WHERE pupil_id = ?", (pupil_id,)).fetchone()
        if create and exists:
            raise ApiError(409, "conflict", "this pupil's transport needs are recorded already: change them",
                           {"field": "pupil_id", "fields": {"pupil_id": "already recorded"}})
        if not create and not exists:
            raise ApiError(404, "not_found", "no transport needs are recorded for this pupil")
        if create:
            if txn.execute("SELECT count(*) FROM transport_needs").fetchone()[0] >= MAX_NEEDS:
                raise ApiError(409, "conflict", f"at most {MAX_NEEDS} pupils' needs are kept")
            txn.execute("INSERT INTO transport_needs (pupil_id, data, created_at, updated_at, updated_by) "
                        "VALUES (?, ?, ?, ?, ?)", (pupil_id, orjson.dumps(clean).decode(), now, now, user_id))
        else:
            txn.execute("UPDATE transport_needs SET data = ?, updated_at = ?, updated_by = ?, retired_at = "
                        "CASE WHEN CAST(? AS INTEGER) IS NULL THEN retired_at WHEN CAST(? AS INTEGER) = 1 "
                        "THEN COALESCE(retired_at, ?) ELSE NULL END "
                        "WHERE pupil_id = ?", (orjson.dumps(clean).decode(), now, user_id, _yes_no(retired),
                                               _yes_no(retired), now, pupil_id))
        audit.record(txn, user_id, device_id, "transport_need_create" if create else "transport_need_update",
                     [pupil_id], {"fields": sorted(k for k, x in clean.items() if x not in (None, False, "")),
                                  **({} if retired is None else {"retired": retired})})
    found = need(st, pupil_id)
    assert found is not None
    return found


def editable(record: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """A stored record's own fields, as a PATCH merges into them."""
    return {k: record[k] for k in keys if k in record}
