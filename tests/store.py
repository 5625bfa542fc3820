"""Reading a test server's database directly, on either store (tests/conftest.py ``db_path``:
a SQLite file or a PostgreSQL URL), with the server's SQL (SQLite's spelling, which the
PostgreSQL store translates: server/pg/dialect.py)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from server.state import is_url, open_database


def rows(where: str, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    """Every row of ``sql`` as tuples, read in one snapshot of the database ``where`` names."""
    db = open_database(where)
    try:
        with db.read() as txn:
            return [tuple(r) for r in txn.execute(sql, tuple(params)).fetchall()]
    finally:
        db.close()


def one(where: str, sql: str, params: Iterable[Any] = ()) -> Any:
    """The first column of the first row (None when there is none)."""
    found = rows(where, sql, params)
    return found[0][0] if found else None


def intact(where: str) -> bool:
    """SQLite's own integrity check of the file; PostgreSQL checks its pages itself (true)."""
    return is_url(where) or one(where, "PRAGMA integrity_check") == "ok"


def execute(where: str, sql: str, params: Iterable[Any] = ()) -> None:
    """One statement in a write transaction of its own (as another process's write would be)."""
    db = open_database(where)
    try:
        with db.write() as txn:
            txn.execute(sql, tuple(params))
    finally:
        db.close()


def dump(where: str) -> list[str]:
    """Every table's rows (sorted), as lines: equal dumps mean nothing was written."""
    from server.pg.schema_derived import derive

    db = open_database(where)
    try:
        with db.read() as txn:
            return [f"{table}: {row!r}" for table in sorted(derive().tables)
                    for row in sorted((tuple(r) for r in txn.execute(f"SELECT * FROM {table}").fetchall()), key=repr)]
    finally:
        db.close()
