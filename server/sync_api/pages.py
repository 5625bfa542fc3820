"""The conflict queue: kept and lost values side by side, resolved through the sync engine."""
from __future__ import annotations

from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import sync
from sync import Actor
from sync.schema import is_uuid

from .. import audit
from ..storage import SqliteTxn, table_of
from . import labels
from .pages import PageError, app_state, form, me, page, record_view, redirect, render, text_field
from .people import Directory, pupil_name

LIST_LIMIT = 200


def _device_names(txn: SqliteTxn) -> dict[str, str]:
    return {r["id"]: r["name"] for r in txn.rows("SELECT id, name FROM devices")}


def _origin(stamp: Any, devices: dict[str, str]) -> str:
    """Which device an HLC stamp came from (its node id)."""
    if not isinstance(stamp, str) or stamp.count("-") < 2:
        return "unknown"
    node = stamp.split("-", 2)[2]
    if node in devices:
        return devices[node]
    if node == "server":
        return "the server"
    if node.startswith("office-"):
        return "office pages"
    return node


def describe(txn: SqliteTxn, type_: str, entity_id: str) -> dict[str, Any]:
    """Words and a link for the record a conflict is about, and the pupil it concerns."""
    rows = txn.rows(f"SELECT data FROM {table_of(type_)} WHERE id = ?", (entity_id,))
    data = orjson.loads(rows[0]["data"]) if rows else {}
    pupil_id = None
    if type_ == "pupil":
        pupil_id = entity_id
    elif type_ == "case":
        pupil_id = data.get("pupil_id")
    elif data.get("case_id"):
        case = txn.rows("SELECT pupil_id FROM cases WHERE id = ?", (data["case_id"],))
        pupil_id = case[0]["pupil_id"] if case else None
    pupil = None
    if pupil_id:
        prow = txn.rows("SELECT data FROM pupils WHERE id = ?", (pupil_id,))
        pupil = orjson.loads(prow[0]["data"]) if prow else None
    link = {"visit": f"/office/visits/{entity_id}", "conversation": f"/office/conversations/{entity_id}",
            "case": f"/office/cases/{entity_id}", "pupil": f"/office/pupils/{entity_id}"}.get(type_)
    if type_ == "household":
        name = f"Household at {data.get('address', 'an unknown address')}"
    elif type_ == "school":
        name = data.get("name", "a school")
    elif pupil is not None:
        name = f"{labels.KINDS.get(type_, type_.replace('_', ' ').capitalize())} — {pupil_name(pupil)}"
    else:
        name = type_.replace("_", " ").capitalize()
    return {"name": name, "link": link, "pupil_id": pupil_id, "current": data}


@page
async def queue(request: Request) -> Response:
    st = app_state(request)
    show = "resolved" if request.query_params.get("show") == "resolved" else "open"

    def work() -> dict[str, Any]:
        with st.db.read() as txn:
            conflicts = txn.list_conflicts(show, None, LIST_LIMIT + 1)
            if show == "resolved":
                conflicts = sorted(conflicts, key=lambda c: c.resolved_at or "", reverse=True)
            devices = _device_names(txn)
            items = []
            for c in conflicts[:LIST_LIMIT]:
                about = describe(txn, c.type, c.entity_id)
                current = about["current"].get(c.field) if c.field else None
                items.append({"c": c, "about": about, "current": current,
                              "kept_device": _origin(c.kept.get("hlc"), devices),
                              "lost_device": _origin(c.lost.get("hlc"), devices)})
            total = txn.rows("SELECT count(*) AS n FROM conflicts WHERE status = ?", (show,))[0]["n"]
            return {"items": items, "directory": Directory(txn), "total": total}

    data = await run_in_threadpool(work)
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

    def work() -> sync.Conflict:
        conflict = sync.resolve_conflict(st.db, actor, conflict_id, choose, st.clock)
        with st.db.write() as txn:
            audit.record(txn, user.id, None, "resolve_conflict", [conflict.entity_id, conflict.id],
                         {"choose": conflict.choice, "via": "office"})
        return conflict

    try:
        conflict = await run_in_threadpool(work)
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
