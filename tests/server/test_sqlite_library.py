"""SQLite's process-wide settings (server/sqlite_library.py): a process that imports the server
first runs SQLite without memory statistics, and one that imported ``sqlite3`` before keeps
them; the database works the same in both. Each case is a fresh interpreter, since the setting
can only be made before the library starts."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_PROGRAM = """
import ctypes, json, sys
{first}
from server import sqlite_library
from server.storage import Database

db = Database(sys.argv[1])
db.migrate()
with db.write() as txn:
    txn.execute("CREATE TABLE probe (k INTEGER PRIMARY KEY, v TEXT)")
    txn.executemany("INSERT INTO probe (v) VALUES (?)", [("x" * 300,)] * 2000)
with db.read() as txn:
    count, length = txn.execute("SELECT count(*), sum(length(v)) FROM probe").fetchone()
lib = ctypes.CDLL("libsqlite3.so.0")
lib.sqlite3_memory_used.restype = ctypes.c_int64
print(json.dumps({{"off": sqlite_library.MEMSTATUS_OFF, "used": lib.sqlite3_memory_used(),
                  "count": count, "length": length}}))
db.close()
"""


def _sqlite3_on_shared_library() -> bool:
    """Python's sqlite3 is linked to the system's SQLite (Debian's build), not one built in."""
    import _sqlite3

    path = getattr(_sqlite3, "__file__", None)
    out = subprocess.run(["ldd", path], capture_output=True, text=True, check=False) if path else None
    return out is not None and "libsqlite3.so" in out.stdout


def _run(tmp_path: Path, first: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _PROGRAM.format(first=first), str(tmp_path / "probe.db")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_a_server_process_runs_sqlite_without_memory_statistics(tmp_path: Path) -> None:
    got = _run(tmp_path, first="")
    if not _sqlite3_on_shared_library():  # a Python whose sqlite3 has SQLite built in: nothing reaches it
        assert got["off"] is False
        pytest.skip("this Python's sqlite3 has its own SQLite built in, which no setting reaches")
    assert got["off"] is True
    assert got["used"] == 0  # the library counted no bytes: the statistics are off in the one sqlite3 uses
    assert (got["count"], got["length"]) == (2000, 600_000)


def test_a_process_that_imported_sqlite3_first_keeps_them_and_works_the_same(tmp_path: Path) -> None:
    got = _run(tmp_path, first="import sqlite3")
    assert got["off"] is False
    assert (got["count"], got["length"]) == (2000, 600_000)
    if _sqlite3_on_shared_library():  # the library sqlite3 uses is the one ctypes reads
        assert isinstance(got["used"], int) and got["used"] > 0  # still counted: nothing was changed
