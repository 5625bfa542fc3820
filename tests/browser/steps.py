"""Steps several browser tests take: an office browser signed in, a plan's first version
recorded offline and synced; and where the docs' screenshots go."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page

from tests.browser.conftest import ROOT, Demo, Device, demo_password

# the docs' screenshots: written to docs/img with DOORSTEP_DOC_SHOTS=1, else to a scratch folder
IMG = ROOT / "docs" / "img" if os.environ.get("DOORSTEP_DOC_SHOTS") else Path(tempfile.gettempdir()) / "doorstep-shots"
IMG.mkdir(parents=True, exist_ok=True)


@contextmanager
def office_desk(browser: Browser, base: str, viewport: dict[str, int], password: str | None = None) -> Iterator[Page]:
    """An office browser (its own context, closed after) where the demo's office user has just
    pressed "Sign in" (``password``: when the server is not the demo's)."""
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.goto(base + "/office/login")
        page.get_by_label("Username").fill("office")
        page.get_by_label("Password").fill(password or demo_password("office"))
        page.get_by_role("button", name="Sign in").click()
        yield page
    finally:
        context.close()


def first_version_synced(phone: Device, demo: Demo, type_: str, case_id: str) -> dict[str, Any]:
    """A plan's first version recorded offline (``type_``: support_plan, wellbeing_plan) is kept on
    the phone, and reaches the server by itself once the signal is back: the case's only version."""
    assert [e["type"] for e in phone.idb()["outbox"]] == [type_], "kept on the phone while offline"
    phone.offline(False)  # no click: the phone sends it when the signal is back
    phone.wait_synced()
    plans = [p for p in demo.office.records(type_) if p["case_id"] == case_id]
    assert len(plans) == 1 and plans[0]["plan_version"] == 1 and plans[0]["status"] == "submitted"
    return plans[0]
