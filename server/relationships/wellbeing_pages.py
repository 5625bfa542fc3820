"""The office's wellbeing plans (docs/relationships.md, "Wellbeing plans"): record a plan, or
review one (a new version superseding it). The case page shows them with the return timetable
against the register (``_case_wellbeing.html``, from ``wellbeing.case_context``).

Every write is a change pushed through the sync engine (``server.office.writes.put``), so the
engine's rules apply and the case's officer pulls the plan like any other change.
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..casework.plan_save import form_data, plan_routes
from ..office.pages import render
from . import wellbeing


async def _form(request: Request, case_id: str, values: dict[str, Any] | None, errors: list[str],
                status: int = 200) -> Response:
    data = await form_data(request, case_id, values, "wellbeing_plans", "wellbeing plan")
    if values is None:
        values = wellbeing.blank_values(data["previous"])
    return render(request, "wellbeing_form.html", {
        "title": f"{'Review the wellbeing plan' if data['reviewing'] else 'Record a wellbeing plan'}: {data['name']}",
        "errors": errors, "values": values, **data}, status=status, active="cases")


routes = plan_routes("wellbeing", "wellbeing_plan", wellbeing.form_values, wellbeing.plan_fields, _form,
                     "wellbeing#wellbeing-heading")
