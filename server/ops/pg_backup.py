"""``doorstep backup`` and ``restore`` on PostgreSQL (docs/deploy.md, "Backups on PostgreSQL").

A PostgreSQL service's backup of record is the database server's own: ``pg_basebackup`` plus
WAL archiving, which gives point-in-time recovery. These commands give an IT team the same
one-command copy they have on SQLite, for a before-upgrade copy or a move: ``pg_dump`` in its
custom format (one consistent snapshot, taken while the servers run), written to
``DEST.partial``, listed back with ``pg_restore --list`` as its check, hashed, renamed to
``DEST``, with ``DEST.manifest.json`` beside it. ``restore`` checks the file and its manifest,
then ``pg_restore --clean --if-exists --single-transaction`` into the database (all of it or
nothing), and every phone is told to start again as on SQLite. The app servers must be stopped
for a restore.

The password never goes on a command line: ``pg_dump`` and ``pg_restore`` read ``PGPASSWORD`` or
``PGPASSFILE`` from the environment, as the servers do.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson

from .backup import Backup, BackupError, manifest_path, new_target, place, sha256_of

FORMAT = "doorstep-backup-postgresql/1"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _run(cmd: list[str]) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def _facts(url: str) -> dict[str, Any]:
    """The database's schema and position, read in one snapshot (the manifest's facts)."""
    from ..state import open_database

    db = open_database(url)
    try:
        with db.read() as txn:
            applied = [r["name"] for r in txn.rows("SELECT name FROM schema_migrations ORDER BY name")]
            max_seq = txn.max_seq()
        return {"schema": {"count": len(applied), "latest": applied[-1] if applied else None}, "max_seq": max_seq}
    finally:
        db.close()


def take(url: str, dest: str | Path) -> Backup:
    target, partial = new_target(dest, ".dump")
    started, at = time.monotonic(), dt.datetime.now(dt.timezone.utc)
    try:
        facts = _facts(url)
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial), "--dbname", url])
        os.chmod(partial, 0o600)  # children's safeguarding data: the service account only
        copied = time.monotonic() - started
        listed = _run([_tool("pg_restore"), "--list", str(partial)])
        if "TABLE DATA" not in listed or " changes" not in listed:
            raise BackupError("the dump does not list the register's tables: not a Doorstep database?")
        manifest = {
            "format": FORMAT, "taken_at": at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "source": _redacted(url), "file": target.name, "method": "pg_dump",
            "size_bytes": partial.stat().st_size, "sha256": sha256_of(partial), **facts,
            "seconds": {"copy": round(copied, 2), "total": round(time.monotonic() - started, 2)},
        }
        place(partial, target, manifest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Backup(target, manifest)


def restore(src: str | Path, url: str) -> dict[str, Any]:
    """Replace the database's contents with the dump ``src``, in one transaction; its manifest
    (beside it) must match it. Returns the manifest."""
    src = Path(src)
    if not src.is_file():
        raise BackupError(f"there is no backup at {src}")
    manifest: dict[str, Any] = {}
    if manifest_path(src).is_file():
        manifest = orjson.loads(manifest_path(src).read_bytes())
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{src} is not a PostgreSQL backup of Doorstep ({manifest.get('format')})")
        if manifest.get("sha256") != sha256_of(src):
            raise BackupError(f"{src} does not match its manifest (sha256): damaged or replaced")
    _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--exit-on-error", "--dbname", url, str(src)])
    _restart_phones(url, src, manifest)
    return manifest


def _restart_phones(url: str, src: Path, manifest: dict[str, Any]) -> None:
    """As on SQLite (server/ops/restore.py): today's schema, and the change sequence jumps
    ``SEQ_GAP`` past the backup's with the compaction horizon moved up to it, so every cursor a
    phone holds is answered ``reset`` and the phone pushes its outbox and pulls afresh. Run again
    by a second ``restore`` should this step fail after the data went back."""
    from ..state import open_database
    from .restore import restart_phones

    db = open_database(url)
    try:
        db.migrate()
        restart_phones(db, src, manifest.get("sha256"), manifest)
    except Exception as exc:
        raise BackupError(f"the data is back but phones were not told to start again ({exc}): "
                          "run the restore again") from exc
    finally:
        db.close()


def _redacted(url: str) -> str:
    from ..pg.store import _redacted as redact

    return redact(url)
