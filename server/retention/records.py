"""Removing synced records for retention (docs/retention.md), inside the caller's transaction.

A record that is due becomes a tombstone with no data at a new sequence number, so every
device that holds it purges it at its next pull (``deleted: true``); its change-log rows (the
values of every edit), its conflicts and its office review state go at once. The tombstone
itself goes later, when the compaction horizon passes it (``horizon.prune_slice``).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import orjson

from sync import Record

from ..sqlite_txn import SqliteTxn, entity_change_seqs


def json_ids(ids: Iterable[str]) -> str:
    """Ids as a JSON array, for ``IN (SELECT value FROM json_each(?))``."""
    return orjson.dumps(sorted(set(ids))).decode()


def forget(txn: SqliteTxn, type_: str, ids: list[str]) -> None:
    """Everything kept beside the records themselves: their change-log rows, conflicts and
    review states (before the records' rows change: the log finds their first change through
    ``created_seq``)."""
    sql = f"DELETE FROM changes WHERE seq IN ({entity_change_seqs(type_)})"
    txn.executemany(sql, [(i, type_, i) for i in ids])
    txn.execute("DELETE FROM conflicts WHERE entity_id IN (SELECT value FROM json_each(?))", (json_ids(ids),))
    txn.execute("DELETE FROM reviews WHERE entity_id IN (SELECT value FROM json_each(?))", (json_ids(ids),))
    txn.execute("DELETE FROM review_history WHERE entity_id IN (SELECT value FROM json_each(?))", (json_ids(ids),))


def remove(txn: SqliteTxn, items: Iterable[tuple[str, str]], stamp: str, now: str) -> Counter[str]:
    """Make each ``(type, id)`` a tombstone with no data (``stamp``: the server's HLC); how many of
    each type."""
    by_type: dict[str, list[str]] = {}
    for type_, id_ in items:
        by_type.setdefault(type_, []).append(id_)
    seq = txn.max_seq()
    tombstones: list[Record] = []
    for type_, ids in by_type.items():
        found = txn.get(type_, ids)
        forget(txn, type_, list(found))
        for id_ in sorted(found):
            seq += 1
            tombstones.append(Record(type_, id_, version=found[id_].version + 1, seq=seq, deleted=True,
                                     deleted_hlc=stamp, updated_at=now, flags={"retention": True}))
    txn.save(tombstones)
    txn.set_max_seq(seq)
    return Counter(r.type for r in tombstones)
