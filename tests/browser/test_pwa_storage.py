"""Persistent storage: asked for at sign-in; a refusal plus day-old unsynced work shows a warning."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WARNING = "may clear Doorstep's storage"


def grant_durable_storage(phone) -> None:
    cdp = phone.context.new_cdp_session(phone.page)
    ctx_id = cdp.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
    cdp.send("Browser.grantPermissions", {"permissions": ["durableStorage"], "origin": phone.base,
                                          "browserContextId": ctx_id})


def old_unsynced_note(phone, case) -> None:
    page = phone.page
    phone.offline()
    phone.open_case(case)
    page.get_by_label("Add a note to this case").fill(f"Left a card {uuid.uuid4().hex[:6]}")
    page.get_by_role("button", name="Add note").click()
    expect(phone.status).to_contain_text("1 change waiting")
    page.clock.fast_forward("25:00:00")  # the status re-checks every 30 s
    phone.unlock()  # a day idle: locked


@pytest.mark.parametrize("granted", [False, True], ids=["refused", "granted"])
def test_refused_persistence_with_day_old_work_warns(devices, demo, granted: bool) -> None:
    case = demo.open_cases("officer1")[2]
    phone = devices()
    phone.context.clock.install()
    if granted:
        grant_durable_storage(phone)
    page = phone.open()
    phone.sign_in("officer1")
    assert page.evaluate("navigator.storage.persisted()") is granted
    expect(page.get_by_text(WARNING)).to_have_count(0)
    old_unsynced_note(phone, case)
    if granted:
        page.clock.fast_forward("00:01:00")
        expect(page.get_by_text(WARNING)).to_have_count(0)
    else:
        expect(page.get_by_text(WARNING)).to_be_visible()
    phone.offline(False)
    phone.wait_synced()
    expect(page.get_by_text(WARNING)).to_have_count(0)
