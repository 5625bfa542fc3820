"""References (sync/references.py): a put naming a record or user the server does not have,
or has deleted, is rejected ``not_found`` on that field; every reference is a declared field."""
from __future__ import annotations

import pytest

from sync import ENTITY_TYPES, Record
from sync.errors import Rejection
from sync.references import REFERENCES, USER_REFERENCES, check_references

from .world import C1, OFF1_A, OFFICE_A, OFFICE_ID, H1, S, U, World, delete, put

T1, V1, K1 = U("7a000000", 1), U("e1000000", 1), U("c0000000", 1)


@pytest.fixture
def world() -> World:
    return World()


def test_every_reference_is_a_declared_field_naming_a_declared_type() -> None:
    for (type_, field), target in REFERENCES.items():
        assert field in ENTITY_TYPES[type_], (type_, field)
        assert target in ENTITY_TYPES, target
    for type_, field in USER_REFERENCES:
        assert field in ENTITY_TYPES[type_], (type_, field)


def test_check_references_names_every_missing_field() -> None:
    have = {("case", C1): Record("case", C1), ("household", H1): Record("household", H1, deleted=True)}
    gone = U("ca000000", 99)
    with pytest.raises(Rejection) as caught:
        check_references(lambda t, i: have.get((t, i)), lambda _u: None, "visit",
                         {"case_id": gone, "household_id": H1})
    assert [(e.field, e.code) for e in caught.value.errors] == [("case_id", "not_found"), ("household_id", "not_found")]
    check_references(lambda t, i: have.get((t, i)), lambda _u: None, "visit", {"case_id": C1})  # no error


def test_references_must_be_live(world: World) -> None:
    world.ok(OFF1_A, [put("visit", V1, {"case_id": C1}, None, S(1, "dev-a")),
                      delete("visit", V1, 1, S(2, "dev-a"))])
    r = world.one(OFF1_A, put("conversation", K1, {"case_id": C1, "visit_id": V1}, None, S(3, "dev-a")))
    assert r["errors"] == [{"field": "visit_id", "code": "not_found", "message": f"no visit {V1}"}]


def test_user_references(world: World) -> None:
    r = world.one(OFFICE_A, put("case", C1, {"assigned_officer_id": OFFICE_ID}, 1, S(1, "dev-o")))
    assert r["errors"] == [{"field": "assigned_officer_id", "code": "not_found", "message": f"no officer {OFFICE_ID}"}]
    r = world.one(OFF1_A, put("task", T1, {"case_id": C1, "title": "a", "assigned_to": U("00000000", 9)}, None, S(2, "dev-a")))
    assert r["errors"][0]["field"] == "assigned_to"
    assert world.one(OFF1_A, put("task", T1, {"case_id": C1, "title": "a", "assigned_to": OFFICE_ID}, None,
                                 S(3, "dev-a")))["status"] == "applied"


