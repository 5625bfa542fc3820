"""``doorstep backup`` while a real server takes pushes, ``doorstep restore`` and what it refuses."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from server.cli import main
from server.config import Settings
from server.identity.accounts import add_user
from server.migrations import ENTITY_TABLES
from server.ops.restore import SEQ_GAP
from server.state import open_state
from tests.conftest import PASSWORD
from tests.live_server import ROOT, LiveServer

OFFICERS = 3


def doorstep(db: str | Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", "--db", str(db), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def rows(db: str | Path, table: str, key: str = "id") -> dict[Any, tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {r[0]: r for r in conn.execute(f"SELECT {key}, * FROM {table}")}
    finally:
        conn.close()


def max_seq(db: str | Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT value FROM meta WHERE key = 'max_seq'").fetchone()[0]
    finally:
        conn.close()


class Device:
    """One signed-in device pushing over HTTP."""

    def __init__(self, url: str, username: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)
        body = self.http.post("/api/auth/login", json={"username": username, "password": PASSWORD,
                                                       "device_name": "backup-test"}).json()
        self.headers = {"Authorization": f"Bearer {body['access_token']}", "Doorstep-Protocol": "1"}
        self.device_id, self.user_id = body["device_id"], body["user"]["id"]
        self.n = 0

    def change(self, type_: str, id_: str, fields: dict[str, Any], base: int | None = None) -> dict[str, Any]:
        self.n += 1
        hlc = f"{int(time.time() * 1000):015d}-{self.n % 1_000_000:06d}-{self.device_id}"
        return {"change_id": str(uuid.uuid4()), "type": type_, "id": id_, "op": "put", "fields": fields,
                "base_version": base, "hlc": hlc}

    def push(self, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        r = self.http.post("/api/sync/push", headers=self.headers,
                           json={"client_id": self.device_id, "changes": changes})
        assert r.status_code == 200, r.text
        return r.json()["results"]

    def close(self) -> None:
        self.http.close()


@pytest.mark.slow
def test_a_backup_under_concurrent_pushes_restores_to_exactly_the_source_at_its_point(tmp_path):
    db, backup, restored = tmp_path / "live.db", tmp_path / "backup.db", tmp_path / "restored.db"
    st = open_state(Settings(db_path=str(db)))
    add_user(st.db, "office", PASSWORD, "office")
    ids = {f"officer{k}": add_user(st.db, f"officer{k}", PASSWORD, "officer").id for k in range(OFFICERS)}
    st.db.close()
    stop, pushed, failures = threading.Event(), [0], []
    with LiveServer(str(db)) as server:
        office = Device(server.url, "office")
        school = str(uuid.uuid4())
        setup = [office.change("school", school, {"name": "Backup Primary"})]
        cases = {}
        for k, (username, officer_id) in enumerate(ids.items()):
            hh, pupil, case = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
            setup += [office.change("household", hh, {"address": f"{k} Backup Street"}),
                      office.change("pupil", pupil, {"upn": f"K{k:012d}", "first_name": "Kit", "last_name": f"B{k}",
                                                     "school_id": school, "household_id": hh}),
                      office.change("case", case, {"pupil_id": pupil, "assigned_officer_id": officer_id})]
            cases[username] = (case, hh)
        assert all(r["status"] == "applied" for r in office.push(setup))
        office.close()

        def officer(username: str) -> None:
            device = Device(server.url, username)
            case, hh = cases[username]
            mine: dict[str, int] = {}  # visit id -> version
            try:
                for n in range(100_000):
                    if stop.is_set():
                        return
                    batch = [device.change("visit", str(uuid.uuid4()), {
                        "case_id": case, "household_id": hh, "outcome": "no_answer", "notes": f"visit {n}.{i}",
                        "status": "draft"}) for i in range(5)]
                    batch += [device.change("visit", vid, {"notes": f"edited at {n}"}, base=version)
                              for vid, version in list(mine.items())[-3:]]  # edits: versions move on
                    for change, result in zip(batch, device.push(batch)):
                        assert result["status"] in ("applied", "merged"), result
                        mine[change["id"]] = result["version"]
                    pushed[0] += len(batch)
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)
            finally:
                device.close()

        threads = [threading.Thread(target=officer, args=(u,)) for u in ids]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        while pushed[0] < 150 and time.monotonic() < deadline and not failures:
            time.sleep(0.05)
        before = pushed[0]
        r = doorstep(db, "backup", str(backup))
        after_backup = pushed[0]
        while pushed[0] < after_backup + 150 and time.monotonic() < deadline and not failures:
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(60)
        phone = Device(server.url, "officer0")  # a phone that has pulled past the backup's point
        pulled = phone.http.get("/api/sync/pull", headers=phone.headers, params={"limit": 5000}).json()
    assert not failures, failures
    assert r.returncode == 0, r.stderr
    assert "integrity ok" in r.stdout
    assert before >= 150 and pushed[0] >= after_backup + 150, "pushes did not run on both sides of the backup"

    point = max_seq(backup)
    assert 0 < point < max_seq(db)  # taken mid-stream: the source moved on after it
    manifest = orjson.loads(Path(f"{backup}.manifest.json").read_bytes())
    assert manifest["max_seq"] == point and manifest["integrity"] == "ok"
    assert manifest["row_counts"]["visits"] == len(rows(backup, "visits"))

    r = doorstep(restored, "restore", str(backup))
    assert r.returncode == 0, r.stderr
    assert max_seq(restored) == point + SEQ_GAP  # every phone's cursor is now behind the horizon
    for table, _links in ENTITY_TABLES.values():
        source, copy = rows(db, table), rows(restored, table)
        seq_col = 5  # the key, then the table's columns: id, data, meta, version, seq
        for id_, row in source.items():
            if row[seq_col] <= point:  # written at or before the backup's point: there, equal
                assert copy.get(id_) == row, (table, id_)
        for id_, row in copy.items():  # every record in the backup: equal, or changed after the point
            assert id_ in source, (table, id_)
            assert source[id_] == row or source[id_][seq_col] > point, (table, id_)
    source_log, copy_log = rows(db, "changes", "seq"), rows(restored, "changes", "seq")
    assert copy_log == {s: row for s, row in source_log.items() if s <= point}

    with LiveServer(str(restored)) as again:  # the restored file serves; phones start again
        fresh = Device(again.url, "officer0")
        r = fresh.http.get("/api/sync/pull", headers=fresh.headers, params={"cursor": pulled["cursor"]})
        assert r.status_code == 200 and r.json()["reset"] is True, r.text
        snapshot = fresh.http.get("/api/sync/pull", headers=fresh.headers, params={"limit": 5000}).json()
        assert snapshot["changes"] and "reset" not in snapshot
        fresh.close()
    phone.close()


# -- refusals --------------------------------------------------------------------------------------

@pytest.fixture
def taken(tmp_path, capsys) -> tuple[Path, Path]:
    """A small database with a user, and a backup of it."""
    db = tmp_path / "doorstep.db"
    st = open_state(Settings(db_path=str(db)))
    add_user(st.db, "office", PASSWORD, "office")
    st.db.close()
    backup = tmp_path / "backup.db"
    assert main(["--db", str(db), "backup", str(backup)]) == 0
    capsys.readouterr()
    return db, backup


def _users(db: Path) -> list[str]:
    return [r[2] for r in rows(db, "users").values()]


def test_a_backup_never_overwrites_and_needs_a_database(taken, tmp_path, capsys):
    db, backup = taken
    size = backup.stat().st_size
    assert main(["--db", str(db), "backup", str(backup)]) == 1
    assert "already exists" in capsys.readouterr().err and backup.stat().st_size == size
    assert main(["--db", str(tmp_path / "nothing.db"), "backup", str(tmp_path / "b2.db")]) == 1
    assert "there is no database" in capsys.readouterr().err
    assert not (tmp_path / "nothing.db").exists() and not (tmp_path / "b2.db").exists()
    folder = tmp_path / "backups"
    folder.mkdir()
    assert main(["--db", str(db), "backup", str(folder), "--method", "vacuum"]) == 0
    made = sorted(p.name for p in folder.iterdir())
    assert len(made) == 2 and made[0].startswith("doorstep-") and made[1] == made[0] + ".manifest.json"
    assert (folder / made[0]).stat().st_mode & 0o077 == 0


def test_restore_refuses_a_file_that_differs_from_its_manifest(taken, tmp_path, capsys):
    _db, backup = taken
    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0xFF
    backup.write_bytes(bytes(data))
    assert main(["--db", str(tmp_path / "new.db"), "restore", str(backup)]) == 1
    assert "is damaged: its sha256" in capsys.readouterr().err
    assert not (tmp_path / "new.db").exists()


def test_restore_refuses_a_damaged_file_or_not_a_database(taken, tmp_path, capsys):
    _db, backup = taken
    Path(f"{backup}.manifest.json").unlink()  # only the file itself to go on
    data = bytearray(backup.read_bytes())
    page = 4096
    for at in range(page, len(data), page):  # every page after the first: b-tree headers scrambled
        data[at:at + 16] = b"\xa5" * 16
    backup.write_bytes(bytes(data))
    assert main(["--db", str(tmp_path / "new.db"), "restore", str(backup)]) == 1
    assert f"{backup} is damaged: database disk image is malformed" in capsys.readouterr().err
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all\n" * 200)
    assert main(["--db", str(tmp_path / "new.db"), "restore", str(text)]) == 1
    assert "not a readable SQLite database" in capsys.readouterr().err
    assert not (tmp_path / "new.db").exists()
    assert not [p for p in tmp_path.iterdir() if "restoring" in p.name]


def test_restore_refuses_a_newer_schema_and_migrates_an_older_one(taken, tmp_path, capsys):
    _db, backup = taken
    newer, older = tmp_path / "newer.db", tmp_path / "older.db"
    for path, sql in ((newer, "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                              "VALUES ('doorstep', 'm999_from_the_future', '2030-01-01')"),
                      (older, "DELETE FROM _sqlite_migrations WHERE name = 'm017_device_status'")):
        path.write_bytes(backup.read_bytes())
        conn = sqlite3.connect(path)
        conn.execute(sql)
        conn.commit()
        conn.close()
    assert main(["--db", str(tmp_path / "a.db"), "restore", str(newer)]) == 1
    err = capsys.readouterr().err
    assert "schema is newer" in err and "m999_from_the_future" in err
    assert not (tmp_path / "a.db").exists()
    assert main(["--db", str(tmp_path / "b.db"), "restore", str(older)]) == 0
    assert "migrated to this version's schema: m017_device_status" in capsys.readouterr().out
    assert _users(tmp_path / "b.db") == ["office"]


def test_restore_never_replaces_a_database_a_running_server_has_open(taken, tmp_path):
    db, backup = taken
    st = open_state(Settings(db_path=str(db)))
    add_user(st.db, "after-the-backup", PASSWORD, "officer")
    st.db.close()
    with LiveServer(str(db)):  # idle, but it has the file open
        r = doorstep(db, "restore", str(backup), "--force")
        assert r.returncode == 1 and "open in another process" in r.stderr
    assert sorted(_users(db)) == ["after-the-backup", "office"]
    r = doorstep(db, "restore", str(backup))
    assert r.returncode == 1 and "repeat with --force" in r.stderr
    assert not Path(f"{db}.before-restore").exists()


def test_restore_with_force_keeps_the_old_file_with_what_its_wal_held(taken, tmp_path):
    db, backup = taken
    server = LiveServer(str(db)).start()
    device_login = httpx.post(f"{server.url}/api/auth/login", json={
        "username": "office", "password": PASSWORD, "device_name": "t"})
    assert device_login.status_code == 200
    server.kill()  # a crash: what it wrote may still be only in the -wal file
    r = doorstep(db, "restore", str(backup), "--force")
    assert r.returncode == 0, r.stderr
    assert "kept as" in r.stdout
    before = Path(f"{db}.before-restore")
    assert rows(before, "devices") and not rows(db, "devices")  # the sign-in's device: kept in the old file
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    actions = [r[5] for r in rows(db, "audit").values()]
    assert actions[-1] == "restore"


def test_restore_refuses_to_meet_a_write_ahead_log_without_its_database(taken, tmp_path, capsys):
    _db, backup = taken
    stale = tmp_path / "moved.db-wal"
    stale.write_bytes(b"\0" * 4096)
    assert main(["--db", str(tmp_path / "moved.db"), "restore", str(backup)]) == 1
    assert "without its database" in capsys.readouterr().err
    assert not (tmp_path / "moved.db").exists()
