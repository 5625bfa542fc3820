"""The office's start page: what needs attention, each a link to the list behind it."""
from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..relationships import checkins_pages
from ..state import AppState
from . import log
from .pages import app_state, me, page, render

ATTENTION = (
    ("Safeguarding concerns not yet reviewed", "concern=1&review=new", {"concern": True, "review": "new"}),
    ("Visits where the child was not seen, not yet reviewed", "child_not_seen=1&review=new",
     {"child_not_seen": True, "review": "new"}),
    ("Visits and conversations needing follow-up", "review=needs_follow_up", {"review": "needs_follow_up"}),
    ("Records not yet reviewed", "review=new", {"review": "new"}),
    ("Visits recorded far from the household", "gps_far=1", {"gps_far": True}),
    ("Sent after the case left the officer (out of scope)", "out_of_scope=1", {"out_of_scope": True}),
)


def _counts(st: AppState) -> dict[str, Any]:
    with st.db.read() as txn:
        attention = []
        for label, query, spec in ATTENTION:
            total = log.search(txn, log.LogFilter(**spec), st.settings.gps_flag_m, None).total
            attention.append({"label": label, "href": f"/office/visits?{query}", "n": total})
        one = lambda sql: txn.rows(sql)[0]["n"]
        return {
            "attention": attention,
            "conflicts": one("SELECT count(*) AS n FROM conflicts WHERE status = 'open'"),
            "severe": one("SELECT count(*) AS n FROM pupils WHERE deleted = 0 AND json_extract(data, '$.band') = 'severe'"),
            "persistent": one("SELECT count(*) AS n FROM pupils WHERE deleted = 0 "
                              "AND json_extract(data, '$.band') IN ('persistent', 'severe')"),
            "threshold": one("SELECT count(*) AS n FROM pupils WHERE deleted = 0 "
                             "AND json_extract(data, '$.penalty_threshold_met') = 1"),
            "cases": one("SELECT count(*) AS n FROM cases WHERE deleted = 0 AND status = 'open'"),
            "devices": one("SELECT count(*) AS n FROM devices WHERE revoked_at IS NULL"),
        }


@page
async def overview(request: Request) -> Response:
    data = await run_in_threadpool(_counts, app_state(request))
    # overdue lone-working check-ins (server/relationships/checkins*.py)
    data.update(await run_in_threadpool(checkins_pages.alerts_context, app_state(request), me(request).user.id))
    data["done"] = "Acknowledged: the alert stays until the officer checks out." if request.query_params.get("done") == "ack" else None
    return render(request, "overview.html", {"title": "Overview", **data}, active="overview")


routes = [Route("/office/", overview, methods=["GET"])]
