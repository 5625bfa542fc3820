"""The driver's run: stops in order, one-tap events stamped with time and GPS, arrival at school."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WAKEFIELD = {"latitude": 53.6833, "longitude": -1.4977, "accuracy": 12}


def test_a_driver_records_a_run_offline(devices, demo) -> None:
    driver = demo.user("officer2")
    cases = demo.open_cases("officer2")[3:5]
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
