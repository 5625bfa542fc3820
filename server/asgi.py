"""ASGI entry point for ``uvicorn server.asgi:app`` (used by ``serve --workers N``).

The database path comes from ``DOORSTEP_DB``; with ``DOORSTEP_TENANTS`` set (``doorstep --tenants
DIR serve --workers N``), the app is the dispatcher for that directory's authorities (server/tenancy).
"""
from __future__ import annotations

import os

from .app import create_app
from .config import Settings
from .util import freeze_heap

if os.environ.get("DOORSTEP_TENANTS"):
    from .tenancy.dispatch import build

    app = build(os.environ["DOORSTEP_TENANTS"])
else:
    app = create_app(Settings(db_path=os.environ.get("DOORSTEP_DB", "doorstep.db")))
freeze_heap()
