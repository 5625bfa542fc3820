"""One place that turns every error into PROTOCOL.md's error body.

    {"error": {"code": ..., "message": ..., "details": {...}}}
"""
from __future__ import annotations

import errno
import logging
import sqlite3
import sys
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sync import SyncError

from .jsonresp import JSONResponse
from .storage import Busy, is_busy

log = logging.getLogger("doorstep")

# A full disk needs someone to free space: clients wait a minute between tries (the PWA keeps
# its outbox and backs off; docs/operations.md).
STORAGE_FULL_RETRY_AFTER_S = 60

SYNC_STATUS = {"validation_failed": 422, "not_found": 404, "forbidden": 403}
HTTP_CODES = {400: "validation_failed", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
              422: "validation_failed", 426: "upgrade_required", 429: "rate_limited"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or {}
        self.headers = headers


def unauthenticated(message: str = "sign in first") -> ApiError:
    return ApiError(401, "unauthenticated", message)


def forbidden(message: str = "your role may not do this") -> ApiError:
    return ApiError(403, "forbidden", message)


def invalid(message: str, **details: Any) -> ApiError:
    return ApiError(422, "validation_failed", message, details)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(body(exc.code, exc.message, exc.details), status_code=exc.status,
                        headers=exc.headers)


async def sync_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SyncError)
    status = SYNC_STATUS.get(exc.code, 422)
    return JSONResponse(body(exc.code, exc.message, exc.details), status_code=status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404:
        message = f"nothing at {request.method} {request.url.path[:200]}"
    elif exc.status_code == 405:
        message = f"{request.url.path[:200]} does not accept {request.method}"
    return JSONResponse(body(code, message), status_code=exc.status_code, headers=exc.headers)


def busy_response(exc: Busy) -> Response:
    """503 ``busy``: the write lock was not free in time (a long import, another worker); nothing
    was written, and the client tries again after ``Retry-After`` seconds."""
    return JSONResponse(body("busy", exc.message, {"retry_after": exc.retry_after}), status_code=503,
                        headers={"Retry-After": str(exc.retry_after)})


async def busy_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Busy)
    log.warning("busy: %s %s answered 503", request.method, request.url.path)
    return busy_response(exc)


def is_full(exc: BaseException) -> bool:
    """SQLite's "database or disk is full" (SQLITE_FULL), or the operating system's ENOSPC."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF == sqlite3.SQLITE_FULL
        return "database or disk is full" in str(exc).lower()
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def storage_full_response() -> Response:
    """507 ``storage_full``: the write was rolled back whole (nothing of it kept); the client
    keeps its work and sends it again after ``Retry-After`` seconds, once space is freed."""
    retry = STORAGE_FULL_RETRY_AFTER_S
    return JSONResponse(body("storage_full", "The server's storage is full; nothing was saved. "
                             "Your work is kept: try again later.", {"retry_after": retry}),
                        status_code=507, headers={"Retry-After": str(retry)})


async def sqlite_error(request: Request, exc: Exception) -> Response:
    """A "database is locked" that reached the top (outside ``Database.write()``'s own
    check) is busy too; a full disk is 507; any other SQLite error is a server fault."""
    if is_busy(exc):
        return await busy_error(request, Busy())
    if is_full(exc):
        return await full_error(request, exc)
    raise exc


async def full_error(request: Request, exc: Exception) -> Response:
    """A full disk, from SQLite or a file the server writes; anything else raised on."""
    if not is_full(exc):
        raise exc
    log.error("storage full: %s %s answered 507 (%s)", request.method, request.url.path, exc)
    return storage_full_response()


def internal_error_response() -> Response:
    """500 ``internal_error``, with ``Connection: close``: the connection's state is unknown, so
    the server says it ends it rather than drop it unannounced."""
    return JSONResponse(body("internal_error", "something went wrong on the server; nothing was saved"),
                        status_code=500, headers={"Connection": "close"})


async def server_error(request: Request, exc: Exception) -> Response:
    return _fault(request)


def _fault(request: Request) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return internal_error_response()


async def postgres_error(request: Request, exc: Exception) -> Response:
    """PostgreSQL's faults (server/pg/faults.py): retryable ones are busy, a full disk is 507,
    anything else a server fault."""
    from .pg import faults

    busy = faults.as_busy(exc)
    if busy is not None:
        log.warning("database fault answered 503 busy: %s", exc)
        return busy_response(busy)
    if faults.is_full(exc):
        log.error("storage full: %s %s answered 507 (%s)", request.method, request.url.path, exc)
        return storage_full_response()
    return _fault(request)


HANDLERS: dict[Any, Any] = {
    ApiError: api_error, SyncError: sync_error, HTTPException: http_error, Busy: busy_error,
    sqlite3.OperationalError: sqlite_error, sqlite3.DatabaseError: full_error, OSError: full_error,
    Exception: server_error}


def handlers() -> dict[Any, Any]:
    """The app's handlers; PostgreSQL's errors too in a process that loaded psycopg (a server on
    PostgreSQL: a SQLite one never pays its 0.2 s import)."""
    postgres = sys.modules.get("psycopg")
    return HANDLERS if postgres is None else {**HANDLERS, postgres.Error: postgres_error}
