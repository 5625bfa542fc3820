"""The audit log: who read or changed which records, when, from which device."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from .migrations import ENTITY_TABLES
from .storage import Database, SqliteTxn
from .util import now_iso

# The records about a person: every read and write of one is indexed by its id.
PERSONAL_TYPES = frozenset({"pupil", "household", "case", "person", "support_plan", "wellbeing_plan", "check_in"})


_PUSHES = ("SELECT p.id FROM changes c JOIN audit p ON p.at = c.received_at AND p.device_id = c.device_id "
           "AND p.action = 'push' WHERE ")
# Every audit row about one record: rows indexed by its id, the pushes that wrote it (through
# the change log: its first change through the record's ``created_seq``, whatever its type, the
# others through the log's entity index), the register list pages that showed it (audit_pupils:
# two integers a pupil, server/register/audit_lists.py) and the marks imports that set one of
# its marks. Takes the id ``ENTITY_AUDIT_ID_COUNT`` times: pass ``entity_audit_params(id)``.
ENTITY_AUDIT_IDS = (
    "SELECT audit_id FROM audit_entities WHERE entity_id = ? UNION "
    + _PUSHES + "c.entity_id = ? AND c.created = 0 UNION "
    + _PUSHES + "c.seq IN (" + " UNION ALL ".join(f"SELECT created_seq FROM {table} WHERE id = ?"
                                                  for table, _links in ENTITY_TABLES.values()) + ") UNION "
    "SELECT ap.audit_id FROM audit_pupils ap JOIN register_pupils rp ON rp.pk = ap.pupil_pk "
    "WHERE rp.pupil_id = ? UNION SELECT i.audit_id FROM imports i WHERE i.audit_id IS NOT NULL AND i.no IN "
    "(SELECT DISTINCT m.import_no FROM register_marks m JOIN register_pupils rp ON rp.pk = m.pupil_pk "
    "WHERE rp.pupil_id = ?)")
ENTITY_AUDIT_ID_COUNT = ENTITY_AUDIT_IDS.count("?")


def entity_audit_params(entity_id: str) -> list[str]:
    """The parameters of ``ENTITY_AUDIT_IDS`` for one record."""
    return [entity_id] * ENTITY_AUDIT_ID_COUNT


def record(txn: SqliteTxn, user_id: str | None, device_id: str | None, action: str,
           entity_ids: Iterable[str], detail: dict[str, Any] | None = None, *,
           indexed: Iterable[str] | None = None, at: str | None = None) -> int:
    """One audit row naming every id in ``entity_ids``; ``indexed`` (default: all of them)
    are the ids ``GET /api/audit?entity_id=`` finds it by."""
    ids = sorted(set(entity_ids))
    cur = txn.execute("INSERT INTO audit (at, user_id, device_id, action, entity_ids, detail) "
                      "VALUES (?, ?, ?, ?, ?, ?)",
                      (at or now_iso(), user_id, device_id, action, orjson.dumps(ids).decode(),
                       orjson.dumps(detail or {}).decode()))
    audit_id = int(cur.lastrowid or 0)
    keys = ids if indexed is None else sorted(set(indexed))
    if keys:
        txn.executemany("INSERT OR IGNORE INTO audit_entities (audit_id, entity_id) VALUES (?, ?)",
                             [(audit_id, i) for i in keys])
    return audit_id


def sync_record(txn: SqliteTxn, user_id: str, device_id: str, action: str,
                touched: Iterable[tuple[str, str]], detail: dict[str, Any], at: str | None = None) -> int:
    """The audit row of a push or a pull page: indexed by its personal records' ids.

    The other records a push wrote are found through the change log (each change row
    carries the push's device and receive time, which is this row's ``at``); the other
    records a pull returned are named in the row's ``entity_ids``.
    """
    touched = list(touched)
    return record(txn, user_id, device_id, action, [i for _, i in touched], detail,
                  indexed=[i for t, i in touched if t in PERSONAL_TYPES], at=at)


def for_entity(db: Database, entity_id: str | None, before: int | None, limit: int) -> list[dict[str, Any]]:
    """Newest first; ``before`` is the last id of the previous page."""
    params: list[Any] = []
    if entity_id:
        # indexed rows, and the pushes that wrote the record (through the change log)
        sql = ("SELECT a.id, a.at, a.user_id, u.username, a.device_id, a.action, a.detail FROM audit a "
               f"LEFT JOIN users u ON u.id = a.user_id WHERE a.id IN ({ENTITY_AUDIT_IDS})")
        params += entity_audit_params(entity_id)
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
