"""Transport in the office: a day's runs (``runs.runs_on``), each picked-up pupil's arrival against
the register close, and a map per school."""
from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from sync.schema import is_uuid

from ..office import labels
from ..office.map_svg import MapRun, Place, route_map
from ..office.pages import app_state, me, page, record_view, render
from ..office.people import Directory
from ..state import AppState
from . import runs as reads
from .pages import _clock_of, _is_date, next_school_day

STOP_STATUS = labels.STOP_STATUS  # sync/vocabulary.json
RUN_STATUS = labels.RUN_STATUS
ARRIVAL_CLASS = {"late_after_close": "concern", "late_before_close": "warn", "on_time": "ok"}


def _day_view(st: AppState, day: dt.date, school_id: str) -> dict[str, Any]:
    runs = reads.runs_on(st, day, school_id or None)
    schools = {s["id"]: s for s in reads.schools(st)}
    with st.db.read() as txn:
        directory = Directory(txn)
    homes = reads.addresses(st, [s.get("household_id") for r in runs for s in r["stops"]])
    late, maps = [], []
    for run in runs:
        for key in ("vehicle", "seats", "status", "driver_id", "departed_at", "arrived_at"):
            run.setdefault(key, None)
        run["school"] = schools.get(run.get("school_id"), {})
        run["driver"] = directory.name(run.get("driver_id"))
        run["close"] = _clock_of(run["register_close"])
        run["departed"] = _clock_of(run.get("departed_at"))
        run["arrived"] = _clock_of(run.get("arrived_at"))
        run["after_close"] = bool(run["arrived_at"]) and (dt.datetime.fromisoformat(run["arrived_at"])
                                                          > dt.datetime.fromisoformat(run["register_close"]))
        for n, stop in enumerate(run["stops"], start=1):
            stop["n"] = n
            stop["eta_clock"] = _clock_of(stop.get("eta"))
            stop["event_clock"] = _clock_of(stop.get("event_at")) if stop.get("event_at") else ""
            stop["address"] = homes.get(stop.get("household_id") or "") or "—"
            stop["status_words"] = STOP_STATUS.get(stop.get("status") or "pending", stop.get("status"))
            stop["arrival_class"] = ARRIVAL_CLASS.get(stop["arrival"]["code"], "")
            # "not picked up yet" only while the run is on its way: once at school a waiting stop was not carried
            stop["arrival_words"] = ("not picked up yet" if stop.get("status") in (None, "pending")
                                     and not run["arrived_at"] else stop["arrival"]["label"])
            if stop["arrival"]["code"] == "late_after_close":
                late.append({"name": stop.get("pupil_name"), "pupil_id": stop.get("pupil_id"), "run": run})
    for school_id_ in dict.fromkeys(r.get("school_id") for r in runs):
        school = schools.get(school_id_)
        mine = [r for r in runs if r.get("school_id") == school_id_]
        if not school or school.get("lat") is None:
            continue
        map_runs = [MapRun(f"{r.get('vehicle') or 'Vehicle'}, {r['driver']}",
                           [Place(s["lat"], s["lon"], f"{s.get('pupil_name')}, {s['status_words'].lower()}")
                            for s in r["stops"] if s.get("lat") is not None and s.get("lon") is not None])
                    for r in mine]
        maps.append({"school": school, "svg": route_map(f"day-map-{len(maps) + 1}", f"Runs to {school['name']}",
                                                        Place(school["lat"], school["lon"], school["name"]),
                                                        map_runs)})
    return {"runs": runs, "late": late, "maps": maps, "schools": list(schools.values())}


@page
async def day_runs(request: Request) -> Response:
    st = app_state(request)
    q = request.query_params
    day = dt.date.fromisoformat(q["date"]) if _is_date(q.get("date", "")) else next_school_day()
    school = q.get("school", "") if is_uuid(q.get("school", "")) else ""
    data = await run_in_threadpool(_day_view, st, day, school)
    await run_in_threadpool(record_view, st, me(request).user.id,
                            [s.get("pupil_id") for r in data["runs"] for s in r["stops"]], "transport day")
    created, stops = q.get("created", ""), q.get("stops", "")
    return render(request, "transport_day.html", {
        "title": f"Transport runs on {labels.when(day.isoformat())}", "day": day, "school_id": school,
        "created": int(created) if created.isdigit() else None, "created_stops": int(stops) if stops.isdigit() else 0,
        "run_status": RUN_STATUS, **data}, active="transport")
