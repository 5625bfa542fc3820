"""``SqliteTxn.links`` (server/sqlite_txn.py): the scope's reads on a real SQLite file answer as
the memory store's do (tests/sync/test_store.py), through a generated link column, a field read
from the JSON and the primary key."""
from __future__ import annotations

import pytest

from server.storage import Database
from tests.sync.test_store import check_links, linked_store


def test_sqlite_links_answer_as_the_memory_store(tmp_path):
    db = Database(tmp_path / "links.db")
    db.migrate()
    try:
        with linked_store(db).read() as txn:
            check_links(txn)
            with pytest.raises(ValueError):
                txn.links("task", "title') OR 1 = 1 --", ["x"], ())  # a field is a name, never SQL
    finally:
        db.close()
