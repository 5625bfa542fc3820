"""``doorstep backup DEST``: a consistent copy of the live database, checked, with a manifest.

The copy is SQLite's online backup in one step (``Connection.backup(target, pages=-1)``): one
read transaction, so it is the database as it was at one instant while the server goes on
reading and writing (WAL: a reader never blocks a writer). A stepwise backup (``pages=N``)
would restart whenever another process writes; ``VACUUM INTO`` is also one read transaction
and is kept as ``--method vacuum`` (docs/backup.md, docs/performance.md say why the default).

The copy is written to ``DEST.partial``, switched to a rollback journal (one self-contained
file), checked with ``PRAGMA integrity_check``, hashed, and only then renamed to ``DEST``,
with ``DEST.manifest.json`` beside it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from ..migrations import migrations

METHODS = ("backup", "vacuum")
MANIFEST_SUFFIX = ".manifest.json"
BUSY_TIMEOUT_MS = 30_000
HASH_CHUNK = 8 * 1024 * 1024


class BackupError(Exception):
    """The backup (or the file given to restore) is not usable; the message says why."""


@dataclass
class Backup:
    path: Path
    manifest: dict[str, Any]


def manifest_path(path: str | Path) -> Path:
    return Path(str(path) + MANIFEST_SUFFIX)


def open_source(path: str | Path) -> sqlite3.Connection:
    """The live database, never created: a missing file is an error, not an empty database."""
    if not Path(path).is_file():
        raise BackupError(f"there is no database at {path}")
    conn = sqlite3.connect(uri(path, "rw"), uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def uri(path: str | Path, mode: str) -> str:
    """A SQLite URI for a file opened ``ro`` or ``rw`` (never created)."""
    return f"file:{quote(str(Path(path).resolve()))}?mode={mode}"


def target_of(dest: str | Path, now: dt.datetime | None = None) -> Path:
    """``DEST`` itself, or a time-stamped file inside it when it is a directory."""
    if str(dest).endswith("/") and not Path(dest).is_dir():
        raise BackupError(f"there is no directory {dest}")
    dest = Path(dest)
    if dest.is_dir():
        stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
        return dest / f"doorstep-{stamp}.db"
    return dest


def new_target(dest: str | Path, suffix: str = ".db") -> tuple[Path, Path]:
    """The backup's file (``DEST``, or a new time-stamped one in the directory ``DEST``, named
    ``….suffix``), which must not exist yet, and the ``.partial`` it is written to first."""
    target = target_of(dest)
    if target.suffix == ".db" and suffix != ".db":
        target = target.with_suffix(suffix)
    if target.exists() or manifest_path(target).exists():
        raise BackupError(f"{target} already exists; give a new file name or a directory")
    if not target.parent.is_dir():
        raise BackupError(f"there is no directory {target.parent}")
    partial = Path(str(target) + ".partial")
    partial.unlink(missing_ok=True)
    return target, partial


def take(source: str | Path, dest: str | Path, method: str = "backup") -> Backup:
    """Copy ``source`` to ``dest`` (a new file, or a directory to put one in), check it and
    write its manifest. Raises ``BackupError`` and leaves nothing at ``dest`` if any step fails."""
    if method not in METHODS:
        raise BackupError(f"unknown method {method!r}: one of {', '.join(METHODS)}")
    target, partial = new_target(dest)
    started = time.monotonic()
    at = dt.datetime.now(dt.timezone.utc)
    src = open_source(source)
    try:
        try:
            copy(src, partial, method)
        except sqlite3.Error as exc:
            raise BackupError(f"could not copy {source}: {exc}") from exc
        finally:
            src.close()
        copied = time.monotonic() - started
        os.chmod(partial, 0o600)  # children's safeguarding data: the service account only
        facts = inspect(partial)
        if facts["integrity"] != "ok":
            raise BackupError(f"the copy failed its integrity check: {facts['integrity']}")
        checked = time.monotonic() - started
        digest = sha256_of(partial)
        manifest = {
            "format": "doorstep-backup/1", "taken_at": at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "source": str(Path(source).resolve()), "file": target.name, "method": method,
            "size_bytes": partial.stat().st_size, "sha256": digest, **facts,
            "seconds": {"copy": round(copied, 2), "check": round(checked - copied, 2),
                        "total": round(time.monotonic() - started, 2)},
        }
        place(partial, target, manifest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Backup(target, manifest)


def place(partial: Path, target: Path, manifest: dict[str, Any]) -> None:
    """The checked copy ``partial`` renamed to ``target``, its manifest written beside it, all
    flushed to the disk; on any failure nothing is left under the backup's name."""
    placed = False
    try:
        fsync_path(partial)
        os.replace(partial, target)
        placed = True
        manifest_path(target).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")
        fsync_path(manifest_path(target))
        fsync_path(target.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        if placed:
            target.unlink(missing_ok=True)
            manifest_path(target).unlink(missing_ok=True)
        raise


def copy(src: sqlite3.Connection, path: Path, method: str) -> None:
    """One read transaction of ``src`` copied to a new file at ``path``, then made one
    self-contained file (rollback journal mode, so no ``-wal`` belongs to it)."""
    if method == "vacuum":
        src.execute("VACUUM INTO ?", (str(path),))
    else:
        dst = sqlite3.connect(path, isolation_level=None)
        try:
            dst.execute("PRAGMA synchronous = OFF")  # the whole file is fsynced once, after the check
            src.backup(dst, pages=-1)
        finally:
            dst.close()
    dst = sqlite3.connect(path, isolation_level=None)
    try:
        dst.execute("PRAGMA journal_mode = DELETE")
    finally:
        dst.close()


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    """The names of the migrations applied to a database, in order: its schema version."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = '_sqlite_migrations'").fetchone():
        return []
    return [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = ? "
                                       "ORDER BY rowid", (migrations.name,))]


def known_migrations() -> list[str]:
    return [m.name for m in migrations._migrations]


def inspect(path: Path) -> dict[str, Any]:
    """What the manifest says of a database file: its integrity, schema version, row counts
    per table and last change sequence. Raises ``BackupError`` for a file that is not a database."""
    try:
        conn = sqlite3.connect(uri(path, "ro"), uri=True, isolation_level=None)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
            integrity = "ok" if [r[0] for r in rows] == ["ok"] else "; ".join(r[0] for r in rows[:10])
            if integrity != "ok":
                return {"integrity": integrity}
            schema = applied_migrations(conn)
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
            counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
            max_seq = None
            if "meta" in tables:
                row = conn.execute("SELECT value FROM meta WHERE key = 'max_seq'").fetchone()
                max_seq = row[0] if row else None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:  # "file is not a database", a damaged header
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from exc
    return {"integrity": integrity, "schema": {"migrations": schema, "count": len(schema),
                                               "latest": schema[-1] if schema else None},
            "max_seq": max_seq, "row_counts": counts}


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def fsync_path(path: Path) -> None:
    """Flush a file's (or a directory's: a rename in it) data to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
