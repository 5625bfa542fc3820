"""The ``doorstep backup``, ``restore`` and ``export subject`` commands (registered in server/cli.py)."""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from ..config import Settings


def add_parsers(sub: Any) -> None:
    bk = sub.add_parser("backup", help="a consistent, checked copy of the database while the server runs, "
                        "with DEST.manifest.json beside it (docs/backup.md)")
    bk.add_argument("dest", help="the new backup file, or a directory to put a time-stamped one in")
    bk.add_argument("--method", choices=["backup", "vacuum"], default="backup",
                    help="SQLite's online backup in one step (default) or VACUUM INTO")
    rs = sub.add_parser("restore", help="replace the database with a checked backup (the server must be stopped)")
    rs.add_argument("src", help="the backup file (its manifest beside it, if any, is checked too)")
    rs.add_argument("--force", action="store_true",
                    help="replace an existing database (kept as DB.before-restore)")
    sub.add_parser("recovered", help="after a point-in-time recovery or a failover: every phone told to start "
                   "again (pushes what it holds, pulls afresh); audited (docs/deploy.md)")
    ex = sub.add_parser("export", help="exports").add_subparsers(dest="action", required=True)
    sj = ex.add_parser("subject", help="everything held about a pupil and their household, as a ZIP "
                       "(subject access request); audited")
    sj.add_argument("--pupil", required=True, metavar="UPN")
    sj.add_argument("--out", required=True, metavar="FILE.zip")


def backup(settings: Settings, args: argparse.Namespace) -> int:
    from ..state import is_url
    from .backup import BackupError, take

    try:
        if is_url(settings.db_path):  # pg_dump, checked (server/ops/pg_backup.py)
            from . import pg_backup

            done = pg_backup.take(settings.db_path, args.dest)
            print(f"backup written: {done.path} ({done.manifest['size_bytes']:,} bytes, sha256 "
                  f"{done.manifest['sha256']}); max seq {done.manifest['max_seq']}")
            print(f"manifest: {done.path}.manifest.json")
            return 0
        done = take(settings.db_path, args.dest, args.method)
    except (BackupError, OSError) as exc:
        print(f"error: backup failed: {exc}", file=sys.stderr)
        return 1
    m = done.manifest
    print(f"backup written: {done.path} ({m['size_bytes']:,} bytes, sha256 {m['sha256']}); integrity ok; "
          f"schema {m['schema']['latest']} ({m['schema']['count']} migrations); max seq {m['max_seq']}; "
          f"{m['seconds']['total']} s")
    print(f"manifest: {done.path}.manifest.json")
    return 0


def restore(settings: Settings, args: argparse.Namespace) -> int:
    from ..state import is_url
    from .backup import BackupError
    from .restore import restore as run

    try:
        if is_url(settings.db_path):  # pg_restore in one transaction (server/ops/pg_backup.py)
            from . import pg_backup

            if not args.force:
                print("error: a restore replaces everything in the database: stop the servers, then "
                      "run it again with --force", file=sys.stderr)
                return 1
            manifest = pg_backup.restore(args.src, settings.db_path)
            print(f"restored {args.src} (taken {manifest.get('taken_at', 'unknown (no manifest)')})")
            return 0
        done = run(args.src, settings.db_path, force=args.force)
    except (BackupError, OSError) as exc:
        print(f"error: not restored: {exc}", file=sys.stderr)
        return 1
    taken = (done.manifest or {}).get("taken_at", "unknown (no manifest)")
    print(f"restored {args.src} (taken {taken}, sha256 {done.sha256}) to {done.target}")
    if done.migrated:
        print(f"migrated to this version's schema: {', '.join(done.migrated)}")
    if done.before:
        print(f"the previous database is kept as {done.before}")
    return 0


def export(settings: Settings, args: argparse.Namespace) -> int:
    from ..state import open_state
    from .subject import UnknownPupil, export as run

    out = Path(args.out)
    if not out.parent.is_dir():
        print(f"error: there is no directory {out.parent}", file=sys.stderr)
        return 1
    st = open_state(settings)
    try:
        who = f"{getpass.getuser()} (doorstep command)"
        data, subject = run(st.db, args.pupil, "system", who, "cli")
    except UnknownPupil as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        st.db.close()
    partial = out.with_name(out.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # safeguarding data: owner only
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(partial, out)
    counts = ", ".join(f"{k} {v}" for k, v in subject.counts().items())
    print(f"subject access export for {subject.upn} written to {out} ({len(data):,} bytes): {counts}")
    return 0


def recovered(settings: Settings, args: argparse.Namespace) -> int:
    """The step a restore takes itself, for a database brought back by other means."""
    from ..state import open_database
    from .restore import restart_phones

    db = open_database(settings.db_path)
    try:
        restart_phones(db, Path("point-in-time recovery or failover"), None, None)
        seq = db.query("SELECT value FROM meta WHERE key = 'max_seq'")[0]["value"]
    finally:
        db.close()
    print(f"every phone starts again at its next sync: the change sequence and horizon are now {seq}")
    return 0


HANDLERS = {"backup": backup, "restore": restore, "export": export, "recovered": recovered}
