"""The server's own writes stamp inside their write transaction, caught up on the clock's mark
(sync/clock_mark.py, docs/protocol.md §6): retention's tombstones, a roll import's records and
tasks, a transport plan's runs and stops. Another app server on the same database, whose wall
clock runs ten minutes ahead, writes first; this server's (and the CLI's) stamps that follow are
still later than that committed write, and the last of them is the new mark."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.cli import main
from server.config import Settings
from server.state import open_state
from sync import Clock
from sync.hlc import MAX_COUNTER, now_ms
from tests.conftest import Session, new_id
from tests.server.test_retention import rows
from tests.server.test_roll import open_case, pupil, pupil_by_upn, run, upn
from tests.server.test_transport_api import setup_school

AHEAD_MS = 10 * 60 * 1000


def mark(db_path: str) -> str:
    """The stored mark as a stamp's ``<ms>-<counter>`` (packed as sync/clock_mark.py packs it)."""
    [(packed,)] = rows(db_path, "SELECT value FROM meta WHERE key = 'hlc_mark'")
    ms, counter = divmod(packed, MAX_COUNTER + 1)
    return f"{ms:015d}-{counter:06d}"


def key(stamp: str) -> str:
    """A stamp's ``<ms>-<counter>``: what orders it and what the mark keeps."""
    return stamp[:22]


def max_seq(db_path: str) -> int:
    return rows(db_path, "SELECT value FROM meta WHERE key = 'max_seq'")[0][0]


def stamps_after(db_path: str, seq: int) -> list[tuple[str, str]]:
    """(type, hlc) of every change logged after ``seq``."""
    return rows(db_path, "SELECT type, hlc FROM changes WHERE seq > ? ORDER BY seq", (seq,))


@pytest.fixture
def fast(db_path: str) -> Iterator[TestClient]:
    """A second app server on the same database, its wall clock ten minutes ahead."""
    st = open_state(Settings(db_path=db_path))
    st.clock = Clock("server", wall=lambda: now_ms() + AHEAD_MS)
    with TestClient(create_app(app_state=st), raise_server_exceptions=False) as c:
        yield c
    st.db.close()


def write_through(fast: TestClient, session: Session, changes: list[dict[str, Any]]) -> str:
    """Push through the fast server; the committed batch's ``server_hlc``, which is the mark."""
    r = fast.post("/api/sync/push", headers=session.headers,
                  json={"client_id": session.device_id, "changes": changes})
    assert r.status_code == 200, r.text
    body = r.json()
    assert {x["status"] for x in body["results"]} == {"applied"}, body
    return body["server_hlc"]


def test_retention_tombstones_stamp_after_the_other_servers_writes(world, fast, db_path, capsys, monkeypatch):
    office, _officer, ids = world
    closed = new_id()
    r = office.push([office.change("case", closed, {"pupil_id": ids["pupil"], "status": "closed"})])
    assert r.json()["results"][0]["status"] == "applied", r.text
    ahead = write_through(fast, office, [office.change("task", new_id(), {"case_id": ids["case"], "title": "Ring"})])
    assert mark(db_path) == key(ahead) and key(ahead) > f"{now_ms() + AHEAD_MS // 2:015d}"
    monkeypatch.setenv("DOORSTEP_TODAY", "2034-01-01")
    monkeypatch.setenv("DOORSTEP_RETENTION_DEVICE_IDLE_DAYS", "4000")
    assert main(["--db", db_path, "retention", "apply", "--apply"]) == 0  # its own process's clock: not ahead
    assert "removed case: case 1" in capsys.readouterr().out
    [(deleted, stamp)] = rows(db_path, "SELECT deleted, deleted_hlc FROM cases WHERE id = ?", (closed,))
    assert deleted == 1 and key(stamp) > key(ahead)
    assert mark(db_path) == key(stamp)


def test_a_roll_import_stamps_its_records_and_tasks_after_the_other_servers_writes(app_state, login, fast, db_path):
    officer = login("officer")
    office = login("office")
    run(app_state, [pupil(n, destination="Wakefield College" if n == 1 else "") for n in range(1, 21)])
    ava = pupil_by_upn(app_state, upn(1))
    open_case(app_state, ava["id"], officer.user["id"])
    ahead = write_through(fast, office, [office.change("school", new_id(), {"name": "Far Ahead Primary"})])
    before = max_seq(db_path)
    # pupil 1 leaves (a task on its case), pupil 2 changes name, pupil 21 is new
    rows_ = [pupil(n) for n in range(2, 21)] + [pupil(21)]
    rows_[0]["first_name"] = "Avery"
    report = run(app_state, rows_, full=True, on="2026-11-02")
    assert (report.pupils_left, report.pupils_updated, report.pupils_created) == (1, 1, 1)
    written = stamps_after(db_path, before)
    assert {t for t, _ in written} >= {"pupil", "task"}
    assert all(key(h) > key(ahead) for _, h in written), written
    assert mark(db_path) > max(key(h) for _, h in written)  # the batch's server_hlc, later still


def test_a_transport_plan_stamps_its_runs_after_the_other_servers_writes(world, login, fast, db_path, monkeypatch):
    monkeypatch.setenv("DOORSTEP_TODAY", "2026-11-23")
    office, officer, _ = world
    driver = login("officer")
    school, _pupils = setup_school(office, officer)
    ahead = write_through(fast, office, [office.change("school", new_id(), {"name": "Far Ahead Primary"})])
    before = max_seq(db_path)
    r = office.post("/api/transport/plan", {"school_id": school, "date": "2026-11-23",
                                            "vehicles": [{"driver_id": driver.user["id"], "seats": 4,
                                                          "start_lat": 53.6830, "start_lon": -1.4990}]})
    assert r.status_code == 200, r.text
    written = stamps_after(db_path, before)
    assert {t for t, _ in written} == {"transport_run", "transport_stop"}
    assert all(key(h) > key(ahead) for _, h in written), written
    assert mark(db_path) > max(key(h) for _, h in written)
