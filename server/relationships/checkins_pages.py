"""Safe lone working in the office (docs/relationships.md): the overdue check-in alerts the
overview shows (``_checkin_alerts.html``, from ``alerts_context``), the same alerts on a page of their own
(``/office/check-ins``), and "Acknowledge" (recorded in ``check_in_acks`` and audited; checkins.py).
"""
from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..office.pages import (PageError, app_state, form, me, page, record_view, redirect, render, text_field,
                            uuid_param)
from ..state import AppState
from ..util import utcnow
from . import checkins


def alerts_context(st: AppState, user_id: str) -> dict[str, Any]:
    """What the overview shows of lone working: the overdue check-ins and whom to call."""
    rules = checkins.Rules.of(st.settings)
    with st.db.read() as txn:
        alerts = checkins.overdue(txn, utcnow(), rules)
    if alerts:  # the addresses are household records: their reading is audited
        record_view(st, user_id, [a["household_id"] for a in alerts] + [a["id"] for a in alerts], "overdue check-ins")
    name, phone = rules.contact_parts()
    return {"checkin_alerts": alerts, "checkin_contact": {"name": name, "phone": phone},
            "checkin_rules": rules, "checkin_back": ""}


@page
async def check_ins(request: Request) -> Response:
    st = app_state(request)
    data = await run_in_threadpool(alerts_context, st, me(request).user.id)
    done = "Acknowledged: the alert stays until the officer checks out." if request.query_params.get("done") else None
    return render(request, "checkins.html", {"title": "Lone working: overdue check-ins", "done": done, **data,
                                                 "checkin_back": "check-ins"},
                  active="overview")


@page
async def acknowledge(request: Request) -> Response:
    st = app_state(request)
    check_in_id = uuid_param(request, "check_in_id", "check-in").lower()
    note = text_field(form(request), "note", 500)

    def write() -> bool:
        with st.db.write() as txn:
            return checkins.acknowledge(txn, check_in_id, me(request).user.id, note)

    if not await run_in_threadpool(write):
        exists = await run_in_threadpool(st.db.query, "SELECT 1 FROM check_ins WHERE id = ? AND deleted = 0",
                                         (check_in_id,))
        if not exists:
            raise PageError(404, "Not found", "There is no check-in with that id.")
    back = text_field(form(request), "back", 40)
    return redirect(("/office/check-ins" if back == "check-ins" else "/office/") + "?done=ack#checkins-heading")


routes = [
    Route("/office/check-ins", check_ins, methods=["GET"]),
    Route("/office/check-ins/{check_in_id}/acknowledge", acknowledge, methods=["POST"]),
]
