"""One-time password reset codes: an admin issues one (``doorstep user reset-password``, the
users page), the user exchanges it for a password they choose (``POST /api/auth/reset-password``
or the office's ``/office/reset-password``).

A code is 16 characters from an alphabet without look-alikes (about 78 random bits), shown once
to the admin and stored only as its SHA-256 hash (a hash that cheap is enough for a random code
that long: it cannot be guessed, so a wrong code costs no password hashing and needs no
throttling). It expires after ``DOORSTEP_RESET_CODE_HOURS`` (24), is spent by its first use, and
dies when a newer one is issued or the user is deactivated. Every step is audited; the code never is.
"""
from __future__ import annotations

import hashlib
import secrets
import time
import uuid

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import audit
from ..errors import ApiError, invalid
from ..http import read_json, state, string_field
from ..jsonresp import JSONResponse
from ..storage import Database, SqliteTxn
from ..util import now_iso
from . import accounts

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1
LENGTH = 16
WRONG = "that reset code is wrong, used or expired; ask an administrator for a new one"


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalise(code: str) -> str:
    return code.upper().replace("-", "").replace(" ", "")[:64]


def issue(txn: SqliteTxn, user_id: str, by: str | None, hours: float) -> tuple[str, float]:
    """A new code for ``user_id`` (earlier unused ones die): (the code as shown, expiry as Unix time)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    expires = time.time() + hours * 3600
    void(txn, user_id)
    txn.execute("INSERT INTO password_resets (id, user_id, code_hash, created_at, created_by, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (str(uuid.uuid4()), user_id, _hash(raw), now_iso(), by, expires))
    return "-".join(raw[i:i + 4] for i in range(0, LENGTH, 4)), expires


def void(txn: SqliteTxn, user_id: str) -> None:
    """Unused codes of this user stop working."""
    txn.execute("DELETE FROM password_resets WHERE user_id = ? AND used_at IS NULL", (user_id,))


def _find(txn: SqliteTxn, username: str, code: str) -> dict | None:
    rows = txn.rows("SELECT r.id, r.user_id FROM password_resets r JOIN users u ON u.id = r.user_id "
                    "WHERE r.code_hash = ? AND u.username = ? AND u.active = 1 AND r.used_at IS NULL "
                    "AND r.expires_at > ?", (_hash(normalise(code)), username, time.time()))
    return rows[0] if rows else None


def redeem(db: Database, username: str, code: str, new_password: str, via: str) -> accounts.User:
    """Set the password of ``username`` from a valid code, spending it; the user's office sessions
    end (their phones stay signed in). Raises ValueError for a password that breaks the rule,
    ApiError 401 ``reset_code_invalid`` for a code that is wrong, used or expired."""
    accounts.check_password(new_password)
    with db.read() as txn:
        found = _find(txn, username, code)
    if found is None:
        raise ApiError(401, "reset_code_invalid", WRONG)
    hashed = accounts.hash_password(new_password)  # outside the write lock
    with db.write() as txn:
        if _find(txn, username, code) is None:  # spent by a request in between
            raise ApiError(401, "reset_code_invalid", WRONG)
        txn.execute("UPDATE password_resets SET used_at = ? WHERE id = ?", (now_iso(), found["id"]))
        txn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (hashed, found["user_id"]))
        txn.execute("DELETE FROM office_sessions WHERE user_id = ?", (found["user_id"],))
        audit.record(txn, found["user_id"], None, "password_reset", [found["user_id"]], {"via": via})
        user = accounts.get_user(txn, found["user_id"])
    assert user is not None
    return user


async def reset_password(request: Request) -> Response:
    """``POST /api/auth/reset-password`` ``{"username", "code", "new_password"}``."""
    st = state(request)
    data = await read_json(request, 64 * 1024)
    username = string_field(data, "username", 100)
    code = string_field(data, "code", 64)
    new_password = string_field(data, "new_password", accounts.MAX_PASSWORD)

    def work() -> accounts.User:
        try:
            return redeem(st.db, username, code, new_password, "api")
        except ValueError as exc:
            raise invalid(str(exc), field="new_password") from None

    user = await run_in_threadpool(work)
    return JSONResponse({"status": "password_changed", "user": user.as_dict()})


routes = [Route("/api/auth/reset-password", reset_password, methods=["POST"])]
