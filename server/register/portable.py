"""The register's SQL pieces written once for both stores (docs/postgresql.md).

Every statement goes through the transaction (``txn.rows``/``execute``/``executemany``), which
on PostgreSQL translates SQLite's spelling (``server/pg/dialect.py``). These are the few
spellings that translation cannot make mean the same, written so they do on both: a JSON
array's elements as integers (PostgreSQL's ``json_each`` gives text), a condition counted as
0 or 1 (PostgreSQL cannot add booleans), and the staging table's emptying.
"""
from __future__ import annotations

from typing import Any

from ..storage import SqliteTxn

# the elements of a JSON array of integers (?), as integers
INTS = "SELECT CAST(value AS INTEGER) FROM json_each(?)"
# the (a, b) pairs of a JSON array of two-integer arrays (?), for ``(a, b) IN (…)``
PAIRS = "SELECT CAST(json(value) ->> 0 AS INTEGER), CAST(json(value) ->> 1 AS INTEGER) FROM json_each(?)"


def element(alias: str, index: int) -> str:
    """Integer ``index`` of the array ``alias.value`` of ``json_each`` (as in ``PAIRS``)."""
    return f"CAST(json({alias}.value) ->> {index} AS INTEGER)"


def one(condition: str) -> str:
    """1 where ``condition`` holds, else 0 (also when it is NULL)."""
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def on_sqlite(txn: Any) -> bool:
    return isinstance(txn, SqliteTxn)


def empty(txn: Any, table: str) -> None:
    """Empty a connection's own TEMP table: ``TRUNCATE`` on PostgreSQL, where a ``DELETE`` would
    leave dead rows behind each slice (nothing vacuums a temporary table)."""
    txn.execute(f"DELETE FROM {table}" if on_sqlite(txn) else f"TRUNCATE {table}")
