"""Termly targeting meetings in real headless Chromium against ``doorstep serve --demo``: the
schools, a worklist with the severely absent pupils without a plan first, recording a meeting
(errors beside their fields, then saved), and the printable form with the menus left off paper.
Takes the screenshots of docs/casework.md (docs/img/casework-targeting-*.png)."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from .conftest import Desk
from .test_office_browser import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# the docs' screenshots: written to docs/img with DOORSTEP_DOC_SHOTS=1, else to a scratch folder
IMG = (Path(__file__).resolve().parents[2] / "docs" / "img" if os.environ.get("DOORSTEP_DOC_SHOTS")
       else Path(tempfile.gettempdir()) / "doorstep-shots")
IMG.mkdir(parents=True, exist_ok=True)


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(IMG / f"casework-targeting-{name}.png"), full_page=True)


def test_worklist_meeting_and_printable_form(desk: Desk) -> None:
    page = desk.sign_in()
    page.get_by_role("link", name="Targeting", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Targeting meetings")
    rows = page.locator("table.tg-schools tbody tr")
    assert rows.count() == 7  # the demo's schools, each with its autumn meeting
    expect(rows.first).to_contain_text("23 Oct 2026")
    assert_accessible(page, "targeting schools")
    flagged = page.locator("table.tg-schools tbody tr.row-concern")
    school_row = flagged.first if flagged.count() else rows.first
    school = school_row.locator("a").first.inner_text()
    school_row.get_by_role("link", name=school).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{school}: targeting worklist")
    worklist = page.locator("table.tg-worklist tbody tr")
    assert worklist.count() > 0
    expect(page.locator("table.tg-worklist")).to_contain_text(re.compile(r"then \([+-]\d+\.\d points\)"))
    if flagged.count() or page.locator("section#severe-without-plan").count():
        section = page.locator("section#severe-without-plan")
        expect(section.get_by_role("heading", level=2)).to_contain_text("Severely absent without an attendance plan")
        assert section.bounding_box()["y"] < page.locator("table.tg-worklist").bounding_box()["y"]
    assert_accessible(page, "targeting worklist")
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, "worklist")

    page.get_by_role("link", name="Printable form").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Termly targeting meeting: {school}")
    page.emulate_media(media="print")
    expect(page.locator("nav.main-nav")).to_be_hidden()
    expect(page.locator("footer.foot")).to_be_hidden()
    expect(page.locator("table.tg-print-list")).to_be_visible()
    shot(page, "print")
    page.emulate_media(media="screen")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{school}: targeting worklist")

    page.get_by_role("link", name="Record a meeting").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Record a targeting meeting")
    page.get_by_label("Attendee 1 name").fill("Helen Marsh")
    page.get_by_label("Attendee 1 role").fill("Attendance lead")
    page.get_by_label("Attendee 1 from").select_option("school")
    page.get_by_label("Attendee 2 name").fill("Joanne Haigh")
    page.get_by_label("Attendee 2 from").select_option("la")
    first = page.locator("table.tg-decisions tbody tr").first
    first.locator("select").select_option("la_case")
    page.get_by_role("button", name="Save the meeting").click()
    expect(page.locator("#form-errors")).to_contain_text("Not saved.")
    expect(page.locator("#err-a_role_1")).to_have_text(re.compile("Give their role"))
    expect(first.locator(".tg-error")).to_have_text("Say who agreed this decision.")
    expect(page.get_by_label("Attendee 1 name")).to_have_value("Helen Marsh")
    assert_accessible(page, "targeting meeting errors")
    first.scroll_into_view_if_needed()
    page.screenshot(path=str(IMG / "casework-targeting-errors.png"))
    page.get_by_label("Attendee 2 role").fill("Education welfare officer")
    first.locator("input").fill("Helen Marsh and Joanne Haigh")
    first.locator("textarea").fill("Severe and no plan: the attendance team opens a case.")
    page.get_by_role("button", name="Save the meeting").click()
    expect(page.get_by_role("status")).to_have_text("Meeting saved.")
    expect(page.locator("#attendees")).to_contain_text("Joanne Haigh, Education welfare officer (Local authority)")
    expect(page.locator("table.tg-decided")).to_contain_text("LA case")
    assert_accessible(page, "targeting meeting")
    shot(page, "meeting")

    assert not desk.csp_violations() and not desk.errors
