"""Consistency checks on the phone (issue 17, item 3; sync/schema.py CONSISTENCY, docs/pwa.md):
a warning the officer confirms before the visit is queued, and errors shown beside their
field (the visit is not queued), at 360 × 640 with no serious axe violations."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.test_pwa_a11y import check_screen

pytestmark = pytest.mark.browser


def next_to(page: Page, control: str, note_text: str) -> None:
    """The error is drawn right next to its control (within 12 px above or below it)."""
    ctl = page.get_by_label(control, exact=True)
    row = ctl.locator("xpath=ancestor::div[contains(@class,'check')][1]") if ctl.get_attribute("type") == "checkbox" else ctl
    note = page.locator("p.field-error", has_text=note_text)
    expect(note).to_be_visible()
    expect(ctl).to_have_attribute("aria-invalid", "true")
    expect(ctl).to_have_accessible_description(re.compile(re.escape(note_text)))
    a, b = row.bounding_box(), note.bounding_box()
    assert a is not None and b is not None
    assert -12 <= b["y"] - (a["y"] + a["height"]) <= 12 or -12 <= a["y"] - (b["y"] + b["height"]) <= 12, (a, b)


def test_a_warning_is_confirmed_and_errors_show_beside_their_field(device, demo) -> None:
    case = demo.open_cases("officer1")[2]
    page = device.open()
    device.sign_in("officer1")
    device.offline(True)
    device.open_case(case)
    visits_before = len(device.idb()["outbox"] or [])

    # an error: the outcome says the child was seen, "Child seen" is not ticked
    page.get_by_role("button", name="Record visit").click()
    page.get_by_label("Outcome").select_option("child_seen")
    device.submit_form()  # from the last step (pwa/views/sections.js): back to the field's section
    expect(page.get_by_role("alert")).to_contain_text("The outcome says you saw the child")
    next_to(page, "Child seen", "The outcome says you saw the child")
    expect(page.get_by_label("Child seen", exact=True)).to_be_focused()
    # a visit dated tomorrow: an error beside "Started at"
    tomorrow = (dt.datetime.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Started at").fill(tomorrow)
    device.submit_form()
    next_to(page, "Started at", "cannot have started later than now")
    assert check_screen(page, "visit-consistency-errors", Axe()) == []
    assert len(device.idb()["outbox"] or []) == visits_before  # nothing queued

    # a warning: "No answer" with the child seen can be true (at a window): asked, not refused
    page.get_by_label("Started at").fill((dt.datetime.now() - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Outcome").select_option("no_answer")
    page.get_by_label("Child seen", exact=True).check()
    device.submit_form()
    dialog = page.get_by_role("dialog", name="Check this before it is sent")
    expect(dialog).to_contain_text("no answer")
    expect(page.locator("p.field-error")).to_have_count(0)  # the errors went once corrected
    assert check_screen(page, "visit-consistency-warning", Axe()) == []
    dialog.get_by_role("button", name="Go back and check").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_label("Child seen", exact=True)).to_be_focused()
    assert len(device.idb()["outbox"] or []) == visits_before
    device.submit_form()
    page.get_by_role("dialog").get_by_role("button", name="Submit as it is").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Visit to {case['name']}")
    device.offline(False)
    device.wait_synced()
    mine = [v for v in demo.office.records("visit") if v["case_id"] == case["case"]["id"] and v["outcome"] == "no_answer"
            and v["child_seen"] is True]
    assert len(mine) == 1 and mine[0]["status"] == "submitted"
    assert device.errors == []


def test_an_error_is_focused_clear_of_the_header_and_the_dock(device, demo) -> None:
    """Submit from the foot of the form: the field in error is focused and scrolled into the
    space between the sticky header and the docked buttons (issue 17, item 2)."""
    case = demo.open_cases("officer1")[3]
    page = device.open()
    device.sign_in("officer1")
    device.open_case(case)
    page.get_by_role("button", name="Record visit").click()
    device.form_section("Barriers and notes")
    page.get_by_label("Notes", exact=True).fill("Nobody in.")
    device.form_section("Check and submit")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.locator(".dock").get_by_role("button", name="Submit", exact=True).click()
    outcome = page.get_by_label("Outcome")
    expect(outcome).to_be_focused()
    header = page.locator("header.top").bounding_box()
    dock = page.locator(".dock").bounding_box()
    box = outcome.bounding_box()
    note = page.locator("p.field-error", has_text="Choose the outcome").bounding_box()
    assert header and dock and box and note
    assert note["y"] >= header["y"] + header["height"], (note, header)
    assert box["y"] + box["height"] <= dock["y"], (box, dock)
