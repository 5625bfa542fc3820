"""What one server process holds: settings, the database, the clock, the signer."""
from __future__ import annotations

import sqlite3
import sys
from dataclasses import dataclass

from sync import Clock

from .config import Settings
from .identity.tokens import Signer
from .storage import Database


@dataclass
class AppState:
    settings: Settings
    db: Database
    clock: Clock
    signer: Signer


def database_errors() -> tuple[type[Exception], ...]:
    """What either store raises when the database itself fails (not the caller's input).
    psycopg is imported only by a process on PostgreSQL (it costs 0.2 s to load)."""
    postgres = sys.modules.get("psycopg")
    return (sqlite3.Error,) if postgres is None else (sqlite3.Error, postgres.Error)


def is_url(where: str) -> bool:
    """A PostgreSQL database URL (``postgresql://…``) rather than a SQLite file's path."""
    return where.startswith(("postgresql://", "postgres://"))


def open_database(where: str) -> Database:
    """The store ``where`` names: a PostgreSQL URL (docs/postgresql.md) or a SQLite file."""
    if is_url(where):
        try:
            from .pg import PgDatabase, refuse_password
        except ImportError as exc:  # the pg extra is not installed
            raise SystemExit(f"a PostgreSQL database needs psycopg 3: pip install 'doorstep[pg]' ({exc})") from exc

        refuse_password(where)
        return PgDatabase(where)  # type: ignore[return-value]
    return Database(where)


def open_state(settings: Settings, *, migrate: bool = True) -> AppState:
    """``migrate`` false: a server that must never migrate (server/tenancy) and has checked first."""
    db = open_database(settings.db_path)
    if migrate:
        db.migrate()
    signer = Signer(db, settings.jwt_algorithm, settings.authority)
    signer.ensure_key()
    return AppState(settings, db, Clock("server"), signer)
