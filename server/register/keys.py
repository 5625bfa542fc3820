"""The register's integer keys for schools and pupils, kept in step with the sync records.

Schools and pupils are sync records (``schools``, ``pupils``: JSON, UUID ids),
written by the roll import, the office or a push. The register's own tables
(marks, weekly counts, figures) key them by small integers instead, which keeps a
mark at a few bytes. ``refresh(txn)`` brings ``register_schools`` and
``register_pupils`` up to date with every record saved since it last ran (a
watermark on the records' ``seq``), so it costs in proportion to what changed.
"""
from __future__ import annotations

from typing import Any

import orjson

from ..storage import SqliteTxn
from .portable import INTS

WATERMARK = "register_seq"


def refresh(txn: SqliteTxn) -> int:
    """Mirror schools and pupils saved since the last refresh; returns how many rows it read."""
    row = txn.execute("SELECT value FROM meta WHERE key = ?", (WATERMARK,)).fetchone()
    since = int(row[0]) if row else 0
    top = txn.max_seq()
    if top <= since:
        return 0
    schools = txn.execute(
        "SELECT id, json_extract(data, '$.urn') FROM schools WHERE seq > ? AND deleted = 0", (since,)).fetchall()
    for school_id, urn in schools:
        txn.execute("INSERT INTO register_schools (school_id, urn) VALUES (?, ?) "
                    "ON CONFLICT (school_id) DO UPDATE SET urn = excluded.urn", (school_id, urn or None))
    # in SQL, so a first import after a roll of 200,000 pupils holds none of them in memory
    pupils = txn.execute(
        "INSERT INTO register_pupils (pupil_id, upn, school_pk, on_roll_from, left_on) "
        "SELECT p.id, p.upn, s.pk, json_extract(p.data, '$.on_roll_from'), json_extract(p.data, '$.left_on') "
        "FROM pupils p LEFT JOIN register_schools s ON s.school_id = p.school_id "
        "WHERE p.seq > ? AND p.deleted = 0 "
        "ON CONFLICT (pupil_id) DO UPDATE SET upn = excluded.upn, school_pk = excluded.school_pk, "
        "on_roll_from = excluded.on_roll_from, left_on = excluded.left_on", (since,)).rowcount
    # a pupil's figures rows follow the pupil's school, for the per-school lists
    txn.execute("UPDATE figures SET school_pk = r.school_pk FROM register_pupils r JOIN pupils p ON p.id = r.pupil_id "
                "WHERE figures.pupil_pk = r.pk AND p.seq > ? AND figures.school_pk IS NOT r.school_pk", (since,))
    txn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (WATERMARK, top))
    return len(schools) + pupils


def pupil_keys(txn: SqliteTxn) -> dict[str, tuple[int, int | None]]:
    """UPN -> (pupil key, school key) of every pupil the register knows."""
    return {upn: (pk, school) for pk, upn, school in
            txn.execute("SELECT pk, upn, school_pk FROM register_pupils")}


def pupil_ids(txn: SqliteTxn, pks: list[int]) -> dict[int, str]:
    if not pks:
        return {}
    return dict(txn.execute(f"SELECT pk, pupil_id FROM register_pupils WHERE pk IN ({INTS})",
                            (json_list(pks),)).fetchall())


def pupil_pk(txn: SqliteTxn, pupil_id: str) -> int | None:
    row = txn.execute("SELECT pk FROM register_pupils WHERE pupil_id = ?", (pupil_id,)).fetchone()
    return row[0] if row else None


def school_pk(txn: SqliteTxn, school_id: str) -> int | None:
    row = txn.execute("SELECT pk FROM register_schools WHERE school_id = ?", (school_id,)).fetchone()
    return row[0] if row else None


def json_list(values: list[Any]) -> str:
    """A list as JSON text, for ``IN (SELECT value FROM json_each(?))``."""
    return orjson.dumps(values).decode()
