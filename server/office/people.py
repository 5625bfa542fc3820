"""Who is who: user names for the office pages, and the lookups around a pupil."""
from __future__ import annotations

from typing import Any

import orjson

from ..sqlite_txn import entity_change_seqs
from ..storage import SqliteTxn


class Directory:
    """User ids to names, read once per page."""

    def __init__(self, txn: SqliteTxn) -> None:
        self.users = {r["id"]: r for r in txn.rows(
            "SELECT id, username, display_name, role, active FROM users ORDER BY display_name")}

    def name(self, user_id: str | None) -> str:
        if not user_id:
            return "—"
        user = self.users.get(user_id)
        if user is None:
            return "the system" if user_id == "system" else f"unknown user {user_id[:8]}"
        return user["display_name"]

    def officers(self) -> list[dict[str, Any]]:
        return [u for u in self.users.values() if u["role"] == "officer" and u["active"]]

    def staff(self) -> list[dict[str, Any]]:
        """Everyone who records visits: officers, then office staff who record on their behalf."""
        return sorted((u for u in self.users.values() if u["active"]),
                      key=lambda u: (u["role"] != "officer", u["display_name"]))


def entity(txn: SqliteTxn, table: str, id_: str | None) -> dict[str, Any] | None:
    """A live record's fields with id, version and flags, or None."""
    if not id_:
        return None
    rows = txn.rows(f"SELECT id, data, version, flags, deleted, created_at, created_by, updated_at "
                    f"FROM {table} WHERE id = ?", (id_,))
    if not rows or rows[0]["deleted"]:
        return None
    r = rows[0]
    return {**orjson.loads(r["data"]), "id": r["id"], "_version": r["version"],
            "_flags": orjson.loads(r["flags"]), "_created_at": r["created_at"],
            "_created_by": r["created_by"], "_updated_at": r["updated_at"]}


def pupil_name(pupil: dict[str, Any] | None) -> str:
    if not pupil:
        return "Unknown pupil"
    return f"{pupil.get('first_name', '')} {pupil.get('last_name', '')}".strip() or "Unknown pupil"


def history(txn: SqliteTxn, type_: str, entity_id: str, directory: Directory) -> list[dict[str, Any]]:
    """Every version of a record from the change log, oldest first, with what each changed."""
    rows = txn.rows(
        "SELECT c.change_id, c.version, c.status, c.user_id, c.device_id, c.received_at, c.hlc, c.fields, "
        "c.lost_fields, d.name AS device_name FROM changes c LEFT JOIN devices d ON d.id = c.device_id "
        f"WHERE c.seq IN ({entity_change_seqs(type_)}) ORDER BY c.seq", (entity_id, type_, entity_id))
    state: dict[str, Any] = {}
    out = []
    for r in rows:
        written = orjson.loads(r["fields"])
        changes = []
        for name, value in written.items():
            changes.append({"field": name, "before": state.get(name), "after": value,
                            "new": name not in state})
            state[name] = value
        if r["change_id"].startswith("resolve:"):
            how = "conflict resolved in the office"
        elif r["change_id"].startswith("register:"):
            how = "register figures"
        else:
            how = r["status"]
        device = r["device_name"] or ("no device (office pages or the server)" if not r["device_id"]
                                      else f"device {r['device_id'][:8]}")
        out.append({"version": r["version"], "by": directory.name(r["user_id"]), "at": r["received_at"],
                    "device": device, "device_id": r["device_id"], "changes": changes,
                    "lost": orjson.loads(r["lost_fields"]), "how": how})
    return out
