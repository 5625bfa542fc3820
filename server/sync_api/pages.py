"""The conflict queue in the office: kept and lost values side by side, resolved through the sync engine."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import sync
from sync import Actor
from sync.schema import is_uuid

from ..office.pages import PageError, app_state, form, me, page, record_view, redirect, render, text_field
from . import conflicts


@page
async def queue(request: Request) -> Response:
    st = app_state(request)
    show = "resolved" if request.query_params.get("show") == "resolved" else "open"
    data = await run_in_threadpool(conflicts.queue, st, show)
    await run_in_threadpool(record_view, st, me(request).user.id,
                            [i["about"]["pupil_id"] for i in data["items"]], "conflicts")
    resolved = request.query_params.get("resolved", "")
    return render(request, "conflicts.html", {
        "title": "Conflicts", "show": show, "resolved": resolved if is_uuid(resolved) else "", **data,
    }, active="conflicts")


@page
async def resolve(request: Request) -> Response:
    st = app_state(request)
    conflict_id = request.path_params["conflict_id"]
    data = form(request)
    choose = text_field(data, "choose", 10)
    if not is_uuid(conflict_id):
        raise PageError(404, "Not found", "There is no conflict with that id.")
    if choose not in ("kept", "lost", "combined"):
        raise PageError(422, "Not resolved", "Choose which value to keep.")
    value = conflicts.NO_VALUE
    if choose == "combined":  # the office wrote a value combining both (a text field)
        raw = data.get("value", "")
        value = raw.replace("\r\n", "\n").strip() if isinstance(raw, str) else ""
        if not value:
            raise PageError(422, "Not resolved", "Write the combined value, or choose one of the two values.")
    user = me(request).user
    actor = Actor(user.id, user.role, None)
    try:
        conflict = await run_in_threadpool(conflicts.resolve, st, actor, conflict_id,
                                           None if choose == "combined" else choose, {"via": "office"}, value)
    except sync.RequestInvalid as exc:
        if "already" in exc.message:
            raise PageError(409, "Already resolved", "Someone has already resolved this conflict. "
                            "The queue shows what is still open.") from None
        if exc.details.get("field") == "value":
            raise PageError(422, "Not resolved", "The combined value was not saved: "
                            + exc.message.removeprefix("value: ") + ".") from None
        raise
    return redirect(f"/office/conflicts?resolved={conflict.id}")


routes = [
    Route("/office/conflicts", queue, methods=["GET"]),
    Route("/office/conflicts/{conflict_id}/resolve", resolve, methods=["POST"]),
]
