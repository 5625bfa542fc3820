"""sync/changes.py, through push: the shape of one change (PROTOCOL §3.1). Each problem is one
error; one bad change never stops the batch."""
from __future__ import annotations

from typing import Any

import pytest

from .world import C1, OFF1_A, S, U, World, put

T = U("7a000000", 77)


def good(**over: Any) -> dict[str, Any]:
    c = put("task", T, {"case_id": C1, "title": "Call school"}, None, S(100, "dev-a"), change_id=U("cc000000", 501))
    c.update(over)
    return c


def errors(result: dict[str, Any]) -> list[tuple[Any, str]]:
    return [(e["field"], e["code"]) for e in result["errors"]]


@pytest.fixture
def world() -> World:
    return World()


def test_a_well_formed_change_is_applied(world: World) -> None:
    assert world.one(OFF1_A, good())["status"] == "applied"


@pytest.mark.parametrize("over, want", [
    ({"change_id": "abc"}, [("change_id", "validation_failed")]),
    ({"change_id": "{ca000000-0000-4000-8000-000000000001}"}, [("change_id", "validation_failed")]),
    ({"type": "pet"}, [("type", "unknown_type")]),
    ({"type": None}, [("type", "unknown_type")]),
    ({"id": "ca0000000000400080000000000000001"}, [("id", "validation_failed")]),
    ({"op": "patch"}, [("op", "validation_failed")]),
    ({"fields": []}, [("fields", "validation_failed")]),
    ({"base_version": -1}, [("base_version", "validation_failed")]),
    ({"base_version": 1.5}, [("base_version", "validation_failed")]),
    ({"base_version": True}, [("base_version", "validation_failed")]),
    ({"base_version": "1"}, [("base_version", "validation_failed")]),
    ({"hlc": "1795421700000-0-dev"}, [("hlc", "validation_failed")]),
    ({"hlc": None}, [("hlc", "validation_failed")]),
    ({"extra": 1}, [(None, "validation_failed")]),
])
def test_each_malformation_is_named(world: World, over: dict[str, Any], want: list[tuple[Any, str]]) -> None:
    r = world.one(OFF1_A, good(**over))
    assert r["status"] == "rejected" and r["version"] is None
    assert errors(r) == want


def test_every_problem_of_one_change_is_reported_in_order(world: World) -> None:
    r = world.one(OFF1_A, good(change_id="x", type="pet", id="y", op="patch", base_version=-2, hlc="z", more=1))
    assert errors(r) == [("change_id", "validation_failed"), ("type", "unknown_type"), ("id", "validation_failed"),
                         ("op", "validation_failed"), ("base_version", "validation_failed"),
                         ("hlc", "validation_failed"), (None, "validation_failed")]
    assert r["errors"][-1]["message"] == "unknown keys: more"


def test_a_delete_carries_no_fields(world: World) -> None:
    r = world.one(OFF1_A, good(op="delete"))
    assert errors(r) == [("fields", "validation_failed")]


def test_fields_and_base_version_may_be_left_out_or_null(world: World) -> None:
    # null fields is {}: well formed, then refused for the required fields a new task lacks
    assert errors(world.one(OFF1_A, good(fields=None))) == [("case_id", "validation_failed"), ("title", "validation_failed")]
    c = good()
    del c["base_version"]
    assert world.one(OFF1_A, c)["status"] == "applied"


def test_the_change_id_is_echoed_only_when_a_short_string(world: World) -> None:
    assert world.one(OFF1_A, good(change_id="x" * 100))["change_id"] == "x" * 100
    assert world.one(OFF1_A, good(change_id="x" * 101))["change_id"] is None
    assert world.one(OFF1_A, good(change_id=7))["change_id"] is None


def test_a_change_that_is_not_an_object(world: World) -> None:
    results = world.push(OFF1_A, ["nope", good()])
    assert results[0] == {"change_id": None, "status": "rejected", "version": None, "lost_fields": [],
                          "errors": [{"field": None, "code": "validation_failed", "message": "a change must be an object"}]}
    assert results[1]["status"] == "applied", "one bad change never stops the rest"


def test_ids_are_lower_cased(world: World) -> None:
    r = world.one(OFF1_A, good(id=T.upper(), fields={"case_id": C1.upper(), "title": "x"}))
    assert r["status"] == "applied"
    assert T in world.store.records["task"]
    assert world.record("task", T).fields["case_id"] == C1


def test_the_same_id_under_another_type_is_another_record(world: World) -> None:
    world.ok(OFF1_A, [good()])
    r = world.one(OFF1_A, put("visit", T, {"case_id": C1}, None, S(110, "dev-a")))
    assert r["status"] == "applied" and r["version"] == 1
    assert world.record("task", T).fields["title"] == "Call school"
