"""Saving a versioned plan from an office form (a support plan, ``plans_pages.py``; a wellbeing
plan, ``server/relationships/wellbeing_pages.py``): checked, then pushed through the sync engine
as a new record (a review is a new version that supersedes the last), or the form again with
what is wrong."""
from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from sync.schema import is_uuid

from ..office import writes
from ..office.pages import app_state, me, redirect

Form = Callable[[Request, str, "dict[str, Any] | None", "list[str]", int], Awaitable[Response]]
Fields = Callable[[str, "dict[str, Any]"], "tuple[dict[str, Any], list[str]]"]


async def save_plan(request: Request, type_: str, case_id: str, values: dict[str, Any], fields_of: Fields,
                    again: Form, done: str) -> Response:
    """``fields_of(case_id, values)``: the record's fields and the problems; ``again``: the form
    with the values and problems (422); ``done``: where the case page goes after, e.g.
    ``plan#plans-heading``."""
    if values.get("supersedes") and not is_uuid(values["supersedes"]):
        values["supersedes"] = ""
    fields, errors = fields_of(case_id, values)
    if errors:
        return await again(request, case_id, values, errors, 422)
    result = await run_in_threadpool(writes.put, app_state(request), me(request).user, type_, str(uuid.uuid4()),
                                     fields, None)
    if writes.problems(result):
        return await again(request, case_id, values, writes.problems(result), 422)
    return redirect(f"/office/cases/{case_id}?done={done}")
