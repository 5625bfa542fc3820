"""The attendance register: marks import and the absence lists (office)."""
from __future__ import annotations

from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import ADMIN, OFFICE

from .. import marks, paging
from ..errors import invalid
from ..http import audit_read, authenticate, query_choice, query_int, read_body, state
from ..jsonresp import JSONResponse
from ..register import BandThresholds

BANDS = ("ok", "at_risk", "persistent", "severe")


def thresholds(request: Request) -> BandThresholds:
    return BandThresholds(at_risk=state(request).settings.at_risk_threshold)


async def import_marks(request: Request) -> Response:
    """Body: the CSV itself (text/csv), or JSON {"csv": "..."}."""
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    raw = await read_body(request, st.settings.max_body_bytes)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise invalid("the body is not valid JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("csv"), str):
            raise invalid("send the CSV as text/csv, or JSON {\"csv\": \"...\"}", field="csv")
        text = data["csv"]
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise invalid("the CSV must be UTF-8 text") from None
    try:
        report = await run_in_threadpool(marks.import_csv, st.db, st.clock, text, auth.actor,
                                         thresholds(request))
    except ValueError as exc:
        raise invalid(f"the file cannot be read: {exc}") from None
    return JSONResponse(report.as_dict())


async def pupils(request: Request) -> Response:
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    band = query_choice(request, "band", BANDS)
    threshold = query_choice(request, "threshold", ("true", "false"))
    limit = query_int(request, "limit", 200, 1, 1000)
    after = paging.decode(request.query_params.get("cursor"))
    if after is not None and not (isinstance(after, list) and len(after) == 2
                                  and isinstance(after[0], (int, float)) and not isinstance(after[0], bool)
                                  and isinstance(after[1], str)):
        raise invalid("cursor is not one this server gave out", field="cursor")

    def work() -> list[dict[str, Any]]:
        sql = ("SELECT p.id, p.data, c.id AS case_id, c.assigned_officer_id AS officer_id, "
               "json_extract(p.data, '$.attendance_pct') AS pct FROM pupils p "
               "LEFT JOIN cases c ON c.pupil_id = p.id AND c.status = 'open' AND c.deleted = 0 "
               "WHERE p.deleted = 0")
        params: list[Any] = []
        if band:
            sql += " AND json_extract(p.data, '$.band') = ?"
            params.append(band)
        if threshold is not None:
            sql += " AND coalesce(json_extract(p.data, '$.penalty_threshold_met'), 0) = ?"
            params.append(1 if threshold == "true" else 0)
        if after:
            sql += " AND (coalesce(pct, 100.0), p.id) > (?, ?)"
            params += after
        sql += " GROUP BY p.id ORDER BY coalesce(pct, 100.0), p.id LIMIT ?"
        params.append(limit + 1)
        with st.db.read() as txn:
            rows = txn.rows(sql, params)
            out = []
            for r in rows:
                item = {"id": r["id"], **orjson.loads(r["data"]), "case_id": r["case_id"],
                        "officer_id": r["officer_id"]}
                if item.get("penalty_threshold_met"):
                    item.update(marks.threshold_detail(txn, r["id"], thresholds(request)))
                out.append(item)
            return out

    items = await run_in_threadpool(work)
    await audit_read(request, auth, "read_register", [i["id"] for i in items[:limit]],
                     {"band": band, "threshold": threshold})
    return JSONResponse(paging.page(items, limit, lambda r: [
        r.get("attendance_pct") if r.get("attendance_pct") is not None else 100.0, r["id"]]))


routes = [
    Route("/api/register/marks", import_marks, methods=["POST"]),
    Route("/api/register/pupils", pupils, methods=["GET"]),
]
