"""The legal steps in real headless Chromium against ``doorstep serve --demo`` (whose demo
authority has cases at each step, fixtures/legal.py): the due list, a case's notices, a letter
printed; nothing serious for axe; the screenshots in docs/casework.md."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

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


def test_the_due_list_a_case_at_penalty_notice_and_its_letter(desk: Desk):
    page = desk.sign_in("admin")
    page = desk.open("/office/legal")
    expect(page.get_by_role("heading", name="Legal steps", exact=True)).to_be_visible()
    expect(page.locator("table.legal-due tbody tr").first).to_be_visible()
    assert_accessible(page, "the legal steps due list")
    page.screenshot(path=str(IMG / "casework-legal-due.png"))

    page.locator("h2:has-text('Not paid') + ul a").first.click()
    expect(page.get_by_role("heading", name="Notices")).to_be_visible()
    unpaid = page.locator("article.legal-notice", has_text="Not paid: consider prosecution").first
    expect(unpaid).to_contain_text("£80 by")
    unpaid.get_by_role("button", name="Print the letter (PDF)").click()
    expect(page.get_by_role("status")).to_contain_text("Letter printed and kept with the case")
    assert_accessible(page, "a case's legal steps")
    unpaid.scroll_into_view_if_needed()
    page.screenshot(path=str(IMG / "casework-legal-case.png"))

    refused = page.locator("article.legal-notice", has_text="Refused")
    if refused.count():  # the demo's refused third sits on another case; this one may have none
        expect(refused.first).to_contain_text("education supervision order")


def test_a_refused_third_names_the_other_tools(desk: Desk):
    page = desk.sign_in("office")
    page = desk.open("/office/cases?stage=penalty_notice")
    links = [a.get_attribute("href") for a in page.locator("table.cases tbody a").all()]
    for href in links:
        page = desk.open(f"{href}/legal")
        refused = page.locator("article.legal-notice", has_text="Refused")
        if refused.count():
            expect(refused.first).to_contain_text("at most 2 penalty notices for the same child")
            expect(refused.first).to_contain_text("prosecution under section 444")
            refused.first.scroll_into_view_if_needed()
            page.screenshot(path=str(IMG / "casework-legal-refused.png"))
            return
    pytest.fail("the demo has no refused third penalty notice")
