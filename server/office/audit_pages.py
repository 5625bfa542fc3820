"""The audit log for admins: who read or changed which records, when, from which device.

Newest first, 50 a page (keyset paging on the audit id), filtered by a
record's id (the rows indexed by it and the pushes that wrote it, as
``GET /api/audit?entity_id=`` finds them) and by user. The office role gets 403.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import ADMIN
from sync.schema import is_uuid

from .. import audit
from ..state import AppState
from .pages import PageError, app_state, me, page, render

PAGE_SIZE = 50
SHOW_IDS = 20  # ids listed per row; the rest are counted
LINKS = {"pupils": ("pupil", "/office/pupils/"), "visits": ("visit", "/office/visits/"),
         "conversations": ("conversation", "/office/conversations/"), "cases": ("case", "/office/cases/")}
KINDS = ("households", "schools", "transport_runs", "transport_stops", "tasks", "notes", "devices", "users")
ACTIONS = {
    "office_view": "Viewed in the office", "office_sign_in": "Signed in to the office",
    "office_sign_out": "Signed out of the office", "office_review": "Reviewed in the office",
    "office_export": "Exported from the office", "push": "Sent changes", "pull": "Synced (received records)",
    "login": "Signed in on a device", "logout": "Signed out on a device", "revoke_device": "Revoked a device",
    "resolve_conflict": "Resolved a conflict", "transport_plan": "Planned transport runs",
    "marks_import": "Imported attendance marks", "read_visits": "Read the visit log (API)",
    "read_register": "Read the register (API)", "read_transport": "Read transport runs (API)",
}


def action_words(action: str) -> str:
    if action.startswith("device:"):
        return "Device reported: " + action.split(":", 1)[1].replace("_", " ")
    return ACTIONS.get(action, action.replace("_", " ").capitalize())


def entries(st: AppState, entity_id: str, user_id: str, before: int | None, limit: int) -> list[dict[str, Any]]:
    """Newest first; ``before`` is the last id of the previous page."""
    sql = ("SELECT a.id, a.at, a.user_id, u.username, u.display_name, a.device_id, d.name AS device_name, "
           "a.action, a.entity_ids, a.detail FROM audit a LEFT JOIN users u ON u.id = a.user_id "
           "LEFT JOIN devices d ON d.id = a.device_id WHERE 1 = 1")
    params: list[Any] = []
    if entity_id:
        # rows indexed by the id, and the pushes that wrote the record (found through the change log)
        sql += f" AND a.id IN ({audit.ENTITY_AUDIT_IDS})"
        params += audit.entity_audit_params(entity_id)
    if user_id:
        sql += " AND a.user_id = ?"
        params.append(user_id)
    if before is not None:
        sql += " AND a.id < ?"
        params.append(before)
    sql += " ORDER BY a.id DESC LIMIT ?"
    params.append(limit)
    rows = st.db.query(sql, params)
    for row in rows:
        row["entity_ids"] = orjson.loads(row["entity_ids"])
        row["detail"] = orjson.loads(row["detail"])
    return rows


def _kinds(st: AppState, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """What each shown id is, and a link where the office has a page for it."""
    if not ids:
        return {}
    found: dict[str, tuple[str, str | None]] = {}
    packed = orjson.dumps(ids).decode()
    for table in (*LINKS, *KINDS):
        for r in st.db.query(f"SELECT id FROM {table} WHERE id IN (SELECT value FROM json_each(?))", (packed,)):
            if table in LINKS:
                kind, href = LINKS[table]
                found[r["id"]] = (kind, href + r["id"])
            else:
                found[r["id"]] = (table.rstrip("s").replace("_", " "), None)
    return found


def detail_words(detail: dict[str, Any]) -> list[str]:
    out = []
    for key, value in detail.items():
        if isinstance(value, list):
            text = f"{len(value)} item{'' if len(value) == 1 else 's'}" if len(value) > 3 else ", ".join(
                str(v) for v in value) or "none"
        elif isinstance(value, dict):
            text = ", ".join(f"{k} {v}" for k, v in list(value.items())[:6])
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        else:
            text = str(value)
        out.append(f"{key.replace('_', ' ')}: {text[:200]}")
    return out


def _view(st: AppState, entity_id: str, user_id: str, before: int | None) -> dict[str, Any]:
    rows = entries(st, entity_id, user_id, before, PAGE_SIZE + 1)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    shown = sorted({i for r in rows for i in r["entity_ids"][:SHOW_IDS]} | ({entity_id} if entity_id else set()))
    kinds = _kinds(st, shown)
    for r in rows:
        r["records"] = [{"id": i, "kind": kinds.get(i, ("record", None))[0], "href": kinds.get(i, ("", None))[1]}
                        for i in r["entity_ids"][:SHOW_IDS]]
        r["more"] = max(0, len(r["entity_ids"]) - SHOW_IDS)
        r["action_words"] = action_words(r["action"])
        r["details"] = detail_words(r["detail"])
    users = st.db.query("SELECT id, username, display_name, role FROM users ORDER BY username")
    return {"rows": rows, "more": more, "users": users,
            "entity_kind": kinds.get(entity_id) if entity_id else None}


def _link(entity_id: str, user_id: str, before: int | None = None) -> str:
    query = {k: v for k, v in (("entity", entity_id), ("user", user_id), ("before", before)) if v}
    return "/office/audit" + (f"?{urlencode(query)}" if query else "")


@page
async def audit_log(request: Request) -> Response:
    if me(request).user.role != ADMIN:
        raise PageError(403, "Admins only", "The audit log is for admin staff.")
    q = request.query_params
    raw_entity, user_id = q.get("entity", "").strip().lower(), q.get("user", "")
    notes = []
    entity_id = raw_entity if is_uuid(raw_entity) else ""
    if raw_entity and not entity_id:
        notes.append("The record id must be a full id (a UUID, 36 characters); showing every record.")
    if not is_uuid(user_id) and user_id != "system":
        user_id = ""
    before_raw = q.get("before", "")
    before = int(before_raw) if before_raw.isdigit() and len(before_raw) < 19 else None
    data = await run_in_threadpool(_view, app_state(request), entity_id, user_id, before)
    older = _link(entity_id, user_id, data["rows"][-1]["id"]) if data["more"] and data["rows"] else None
    return render(request, "audit.html", {
        "title": "Audit log", "entity": entity_id or raw_entity[:40], "user_id": user_id, "notes": notes,
        "older": older, "newest": _link(entity_id, user_id) if before is not None else None,
        "page_size": PAGE_SIZE, **data}, active="audit")


routes = [Route("/office/audit", audit_log, methods=["GET"])]
