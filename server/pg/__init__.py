"""PostgreSQL storage behind the sync engine's storage seam (issue #21, first step).

Optional: needs the ``pg`` extra (psycopg 3). ``--db postgresql://…`` chooses it
(``server.state.open_database``); docs/postgresql.md says what runs on it.
"""
from __future__ import annotations

from .schema import SCHEMA_VERSION, create_schema
from .store import PgDatabase, refuse_password
from .txn import PgTxn

__all__ = ["SCHEMA_VERSION", "PgDatabase", "PgTxn", "create_schema", "refuse_password"]
