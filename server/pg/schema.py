"""The PostgreSQL schema of the engine's tables (issue #21, first step; docs/postgresql.md).

The same data model as the SQLite migrations (server/migrations.py m001–m003, m016, the ``item``
column): the entity tables with their promoted link columns, the change log, conflicts, scope
events, the ``meta`` counters, and the users and devices the engine reads names and roles from.
Differences, each for a reason:

- ``data``, ``meta``, ``flags`` and the change log's JSON are ``jsonb`` (queried: a link field
  that is not a promoted column is found with ``data -> field``); the pull item stays bytes
  (``bytea``), copied into an answer as stored, never parsed.
- the promoted link columns are ``GENERATED ALWAYS AS (data ->> field) STORED`` (SQLite:
  virtual ``json_extract`` columns), indexed alike.
- every text column is ``COLLATE "C"``: keys compare bytewise, as in SQLite, whatever locale the
  cluster was made with (the conflicts' keyset paging orders by ``(created_at, id)``).
- flags such as ``deleted`` stay integers (0/1), so SQL written against the SQLite tables
  (``WHERE deleted = 0``) reads the same here.

``create_schema`` is idempotent and takes a transaction-scoped advisory lock first, so several
processes starting at once never race it: one creates, the others wait and find it made.
"""
from __future__ import annotations

from typing import Any

from ..migrations import ENTITY_TABLES
from .schema_derived import derive

# the one schema version this module creates (a later step turns this into numbered migrations)
SCHEMA_VERSION = 1
# pg_advisory_xact_lock key for schema changes: "DOORSTEP" in ASCII
_SCHEMA_LOCK = 0x444F4F5253544550
TEXT = 'text COLLATE "C"'


def _entity_table(table: str, links: tuple[str, ...]) -> list[str]:
    generated = "".join(
        f",\n  {col} {TEXT} GENERATED ALWAYS AS (data ->> '{col}') STORED" for col in links)
    statements = [f"""CREATE TABLE IF NOT EXISTS {table} (
  id {TEXT} PRIMARY KEY,
  data jsonb NOT NULL,
  meta jsonb NOT NULL,
  version integer NOT NULL,
  seq bigint NOT NULL,
  deleted smallint NOT NULL DEFAULT 0,
  deleted_hlc {TEXT},
  flags jsonb NOT NULL DEFAULT '{{}}',
  created_at {TEXT}, created_by {TEXT}, updated_at {TEXT}, updated_by {TEXT},
  created_seq bigint,
  item bytea{generated}
)""",
                  f"CREATE INDEX IF NOT EXISTS {table}_seq ON {table}(seq)",
                  f"CREATE INDEX IF NOT EXISTS {table}_tombstones ON {table}(seq) WHERE deleted = 1"]
    statements += [f"CREATE INDEX IF NOT EXISTS {table}_{col} ON {table}({col})" for col in links]
    return statements


def statements() -> list[str]:
    """Every statement ``create_schema`` runs, in order."""
    out: list[str] = []
    for table, links in ENTITY_TABLES.values():
        out += _entity_table(table, links)
    out += [
        f"""CREATE TABLE IF NOT EXISTS changes (
  seq bigint PRIMARY KEY, change_id {TEXT} NOT NULL UNIQUE, type {TEXT} NOT NULL,
  entity_id {TEXT} NOT NULL, version integer NOT NULL, status {TEXT} NOT NULL, user_id {TEXT},
  device_id {TEXT}, received_at {TEXT} NOT NULL, hlc {TEXT} NOT NULL, fields jsonb NOT NULL,
  lost_fields jsonb NOT NULL, created smallint NOT NULL DEFAULT 0)""",
        "CREATE INDEX IF NOT EXISTS changes_entity_edits ON changes(entity_id) WHERE created = 0",
        f"""CREATE TABLE IF NOT EXISTS conflicts (
  id {TEXT} PRIMARY KEY, type {TEXT} NOT NULL, entity_id {TEXT} NOT NULL, field {TEXT},
  kept jsonb NOT NULL, lost jsonb NOT NULL, status {TEXT} NOT NULL, created_at {TEXT} NOT NULL,
  resolved_at {TEXT}, resolved_by {TEXT}, choice {TEXT})""",
        "CREATE INDEX IF NOT EXISTS conflicts_status ON conflicts(status, created_at, id)",
        "CREATE INDEX IF NOT EXISTS conflicts_created ON conflicts(created_at, id)",
        f"""CREATE TABLE IF NOT EXISTS scope_events (
  user_id {TEXT} NOT NULL, type {TEXT} NOT NULL, entity_id {TEXT} NOT NULL, kind {TEXT} NOT NULL,
  seq bigint NOT NULL, PRIMARY KEY (user_id, type, entity_id))""",
        "CREATE INDEX IF NOT EXISTS scope_events_seq ON scope_events(user_id, seq)",
        f"CREATE TABLE IF NOT EXISTS meta (key {TEXT} PRIMARY KEY, value bigint NOT NULL)",
        "INSERT INTO meta VALUES ('max_seq', 0), ('horizon', 0) ON CONFLICT (key) DO NOTHING",
        f"""CREATE TABLE IF NOT EXISTS users (
  id {TEXT} PRIMARY KEY, username {TEXT} NOT NULL UNIQUE, display_name {TEXT} NOT NULL,
  role {TEXT} NOT NULL, password_hash {TEXT} NOT NULL, active smallint NOT NULL DEFAULT 1,
  created_at {TEXT} NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS devices (
  id {TEXT} PRIMARY KEY, user_id {TEXT} NOT NULL, name {TEXT} NOT NULL, created_at {TEXT} NOT NULL,
  last_seen_at {TEXT}, last_sync_at {TEXT}, revoked_at {TEXT}, revoked_reason {TEXT},
  revoked_by {TEXT})""",
        "CREATE INDEX IF NOT EXISTS devices_user ON devices(user_id)",
        f"INSERT INTO meta VALUES ('pg_schema_version', {SCHEMA_VERSION}) ON CONFLICT (key) DO NOTHING",
    ]
    return out


def server_statements() -> list[str]:
    """The rest of the server's schema, derived from the SQLite migrations
    (``server.pg.schema_derived``): every other table, any column or index SQLite has on the
    engine's tables beyond the ones above, and the record of which migrations it stands for."""
    derived = derive()
    engine = set(tables())
    out: list[str] = []
    for table, creates in derived.tables.items():
        if table not in engine:
            out += creates
    for table in engine & derived.columns.keys():
        out += [f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {ddl}" for _name, ddl in derived.columns[table]
                if not _generated_here(table, _name)]
    for indexes in derived.indexes.values():
        out += [ddl for _name, ddl in indexes]
    out.append(f"CREATE TABLE IF NOT EXISTS schema_migrations (name {TEXT} PRIMARY KEY)")
    # a JSON value as SQLite's json_extract compares it with a number (server/pg/dialect.py)
    out.append("""CREATE OR REPLACE FUNCTION json_number(j jsonb) RETURNS numeric
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE jsonb_typeof(j) WHEN 'number' THEN (j #>> '{}')::numeric
    WHEN 'boolean' THEN CASE WHEN j = 'true'::jsonb THEN 1 ELSE 0 END END $$""")
    return out


def _generated_here(table: str, column: str) -> bool:
    return any(table == t and column in links for t, links in ENTITY_TABLES.values())


def create_schema(conn: Any, *, server: bool = True) -> None:
    """Create the tables on ``conn`` (a psycopg connection in autocommit mode) in one
    transaction, serialised across processes by an advisory lock; a no-op when they exist.
    ``server``: the whole server's schema, not only the engine's, and the SQLite migrations it
    stands for recorded in ``schema_migrations``."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        for sql in statements():
            conn.execute(sql)
        if server:
            for sql in server_statements():
                conn.execute(sql)
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO schema_migrations VALUES (%s) ON CONFLICT DO NOTHING",
                                [(name,) for name in derive().migrations])


def pending(conn: Any) -> list[str]:
    """The SQLite migrations this PostgreSQL database does not stand for yet (all of them on a
    database without the server's schema)."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]
    done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")} if exists else set()
    return [name for name in derive().migrations if name not in done]


def tables() -> list[str]:
    """The tables ``create_schema`` makes (for a test's reset and the plan's inventory)."""
    return [t for t, _links in ENTITY_TABLES.values()] + [
        "changes", "conflicts", "scope_events", "meta", "users", "devices"]
