"""The driver's run: stops in order, one-tap events stamped with time and GPS, arrival at school."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WAKEFIELD = {"latitude": 53.6833, "longitude": -1.4977, "accuracy": 12}


def make_run(demo, cases: list[dict]) -> tuple[str, list[str]]:
    """Today's run for officer2 through these cases' homes, every stop waiting: (run id, stop ids)."""
    driver = demo.user("officer2")
    school_id = cases[0]["pupil"]["school_id"]
    run_id = str(uuid.uuid4())
    today = dt.date.today().isoformat()
    demo.office.put("transport_run", run_id, {
        "date": today, "school_id": school_id, "driver_id": driver["id"], "vehicle": "Minibus YX21 ABC",
        "seats": 8, "status": "planned"}, None)
    stops = []
    for i, c in enumerate(cases):
        stop_id = str(uuid.uuid4())
        hh = c["household"] or {}
        demo.office.put("transport_stop", stop_id, {
            "run_id": run_id, "position": i + 1, "pupil_id": c["pupil"]["id"],
            "household_id": c["pupil"]["household_id"], "lat": hh.get("lat"), "lon": hh.get("lon"),
            "eta": f"{today}T08:{10 + 7 * i:02d}:00Z", "status": "pending"}, None)
        stops.append(stop_id)
    return run_id, stops


def test_a_driver_records_a_run_offline(devices, demo) -> None:
    cases = demo.open_cases("officer2")[3:5]
    run_id, stops = make_run(demo, cases)

    phone = devices(geolocation=WAKEFIELD, permissions=["geolocation"])
    page = phone.open()
    phone.sign_in("officer2")
    page.get_by_role("link", name="Transport").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Today's runs")
    page.locator(f"a[href='#/run/{run_id}']").click()
    items = page.locator("ol.stops > li")
    expect(items).to_have_count(2)
    for i, c in enumerate(cases):
        expect(items.nth(i).get_by_role("heading")).to_have_text(f"{i + 1}. {c['name']}")
        expect(items.nth(i)).to_contain_text("ETA")
    nav = items.nth(0).get_by_role("link", name=f"Navigate to {cases[0]['name']}")
    assert str(cases[0]["household"]["lat"]) in (nav.get_attribute("href") or "")
    expect(page.get_by_text("Location on")).to_be_visible()

    phone.offline()
    items.nth(0).get_by_role("button", name="Picked up").click()
    expect(items.nth(0)).to_contain_text("Picked up at")
    items.nth(1).get_by_role("button", name="No show").click()
    expect(items.nth(1)).to_contain_text("No show at")
    page.get_by_role("button", name="Arrived at school").click()
    expect(page.get_by_role("button", name="Arrived at school")).to_be_disabled()
    expect(phone.status).to_contain_text("3 changes waiting")
    phone.offline(False)
    phone.wait_synced()

    first = demo.office.record("transport_stop", stops[0])
    assert first["status"] == "picked_up" and first["event_at"]
    assert first["event_lat"] == pytest.approx(WAKEFIELD["latitude"])
    assert first["event_lon"] == pytest.approx(WAKEFIELD["longitude"])
    assert demo.office.record("transport_stop", stops[1])["status"] == "no_show"
    run = demo.office.record("transport_run", run_id)
    assert run["status"] == "done" and run["arrived_at"] and run["departed_at"]


def test_a_tap_can_be_undone_and_arriving_asks_about_each_waiting_stop(devices, demo) -> None:
    cases = demo.open_cases("officer2")[5:8]
    run_id, stops = make_run(demo, cases)
    names = [c["name"] for c in cases]
    phone = devices(geolocation=WAKEFIELD, permissions=["geolocation"])
    page = phone.open()
    phone.sign_in("officer2")
    page.get_by_role("link", name="Transport").click()
    page.locator(f"a[href='#/run/{run_id}']").click()
    items = page.locator("ol.stops > li")
    expect(items).to_have_count(3)

    phone.offline()
    # a recorded stop offers only "Undo": a second tap cannot turn "Picked up" into "No show"
    items.nth(0).get_by_role("button", name="Picked up").click()
    expect(items.nth(0)).to_contain_text("Picked up at")
    expect(items.nth(0).get_by_role("button", name="No show")).to_have_count(0)
    undo = items.nth(0).get_by_role("button", name=f"Undo Picked up for {names[0]}")
    expect(undo).to_have_text("Undo")
    assert undo.bounding_box()["height"] >= 44
    undo.click()
    expect(items.nth(0)).to_contain_text("Waiting")
    expect(items.nth(0)).not_to_contain_text("Picked up at")
    items.nth(0).get_by_role("button", name="No show").click()
    expect(items.nth(0)).to_contain_text("No show at")
    items.nth(0).get_by_role("button", name=f"Undo No show for {names[0]}").click()
    items.nth(0).get_by_role("button", name="Picked up").click()
    expect(items.nth(0)).to_contain_text("Picked up at")

    # arriving with two stops waiting asks about each; "Still to pick up" keeps the run open
    page.get_by_role("button", name="Arrived at school").click()
    dialog = page.get_by_role("dialog", name="2 stops are still waiting")
    expect(dialog).to_be_visible()
    groups = dialog.get_by_role("group")
    expect(groups).to_have_count(2)
    expect(groups.nth(0)).to_have_accessible_name(names[1])
    expect(groups.nth(1)).to_have_accessible_name(names[2])
    expect(groups.nth(1).get_by_role("radio", name="Still to pick up")).to_be_checked()
    violations = [v for v in Axe().run(page).response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not violations, violations
    groups.nth(0).get_by_role("radio", name="No show").check()
    dialog.get_by_role("button", name="Save and continue").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_text(f"Still to pick up: {names[2]}. The run is not finished.")).to_be_visible()
    expect(items.nth(1)).to_contain_text("No show at")
    expect(items.nth(2)).to_contain_text("Waiting")
    expect(page.get_by_role("button", name="Arrived at school")).to_be_enabled()
    # "Go back" changes nothing
    page.get_by_role("button", name="Arrived at school").click()
    dialog = page.get_by_role("dialog", name="1 stop is still waiting")
    dialog.get_by_role("radio", name="No show").check()
    dialog.get_by_role("button", name="Go back").click()
    expect(items.nth(2)).to_contain_text("Waiting")

    items.nth(2).get_by_role("button", name="Picked up").click()
    page.get_by_role("button", name="Arrived at school").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("button", name="Arrived at school")).to_be_disabled()
    expect(page.get_by_role("button", name="Undo")).to_have_count(0)  # the run is done
    phone.offline(False)
    phone.wait_synced()

    got = [demo.office.record("transport_stop", s) for s in stops]
    assert [g["status"] for g in got] == ["picked_up", "no_show", "picked_up"]
    assert all(g["event_at"] for g in got)
    run = demo.office.record("transport_run", run_id)
    assert run["status"] == "done" and run["arrived_at"]
