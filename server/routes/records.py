"""Office reads of synced records: the visit log and a record's audit trail."""
from __future__ import annotations

from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import ADMIN, OFFICE, OFFICER
from sync.schema import is_uuid
from sync.scope import TYPES, officer_scope, once_held

from .. import audit, paging
from ..errors import ApiError, invalid
from ..sqlite_txn import SqliteTxn
from ..http import audit_read, authenticate, query_choice, query_int, read_json, state
from ..jsonresp import JSONResponse


async def visits(request: Request) -> Response:
    """Synced visits, newest first; ``flag=out_of_scope`` for work done after a case moved."""
    st = state(request)
    auth = await authenticate(request, OFFICE, ADMIN)
    flag = query_choice(request, "flag", ("out_of_scope",))
    limit = query_int(request, "limit", 100, 1, 500)
    after = paging.decode_position(request.query_params.get("cursor"))

    def work() -> list[dict[str, Any]]:
        sql = "SELECT id, data, flags, version, seq, created_at, created_by, updated_at, updated_by FROM visits WHERE deleted = 0"
        params: list[Any] = []
        if flag == "out_of_scope":
            sql += " AND json_extract(flags, '$.out_of_scope') = 1"
        if after is not None:
            sql += " AND seq < ?"
            params.append(after)
        sql += " ORDER BY seq DESC LIMIT ?"
        params.append(limit + 1)
        out = []
        for r in st.db.query(sql, params):
            flags = orjson.loads(r["flags"])
            out.append({"id": r["id"], **orjson.loads(r["data"]), "version": r["version"],
                        "created_at": r["created_at"], "created_by": r["created_by"],
                        "updated_at": r["updated_at"], "updated_by": r["updated_by"],
                        "flags": sorted(k for k in ("out_of_scope",) if flags.get(k)), "_seq": r["seq"]})
        return out

    items = await run_in_threadpool(work)
    await audit_read(request, auth, "read_visits",
                     [i for v in items[:limit] for i in (v["id"], v.get("case_id")) if i])
    result = paging.page(items, limit, lambda r: r["_seq"])
    for item in result["items"]:
        item.pop("_seq")
    return JSONResponse(result)


async def audit_log(request: Request) -> Response:
    st = state(request)
    await authenticate(request, ADMIN)
    entity_id = request.query_params.get("entity_id")
    if entity_id is not None and not is_uuid(entity_id):
        raise invalid("entity_id must be a UUID", field="entity_id")
    limit = query_int(request, "limit", 100, 1, 1000)
    before = paging.decode_position(request.query_params.get("cursor"))
    rows = await run_in_threadpool(audit.for_entity, st.db, entity_id, before, limit + 1)
    return JSONResponse(paging.page(rows, limit, lambda r: r["id"]))


DEVICE_EVENTS = ("outbox_unreadable", "device_wiped", "pin_wipe", "storage_not_persistent")


async def device_event(request: Request) -> Response:
    """A device reports something the office must know, e.g. work it could not decrypt after a PIN reset."""
    st = state(request)
    auth = await authenticate(request)
    data = await read_json(request, 64 * 1024)
    event = data.get("event")
    if event not in DEVICE_EVENTS:
        raise invalid("event must be one of " + ", ".join(DEVICE_EVENTS), field="event")
    details = data.get("details", {})
    if not isinstance(details, dict):
        raise invalid("details must be an object", field="details")
    ids = data.get("entity_ids", [])
    if not isinstance(ids, list) or len(ids) > 1000 or not all(is_uuid(i) for i in ids):
        raise invalid("entity_ids must be a list of at most 1,000 ids", field="entity_ids")

    def work() -> int:
        with st.db.write() as txn:
            if auth.user.role == OFFICER:
                beyond = beyond_reach(txn, auth.user.id, ids)
                if beyond:
                    raise ApiError(403, "forbidden", "entity_ids names records outside your caseload",
                                   {"field": "entity_ids", "ids": beyond})
            return audit.record(txn, auth.user.id, auth.device_id, f"device:{event}", ids, details)

    audit_id = await run_in_threadpool(work)
    return JSONResponse({"id": audit_id, "event": event}, status_code=201)


def beyond_reach(txn: SqliteTxn, user_id: str, ids: list[str]) -> list[str]:
    """The ids that name a stored record an officer neither has in scope nor once had
    (``sync.scope.once_held``); an id the server never stored (work lost before it was sent) names
    nothing and passes."""
    if not ids:
        return []
    scope = officer_scope(txn, user_id)
    return sorted(r.id for type_ in TYPES for r in txn.get(type_, ids).values()
                  if not scope.contains(r) and not once_held(txn, user_id, r))


routes = [
    Route("/api/visits", visits, methods=["GET"]),
    Route("/api/audit", audit_log, methods=["GET"]),
    Route("/api/audit/events", device_event, methods=["POST"]),
]
