"""Devices: the list the API (``GET /api/devices``) and the office page (``/office/devices``)
both show, and revoking one (``POST /api/devices/{id}/revoke`` and the office's button)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from .. import audit
from ..storage import Database, SqliteTxn
from ..util import utcnow
from . import status
from .accounts import revoke_device, spend_refresh_tokens

KINDS = ("lost", "returned")
MAX_REASON = 500

# every device with its user, what it last reported, and who revoked it, how and why
_SELECT = ("SELECT d.id, d.name, d.created_at, d.last_seen_at, d.last_sync_at, d.revoked_at, d.revoked_reason, "
           "d.revoked_by, d.revoke_kind, d.revoke_note, d.final_push_at, d.final_push_changes, d.lost_unsent, "
           "d.lost_reported_at, d.unsent, d.unsent_since, d.app_version, d.phone_synced_at, "
           "u.id AS user_id, u.username, u.display_name, u.role, r.display_name AS revoked_by_name "
           "FROM devices d JOIN users u ON u.id = d.user_id LEFT JOIN users r ON r.id = d.revoked_by")


def by_id(db: Database, after: str | None, limit: int) -> list[dict[str, Any]]:
    """Devices in id order after ``after`` (the API's keyset paging)."""
    if after:
        return db.query(_SELECT + " WHERE d.id > ? ORDER BY d.id LIMIT ?", (after, limit))
    return db.query(_SELECT + " ORDER BY d.id LIMIT ?", (limit,))


def latest_first(db: Database, active_only: bool = False) -> list[dict[str, Any]]:
    """Every device (or the unrevoked ones), live ones first, most recently used first (the office)."""
    where = " WHERE d.revoked_at IS NULL" if active_only else ""
    return db.query(_SELECT + where + " ORDER BY d.revoked_at IS NOT NULL, "
                    "coalesce(d.last_sync_at, d.last_seen_at, d.created_at) DESC, d.id")


def one(db: Database, device_id: str) -> dict[str, Any] | None:
    found = db.query(_SELECT + " WHERE d.id = ?", (device_id,))
    return found[0] if found else None


def name(db: Database, device_id: str) -> str:
    found = db.query("SELECT name FROM devices WHERE id = ?", (device_id,))
    return found[0]["name"] if found else ""


def unsent_alerts(db: Database, hours: float) -> list[dict[str, Any]]:
    """Devices that have held unsent work for more than ``hours``: live ones, and returned ones
    whose final push has not come (a lost phone's work is given up), oldest first."""
    since = (utcnow() - dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return db.query(_SELECT + " WHERE d.unsent_since IS NOT NULL AND d.unsent_since < ? AND d.unsent > 0 "
                    "AND (d.revoked_at IS NULL OR (d.revoke_kind = 'returned' AND d.final_push_at IS NULL)) "
                    "ORDER BY d.unsent_since, d.id", (since,))


def revoke(db: Database, device_id: str, user_id: str, by_device: str | None, kind: str = "lost",
           reason: str = "", detail: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Revoke a device for ``user_id`` as ``lost`` (cut off at once) or ``returned`` (one final
    push first), audited as ``revoke_device`` with the kind and reason: the device's row, or None
    when there is no such device. A device already revoked keeps its first revocation, except
    that a returned phone still due its final push can be declared lost after all."""
    with db.write() as txn:
        return revoke_in(txn, device_id, user_id, by_device, kind, reason, detail)


def revoke_in(txn: SqliteTxn, device_id: str, user_id: str | None, by_device: str | None, kind: str = "lost",
              reason: str = "", detail: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """``revoke`` inside the caller's transaction (deactivating a user revokes all their devices
    in one, server/identity/admin.py)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    device = status.load(txn, device_id)
    if device is None:
        return None
    if device["revoked_at"] is None or (kind == "lost" and status.final_push_open(device)):
        escalated = device["revoked_at"] is not None
        if not escalated:
            revoke_device(txn, device_id, "revoked", user_id, spend_tokens=kind == "lost")
        else:
            spend_refresh_tokens(txn, device_id)
        # a lost phone's unsent work is given up: its last reported count, until it says more
        txn.execute("UPDATE devices SET revoke_kind = ?, revoke_note = ?, revoked_by = ?, "
                    "lost_unsent = CASE WHEN ? = 'lost' THEN unsent END WHERE id = ?",
                    (kind, reason, user_id, kind, device_id))
        audit.record(txn, user_id, by_device, "revoke_device", [device_id],
                     {**(detail or {}), "kind": kind, "reason": reason, "unsent": device["unsent"],
                      **({"was": "returned"} if escalated else {})})
    return txn.rows(_SELECT + " WHERE d.id = ?", (device_id,))[0]
