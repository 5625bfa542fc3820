"""User administration: the one set of actions ``doorstep user …`` and the admin's users page
(``/office/users``) both call (docs/users.md).

Every action is one transaction and one audit row naming the user (``GET /api/audit?entity_id=
<user id>`` finds them all), with who did it (``None`` and ``via: cli`` with the operating-system
account for the command line). Users are never deleted: records, changes, audit rows and devices
name them, so a user who leaves is deactivated, which keeps every record's author readable.

Deactivating is immediate: the user's office sessions end, unused reset codes die, and every live
device is revoked as ``returned`` (identity/devices.py): work still unsent on a phone arrives
once, then the phone wipes, exactly as when the office revokes a handed-back phone
(docs/protocol.md §2.6). Nobody can deactivate or demote themselves, nor the last active admin.
"""
from __future__ import annotations

from typing import Any

from sync import ADMIN, ROLES

from .. import audit
from ..storage import Database, SqliteTxn
from . import devices, reset

MAX_NAME = 100
DEACTIVATED = "account deactivated"


class AdminError(ValueError):
    """An action refused, with a sentence for the admin; ``status`` for a page or an API."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message, self.status = message, status


_LIST = ("SELECT u.id, u.username, u.display_name, u.role, u.active, u.created_at, "
         "u.totp_enabled_at IS NOT NULL AS totp, "
         "(SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.revoked_at IS NULL) AS live_devices, "
         "(SELECT max(d.last_sync_at) FROM devices d WHERE d.user_id = u.id) AS last_sync_at, "
         "(SELECT max(a.at) FROM audit a WHERE a.user_id = u.id AND a.action IN ('login', 'office_sign_in')) "
         "AS last_sign_in_at FROM users u")


def list_users(db: Database, show: str = "all") -> list[dict[str, Any]]:
    """Every user (``show``: ``active`` or ``inactive`` for those only), active first, by username."""
    where = {"active": " WHERE u.active = 1", "inactive": " WHERE u.active = 0"}.get(show, "")
    return db.query(_LIST + where + " ORDER BY u.active DESC, u.username")


def one(db: Database, user_id: str) -> dict[str, Any] | None:
    rows = db.query(_LIST + " WHERE u.id = ?", (user_id,))
    return rows[0] if rows else None


def by_username(db: Database, username: str) -> dict[str, Any] | None:
    rows = db.query(_LIST + " WHERE u.username = ?", (username,))
    return rows[0] if rows else None


def _load(txn: SqliteTxn, user_id: str) -> dict[str, Any]:
    rows = txn.rows("SELECT id, username, display_name, role, active FROM users WHERE id = ?", (user_id,))
    if not rows:
        raise AdminError("there is no such user", 404)
    return rows[0]


def _not_last_admin(txn: SqliteTxn, user: dict[str, Any]) -> None:
    if user["role"] == ADMIN and user["active"]:
        n = txn.rows("SELECT count(*) AS n FROM users WHERE role = ? AND active = 1", (ADMIN,))[0]["n"]
        if n <= 1:
            raise AdminError(f"{user['username']} is the last active admin: make another user admin first")


def _not_self(user: dict[str, Any], by: str | None, what: str) -> None:
    if by is not None and user["id"] == by:
        raise AdminError(f"you cannot {what} your own account; ask another admin")


def _audit(txn: SqliteTxn, by: str | None, action: str, user: dict[str, Any], detail: dict[str, Any]) -> None:
    audit.record(txn, by, None, action, [user["id"]], {"username": user["username"], **detail})


def deactivate(db: Database, user_id: str, by: str | None, reason: str, via: dict[str, Any]) -> int:
    """Deactivate a user: the number of live devices revoked as returned."""
    with db.write() as txn:
        user = _load(txn, user_id)
        if not user["active"]:
            raise AdminError(f"{user['username']} is already deactivated")
        _not_self(user, by, "deactivate")
        _not_last_admin(txn, user)
        txn.execute("UPDATE users SET active = 0 WHERE id = ?", (user_id,))
        txn.execute("DELETE FROM office_sessions WHERE user_id = ?", (user_id,))
        txn.execute("DELETE FROM login_challenges WHERE user_id = ?", (user_id,))
        reset.void(txn, user_id)
        live = [r["id"] for r in txn.rows("SELECT id FROM devices WHERE user_id = ? AND revoked_at IS NULL",
                                          (user_id,))]
        for device_id in live:
            devices.revoke_in(txn, device_id, by, None, "returned", reason or DEACTIVATED,
                              {**via, "deactivated": user_id})
        _audit(txn, by, "user_deactivate", user, {**via, "reason": reason, "devices_revoked": live})
    return len(live)


def reactivate(db: Database, user_id: str, by: str | None, via: dict[str, Any]) -> None:
    """The user can sign in again (on new devices: their old ones stay revoked)."""
    with db.write() as txn:
        user = _load(txn, user_id)
        if user["active"]:
            raise AdminError(f"{user['username']} is already active")
        txn.execute("UPDATE users SET active = 1 WHERE id = ?", (user_id,))
        _audit(txn, by, "user_reactivate", user, via)


def set_role(db: Database, user_id: str, role: str, by: str | None, via: dict[str, Any]) -> None:
    """A new role, in force at the user's next request (tokens and sessions read it from here)."""
    if role not in ROLES:
        raise AdminError(f"role must be one of {', '.join(ROLES)}", 422)
    with db.write() as txn:
        user = _load(txn, user_id)
        if user["role"] == role:
            raise AdminError(f"{user['username']} already has the role {role}")
        _not_self(user, by, "change the role of")
        if role != ADMIN:
            _not_last_admin(txn, user)
        txn.execute("UPDATE users SET role = ? WHERE id = ?", (role, user_id))
        _audit(txn, by, "user_role_change", user, {**via, "from": user["role"], "to": role})


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise AdminError(f"the display name must be 1 to {MAX_NAME} printable characters", 422)
    return name


def rename(db: Database, user_id: str, display_name: str, by: str | None, via: dict[str, Any]) -> str:
    """A new display name (what the office and the phones show; the username stays)."""
    name = check_name(display_name)
    with db.write() as txn:
        user = _load(txn, user_id)
        if user["display_name"] == name:
            raise AdminError(f"{user['username']} is already called {name}")
        txn.execute("UPDATE users SET display_name = ? WHERE id = ?", (name, user_id))
        _audit(txn, by, "user_rename", user, {**via, "from": user["display_name"], "to": name})
    return name


def issue_reset(db: Database, user_id: str, by: str | None, hours: float, via: dict[str, Any]) -> tuple[str, float]:
    """A one-time password reset code for the user: (code, expiry as Unix time). Shown once."""
    with db.write() as txn:
        user = _load(txn, user_id)
        if not user["active"]:
            raise AdminError(f"{user['username']} is deactivated: reactivate them first")
        code, expires = reset.issue(txn, user_id, by, hours)
        _audit(txn, by, "user_password_reset_issued", user, {**via, "hours": hours})
    return code, expires


def reset_totp(db: Database, user_id: str, by: str | None, via: dict[str, Any]) -> None:
    """Remove the user's second factor (a lost phone): they set up a new one at their next sign-in
    if it is required, and are asked for no code until then."""
    with db.write() as txn:
        user = _load(txn, user_id)
        cur = txn.execute("UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL, "
                          "totp_failures = 0, totp_failed_at = NULL WHERE id = ? AND totp_secret IS NOT NULL",
                          (user_id,))
        if cur.rowcount != 1:
            raise AdminError(f"{user['username']} has no second factor to reset")
        txn.execute("DELETE FROM login_challenges WHERE user_id = ?", (user_id,))
        _audit(txn, by, "user_totp_reset", user, via)
