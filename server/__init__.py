"""The Doorstep server (README.md, "Where things are")."""
from .sqlite_library import configure as _configure_sqlite

_configure_sqlite()  # before any module of the server imports sqlite3 (server/sqlite_library.py)
