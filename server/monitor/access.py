"""Every request, once: a JSON access log line, the request metrics, a request id, and the last
word on errors (docs/operations.md).

``Monitor`` wraps the whole application (outside the routes' exception handlers):

- the request id is the caller's ``X-Request-Id`` when it is sane (1–128 of ``A–Z a–z 0–9 . _ : -``),
  else a new one; it is echoed in the answer's ``X-Request-Id`` and logged;
- one line a request on the ``doorstep.access`` logger: time, request id, method, route
  *template* (``/api/conflicts/{conflict_id}/resolve``, never the raw path with its ids), status,
  duration, the signed-in user's id (never a name), the client address;
- a client that goes away mid-request (mid-upload) is one quiet line (status 499), no traceback;
- an error no handler took is logged once and answered 500 with ``Connection: close``, so a
  keep-alive connection is never dropped without saying so.
"""
from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import orjson
from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import internal_error_response
from ..util import now_iso
from . import metrics

log = logging.getLogger("doorstep")
access = logging.getLogger("doorstep.access")

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CLIENT_CLOSED = 499  # the status logged for a client that went away before its answer


def request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template; ``unmatched`` for a path no route took (a 404 logs
    no raw path: it could hold anything)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return "unmatched"
    return f"{path}/{{path}}" if isinstance(route, Mount) else path


def user_of(scope: Scope) -> str | None:
    """The signed-in user's id, as ``server.http.authenticate`` left it in the request state (or
    the office's session, ``state.office``, that the office's sign-in check left)."""
    state = scope.get("state")
    if not isinstance(state, dict):
        return None
    value = state.get("user_id") or getattr(getattr(state.get("office"), "user", None), "id", None)
    return value if isinstance(value, str) else None


class Monitor:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid
        sent: dict[str, Any] = {"status": None}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
                MutableHeaders(scope=message)["X-Request-Id"] = rid
            await send(message)

        note = None
        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            sent["status"] = sent["status"] or CLIENT_CLOSED
            note = "client went away before the answer"
        except Exception:
            log.exception("unhandled error on %s %s (request %s)", scope.get("method"),
                          route_template(scope), rid)
            metrics.SERVER_ERRORS.labels("internal_error").inc()
            if sent["status"] is None:
                await internal_error_response()(scope, receive, send_with_id)
            else:
                note = "error after the answer began"
        finally:
            self._record(scope, rid, sent["status"] or CLIENT_CLOSED, time.perf_counter() - started, note)

    @staticmethod
    def _record(scope: Scope, rid: str, status: int, seconds: float, note: str | None) -> None:
        method = scope.get("method", "")
        method = method if method in METHODS else "OTHER"
        route = route_template(scope)
        metrics.REQUESTS.labels(method, route, str(status)).inc()
        metrics.LATENCY.labels(method, route).observe(seconds)
        if not access.isEnabledFor(logging.INFO):
            return
        client = scope.get("client")
        line: dict[str, Any] = {
            "ts": now_iso(), "request_id": rid,
            "method": method, "route": route, "status": status, "duration_ms": round(seconds * 1000, 1),
            "user_id": user_of(scope), "client": client[0] if client else None}
        if note:
            line["note"] = note
        access.info(orjson.dumps(line).decode())


def log_config(base: dict[str, Any]) -> dict[str, Any]:
    """uvicorn's logging configuration (``base``) with the access log as JSON lines on stdout and
    the server's own warnings on stderr; uvicorn applies it in every worker process."""
    config = {**base, "formatters": dict(base.get("formatters", {})), "handlers": dict(base.get("handlers", {})),
              "loggers": dict(base.get("loggers", {}))}
    config["formatters"]["doorstep_json"] = {"format": "%(message)s"}
    config["formatters"]["doorstep_text"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    config["handlers"]["doorstep_access"] = {"class": "logging.StreamHandler", "formatter": "doorstep_json",
                                             "stream": "ext://sys.stdout"}
    config["handlers"]["doorstep_errors"] = {"class": "logging.StreamHandler", "formatter": "doorstep_text",
                                             "stream": "ext://sys.stderr"}
    config["loggers"]["doorstep.access"] = {"handlers": ["doorstep_access"], "level": "INFO", "propagate": False}
    config["loggers"]["doorstep"] = {"handlers": ["doorstep_errors"], "level": "INFO", "propagate": False}
    return config
