"""One thumb at 360 × 640 (issue 17, item 1), measured with boundingBox(): the header and
sync status stay within 64 px in every sync state, at least five cases show on the first
caseload screen, "Record visit" and "Record conversation" are on screen at the bottom of a
case without scrolling, and the main actions are at least 44 px high. At 200 % text the
header grows but leaves most of the screen, and the sections stay reachable."""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = pytest.mark.browser

HEIGHT = 640


def header_height(page: Page) -> float:
    box = page.locator("header.top").bounding_box()
    assert box is not None
    return box["height"]


def in_thumb_reach(page: Page, name: str) -> dict[str, float]:
    """The button is whole on screen, in the lower third, and at least 44 px high."""
    box = page.get_by_role("button", name=name).bounding_box()
    assert box is not None, name
    assert box["height"] >= 44, (name, box)
    assert box["y"] >= HEIGHT * 2 / 3 and box["y"] + box["height"] <= HEIGHT, (name, box)
    return box


def test_compact_header_cards_and_case_actions(device, demo) -> None:
    cases = demo.open_cases("officer1")
    assert len(cases) >= 5
    page = device.open()
    device.sign_in("officer1")

    # online, all synced
    expect(device.status).to_contain_text("All synced")
    assert header_height(page) <= 64

    # five cases on the first screen, whole, under the header and above the sections bar
    cards = page.locator("ul.cards a.card")
    expect(cards.nth(4)).to_be_visible()
    top = header_height(page)
    nav = page.locator("#nav").bounding_box()
    assert nav is not None and nav["y"] + nav["height"] <= HEIGHT and nav["y"] >= HEIGHT - 80
    for i in range(5):
        box = cards.nth(i).bounding_box()
        assert box is not None and box["y"] >= top and box["y"] + box["height"] <= nav["y"], (i, box)
    for link in page.locator("#nav a:visible").all():
        box = link.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44

    # a case: both record buttons on screen without scrolling, docked at the bottom
    device.open_case(cases[0])
    assert page.evaluate("window.scrollY") == 0
    visit = in_thumb_reach(page, "Record visit")
    conversation = in_thumb_reach(page, "Record conversation")
    assert visit["y"] + visit["height"] <= nav["y"] + 1 and conversation["y"] + conversation["height"] <= nav["y"] + 1
    # still there after scrolling to the end of the case
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    in_thumb_reach(page, "Record visit")
    # the end of the page is not hidden behind the dock and the sections bar
    last = page.locator("main section.case > :last-child").bounding_box()
    dock = page.locator(".dock").bounding_box()
    assert last is not None and dock is not None and last["y"] + last["height"] <= dock["y"] + 1

    # the visit form: Save draft and Next in thumb reach from the first screen (Submit on the
    # last step, test_pwa_sections.py)
    page.get_by_role("button", name="Record visit").click()
    page.evaluate("window.scrollTo(0, 0)")
    in_thumb_reach(page, "Next")
    in_thumb_reach(page, "Save draft")
    # the barriers fold away behind a summary naming the chosen ones
    device.form_section("Barriers and notes")
    summary = page.locator("details.barriers > summary")
    expect(summary).to_have_text("Barriers: none chosen")
    expect(page.get_by_label("Bullying")).to_be_hidden()
    summary.click()
    page.get_by_label("Bullying").check()
    page.get_by_label("Housing", exact=True).check()
    expect(summary).to_have_text("Barriers: Bullying, Housing")
    page.get_by_role("button", name="Discard draft").click()
    page.get_by_role("dialog").get_by_role("button", name="Discard draft").click()
    page.get_by_role("link", name="Caseload", exact=True).click()

    # offline
    device.offline(True)
    expect(device.status).to_contain_text("Offline")
    assert header_height(page) <= 64
    device.offline(False)
    expect(device.status).to_contain_text("All synced")

    # syncing: the sync's requests are held until the height is measured; then they fail (503)
    held: list[Route] = []
    mode = {"hold": True}

    def unavailable(route: Route) -> None:
        route.fulfill(status=503, json={"error": {"code": "unavailable", "message": "down", "details": {}}})

    def server(route: Route) -> None:
        if mode["hold"]:
            held.append(route)
        else:
            unavailable(route)

    page.context.route("**/api/sync/**", server)
    page.get_by_role("button", name="Sync now").click()
    expect(device.status).to_contain_text("Syncing")
    assert header_height(page) <= 64

    # failed
    mode["hold"] = False
    for route in held:
        unavailable(route)
    expect(page.locator("#sync-bar")).to_have_attribute("data-state", re.compile("unreachable|error"))
    assert header_height(page) <= 64
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#sync-reply")).not_to_be_empty()
    assert header_height(page) <= 64
    page.context.unroute("**/api/sync/**")


def test_usable_at_200_percent_text(device, demo) -> None:
    cases: list[dict[str, Any]] = demo.open_cases("officer1")
    page = device.open()
    device.sign_in("officer1")
    page.add_style_tag(content=":root { font-size: 36px !important; }")
    device.offline(True)
    expect(device.status).to_contain_text("Offline")
    # the header leaves three quarters of the screen; no sideways scroll
    assert header_height(page) <= HEIGHT / 4
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # the first case is on screen and every section is reachable in the bar
    expect(page.locator("ul.cards a.card").first).to_be_in_viewport()
    for name in ("Caseload", "Transport", "Problems", "Drafts"):
        link = page.get_by_role("link", name=name)
        link.scroll_into_view_if_needed()
        expect(link).to_be_in_viewport()
    device.open_case(cases[0])
    expect(page.get_by_role("button", name="Record visit")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Record conversation")).to_be_in_viewport()
