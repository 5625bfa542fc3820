"""The office's list of improving pupils, per school and per officer's caseload
(``/office/register/improving``); the rule is in ``improvement.py``."""
from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync.schema import is_uuid

from ..office.pages import app_state, me, page, render
from ..office.people import Directory
from ..util import today
from . import audit_lists, queries, years
from .pages import PAGE, _cursor, _rows, _schools


def _choice(request: Request) -> tuple[str, str]:
    params = request.query_params
    school, officer = params.get("school", ""), params.get("officer", "")
    return school if is_uuid(school) else "", officer if is_uuid(officer) else ""


@page
async def improving_page(request: Request) -> Response:
    st = app_state(request)
    school, officer = _choice(request)
    after = _cursor(request)

    def work() -> dict[str, Any]:
        with st.db.read() as txn:
            # the year whose figures the pupil records hold (they carry the two percentages)
            chosen = queries.default_year(txn, today())
            f = queries.Filter(year=chosen, today=today(), listing="improving", school_id=school or None,
                               officer_id=officer or None)
            schools = _schools(txn)
            rows = _rows(txn, f, after, PAGE + 1, {s["id"]: s["name"] for s in schools})
            directory = Directory(txn)
            return {"rows": rows[:PAGE], "more": rows[PAGE]["key"] if len(rows) > PAGE else None,
                    "count": queries.count(txn, f), "schools": schools, "officers": directory.officers(),
                    "directory": directory, "year": chosen}

    data = await run_in_threadpool(work)
    await run_in_threadpool(audit_lists.view, st.db, me(request).user.id, None, "office_view",
                            [r["pupil"]["id"] for r in data["rows"]], {"page": "register improving"})
    points = st.settings.improvement_points
    return render(request, "register_improving.html", {
        "title": "Register: improving pupils", "school": school, "officer": officer, "after": after,
        "points": f"{points:g}", "year_label": years.label, **data}, active="register")


routes = [Route("/office/register/improving", improving_page, methods=["GET"])]
