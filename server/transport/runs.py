"""Transport as the office and the API read it: the day's runs against the register close,
the pupils a run may collect, the schools. ``routes.py`` and ``pages.py`` both read through here."""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from ..office.people import pupil_name
from ..state import AppState

LOCAL = ZoneInfo("Europe/London")
REGISTER_OPEN_MIN = 30  # the register may stay open at most 30 minutes (DOMAIN.md)
# The years a run's date may be in: what the API and the office pages accept, and what the OpenAPI
# document states with DATE_PATTERN (tests/server/test_openapi_limits.py checks the two agree).
FIRST_YEAR, LAST_YEAR = 2000, 2100
DATE_PATTERN = r"^(20\d\d|2100)-\d\d-\d\d$"


def in_years(day: dt.date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def clock(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


def register_close(day: dt.date, day_starts: str | None) -> dt.datetime:
    start = dt.datetime.combine(day, clock(day_starts or "08:45"), LOCAL)
    return start + dt.timedelta(minutes=REGISTER_OPEN_MIN)


def records(st: AppState, type_: str, ids: list[str]) -> dict[str, Any]:
    """The live records of a type with these ids, by id."""
    with st.db.read() as txn:
        return {i: r for i, r in txn.get(type_, ids).items() if not r.deleted}


def default_pupils(st: AppState, school_id: str) -> list[str]:
    """Transport-eligible pupils of the school with an open case."""
    rows = st.db.query(
        "SELECT DISTINCT p.id FROM pupils p JOIN cases c ON c.pupil_id = p.id AND c.status = 'open' "
        "AND c.deleted = 0 WHERE p.deleted = 0 AND p.school_id = ? "
        "AND json_extract(p.data, '$.transport_eligible') = 1 ORDER BY p.id", (school_id,))
    return [r["id"] for r in rows]


def schools(st: AppState) -> list[dict[str, Any]]:
    return st.db.query("SELECT id, json_extract(data, '$.name') AS name, json_extract(data, '$.lat') AS lat, "
                       "json_extract(data, '$.lon') AS lon, json_extract(data, '$.day_starts') AS day_starts "
                       "FROM schools WHERE deleted = 0 ORDER BY name")


def candidates(st: AppState, school_id: str) -> dict[str, dict[str, Any]]:
    """Pupils of the school who are transport-eligible or have an open case; the defaults (both) first."""
    rows = st.db.query(
        "SELECT p.id, p.data, h.data AS home, EXISTS (SELECT 1 FROM cases c WHERE c.pupil_id = p.id "
        "AND c.status = 'open' AND c.deleted = 0) AS open_case FROM pupils p "
        "LEFT JOIN households h ON h.id = p.household_id AND h.deleted = 0 "
        "WHERE p.deleted = 0 AND p.school_id = ?", (school_id,))
    out = []
    for r in rows:
        pupil, home = orjson.loads(r["data"]), orjson.loads(r["home"] or "{}")
        eligible = bool(pupil.get("transport_eligible"))
        if not (eligible or r["open_case"]):
            continue
        address = ", ".join(x for x in (home.get("address"), home.get("postcode")) if x)
        out.append({"id": r["id"], "name": pupil_name(pupil), "year": pupil.get("year_group"),
                    "eligible": eligible, "open_case": bool(r["open_case"]), "address": address or "No address",
                    "lat": home.get("lat"), "lon": home.get("lon"),
                    "sort": (not (eligible and r["open_case"]), not eligible, pupil.get("last_name") or "",
                             pupil.get("first_name") or "")})
    return {p["id"]: p for p in sorted(out, key=lambda p: p["sort"])}


def addresses(st: AppState, household_ids: list[Any]) -> dict[str, str]:
    """Each household's "address, postcode" (empty when it has neither), by id."""
    rows = st.db.query("SELECT id, json_extract(data, '$.address') AS address, json_extract(data, '$.postcode') "
                       "AS postcode FROM households WHERE id IN (SELECT value FROM json_each(?))",
                       (orjson.dumps(household_ids).decode(),))
    return {r["id"]: ", ".join(x for x in (r["address"], r["postcode"]) if x) for r in rows}


def runs_on(st: AppState, day: dt.date, school_id: str | None = None) -> list[dict[str, Any]]:
    """A day's runs with stops; each picked-up pupil's arrival against the register close."""
    sql = "SELECT id FROM transport_runs WHERE deleted = 0 AND json_extract(data, '$.date') = ?"
    params: list[Any] = [day.isoformat()]
    if school_id:
        sql += " AND school_id = ?"
        params.append(school_id)
    run_ids = [r["id"] for r in st.db.query(sql, params)]
    with st.db.read() as txn:
        runs = txn.get("transport_run", run_ids)
        stops = [s for s in txn.find("transport_stop", "run_id", run_ids) if not s.deleted]
        schools = txn.get("school", {r.fields.get("school_id") for r in runs.values()} - {None})
        pupils = txn.get("pupil", {s.fields.get("pupil_id") for s in stops} - {None})
    out = []
    for run in sorted(runs.values(), key=lambda r: (r.fields.get("vehicle") or "", r.id)):
        school = schools.get(run.fields.get("school_id"))
        close = register_close(day, school.fields.get("day_starts") if school else None)
        start = close - dt.timedelta(minutes=REGISTER_OPEN_MIN)
        arrived = run.fields.get("arrived_at")
        arrived_at = dt.datetime.fromisoformat(arrived.replace("Z", "+00:00")) if arrived else None
        run_stops = []
        for stop in sorted((s for s in stops if s.fields.get("run_id") == run.id),
                           key=lambda s: s.fields.get("position") or 0):
            pupil = pupils.get(stop.fields.get("pupil_id"))
            run_stops.append({"id": stop.id, **stop.fields,
                              "pupil_name": " ".join(filter(None, [pupil.fields.get("first_name"),
                                                                  pupil.fields.get("last_name")])) if pupil else None,
                              "arrival": arrival_status(stop.fields.get("status"), arrived_at, start, close)})
        out.append({"id": run.id, **run.fields, "register_close": close.astimezone(dt.timezone.utc)
                    .strftime("%Y-%m-%dT%H:%M:%SZ"), "stops": run_stops})
    return out


def arrival_status(stop_status: str | None, arrived_at: dt.datetime | None, day_start: dt.datetime,
                   close: dt.datetime) -> dict[str, str]:
    """On time, late before the register closed (L), or late after it closed (U)."""
    if stop_status != "picked_up":
        return {"code": "not_carried", "label": "not carried"}
    if arrived_at is None:
        return {"code": "not_arrived", "label": "not yet at school"}
    if arrived_at > close:
        return {"code": "late_after_close", "label": "late after register closed (U)", "mark": "U"}
    if arrived_at > day_start:
        return {"code": "late_before_close", "label": "late before register closed (L)", "mark": "L"}
    return {"code": "on_time", "label": "on time"}
