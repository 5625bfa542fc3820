"""A ``limit`` above its maximum is clamped, however many digits it has (PROTOCOL §4: pull clamps to
5,000); what is not a whole number still answers 422 (issue #16, item 8)."""
from __future__ import annotations

import pytest

from tests.conftest import new_id

HUGE = ["5001", "100000", "2147483648", "18446744073709551616", "9" * 5000]


@pytest.fixture
def tasks(world):
    office, officer, ids = world
    r = office.push([office.change("task", new_id(), {"case_id": ids["case"], "title": f"t{n}"}) for n in range(3)])
    assert r.status_code == 200
    return office, officer


@pytest.mark.parametrize("limit", HUGE)
def test_a_pull_limit_above_the_maximum_is_clamped(tasks, limit):
    _office, officer = tasks
    r = officer.client.get("/api/sync/pull", headers=officer.headers, params={"limit": limit})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["has_more"] is False and len(body["changes"]) >= 3


def test_leading_zeros_are_the_same_number(tasks):
    _office, officer = tasks
    body = officer.client.get("/api/sync/pull", headers=officer.headers, params={"limit": "0002"}).json()
    assert len(body["changes"]) == 2 and body["has_more"] is True
    huge = officer.client.get("/api/sync/pull", headers=officer.headers, params={"limit": "0" * 50 + "100000"})
    assert huge.status_code == 200


@pytest.mark.parametrize("limit", ["2.5", "1e9", "-2147483648", "0", "0" * 20, "+5", " 5", "9" * 5000 + ".0"])
def test_what_is_not_a_whole_number_from_1_is_refused(tasks, limit):
    _office, officer = tasks
    r = officer.client.get("/api/sync/pull", headers=officer.headers, params={"limit": limit})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_failed" and r.json()["error"]["details"]["field"] == "limit"


@pytest.mark.parametrize("path", ["/api/visits", "/api/conflicts", "/api/devices"])
def test_every_list_clamps_the_same_way(tasks, path):
    office, _officer = tasks
    assert office.get(path, limit="2147483648").status_code == 200
    assert office.get(path, limit="2.5").status_code == 422
