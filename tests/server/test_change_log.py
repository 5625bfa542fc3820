"""The change log in SQLite (migration m016): a record's first change is found through the record's
``created_seq``, its later changes through the entity index; history and audit see all of them."""
from __future__ import annotations

from server import audit
from server.office.people import Directory, history
from tests.conftest import ON_POSTGRES, new_id


def test_a_create_is_kept_out_of_the_entity_index_and_found_through_its_record(world, app_state):
    office, officer, ids = world
    visit = new_id()
    first = officer.push([officer.change("visit", visit, {"case_id": ids["case"], "notes": "card"})])
    second = officer.push([officer.change("visit", visit, {"notes": "card, then a call"}, base_version=1)])
    assert [r["status"] for r in first.json()["results"] + second.json()["results"]] == ["applied", "applied"]
    logged = app_state.db.query("SELECT seq, version, created FROM changes WHERE entity_id = ? ORDER BY seq",
                                (visit,))
    assert [(r["version"], r["created"]) for r in logged] == [(1, 1), (2, 0)]
    [row] = app_state.db.query("SELECT created_seq FROM visits WHERE id = ?", (visit,))
    assert row["created_seq"] == logged[0]["seq"]
    if not ON_POSTGRES:  # SQLite's plan names the partial index (PostgreSQL's planner picks by statistics)
        plan = " ".join(r["detail"] for r in app_state.db.query(
            "EXPLAIN QUERY PLAN SELECT seq FROM changes WHERE entity_id = ? AND type = ? AND created = 0",
            (visit, "visit")))
        assert "changes_entity_edits" in plan

    with app_state.db.read() as txn:
        assert [(c.version, c.created) for c in txn.history("visit", visit)] == [(1, True), (2, False)]
        versions = history(txn, "visit", visit, Directory(txn))
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["changes"] == [{"field": "notes", "before": "card", "after": "card, then a call",
                                       "new": False}]
    pushes = [r for r in audit.for_entity(app_state.db, visit, None, 50) if r["action"] == "push"]
    assert len(pushes) == 2 and {r["device_id"] for r in pushes} == {officer.device_id}


def test_rows_logged_before_m016_are_found_through_the_index(world, app_state):
    office, officer, ids = world
    task = new_id()
    officer.push([officer.change("task", task, {"case_id": ids["case"], "title": "ring school"})])
    officer.push([officer.change("task", task, {"done": True}, base_version=1)])
    with app_state.db.write() as txn:  # as stored before the migration: every row indexed, no pointer
        txn.execute("UPDATE changes SET created = 0 WHERE entity_id = ?", (task,))
        txn.execute("UPDATE tasks SET created_seq = NULL WHERE id = ?", (task,))
    with app_state.db.read() as txn:
        assert [c.version for c in txn.history("task", task)] == [1, 2]
        assert [v["version"] for v in history(txn, "task", task, Directory(txn))] == [1, 2]
    assert len([r for r in audit.for_entity(app_state.db, task, None, 50) if r["action"] == "push"]) == 2


def test_a_change_that_wrote_nothing_is_logged_in_the_index(world, app_state):
    office, officer, ids = world
    task = new_id()
    officer.push([officer.change("task", task, {"case_id": ids["case"], "title": "ring school"})])
    nothing = officer.push([officer.change("task", task, {}, base_version=1)]).json()["results"][0]
    assert (nothing["status"], nothing["version"]) == ("applied", 1)
    logged = app_state.db.query("SELECT version, created FROM changes WHERE entity_id = ? ORDER BY seq", (task,))
    assert [(r["version"], r["created"]) for r in logged] == [(1, 1), (1, 0)]
    with app_state.db.read() as txn:
        assert len(txn.history("task", task)) == 2
