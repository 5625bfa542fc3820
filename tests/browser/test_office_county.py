"""The office plans a county in real Chromium: the demo authority's fleet and its pupils' transport
needs (several schools, wheelchair users), one more wheelchair user recorded through the needs
page, the plan made as a job with a progress bar, then the runs, with no wheelchair user in a
vehicle without a wheelchair place, and a route sheet to print."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, expect  # noqa: E402

from tests.browser.conftest import demo_password  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(browser: Browser, server_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB",
                                  timezone_id="Europe/London")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server_url + "/office/login")
    page.get_by_label("Username").fill("office")
    page.get_by_label("Password").fill(demo_password("office"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Overview")).to_be_visible()
    yield page
    assert not errors, errors
    context.close()


def test_the_office_plans_a_county_with_wheelchair_users_and_prints_route_sheets(desk: Any, server_url: str):
    page = desk
    # one more wheelchair user, through the needs page; a mistake first, shown beside its field
    page.goto(server_url + "/office/transport/needs")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pupils' transport needs")
    choices = page.locator("#f-pupil option:not([value=''])")
    if choices.count():
        page.locator("#f-pupil").select_option(index=1)
        page.get_by_label("Travels in a wheelchair").check()
        page.get_by_label("Seats", exact=True).fill("0")
        page.get_by_label("Boarding time (seconds)").fill("99999")
        page.get_by_role("button", name="Record the needs").click()
        expect(page.locator("#f-boarding_s-error")).to_contain_text("boarding_s must be")
        expect(page.locator("#f-boarding_s")).to_have_attribute("aria-invalid", "true")
        page.get_by_label("Boarding time (seconds)").fill("180")
        page.get_by_role("button", name="Record the needs").click()
        expect(page.get_by_role("status")).to_have_text("Saved.")

    page.get_by_role("link", name="County plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("County transport plan")
    schools = page.locator("input[name=school]:checked")
    assert schools.count() >= 2  # several schools with their own bells, all chosen
    page.get_by_role("button", name="Plan the county's runs").click()

    expect(page).to_have_url(re.compile(r"/office/transport/county/[0-9a-f-]{36}$"))
    bar = page.locator("progress#plan-progress")
    expect(bar).to_be_visible()  # the job has started: time used of the budget
    expect(page.get_by_role("heading", level=1)).to_have_text("County transport plan", timeout=60_000)
    expect(page.get_by_role("status")).to_contain_text("placed")

    runs = page.locator("section.county-run")
    assert runs.count() >= 1
    carried_wheelchairs = 0
    drop_schools: set[str] = set()
    for k in range(runs.count()):
        run = runs.nth(k)
        places = int(run.get_attribute("data-wheelchair-places") or "0")
        users = run.locator("li[data-wheelchair='1']").count()
        assert places > 0 or users == 0, f"a wheelchair user in {run.locator('h2').inner_text()}"
        carried_wheelchairs += users
        drop_schools |= set(re.findall(r"Drop at ([^\n\t]+)", run.locator("tbody").inner_text()))
    assert carried_wheelchairs >= 1
    assert len(drop_schools) >= 2 or runs.count() >= 2

    # a route sheet for the first run, to print
    runs.first.get_by_role("link", name="Route sheet").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Route sheet:")
    expect(page.locator("article.sheet table tbody tr").first).to_be_visible()
    assert "print" in page.locator("link[href='/office/static/transport.css']").evaluate(
        "l => [...l.sheet.cssRules].map(r => r.cssText).join(' ')")
