"""``doorstep restore SRC``: put a backup in place of the database, refusing what is unsafe.

Refused: a file that is not a SQLite database, fails ``PRAGMA integrity_check`` or differs
from the sha256 its manifest records (damaged); a schema newer than this code's (a migration
this code does not know); a target database that another process (a running server) has
open, whatever the options; and an existing target without ``--force``.

The backup is copied to a temporary file beside the target, checked, migrated to this code's
schema, and then renamed over the target in one atomic step. The old file stays as
``TARGET.before-restore`` (a hard link made while this process holds the target's exclusive
lock, after its WAL was folded in).
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .. import audit
from ..storage import Database
from .backup import (BackupError, applied_migrations, fsync_path, inspect, known_migrations,
                     manifest_path, sha256_of, uri)

BEFORE_SUFFIX = ".before-restore"
# More changes than an authority makes in centuries; a cursor stays well inside JavaScript's
# exact integers after a million restores.
SEQ_GAP = 10**10


class InUse(BackupError):
    """Another process (a running server) has the target database open."""


@dataclass
class Restored:
    target: Path
    before: Path | None
    sha256: str
    manifest: dict[str, Any] | None
    schema: list[str]
    migrated: list[str] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)


def check_file(src: Path) -> tuple[str, dict[str, Any] | None]:
    """The file's sha256, and its manifest when one lies beside it (whose hash must match)."""
    if not src.is_file():
        raise BackupError(f"there is no backup file at {src}")
    digest = sha256_of(src)
    mpath = manifest_path(src)
    if not mpath.exists():
        return digest, None
    try:
        manifest = orjson.loads(mpath.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise BackupError(f"its manifest {mpath} is not JSON: {exc}") from exc
    if manifest.get("sha256") != digest:
        raise BackupError(f"{src} is damaged: its sha256 {digest[:16]}… differs from its manifest's "
                          f"{str(manifest.get('sha256'))[:16]}…")
    return digest, manifest


def check_schema(schema: list[str], tables: dict[str, int]) -> None:
    known = set(known_migrations())
    if not schema and "pupils" not in tables:
        raise BackupError("it is not a Doorstep database (no Doorstep migrations, no pupils table)")
    newer = [m for m in schema if m not in known]
    if newer:
        raise BackupError(f"its schema is newer than this Doorstep's: it has migrations this code does not know "
                          f"({', '.join(newer)}); restore it with the Doorstep version that made it, or upgrade")


class TargetLock:
    """The target's exclusive SQLite lock (``locking_mode = EXCLUSIVE``, ``BEGIN EXCLUSIVE``
    with no busy wait): taken only if no other connection, in any process, has it open — a WAL
    connection holds a shared lock on the file from open to close, so an idle server counts.
    While held, its WAL is folded into the file (journal mode DELETE) and nobody can open it."""

    def __init__(self, target: Path, fold: bool = True) -> None:
        self.conn = sqlite3.connect(uri(target, "rw"), uri=True, isolation_level=None, timeout=0)
        try:
            self.conn.execute("PRAGMA busy_timeout = 0")
            self.conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            self.conn.execute("BEGIN EXCLUSIVE")
            self.conn.execute("COMMIT")
            if fold:
                self.conn.execute("PRAGMA journal_mode = DELETE")
        except sqlite3.OperationalError as exc:
            self.conn.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise InUse(f"{target} is open in another process (a running Doorstep server?): stop it first "
                            "(e.g. systemctl stop doorstep), then restore") from exc
            raise BackupError(f"cannot open {target}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise BackupError(f"{target} is not a database this can replace safely: {exc}") from exc

    def release(self) -> None:
        self.conn.close()


def _ensure_free(target: Path, force: bool) -> None:
    if not target.exists():
        if Path(f"{target}-wal").exists():  # SQLite would replay it into the restored file
            raise BackupError(f"{target}-wal is there without its database: move it away first")
        return
    TargetLock(target, fold=False).release()  # only asks: the file stays as it is
    if not force:
        raise BackupError(f"{target} exists: with the server stopped, repeat with --force to replace it "
                          f"(the current file is kept as {target.name}{BEFORE_SUFFIX})")


def _copy_in(src: Path, temp: Path) -> None:
    """The backup's pages into a new file (read-only from the backup, so it is never changed)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{temp}{suffix}").unlink(missing_ok=True)
    try:
        source = sqlite3.connect(uri(src, "ro"), uri=True, isolation_level=None)
        dest = sqlite3.connect(temp, isolation_level=None)
        try:
            source.backup(dest, pages=-1)
        finally:
            dest.close()
            source.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{src} is not a readable SQLite database: {exc}") from exc


def _migrate(temp: Path, src: Path, digest: str, manifest: dict[str, Any] | None) -> list[str]:
    """This code's schema, and every phone told to start again: the change sequence jumps
    ``SEQ_GAP`` past the backup's and the compaction horizon moves up to it, so any cursor a
    phone holds (from before the backup, or from changes the restore undid, which the old
    sequence would hand out again) is answered ``reset`` (docs/protocol.md §4.3): the phone
    pushes its outbox and pulls afresh."""
    before = _schema_of(temp)
    db = Database(temp)
    try:
        db.migrate()
        restart_phones(db, src, digest, manifest)
    finally:
        db.close()
    return [m for m in _schema_of(temp) if m not in before]


def restart_phones(db: Any, src: Path, digest: str | None, manifest: dict[str, Any] | None) -> None:
    """The change sequence jumps ``SEQ_GAP`` past the restored one and the horizon moves up to
    it, in one write, audited (either store)."""
    with db.write(timeout=60) as txn:
        point = txn.max_seq()
        txn.set_max_seq(point + SEQ_GAP)
        txn.execute("UPDATE meta SET value = ? WHERE key = 'horizon'", (point + SEQ_GAP,))
        audit.record(txn, "system", None, "restore", [], {
            "from": src.name, "sha256": digest, "taken_at": (manifest or {}).get("taken_at"),
            "seq_at_backup": point, "seq_now": point + SEQ_GAP})


def _schema_of(path: Path) -> list[str]:
    conn = sqlite3.connect(uri(path, "ro"), uri=True)
    try:
        return applied_migrations(conn)
    finally:
        conn.close()


def restore(src: str | Path, target: str | Path, force: bool = False) -> Restored:
    """Check ``src`` and put it at ``target``; raises ``BackupError`` (``InUse``) and changes
    nothing at ``target`` when refused."""
    src, target = Path(src), Path(target)
    if not target.parent.is_dir():
        raise BackupError(f"there is no directory {target.parent}")
    if src.resolve() == target.resolve():
        raise BackupError("the backup and the database are the same file")
    _ensure_free(target, force)  # before the long work: say at once what stands in the way
    digest, manifest = check_file(src)
    temp = target.with_name(f".{target.name}.restoring")
    try:
        _copy_in(src, temp)
        try:
            facts = inspect(temp)
        except BackupError as exc:
            raise BackupError(f"{src} is damaged: {exc.__cause__ or exc}") from exc
        if facts["integrity"] != "ok":
            raise BackupError(f"{src} is damaged: integrity check says {facts['integrity']}")
        check_schema(facts["schema"]["migrations"], facts["row_counts"])
        migrated = _migrate(temp, src, digest, manifest)
        fsync_path(temp)
        before = _swap(temp, target, force)
    except BaseException:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{temp}{suffix}").unlink(missing_ok=True)
        raise
    return Restored(target, before, digest, manifest, facts["schema"]["migrations"], migrated, facts["row_counts"])


def _swap(temp: Path, target: Path, force: bool) -> Path | None:
    if not target.exists():
        os.replace(temp, target)
        fsync_path(target.parent)
        return None
    lock = TargetLock(target)  # checked again: a server may have started meanwhile
    try:
        if not force:
            raise BackupError(f"{target} exists: repeat with --force to replace it")
        before = Path(str(target) + BEFORE_SUFFIX)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{before}{suffix}").unlink(missing_ok=True)
        os.link(target, before)
        for suffix in ("-wal", "-shm"):  # folded in by the lock; a stale one must never meet the new file
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(temp, target)
        fsync_path(target.parent)
    finally:
        lock.release()
    return before
