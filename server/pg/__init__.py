"""PostgreSQL storage behind the sync engine's storage seam (issue #21, first step).

Optional: needs the ``pg`` extra (psycopg 3). Nothing in the server chooses it yet; the plan
for the rest is in docs/postgresql.md.
"""
from __future__ import annotations

from .schema import SCHEMA_VERSION, create_schema
from .store import PgDatabase
from .txn import PgTxn

__all__ = ["SCHEMA_VERSION", "PgDatabase", "PgTxn", "create_schema"]
