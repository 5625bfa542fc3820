"""The conflict queue: kept and lost side by side; a choice resolves through the sync engine."""
from __future__ import annotations

import time
import uuid

from .conftest import text_of


def make_conflict(world, login) -> tuple[dict, object]:
    office, officer, ids = world
    tablet = login("officer", username=officer.user["username"], device="tablet")
    early = tablet.change("household", ids["household"], {"access_notes": "ring twice"}, 1)
    time.sleep(0.002)
    late = officer.change("household", ids["household"], {"access_notes": "use the side gate"}, 1)
    assert officer.push([late]).json()["results"][0]["status"] == "applied"
    assert tablet.push([early]).json()["results"][0]["status"] == "merged"
    [conflict] = office.get("/api/conflicts", status="open").json()["items"]
    return conflict, tablet


def test_queue_shows_both_values_with_who_and_when(world, login, office_page):
    conflict, _ = make_conflict(world, login)
    _office, officer, _ids = world
    page = office_page()
    html = page.get("/office/conflicts").text
    text = text_of(html)
    assert f'data-conflict="{conflict["id"]}"' in html
    assert "Household at 12 Shady Lane: Access notes" in text
    kept = text[text.index("Kept (on the record now)"):text.index("Set aside")]
    lost = text[text.index("Set aside"):]
    assert "use the side gate" in kept and f"Written by {officer.user['username']}" in kept and "on phone" in kept
    assert "ring twice" in lost and "on tablet" in lost
    assert "1 open conflict" in text
    assert 'class="count">1<' in html  # the count in the navigation


def test_use_this_instead_applies_the_lost_value_through_the_engine(world, login, office_page):
    conflict, _ = make_conflict(world, login)
    office, officer, ids = world
    _, cursor = officer.pull_all()
    page = office_page()
    r = page.post(f"/office/conflicts/{conflict['id']}/resolve", {"choose": "lost"})
    assert r.status_code == 303 and r.headers["location"] == f"/office/conflicts?resolved={conflict['id']}"
    assert "Conflict resolved" in page.get(r.headers["location"]).text
    assert office.get("/api/conflicts", status="open").json()["items"] == []
    [done] = office.get("/api/conflicts", status="resolved").json()["items"]
    assert done["choice"] == "lost" and done["resolved_by"] == page.user["id"]
    items, _ = officer.pull_all(cursor)  # the officer's device gets the chosen value
    [household] = [i for i in items if i["id"] == ids["household"]]
    assert household["fields"]["access_notes"] == "ring twice"
    resolved = text_of(page.get("/office/conflicts", show="resolved").text)
    assert f"resolved by {page.user['username']}" in resolved
    again = page.post(f"/office/conflicts/{conflict['id']}/resolve", {"choose": "kept"})
    assert again.status_code == 409 and "already resolved" in again.text


def test_keep_closes_it_and_leaves_the_value(world, login, office_page):
    conflict, _ = make_conflict(world, login)
    office, _officer, ids = world
    page = office_page()
    assert page.post(f"/office/conflicts/{conflict['id']}/resolve", {"choose": "kept"}).status_code == 303
    items, _ = office.pull_all()
    [household] = [i for i in items if i["id"] == ids["household"]]
    assert household["fields"]["access_notes"] == "use the side gate"
    assert "No open conflicts" in page.get("/office/conflicts").text


def test_bad_choices(world, login, office_page):
    conflict, _ = make_conflict(world, login)
    page = office_page()
    assert page.post(f"/office/conflicts/{conflict['id']}/resolve", {"choose": "both"}).status_code == 422
    assert page.post(f"/office/conflicts/{uuid.uuid4()}/resolve", {"choose": "kept"}).status_code == 404
    assert page.post("/office/conflicts/nope/resolve", {"choose": "kept"}).status_code == 404


def test_whole_record_conflict_shows_both_sides_field_by_field(world, login, office_page):
    office, officer, ids = world
    tablet = login("officer", username=officer.user["username"], device="tablet")
    visit = str(uuid.uuid4())
    create = officer.change("visit", visit, {"case_id": ids["case"], "outcome": "no_answer", "notes": "draft"})
    assert officer.push([create]).json()["results"][0]["status"] == "applied"
    delete = tablet.change("visit", visit, {}, 1, op="delete")  # stamped before the edit below
    time.sleep(0.002)
    edit = officer.change("visit", visit, {"notes": "Came back later: card left"}, 1)
    assert officer.push([edit]).json()["results"][0]["status"] == "applied"
    result = tablet.push([delete]).json()["results"][0]
    assert result["status"] == "merged" and result["lost_fields"] == ["_deleted"]
    [conflict] = office.get("/api/conflicts", status="open").json()["items"]
    assert conflict["field"] is None
    page = office_page()
    text = text_of(page.get("/office/conflicts").text)
    assert "Home visit — Ava Stone: Whole record" in text
    lost = text[text.index("Set aside"):]
    assert "Deleted Yes" in lost
    assert page.post(f"/office/conflicts/{conflict['id']}/resolve", {"choose": "kept"}).status_code == 303
