"""What one server process holds: settings, the database, the clock, the signer."""
from __future__ import annotations

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


def open_state(settings: Settings, *, migrate: bool = True) -> AppState:
    """``migrate`` false: a server that must never migrate (server/tenancy) and has checked first."""
    db = Database(settings.db_path)
    if migrate:
        db.migrate()
    signer = Signer(db, settings.jwt_algorithm, settings.authority)
    signer.ensure_key()
    return AppState(settings, db, Clock("server"), signer)
