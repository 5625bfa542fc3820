"""SQLite's process-wide settings, made before anything opens a database (``server/__init__.py``).

One setting: **no memory statistics** (``SQLITE_CONFIG_MEMSTATUS`` off). With them on, as
Debian's library is built, every allocation SQLite makes takes a process-wide mutex to count
bytes for ``sqlite3_memory_used()``, which nothing here reads. SQLite's own list of
recommended compile-time options turns them off (``SQLITE_DEFAULT_MEMSTATUS=0``: "helps the
sqlite3_malloc() routines run much faster"); a push of new visits costs about 5 % fewer
instructions without them (docs/performance.md, "Sync round fourteen").

A process-wide setting can only be made before the library starts, and Python's ``sqlite3``
starts it on import. So this runs from the ``server`` package's ``__init__``, before any of its
modules imports ``sqlite3``, through ``ctypes`` on the library ``sqlite3`` is linked to. It
changes nothing else, and SQLite behaves the same either way. Where it cannot be made — ``sqlite3``
already imported (a test process, a script that imported it first), a library that is not
Debian's shared one, no ``ctypes`` — nothing changes and ``MEMSTATUS_OFF`` says so.
"""
from __future__ import annotations

import sys

_CONFIG_MEMSTATUS = 9  # sqlite3.h: SQLITE_CONFIG_MEMSTATUS
_MISUSE = 21  # sqlite3.h: SQLITE_MISUSE, the answer to a setting made after the library started

MEMSTATUS_OFF = False  # True when this process's SQLite counts no memory statistics


def configure() -> bool:
    """Turn SQLite's memory statistics off for this process, when it is still early enough;
    True when they are off in the library ``sqlite3`` uses."""
    global MEMSTATUS_OFF
    if MEMSTATUS_OFF or "sqlite3" in sys.modules or "_sqlite3" in sys.modules:
        return MEMSTATUS_OFF
    try:
        import ctypes

        lib = ctypes.CDLL("libsqlite3.so.0")
        if lib.sqlite3_config(_CONFIG_MEMSTATUS, ctypes.c_int(0)) != 0:
            return False
        import sqlite3

        # The same library only if importing sqlite3 started the one just set: a setting now is refused.
        same = (lib.sqlite3_config(_CONFIG_MEMSTATUS, ctypes.c_int(0)) == _MISUSE
                and lib.sqlite3_libversion_number() == sqlite3.sqlite_version_info[0] * 1_000_000
                + sqlite3.sqlite_version_info[1] * 1_000 + sqlite3.sqlite_version_info[2])
    except (OSError, AttributeError, ImportError):
        return False
    MEMSTATUS_OFF = same
    return same
