"""The attendance register: marks import and the absence lists (office)."""
from __future__ import annotations

from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import ADMIN, OFFICE
from sync.schema import is_uuid

from .. import paging
from ..util import today
from . import marks, queries, years
from .audit_lists import audit_list
from ..errors import invalid
from ..http import authenticate, query_choice, query_int, read_body, state
from ..jsonresp import JSONResponse
from .figures import BandThresholds



def thresholds(request: Request) -> BandThresholds:
    settings = state(request).settings
    return BandThresholds(at_risk=settings.at_risk_threshold, improvement_points=settings.improvement_points)


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
    band = query_choice(request, "band", queries.BANDS)
    threshold = query_choice(request, "threshold", ("true", "false"))
    limit = query_int(request, "limit", 200, 1, 1000)
    year_raw = request.query_params.get("year")
    year = years.parse(year_raw) if year_raw else None
    if year_raw and year is None:
        raise invalid("year must be an academic year such as 2025 or 2025/26", field="year")
    school = _uuid_param(request, "school")
    officer = _uuid_param(request, "officer")
    after = paging.decode(request.query_params.get("cursor"))
    if after is not None and not (isinstance(after, list) and len(after) == 3
                                  and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63
                                          for v in after)):
        raise invalid("cursor is not one this server gave out", field="cursor")

    def work() -> tuple[int, list[dict[str, Any]]]:
        with st.db.read() as txn:
            chosen = year if year is not None else queries.default_year(txn, today())
            if after is not None and after[0] != chosen:
                raise invalid("cursor is not one this server gave out", field="cursor")
            f = queries.Filter(year=chosen, today=today(), band=band,
                               threshold=None if threshold is None else threshold == "true",
                               school_id=school, officer_id=officer)
            rows = queries.pupils(txn, f, tuple(after[1:]) if after else None, limit + 1)
            out = []
            for r in rows:
                item = {"id": r["id"], **r["record"], **r["figures"], "year": chosen,
                        "case_id": r["case_id"], "officer_id": r["officer_id"], "key": r["key"]}
                if r["figures"]["penalty_threshold_met"]:
                    item["threshold_sessions"] = queries.threshold_sessions(txn, r["id"], r["threshold_window"])
                out.append(item)
            return chosen, out

    chosen, items = await run_in_threadpool(work)
    await audit_list(request, auth, "read_register", [i["id"] for i in items[:limit]],
                     {"band": band, "threshold": threshold, "year": chosen})
    page = paging.page(items, limit, lambda r: [chosen, *r["key"]])
    for item in page["items"]:
        del item["key"]
    return JSONResponse(page)


def _uuid_param(request: Request, name: str) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not is_uuid(raw.lower()):
        raise invalid(f"{name} must be an id (a UUID)", field=name)
    return raw.lower()


routes = [
    Route("/api/register/marks", import_marks, methods=["POST"]),
    Route("/api/register/pupils", pupils, methods=["GET"]),
]
