"""The conflict queue, read and resolved: what ``/api/conflicts`` and ``/office/conflicts`` share."""
from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

import sync
from sync import Actor
from sync.notices import device_name, node_of
from sync.resolve import NO_VALUE
from sync.schema import FIELDS

from .. import audit
from ..office import labels
from ..office.people import Directory, pupil_name
from ..state import AppState
from ..storage import SqliteTxn, table_of

QUEUE_LIMIT = 200  # the office queue shows at most this many


def page(st: AppState, status: str | None, after: str | None, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` conflicts (oldest first) after the ``created_at|id`` position ``after``."""
    with st.db.read() as txn:
        items = [c.as_dict() for c in txn.list_conflicts(status, after, limit)]
        combined = _combined_values(txn, [i["id"] for i in items if i["choice"] == "combined"])
    for item in items:
        if item["id"] in combined:
            item["value"] = combined[item["id"]]
    return items


def answer(st: AppState, conflict: sync.Conflict) -> dict[str, Any]:
    """A conflict as the API answers it; one resolved with a combined value also has ``value``."""
    item = conflict.as_dict()
    if conflict.choice == "combined":
        with st.db.read() as txn:
            item["value"] = _combined_values(txn, [conflict.id]).get(conflict.id)
    return item


def _combined_values(txn: SqliteTxn, ids: list[str]) -> dict[str, Any]:
    """The value the office wrote for each conflict resolved with a combined value: the
    resolving change's (``resolve:<conflict id>``) one field."""
    if not ids:
        return {}
    rows = txn.rows("SELECT change_id, fields FROM changes WHERE change_id IN (SELECT value FROM json_each(?))",
                    (orjson.dumps([f"resolve:{i}" for i in ids]).decode(),))
    out = {}
    for r in rows:
        fields = orjson.loads(r["fields"])
        if len(fields) == 1:
            out[r["change_id"].split(":", 1)[1]] = next(iter(fields.values()))
    return out


def queue(st: AppState, show: str) -> dict[str, Any]:
    """The office queue: open (oldest first) or resolved (newest first) conflicts, each with the
    record it is about, its current value and the devices of both sides."""
    with st.db.read() as txn:
        conflicts = txn.list_conflicts(show, None, QUEUE_LIMIT + 1)
        if show == "resolved":
            conflicts = sorted(conflicts, key=lambda c: c.resolved_at or "", reverse=True)
        devices = _device_names(txn)
        shown = conflicts[:QUEUE_LIMIT]
        combined = _combined_values(txn, [c.id for c in shown if c.choice == "combined"])
        items = []
        for c in shown:
            about = describe(txn, c.type, c.entity_id)
            current = about["current"].get(c.field) if c.field else None
            items.append({"c": c, "about": about, "current": current,
                          "kept_device": _origin(c.kept.get("hlc"), devices),
                          "lost_device": _origin(c.lost.get("hlc"), devices),
                          "kept_at": hlc_seconds(c.kept.get("hlc")), "lost_at": hlc_seconds(c.lost.get("hlc")),
                          "combine": combinable(c), "combined": combined.get(c.id)})
        total = txn.rows("SELECT count(*) AS n FROM conflicts WHERE status = ?", (show,))[0]["n"]
        return {"items": items, "directory": Directory(txn), "total": total}


def resolve(st: AppState, actor: Actor, conflict_id: str, choose: Any,
            detail: dict[str, Any] | None = None, value: Any = NO_VALUE) -> sync.Conflict:
    """Resolve a conflict — a side chosen, or a combined ``value`` — and audit it, in one write
    transaction."""
    with st.db.write() as txn:
        conflict = sync.resolve_in(txn, actor, conflict_id, choose, st.clock, value=value)
        audit.record(txn, actor.user_id, actor.device_id, "resolve_conflict", [conflict.entity_id, conflict.id],
                     {"choose": conflict.choice, "field": conflict.field, **(detail or {})})
    return conflict


def combinable(c: sync.Conflict) -> dict[str, Any] | None:
    """For a conflict over a text field, what the office's "write a combined value" form needs:
    the field's length limit and a starting text holding both values; else None."""
    spec = FIELDS.get(c.type, {}).get(c.field or "")
    if spec is None or spec["kind"] != "string" or "pattern" in spec:
        return None
    kept, lost = c.kept.get("value"), c.lost.get("value")
    parts = [v for v in (kept, lost) if isinstance(v, str) and v.strip()]
    start = "\n".join(dict.fromkeys(parts))
    return {"max": spec["max"], "start": start[:spec["max"]]}


def hlc_seconds(stamp: Any) -> str:
    """The wall-clock part of an HLC stamp in UK time, to the second: ``4 Nov 2026, 16:10:05``."""
    if not isinstance(stamp, str) or not stamp[:15].isdigit():
        return "—"
    moment = dt.datetime.fromtimestamp(int(stamp[:15]) / 1000, dt.UTC).astimezone(labels.UK)
    return f"{moment.day} {moment:%b %Y, %H:%M:%S}"


def _device_names(txn: SqliteTxn) -> dict[str, str]:
    return {r["id"]: r["name"] for r in txn.rows("SELECT id, name FROM devices")}


def _origin(stamp: Any, devices: dict[str, str]) -> str:
    """Which device an HLC stamp came from (its node id)."""
    return device_name(stamp, devices) or node_of(stamp) or "unknown"


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
