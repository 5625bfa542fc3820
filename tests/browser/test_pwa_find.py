"""Find and go (issue 17, item 4), offline at 360 × 640: the caseload's search (name, UPN,
address, postcode), its filters (band, threshold met, due or overdue, school), the Today
list of tasks and follow-ups due, and directions with the distance to a household."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.test_pwa_a11y import check_screen

pytestmark = pytest.mark.browser


def shown(page: Page) -> set[str]:
    return {a.get_attribute("href") or "" for a in page.locator("ul.cards a.card").all()}


def href(case: dict[str, Any]) -> str:
    return f"#/case/{case['case']['id']}"


def search(page: Page, text: str) -> set[str]:
    page.get_by_label("Search cases by name, UPN, address or postcode").fill(text)
    return shown(page)


def test_search_and_filters_offline(device, demo) -> None:
    cases = demo.open_cases("officer1")
    page = device.open()
    device.sign_in("officer1")
    device.offline(True)
    expect(device.status).to_contain_text("Offline")
    everyone = {href(c) for c in cases}
    # the caseload draws from the phone's store once the first sync has written it
    expect(page.locator("ul.cards a.card")).to_have_count(len(everyone))
    assert shown(page) == everyone

    one = cases[0]
    pupil, hh = one["pupil"], one["household"]
    same = lambda pred: {href(c) for c in cases if pred(c)}  # noqa: E731
    assert search(page, pupil["last_name"].upper()) == same(lambda c: pupil["last_name"].lower() in c["name"].lower())
    assert search(page, f"{pupil['first_name']} {pupil['last_name']}") == {href(one)}
    assert search(page, pupil["upn"].lower()) == {href(one)}
    postcode = hh["postcode"]
    with_postcode = same(lambda c: (c["household"] or {}).get("postcode") == postcode)
    assert search(page, postcode.replace(" ", "").lower()) == with_postcode
    street = hh["address"].split(",")[0].split()[-1]  # e.g. "Road"
    assert href(one) in search(page, f"{street} {pupil['last_name']}")
    assert search(page, "zzzz no such pupil") == set()
    expect(page.get_by_text("0 of")).to_be_visible()
    search(page, "")
    assert shown(page) == everyone

    page.get_by_role("button", name="Filters").click()
    page.get_by_label("Band").select_option("severe")
    expect(page.get_by_role("button", name="Filters (1)")).to_be_visible()
    assert shown(page) == same(lambda c: c["pupil"].get("band") == "severe")
    page.get_by_label("Penalty notice threshold met").check()
    assert shown(page) == same(lambda c: c["pupil"].get("band") == "severe" and c["pupil"].get("penalty_threshold_met"))
    page.get_by_label("Band").select_option("")
    page.get_by_label("Penalty notice threshold met").uncheck()
    school = one["pupil"]["school_id"]
    page.get_by_label("School").select_option(school)
    assert shown(page) == same(lambda c: c["pupil"]["school_id"] == school)
    page.get_by_label("School").select_option("")
    # due or overdue: every case with an open task due by today is in; a search narrows it further
    today = dt.date.today().isoformat()
    tasks = demo.office.records("task")
    due_cases = {f"#/case/{t['case_id']}" for t in tasks
                 if not t.get("done") and (t.get("due_on") or "9") <= today} & everyone
    page.get_by_label("Task or follow-up due or overdue").check()
    filtered = shown(page)
    assert due_cases <= filtered < everyone
    assert check_screen(page, "caseload-filters", Axe()) == []
    for card in page.locator("ul.cards a.card").all():
        expect(card.locator(".badge.due, .badge.overdue")).to_have_count(1)
    # the choices survive a visit to a case and back
    page.locator("ul.cards a.card").first.click()
    expect(page.get_by_role("button", name="Record visit")).to_be_visible()
    page.get_by_role("link", name="Caseload", exact=True).click()
    expect(page.locator("ul.cards a.card")).to_have_count(len(filtered))
    assert shown(page) == filtered
    assert device.errors == []


def test_today_lists_tasks_due_and_overdue(device, demo) -> None:
    cases = demo.open_cases("officer1")
    page = device.open()
    device.sign_in("officer1")
    device.offline(True)
    expect(device.status).to_contain_text("Offline")
    one = cases[1]
    device.open_case(one)
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    for title, due in (("Ring the school office", dt.date.today().isoformat()), ("Post the letter", yesterday),
                       ("Next month's meeting", (dt.date.today() + dt.timedelta(days=30)).isoformat())):
        page.get_by_label("New task").fill(title)
        page.get_by_label("Due date").fill(due)
        page.get_by_role("button", name="Add task").click()
        expect(page.get_by_text(title)).to_be_visible()

    page.get_by_role("link", name="Caseload", exact=True).click()
    page.get_by_role("link", name="Today").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    items = page.get_by_role("list", name="Due today or overdue").get_by_role("listitem")
    ring = items.filter(has_text="Ring the school office")
    expect(ring).to_contain_text("Due today")
    expect(ring.get_by_role("link", name=one["name"], exact=True)).to_have_attribute("href", href(one))
    expect(items.filter(has_text="Post the letter")).to_contain_text("Overdue since")
    expect(items.filter(has_text="Next month's meeting")).to_have_count(0)
    assert check_screen(page, "today", Axe()) == []
    # the server's open tasks due by today on this caseload are all there
    today = dt.date.today().isoformat()
    mine = {c["case"]["id"] for c in cases}
    for f in demo.office.records("task"):
        if f["case_id"] in mine and not f.get("done") and f.get("due_on") and f["due_on"] <= today:
            expect(items.filter(has_text=f["title"]).first).to_be_visible()
    # overdue first
    texts = items.all_inner_texts()
    first_today = next(i for i, t in enumerate(texts) if "Due today" in t)
    assert all("Overdue" in t for t in texts[:first_today])
    ring.get_by_role("link", name=one["name"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(one["name"])


def test_directions_and_distance(devices, demo) -> None:
    case = next(c for c in demo.open_cases("officer1") if c["household"] and c["household"].get("lat") is not None)
    hh = case["household"]
    # a browser: a web map's directions; distance from the officer once location is allowed
    phone = devices(geolocation={"latitude": hh["lat"] + 0.01, "longitude": hh["lon"]}, permissions=["geolocation"])
    page = phone.open()
    phone.sign_in("officer1")
    expect(page.get_by_text("Sorted by band, then by distance from you.")).to_be_visible()
    phone.open_case(case)
    link = page.locator("a.directions")
    expect(link).to_have_attribute("href", f"https://www.google.com/maps/dir/?api=1&destination={hh['lat']}%2C{hh['lon']}")
    expect(page.locator("p.go")).to_contain_text("1.1 km away")
    # an Android phone: a geo: URI its maps app opens
    android = devices(user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36")
    page = android.open()
    android.sign_in("officer1")
    android.open_case(case)
    label = quote(f"{hh['address']}, {hh['postcode']}", safe="-_.!~*'()")  # as encodeURIComponent
    geo = f"geo:{hh['lat']},{hh['lon']}?q={hh['lat']},{hh['lon']}({label})"
    expect(page.locator("a.directions")).to_have_attribute("href", geo)
