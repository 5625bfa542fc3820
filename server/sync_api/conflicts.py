"""The conflict queue, read and resolved: what ``/api/conflicts`` and ``/office/conflicts`` share."""
from __future__ import annotations

from typing import Any

import orjson

import sync
from sync import Actor

from .. import audit
from ..office import labels
from ..office.people import Directory, pupil_name
from ..state import AppState
from ..storage import SqliteTxn, table_of

QUEUE_LIMIT = 200  # the office queue shows at most this many


def page(st: AppState, status: str | None, after: str | None, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` conflicts (oldest first) after the ``created_at|id`` position ``after``."""
    with st.db.read() as txn:
        return [c.as_dict() for c in txn.list_conflicts(status, after, limit)]


def queue(st: AppState, show: str) -> dict[str, Any]:
    """The office queue: open (oldest first) or resolved (newest first) conflicts, each with the
    record it is about, its current value and the devices of both sides."""
    with st.db.read() as txn:
        conflicts = txn.list_conflicts(show, None, QUEUE_LIMIT + 1)
        if show == "resolved":
            conflicts = sorted(conflicts, key=lambda c: c.resolved_at or "", reverse=True)
        devices = _device_names(txn)
        items = []
        for c in conflicts[:QUEUE_LIMIT]:
            about = describe(txn, c.type, c.entity_id)
            current = about["current"].get(c.field) if c.field else None
            items.append({"c": c, "about": about, "current": current,
                          "kept_device": _origin(c.kept.get("hlc"), devices),
                          "lost_device": _origin(c.lost.get("hlc"), devices)})
        total = txn.rows("SELECT count(*) AS n FROM conflicts WHERE status = ?", (show,))[0]["n"]
        return {"items": items, "directory": Directory(txn), "total": total}


def resolve(st: AppState, actor: Actor, conflict_id: str, choose: Any,
            detail: dict[str, Any] | None = None) -> sync.Conflict:
    """Resolve a conflict and audit it, in one write transaction."""
    with st.db.write() as txn:
        conflict = sync.resolve_in(txn, actor, conflict_id, choose, st.clock)
        audit.record(txn, actor.user_id, actor.device_id, "resolve_conflict", [conflict.entity_id, conflict.id],
                     {"choose": conflict.choice, **(detail or {})})
    return conflict


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
