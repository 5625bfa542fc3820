"""ASGI entry point for ``uvicorn server.asgi:app`` (used by ``serve --workers N``).

The database path comes from ``DOORSTEP_DB``.
"""
from __future__ import annotations

import os

from .app import create_app
from .config import Settings
from .util import freeze_heap

app = create_app(Settings(db_path=os.environ.get("DOORSTEP_DB", "doorstep.db")))
freeze_heap()
