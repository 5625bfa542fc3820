"""The sync engine's errors.

    SyncError                 base; carries an HTTP-neutral ``code``
    ├── RequestInvalid        the request as a whole is malformed (validation_failed)
    ├── NotFound              a named thing does not exist (not_found)
    ├── Forbidden             the user may not do this (forbidden)
    └── ResetRequired         the cursor is older than the server can answer for

Per-change problems are not exceptions: they come back as ``ChangeError``
entries in a ``rejected`` result, so one bad change never stops a batch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SyncError(Exception):
    code = "sync_error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class RequestInvalid(SyncError):
    code = "validation_failed"


class NotFound(SyncError):
    code = "not_found"


class Forbidden(SyncError):
    code = "forbidden"


class ResetRequired(SyncError):
    code = "reset"


@dataclass
class ChangeError:
    field: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass
class Rejection(Exception):
    """Raised inside the engine to reject one change; caught per change."""

    errors: list[ChangeError] = field(default_factory=list)
