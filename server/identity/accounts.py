"""Users, sign-in with throttling, devices and refresh-token rotation."""
from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError

from sync import ROLES

from ..errors import ApiError
from ..storage import Database, SqliteTxn
from ..util import now_iso, utcnow
from . import status, throttle

# argon2id with OWASP's first recommended setting (46 MiB, one pass, one lane): memory-hard
# per guess, and ~45 ms of one core a sign-in, so an 08:30 wave of sign-ins does not starve
# the syncs (docs/security.md). Hashes made with other settings are upgraded at the next
# sign-in. The cost can be lowered for test suites (never in production) through the environment.
_hasher = throttle.CountingHasher(time_cost=int(os.environ.get("DOORSTEP_ARGON2_TIME", "1")),
                                  memory_cost=int(os.environ.get("DOORSTEP_ARGON2_MEMORY_KIB", "47104")),
                                  parallelism=1)
_DUMMY_HASH = _hasher.hash("not a real password")


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    role: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "display_name": self.display_name,
                "role": self.role}


def add_user(db: Database, username: str, password: str, role: str, display_name: str | None = None,
             user_id: str | None = None, audit_via: dict[str, Any] | None = None) -> User:
    """A new user; ``audit_via`` (the command line's) records it as ``user_add`` (docs/users.md)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not username or len(username) > 100:
        raise ValueError("username must be 1 to 100 characters")
    check_password(password)
    user = User(user_id or str(uuid.uuid4()), username, display_name or username, role)
    with db.write() as txn:
        if txn.rows("SELECT 1 FROM users WHERE username = ?", (username,)):
            raise ValueError(f"user {username} already exists")
        txn.execute("INSERT INTO users (id, username, display_name, role, password_hash, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (user.id, username, user.display_name, role, _hasher.hash(password), now_iso()))
        if audit_via is not None:
            from .. import audit

            audit.record(txn, None, None, "user_add", [user.id], {**audit_via, "username": username, "role": role})
    return user


MIN_PASSWORD, MAX_PASSWORD = 8, 1024


def check_password(password: str) -> None:
    """The one password rule (``user add``, a reset): 8 to 1,024 characters."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"password must be at most {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    """The stored form of a new password that keeps the rule (ValueError if not)."""
    check_password(password)
    return _hasher.hash(password)


def get_user(txn: SqliteTxn, user_id: str, *, inactive: bool = False) -> User | None:
    """The user, if active; ``inactive``: even if deactivated (the final push of a phone that
    was revoked as returned when its user was deactivated, docs/users.md)."""
    rows = txn.rows("SELECT id, username, display_name, role FROM users WHERE id = ?"
                    + ("" if inactive else " AND active = 1"), (user_id,))
    return User(**rows[0]) if rows else None


def list_users(db: Database) -> list[User]:
    return [User(**r) for r in db.query(
        "SELECT id, username, display_name, role FROM users WHERE active = 1 ORDER BY username")]


def authenticate(db: Database, username: str, password: str) -> User | None:
    rows = db.query("SELECT id, username, display_name, role, password_hash FROM users "
                    "WHERE username = ? AND active = 1", (username,))
    stored = rows[0]["password_hash"] if rows else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if not rows:
        return None
    row = rows[0]
    if _hasher.check_needs_rehash(stored):  # made with older settings: store it as today's
        with db.write() as txn:
            txn.execute("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
                        (_hasher.hash(password), row["id"], stored))
    return User(row["id"], row["username"], row["display_name"], row["role"])


def sign_in(db: Database, username: str, password: str, address: str,
            limits: throttle.Limits) -> User | None:
    """The user whose password this is, or None (a failure, counted against the address and the
    username-and-address pair); raises a 429 ApiError, before any hashing, while either must
    wait (identity/throttle.py, with ``limits`` the Settings). The API and the office both use it."""
    policy = throttle.Policy.of(limits)
    throttle.check(db, username, address, policy)  # one read: a refusal costs no hash and no write
    throttle.reserve(db, username, address, policy)
    user = authenticate(db, username, password)
    if user is None:
        throttle.failed()
        return None
    throttle.succeeded(db, username, address)
    return user


# -- devices and refresh tokens -------------------------------------------------

def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_device(txn: SqliteTxn, user_id: str, name: str) -> str:
    """A new device for an active user (checked again here: a deactivation may have come between
    the password check and this write)."""
    if not txn.rows("SELECT 1 FROM users WHERE id = ? AND active = 1", (user_id,)):
        raise ApiError(401, "unauthenticated", "wrong username or password")
    device_id = str(uuid.uuid4())
    txn.execute("INSERT INTO devices (id, user_id, name, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
                (device_id, user_id, name, now_iso(), now_iso()))
    return device_id


def issue_refresh(txn: SqliteTxn, device_id: str, ttl_s: int) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now.timestamp() + ttl_s
    txn.execute("INSERT INTO refresh_tokens (id, device_id, token_hash, issued_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (uuid.uuid4().hex, device_id, _hash_token(token), now_iso(), str(expires)))
    return token


def revoke_device(txn: SqliteTxn, device_id: str, reason: str, by: str | None, spend_tokens: bool = True) -> bool:
    """Revoke a device; its refresh tokens are spent unless ``spend_tokens`` is false (a phone
    revoked as returned refreshes until its final push)."""
    cur = txn.execute("UPDATE devices SET revoked_at = ?, revoked_reason = ?, revoked_by = ? "
                      "WHERE id = ? AND revoked_at IS NULL", (now_iso(), reason, by, device_id))
    if spend_tokens:
        spend_refresh_tokens(txn, device_id)
    return cur.rowcount == 1


def spend_refresh_tokens(txn: SqliteTxn, device_id: str) -> None:
    txn.execute("UPDATE refresh_tokens SET used_at = COALESCE(used_at, ?) WHERE device_id = ?",
                (now_iso(), device_id))


def rotate_refresh(db: Database, token: str, ttl_s: int,
                   reported: status.Reported | None = None) -> tuple[User, str, str]:
    """Spend a refresh token: (user, device id, new refresh token), keeping the phone's status report.

    A token presented twice revokes its device (reuse detection). A device revoked as returned
    still refreshes until its final push (identity/status.py).
    """
    reported = reported or status.Reported()
    refusal: ApiError | None = None
    reuse = False
    with db.write() as txn:
        rows = txn.rows("SELECT t.id, t.device_id, t.used_at, t.expires_at FROM refresh_tokens t "
                        "WHERE t.token_hash = ?", (_hash_token(token),))
        if not rows:
            raise ApiError(401, "unauthenticated", "unknown refresh token; sign in again")
        row = rows[0]
        device = status.load(txn, row["device_id"])
        if device is None:
            raise ApiError(401, "unauthenticated", "this token's device is unknown; sign in again")
        row = {**row, "user_id": device["user_id"]}
        if device["revoked_at"] is not None and not status.final_push_open(device):
            if status.wipe_unrecorded(device):
                status.record_wipe(txn, device, reported)
            refusal = status.refused(device)
        elif row["used_at"] is not None:
            if device["revoked_at"] is None:
                revoke_device(txn, row["device_id"], "refresh_token_reuse", None)
                reuse = True
            else:  # reuse by a phone revoked as returned: its final push is over
                closed = {**device, "final_push_at": now_iso()}
                txn.execute("UPDATE devices SET final_push_at = ? WHERE id = ?",
                            (closed["final_push_at"], row["device_id"]))
                spend_refresh_tokens(txn, row["device_id"])
                refusal = status.refused(closed)
        else:
            if float(row["expires_at"]) < time.time():
                raise ApiError(401, "token_expired", "the refresh token has expired; sign in again")
            txn.execute("UPDATE refresh_tokens SET used_at = ? WHERE id = ?", (now_iso(), row["id"]))
            new_token = issue_refresh(txn, row["device_id"], ttl_s)
            user = get_user(txn, row["user_id"], inactive=status.final_push_open(device))
            if reported.differs(device):
                status.store(txn, row["device_id"], reported)
    if refusal is not None:
        raise refusal
    if reuse:
        raise ApiError(401, "device_revoked",
                       "this refresh token was already used; the device has been signed out")
    if user is None:
        raise ApiError(401, "unauthenticated", "this account is no longer active")
    return user, row["device_id"], new_token

