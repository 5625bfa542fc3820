"""Praise texts in real headless Chromium against ``doorstep serve --demo``: the improving
pupils with their suggested texts (and why a family is not texted), the texts waiting, and a
template refused beside its field. With DOORSTEP_DOC_SHOTS=1 it takes docs/relationships.md's
screenshots (docs/img/relationships-praise-*.png)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from .conftest import Desk
from .test_office_browser import assert_accessible

pytestmark = [pytest.mark.browser]

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def shot(page: Any, name: str) -> None:
    if os.environ.get("DOORSTEP_DOC_SHOTS"):
        page.screenshot(path=str(IMG / f"relationships-praise-{name}.png"), full_page=False)


def test_praise_page_and_templates(desk: Desk) -> None:
    page = desk.sign_in()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Praise", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Praise for improving pupils")
    rows = page.locator("table.praise tbody tr")
    assert rows.count() > 0
    expect(page.locator("table.praise")).to_contain_text("The family asked not to get these messages.")
    expect(page.locator("table.praise")).to_contain_text("has been coming to school much more often")
    expect(page.get_by_text("Exported for the school's texting system").or_(page.get_by_text("To send")).first
           ).to_be_visible()
    assert_accessible(page, "praise")
    shot(page, "list")

    page.get_by_role("link", name="authority's templates").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Message templates")
    expect(page.locator("table")).to_contain_text("Polish")
    page.get_by_label("Words").fill("{first_name} is now at 96% attendance, well done!")
    page.get_by_role("button", name="Save template").click()
    expect(page.locator("#t-body-error")).to_contain_text("Leave out figures")
    expect(page.get_by_label("Words")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "praise templates")
    shot(page, "template-error")
