"""The Doorstep sync engine: typed Python, no web framework, no storage library; compiled
with mypyc where that build is current (``sync/native.py``; ``NATIVE`` says which runs).

Public names are re-exported here; the modules behind them are private.
"""
from __future__ import annotations

from . import native as _native

NATIVE = _native.use()  # before any module of the engine is imported

from .clock_mark import server_stamp
from .cursor import decode as decode_cursor, encode as encode_cursor
from .errors import ChangeError, Forbidden, NotFound, RequestInvalid, ResetRequired, SyncError
from .hlc import Clock, Stamp, parse as parse_hlc, utc_iso
from .horizon import next_horizon
from .pull import MAX_LIMIT, PullOutcome, clamp_limit, pull
from .pull_item import pull_item, record_item
from .push import Prepared, PushOutcome, apply, prepare, push
from .resolve import resolve_conflict, resolve_in, system_write
from .runs_age import first_run_day, retire_runs
from .schema import ENTITY_TYPES
from .scope import Scope, TypeFilter, officer_scope
from .store import MemoryStore, Store, Txn
from .types import (ADMIN, OFFICE, OFFICER, ROLES, Actor, AppliedChange, Conflict, FieldMeta, Record,
                    Result, ScopeEvent)

__all__ = [
    "ADMIN", "ENTITY_TYPES", "MAX_LIMIT", "NATIVE", "OFFICE", "OFFICER", "ROLES", "Actor", "AppliedChange",
    "ChangeError", "Clock", "Conflict", "FieldMeta", "Forbidden", "MemoryStore", "NotFound", "Prepared",
    "PullOutcome", "PushOutcome", "Record", "RequestInvalid", "ResetRequired", "Result", "Scope",
    "ScopeEvent", "Stamp", "Store", "SyncError", "Txn", "TypeFilter", "apply", "clamp_limit", "decode_cursor",
    "encode_cursor", "first_run_day", "next_horizon", "officer_scope", "parse_hlc", "prepare", "pull", "pull_item", "push", "record_item",
    "resolve_conflict", "resolve_in", "retire_runs", "server_stamp", "system_write", "utc_iso",
]
