"""The audit of register list views, written compactly (docs/register.md).

A page of 200 pupils is one audit row plus one two-integer row a pupil in
``audit_pupils`` (pupil key, audit id), instead of 200 UUIDs in the row and
200 UUID index rows: ``GET /api/audit?entity_id=`` still finds every page that
showed a pupil, through ``entity_audit_ids``.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from .. import audit
from ..http import Auth, state
from ..storage import Database, SqliteTxn


def record_list(txn: SqliteTxn, user_id: str, device_id: str | None, action: str, pupil_ids: Iterable[str],
                detail: dict[str, Any]) -> int:
    ids = list(pupil_ids)
    audit_id = audit.record(txn, user_id, device_id, action, [], {**detail, "pupils": len(ids)})
    txn.execute(
        "INSERT OR IGNORE INTO audit_pupils (pupil_pk, audit_id) SELECT pk, ? FROM register_pupils "
        "WHERE pupil_id IN (SELECT value FROM json_each(?))", (audit_id, orjson.dumps(ids).decode()))
    return audit_id


def view(db: Database, user_id: str, device_id: str | None, action: str, pupil_ids: Iterable[str],
         detail: dict[str, Any]) -> None:
    ids = [i for i in pupil_ids if i]
    if ids:
        with db.write() as txn:
            record_list(txn, user_id, device_id, action, ids, detail)


async def audit_list(request: Request, auth: Auth, action: str, pupil_ids: list[str],
                     detail: dict[str, Any]) -> None:
    await run_in_threadpool(view, state(request).db, auth.user.id, auth.device_id, action, pupil_ids, detail)
