"""What a phone reports about itself on every call, and the gate a revoked device meets.

Headers (docs/protocol.md §2.7): ``Doorstep-Unsent`` (changes in its outbox),
``Doorstep-App-Version`` (the shell it runs) and ``Doorstep-Last-Sync`` (its own last
successful sync). A value that is missing or malformed is ignored, never an error.

The gate (§2.6): a device revoked as ``returned`` may still refresh and push until its final
push; every other request of a revoked device answers 401 ``device_revoked``, and the first
one after which the phone wipes records how many unsent changes it held.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from sync.checks import Invalid, timestamp

from .. import audit
from ..errors import ApiError
from ..storage import Database, SqliteTxn
from ..util import now_iso

MAX_UNSENT = 1_000_000_000
MAX_VERSION = 64

# the device columns the gate and the status need (server/http.py reads them with every token)
COLUMNS = ("id, user_id, revoked_at, revoked_reason, revoke_kind, final_push_at, final_push_changes, "
           "lost_reported_at, unsent, app_version, phone_synced_at")


@dataclass(frozen=True)
class Reported:
    """One request's report; ``None`` where the phone sent nothing usable."""

    unsent: int | None = None
    app_version: str | None = None
    last_sync: str | None = None

    def __bool__(self) -> bool:
        return self.unsent is not None or self.app_version is not None or self.last_sync is not None

    def differs(self, device: Mapping[str, Any]) -> bool:
        """Whether storing this report would change the device's row."""
        return ((self.unsent is not None and self.unsent != device.get("unsent"))
                or (self.app_version is not None and self.app_version != device.get("app_version"))
                or (self.last_sync is not None and self.last_sync != device.get("phone_synced_at")))


def read(headers: Mapping[str, str]) -> Reported:
    """The status headers of one request, each ignored when malformed."""
    unsent: int | None = None
    raw = headers.get("doorstep-unsent", "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 10 and int(raw) <= MAX_UNSENT:
        unsent = int(raw)
    version: str | None = headers.get("doorstep-app-version", "").strip() or None
    if version is not None and (len(version) > MAX_VERSION or not version.isascii() or not version.isprintable()):
        version = None
    last: str | None = None
    raw = headers.get("doorstep-last-sync", "").strip()
    if raw:
        try:
            last = timestamp(raw)
        except Invalid:
            last = None
    return Reported(unsent, version, last)


def store(txn: SqliteTxn, device_id: str, reported: Reported) -> None:
    """Keep the report on the device's row; ``unsent_since`` is when its unsent count last went
    from 0 to more (cleared at 0)."""
    if not reported:
        return
    now = now_iso()
    txn.execute(
        "UPDATE devices SET unsent_since = CASE WHEN CAST(? AS INTEGER) IS NULL THEN unsent_since "
        "WHEN CAST(? AS INTEGER) = 0 THEN NULL WHEN coalesce(unsent, 0) = 0 THEN ? "
        "ELSE coalesce(unsent_since, ?) END, unsent = coalesce(CAST(? AS INTEGER), unsent), "
        "app_version = coalesce(?, app_version), phone_synced_at = coalesce(?, phone_synced_at) WHERE id = ?",
        (reported.unsent, reported.unsent, now, now, reported.unsent, reported.app_version, reported.last_sync,
         device_id))


def load(txn: SqliteTxn, device_id: str) -> dict[str, Any] | None:
    rows = txn.rows(f"SELECT {COLUMNS} FROM devices WHERE id = ?", (device_id,))
    return rows[0] if rows else None


def final_push_open(device: Mapping[str, Any]) -> bool:
    """A device revoked as returned whose final push has not come yet."""
    return (device["revoked_at"] is not None and device.get("revoke_kind") == "returned"
            and device.get("final_push_at") is None)


def revoked_details(device: Mapping[str, Any]) -> dict[str, Any]:
    kind = device.get("revoke_kind")
    if device.get("revoked_reason") != "revoked" or kind not in ("lost", "returned"):
        return {}  # signed out, or caught reusing a refresh token
    if kind == "lost":
        return {"kind": "lost"}
    return {"kind": "returned", "final_push": device.get("final_push_at") is None}


def refused(device: Mapping[str, Any]) -> ApiError:
    details = revoked_details(device)
    message = "this device was signed out or revoked; sign in again"
    if details.get("final_push"):
        message = "this device was revoked as returned: push what it holds once, then it is signed out"
    return ApiError(401, "device_revoked", message, details)


def wipe_unrecorded(device: Mapping[str, Any]) -> bool:
    """An office-revoked device whose next refusal makes the phone wipe, not counted yet."""
    details = revoked_details(device)
    return bool(details) and not details.get("final_push") and device.get("lost_reported_at") is None


def record_wipe(txn: SqliteTxn, device: Mapping[str, Any], reported: Reported) -> None:
    """The first refused request after which the phone wipes: keep how many unsent changes it held
    (its ``Doorstep-Unsent``, else the last count it reported) and audit it, once."""
    cur = txn.execute("UPDATE devices SET lost_unsent = coalesce(?, unsent, lost_unsent), lost_reported_at = ? "
                      "WHERE id = ? AND lost_reported_at IS NULL", (reported.unsent, now_iso(), device["id"]))
    if cur.rowcount != 1:
        return  # another request recorded it first
    lost = txn.rows("SELECT lost_unsent FROM devices WHERE id = ?", (device["id"],))[0]["lost_unsent"]
    audit.record(txn, device["user_id"], device["id"], "revoked_device_wiped", [device["id"]],
                 {"kind": device.get("revoke_kind"), "lost_unsent": lost})


def refuse(db: Database, device: Mapping[str, Any], reported: Reported) -> NoReturn:
    """Answer a revoked device's request: 401 ``device_revoked`` (``details`` say which kind),
    after recording the lost count if this is the request after which the phone wipes."""
    if wipe_unrecorded(device):
        with db.write() as txn:
            record_wipe(txn, device, reported)
    raise refused(device)


def take_final_push(txn: SqliteTxn, device_id: str, reported: Reported, changes: int,
                    max_changes: int) -> None:
    """Inside a returned device's push: count it in, and close the final push when the phone said
    this push empties its outbox (``Doorstep-Unsent`` at most the changes sent), said nothing, or
    the final push has carried ``max_changes`` in all. Refused if it closed meanwhile."""
    device = load(txn, device_id)
    if device is None or not final_push_open(device):
        raise refused(device or {})
    total = int(device["final_push_changes"] or 0) + changes
    last = reported.unsent is None or reported.unsent <= changes or total >= max_changes
    txn.execute("UPDATE devices SET final_push_changes = ? WHERE id = ?", (total, device_id))
    if last:  # nothing more may come: what it could not send is counted, its refresh tokens go
        left = None if reported.unsent is None else max(0, reported.unsent - changes)
        now = now_iso()
        txn.execute("UPDATE devices SET final_push_at = ?, lost_unsent = ?, lost_reported_at = ? WHERE id = ?",
                    (now, left, now, device_id))
        txn.execute("UPDATE refresh_tokens SET used_at = COALESCE(used_at, ?) WHERE device_id = ?", (now, device_id))
        audit.record(txn, device["user_id"], device_id, "revoked_device_final_push", [device_id],
                     {"changes": total, "lost_unsent": left})
