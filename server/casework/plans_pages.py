"""The office's attendance support plans and a case's parents (docs/casework.md, "Parents and
support plans"): record a plan, review one (a new version superseding it), and name the parents a
case concerns. The case page shows them (``_case_plans.html``, from ``plans.case_context``).

Every write is a change pushed through the sync engine (``server.office.writes.put``), so the
engine's rules apply and the case's officer pulls the plan like any other change.
"""
from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync.schema import is_uuid

from ..office import labels, writes
from ..office.cases import case_id_of, case_version
from ..office.pages import PageError, app_state, form, me, page, redirect, render
from . import plans
from .plan_save import form_data, plan_routes


async def _form(request: Request, case_id: str, values: dict[str, Any] | None, errors: list[str],
                status: int = 200) -> Response:
    data = await form_data(request, case_id, values, "support_plans", "support plan", lambda txn, d: {
        "persons": plans.household_persons(txn, (d["pupil"] or {}).get("household_id"))})
    if values is None:
        values = plans.blank_values(data["previous"])
    return render(request, "casework_plan_form.html", {
        "title": f"{'Review the support plan' if data['reviewing'] else 'Record a support plan'}: {data['name']}",
        "errors": errors, "values": values, "barriers": labels.BARRIERS,
        "owners": plans.OWNERS, "outcomes": plans.REVIEW_OUTCOMES, "consent": plans.CONSENT_WORDS, **data},
        status=status, active="cases")


@page
async def set_parents(request: Request) -> Response:
    st = app_state(request)
    case_id = case_id_of(request)
    version = await run_in_threadpool(case_version, st, case_id)
    chosen = [p.lower() for p in form(request).getlist("parent_ids") if isinstance(p, str) and is_uuid(p)]
    result = await run_in_threadpool(writes.put, st, me(request).user, "case", case_id,
                                     {"parent_ids": sorted(set(chosen))}, version)
    if writes.problems(result):
        raise PageError(422, "Not saved", " ".join(writes.problems(result)))
    return redirect(f"/office/cases/{case_id}?done=parents#plans-heading")


routes = [
    *plan_routes("plans", "support_plan", plans.plan_values, plans.plan_fields, _form, "plan#plans-heading"),
    Route("/office/cases/{case_id}/parents", set_parents, methods=["POST"]),
]
