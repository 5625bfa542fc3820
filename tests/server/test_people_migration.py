"""Migration m023_casework_people: a database's household contacts become ``person`` records, through
the change log, so an officer's phone pulls them at its next sync (server/casework/people_migrate.py)."""
from __future__ import annotations

import pytest

from server.casework.people_migrate import person_id
from tests.conftest import ON_POSTGRES

# a PostgreSQL database starts at today's schema: there is no older database for m023 to move
pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="migrates a SQLite database made before m023")


def _rerun_m023(app_state) -> None:
    """The database as it was before m023 (its persons gone, the migration not applied), migrated again."""
    with app_state.db.write() as txn:
        txn.execute("DELETE FROM persons")
        txn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm023_casework_people'")
    app_state.db.migrate()


def test_existing_contacts_become_persons_that_phones_pull(world, app_state) -> None:
    office, officer, ids = world
    contacts = [{"name": "Jo  Stone", "relationship": "mother", "phone": "07700 900123"},
                {"name": "Lee Stone", "relationship": "father", "phone": None},
                {"name": "jo stone", "relationship": "mum"}]  # the same person twice: one record
    r = office.push([office.change("household", ids["household"], {"contacts": contacts, "language": "Polish"}, 1)])
    assert r.json()["results"][0]["status"] == "applied", r.text
    _, cursor = officer.pull_all()
    _rerun_m023(app_state)

    items, _ = officer.pull_all(cursor)
    persons = {i["id"]: i["fields"] for i in items if i["type"] == "person"}
    jo, lee = person_id(ids["household"], "Jo Stone"), person_id(ids["household"], "Lee Stone")
    assert set(persons) == {jo, lee}
    assert {k: persons[jo][k] for k in ("household_id", "name", "relationship", "phone", "preferred_language")} == {
        "household_id": ids["household"], "name": "Jo Stone", "relationship": "mother",
        "phone": "07700 900123", "preferred_language": "Polish"}
    assert persons[lee]["phone"] is None and "parental_responsibility" not in persons[lee], "not known: not guessed"
    assert persons[jo]["created_by"] == "system"
    rows = app_state.db.query("SELECT user_id, status FROM changes WHERE type = 'person'")
    assert rows == [{"user_id": "system", "status": "applied"}] * 2
    household = app_state.db.query("SELECT json_extract(data, '$.contacts') AS c FROM households")[0]["c"]
    assert "Lee Stone" in household, "the contacts stay on the household"


def test_migrating_again_adds_only_new_contacts(world, app_state) -> None:
    office, _officer, ids = world
    office.push([office.change("household", ids["household"], {"contacts": [{"name": "Jo Stone"}]}, 1)])
    _rerun_m023(app_state)
    with app_state.db.write() as txn:
        txn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm023_casework_people'")
    app_state.db.migrate()  # its persons kept: their change ids are duplicates
    assert app_state.db.query("SELECT count(*) AS n FROM persons")[0]["n"] == 1
    assert app_state.db.query("SELECT count(*) AS n FROM changes WHERE type = 'person'")[0]["n"] == 1
