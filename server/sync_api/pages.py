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
    choose = text_field(form(request), "choose", 10)
    if not is_uuid(conflict_id):
        raise PageError(404, "Not found", "There is no conflict with that id.")
    if choose not in ("kept", "lost"):
        raise PageError(422, "Not resolved", "Choose which value to keep.")
    user = me(request).user
    actor = Actor(user.id, user.role, None)
    try:
        conflict = await run_in_threadpool(conflicts.resolve, st, actor, conflict_id, choose, {"via": "office"})
    except sync.RequestInvalid as exc:
        if "already" not in exc.message:
            raise
        raise PageError(409, "Already resolved", "Someone has already resolved this conflict. "
                        "The queue shows what is still open.") from None
    return redirect(f"/office/conflicts?resolved={conflict.id}")


routes = [
    Route("/office/conflicts", queue, methods=["GET"]),
    Route("/office/conflicts/{conflict_id}/resolve", resolve, methods=["POST"]),
]
