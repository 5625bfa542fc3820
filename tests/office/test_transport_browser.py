"""Transport end to end in real Chromium: the office plans and creates a run for the demo data,
the driver's phone shows it after "Sync now".

The phone is a second browser context signed in through the PWA's own helper
(``tests/browser/conftest.py`` ``Device.sign_in``: password, then the PIN step),
so the PWA's sign-in is handled in one place.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest

pytest.importorskip("playwright.sync_api")
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Device

from .conftest import Desk

pytestmark = pytest.mark.browser

SCHOOL = "Eastmoor Community Primary School"
DRIVER = ("officer2", "Imran Qureshi")
SERIOUS = ("serious", "critical")


def assert_accessible(page: Any, where: str) -> None:
    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not bad, f"{where}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']} at "
                                             f"{[n['target'] for n in v['nodes']][:3]}" for v in bad)


@pytest.fixture
def phone(chromium: Any, live: Any) -> Any:
    """The driver's phone: its own context (a second device), in UK time like the office."""
    context = chromium.new_context(viewport=PHONE, bypass_csp=True, timezone_id="Europe/London", locale="en-GB")
    yield Device(context, live.url)
    context.close()


def test_the_office_plans_a_run_and_the_drivers_phone_shows_it_after_a_sync(desk: Desk, phone: Device):
    today = dt.datetime.now(ZoneInfo("Europe/London")).date().isoformat()
    vehicle = f"Astra {uuid.uuid4().hex[:6].upper()}"
    driver_page = phone.open()
    phone.sign_in(DRIVER[0])  # password, PIN, first sync

    page = desk.sign_in("office")
    page.get_by_role("link", name="Transport", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Transport planning")
    page.get_by_label("School").select_option(label=SCHOOL)
    page.get_by_role("button", name="Show pupils").click()
    chosen = page.locator("input[name=pupil]:checked")
    expect(chosen.first).to_be_checked()  # eligible pupils with an open case, ticked
    assert chosen.count() >= 2
    page.get_by_label("Date").fill(today)
    car = page.get_by_role("group", name="Vehicle 1")
    car.get_by_label("Driver").select_option(label=DRIVER[1])
    car.get_by_label("Vehicle name").fill(vehicle)
    car.get_by_label("Seats").fill("4")
    assert_accessible(page, "transport planning form")
    page.get_by_role("button", name="Plan the runs").click()

    # planned in the background: a progress page refreshes itself until the proposal is ready
    expect(page.get_by_role("heading", level=2, name=re.compile(f"Proposed runs to {SCHOOL}"))).to_be_visible(
        timeout=90_000)
    expect(page.get_by_role("status")).to_contain_text("nothing is saved yet")
    expect(page.get_by_role("img", name=f"Proposed runs to {SCHOOL}")).to_be_visible()
    stops = page.locator(".stops-table tbody tr")
    expect(stops.first).to_be_visible()
    planned = [stops.nth(i).get_by_role("link").inner_text() for i in range(stops.count())]
    assert len(planned) == chosen.count()  # four seats: everyone ticked is placed
    expect(page.locator("svg.route-map g.stop")).to_have_count(len(planned))
    assert_accessible(page, "proposed runs")
    page.set_viewport_size({"width": 800, "height": 1000})
    assert_accessible(page, "proposed runs at 800 × 1000")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Create these runs").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Transport runs on")
    expect(page.get_by_role("status")).to_contain_text(f"Created 1 run with {len(planned)} stops.")
    run = page.locator("section.run", has_text=vehicle)
    expect(run).to_have_count(1)
    run_id = run.get_attribute("data-run")
    rows = run.locator("tbody tr")
    assert [rows.nth(i).get_by_role("link").inner_text() for i in range(rows.count())] == planned
    expect(run).to_contain_text("not picked up yet")
    assert_accessible(page, "the day's runs")
    assert not desk.csp_violations(), desk.console

    driver_page.get_by_role("button", name="Sync now").click()
    phone.wait_synced()
    driver_page.get_by_role("link", name="Transport").click()
    expect(driver_page.get_by_role("heading", level=1)).to_have_text("Today's runs")
    driver_page.locator(f"a[href='#/run/{run_id}']").click()
    expect(driver_page.get_by_role("heading", level=1)).to_have_text(f"Run to {SCHOOL}")
    expect(driver_page.get_by_text(vehicle)).to_be_visible()
    items = driver_page.locator("ol.stops > li")
    expect(items).to_have_count(len(planned))
    for i, name in enumerate(planned):
        expect(items.nth(i).get_by_role("heading")).to_have_text(f"{i + 1}. {name}")
        expect(items.nth(i)).to_contain_text("ETA")
    assert not phone.errors, phone.errors
