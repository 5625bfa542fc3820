"""Cookie sessions and CSRF tokens for the office pages.

The cookie holds a random session id; the database keeps only its SHA-256
hash, the user and the session's CSRF token. A session ends after
``IDLE_S`` seconds without a request (``DOORSTEP_OFFICE_IDLE``, default 30
minutes), after ``MAX_AGE_S`` in any case, and at sign-out. Before sign-in a
separate short-lived cookie carries the sign-in form's CSRF token (double
submit), so the sign-in form is protected too.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from ..storage import Database
from .accounts import User, get_user

COOKIE = "doorstep_office"
LOGIN_COOKIE = "doorstep_office_login"
PATH = "/office"
CSRF_FIELD = "csrf_token"


def _env_seconds(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


IDLE_S = _env_seconds("DOORSTEP_OFFICE_IDLE", 30 * 60)
MAX_AGE_S = 12 * 3600
TOUCH_EVERY_S = 30  # write last_seen_at at most this often


@dataclass(frozen=True)
class OfficeSession:
    key: str  # the hash of the cookie value
    user: User
    csrf: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(db: Database, user: User) -> str:
    """A new session for ``user``; returns the cookie value."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    with db.write() as txn:
        txn.execute("DELETE FROM office_sessions WHERE last_seen_at < ? OR created_at < ?",
                    (now - IDLE_S, now - MAX_AGE_S))
        txn.execute("INSERT INTO office_sessions (id_hash, user_id, csrf, created_at, last_seen_at) "
                    "VALUES (?, ?, ?, ?, ?)", (_hash(token), user.id, secrets.token_urlsafe(32), now, now))
    return token


def load(db: Database, token: str | None) -> OfficeSession | None:
    """The live session for a cookie value, or None (unknown, idle too long, user gone)."""
    if not token or len(token) > 200:
        return None
    key = _hash(token)
    now = time.time()
    with db.read() as txn:
        rows = txn.rows("SELECT user_id, csrf, created_at, last_seen_at FROM office_sessions "
                        "WHERE id_hash = ?", (key,))
        user = get_user(txn, rows[0]["user_id"]) if rows else None
    if not rows:
        return None
    row = rows[0]
    if user is None or now - row["last_seen_at"] > IDLE_S or now - row["created_at"] > MAX_AGE_S:
        end(db, token)
        return None
    if now - row["last_seen_at"] > TOUCH_EVERY_S:
        with db.write() as txn:
            txn.execute("UPDATE office_sessions SET last_seen_at = ? WHERE id_hash = ?", (now, key))
    return OfficeSession(key, user, row["csrf"])


def end(db: Database, token: str | None) -> None:
    if token:
        with db.write() as txn:
            txn.execute("DELETE FROM office_sessions WHERE id_hash = ?", (_hash(token),))


def tokens_match(expected: str | None, given: object) -> bool:
    if not expected or not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def _secure(request: Request) -> bool:
    settings = request.app.state.doorstep.settings
    return request.url.scheme == "https" or bool(settings.secure_cookies)


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    """HttpOnly, SameSite=Strict, path /office, Secure over TLS; no max_age: ends with the browser."""
    response.set_cookie(name, value, max_age=max_age, path=PATH, httponly=True, samesite="strict",
                        secure=_secure(request))


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path=PATH, httponly=True, samesite="strict", secure=_secure(request))


def login_token(request: Request) -> str:
    """The sign-in form's CSRF token: the one in the cookie, or a new one."""
    current = request.cookies.get(LOGIN_COOKIE, "")
    return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(32)
