"""The audit log: who read or changed which records, when, from which device."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from .storage import Database, SqliteTxn
from .util import now_iso


def record(txn: SqliteTxn, user_id: str | None, device_id: str | None, action: str,
           entity_ids: Iterable[str], detail: dict[str, Any] | None = None) -> int:
    ids = sorted(set(entity_ids))
    cur = txn.execute("INSERT INTO audit (at, user_id, device_id, action, entity_ids, detail) "
                      "VALUES (?, ?, ?, ?, ?, ?)",
                      (now_iso(), user_id, device_id, action, orjson.dumps(ids).decode(),
                       orjson.dumps(detail or {}).decode()))
    audit_id = int(cur.lastrowid or 0)
    if ids:
        txn.conn.executemany("INSERT OR IGNORE INTO audit_entities (audit_id, entity_id) VALUES (?, ?)",
                             [(audit_id, i) for i in ids])
    return audit_id


def for_entity(db: Database, entity_id: str | None, before: int | None, limit: int) -> list[dict[str, Any]]:
    """Newest first; ``before`` is the last id of the previous page."""
    params: list[Any] = []
    if entity_id:
        sql = ("SELECT a.id, a.at, a.user_id, u.username, a.device_id, a.action, a.detail FROM audit_entities e "
               "JOIN audit a ON a.id = e.audit_id LEFT JOIN users u ON u.id = a.user_id WHERE e.entity_id = ?")
        params.append(entity_id)
    else:
        sql = ("SELECT a.id, a.at, a.user_id, u.username, a.device_id, a.action, a.detail FROM audit a "
               "LEFT JOIN users u ON u.id = a.user_id WHERE 1 = 1")
    if before is not None:
        sql += " AND a.id < ?"
        params.append(before)
    sql += " ORDER BY a.id DESC LIMIT ?"
    params.append(limit)
    rows = db.query(sql, params)
    for row in rows:
        row["detail"] = orjson.loads(row["detail"])
    return rows
