"""Devices: the list the API (``GET /api/devices``) and the office page (``/office/devices``)
both show, and revoking one (``POST /api/devices/{id}/revoke`` and the office's button)."""
from __future__ import annotations

from typing import Any

from .. import audit
from ..storage import Database
from .accounts import revoke_device

# every device with its user, and who revoked it
_SELECT = ("SELECT d.id, d.name, d.created_at, d.last_seen_at, d.last_sync_at, d.revoked_at, d.revoked_reason, "
           "d.revoked_by, u.id AS user_id, u.username, u.display_name, u.role, r.display_name AS revoked_by_name "
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


def name(db: Database, device_id: str) -> str:
    found = db.query("SELECT name FROM devices WHERE id = ?", (device_id,))
    return found[0]["name"] if found else ""


def revoke(db: Database, device_id: str, user_id: str, by_device: str | None,
           detail: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Revoke a device for ``user_id`` (audited as ``revoke_device``): the device's id,
    revoked_at and revoked_reason, or None when there is no such device."""
    with db.write() as txn:
        if not txn.rows("SELECT 1 FROM devices WHERE id = ?", (device_id,)):
            return None
        revoke_device(txn, device_id, "revoked", user_id)
        audit.record(txn, user_id, by_device, "revoke_device", [device_id], detail)
        return txn.rows("SELECT id, revoked_at, revoked_reason FROM devices WHERE id = ?", (device_id,))[0]
