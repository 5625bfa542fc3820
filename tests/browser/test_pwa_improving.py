"""Improvement spotted on the phone (docs/relationships.md), in real Chromium at 360 × 640: the
"Improving" badge on the caseload cards of the pupils the register finds improving, the filter
that shows only them, and the line on the case screen with the two 4-week percentages."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.steps import IMG
from tests.browser.test_pwa_a11y import check_screen

pytestmark = pytest.mark.browser


def test_improving_badge_filter_and_case_line(device, demo) -> None:
    cases = demo.open_cases("officer1")
    improving = {f"#/case/{c['case']['id']}": c for c in cases if c["pupil"].get("improving")}
    assert improving and len(improving) < len(cases)  # the demo has some, not all
    page = device.open()
    device.sign_in("officer1")
    cards = page.locator("ul.cards a.card")
    expect(cards).to_have_count(len(cases))
    badged = {a.get_attribute("href") for a in cards.filter(has=page.locator(".badge.improving")).all()}
    assert badged == set(improving)

    page.get_by_role("button", name="Filters").click()
    page.get_by_label("Improving attendance").check()
    expect(page.get_by_role("button", name="Filters (1)")).to_be_visible()
    expect(cards).to_have_count(len(improving))
    assert {a.get_attribute("href") for a in cards.all()} == set(improving)
    assert check_screen(page, "caseload-improving", Axe()) == []
    page.get_by_role("button", name="Filters (1)").click()  # fold the panel away for the picture
    page.screenshot(path=str(IMG / "relationships-improving-phone.png"))

    href, one = sorted(improving.items())[0]
    cards.and_(page.locator(f'[href="{href}"]')).click()
    pupil = one["pupil"]
    expect(page.locator(".case .badge.improving")).to_have_text("Improving")
    line = page.locator("dd.improvement")
    expect(line).to_contain_text(f"{pupil['attendance_last_4_weeks_pct']:.1f}%")
    expect(line).to_contain_text(f"the 4 before {pupil['attendance_previous_4_weeks_pct']:.1f}%")
