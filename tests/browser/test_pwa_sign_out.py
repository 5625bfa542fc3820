"""Device security in real Chromium: signing out (what it would delete, syncing first, asking)
and a forgotten PIN (the unsent work reported before it is cleared, a new PIN taking over)."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Route, expect

from tests.browser.conftest import PIN, Api
from tests.browser.device_storage import admin_audit
from tests.browser.test_pwa_a11y import check_screen
from tests.browser.test_pwa_offline_sync import record_visit

pytestmark = pytest.mark.browser


def device_events(server_url: str, device_id: str, event: str) -> list[dict[str, Any]]:
    """The audit rows of events one phone reported (newest first)."""
    admin = Api(server_url, "admin")
    try:
        rows = admin.get("/api/audit", limit=1000)["items"]
    finally:
        admin.close()
    return [r for r in rows if r["action"] == f"device:{event}" and r["device_id"] == device_id]


def loss_list(page) -> list[str]:
    return page.get_by_role("dialog").get_by_test_id("sign-out-loss").locator("li").all_inner_texts()


def test_sign_out_says_what_it_would_delete_offers_to_sync_first_and_asks(devices, demo, server_url) -> None:
    case = demo.open_cases("officer1")[4]
    notes = f"Signed out straight after {uuid.uuid4().hex[:8]}"
    half = f"Half a correction {uuid.uuid4().hex[:8]}"
    phone = devices()
    page = phone.open()
    phone.sign_in("officer1")
    device_id = phone.meta("device_id")
    phone.offline()
    phone.open_case(case)
    record_visit(page, notes, outcome="card_left")
    page.get_by_label("Correction note").fill(half)  # kept on the phone as a draft, never sent by a sync
    page.get_by_role("link", name="Caseload", exact=True).click()
    expect(page.get_by_role("link", name="Drafts (1)")).to_be_visible()

    # Offline: told what has not gone; unsent changes are never deleted by a sign-out, so there is
    # neither a sync nor a delete to choose; "Stay signed in" (focused) keeps everything.
    page.get_by_role("button", name="Sign out").click()
    dialog = page.get_by_role("dialog", name="Send your changes before signing out")
    expect(dialog).to_be_visible()
    assert loss_list(page) == ["1 change not sent yet", "1 draft not finished"]
    expect(dialog).to_contain_text("This phone is offline, so the unsent changes cannot be sent now.")
    expect(dialog).to_contain_text("Changes not sent are never deleted by signing out.")
    expect(dialog.get_by_role("button", name="Sync, then sign out")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Sign out and delete")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Stay signed in")).to_be_focused()
    problems = check_screen(page, "sign-out-confirm", Axe())
    assert not problems, "\n".join(problems)
    page.keyboard.press("Escape")  # the same as "Stay signed in"
    expect(dialog).to_have_count(0)
    expect(phone.status).to_contain_text("1 change waiting")
    assert len(phone.idb()["drafts"]) == 1

    # Online, but every push fails until the officer asks to sync first.
    order: list[str] = []
    syncing_first: list[bool] = []

    def push(route: Route) -> None:
        if syncing_first:
            order.append("push")
            route.continue_()
        else:
            route.abort("connectionreset")

    phone.context.route("**/api/sync/push", push)
    page.on("response", lambda r: r.url.endswith("/api/auth/logout") and order.append(f"logout {r.status}"))
    phone.offline(False)
    expect(phone.status).to_contain_text("retrying")
    page.get_by_role("button", name="Sign out").click()
    expect(dialog).to_contain_text("Sync first to send the unsent changes to the office.")
    syncing_first.append(True)
    dialog.get_by_role("button", name="Sync, then sign out").click()
    # The change went; the draft is not sent by a sync, so the officer is asked again, about it alone.
    dialog = page.get_by_role("dialog", name="Sign out and delete work not sent?")
    expect(dialog.get_by_test_id("sign-out-loss")).to_have_text("1 draft not finished")
    expect(dialog).to_contain_text("A sync does not send drafts or changes to correct")
    assert [v["notes"] for v in demo.office.records("visit") if v.get("notes") == notes] == [notes]
    dialog.get_by_role("button", name="Sign out and delete").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Doorstep")
    expect(page.get_by_text("You have signed out. Nothing is left on this phone. Deleted as you asked: "
                            "1 draft not finished. The office has been told.")).to_be_visible()
    assert order[0] == "push" and order[-1] == "logout 200", order
    dump = phone.idb()
    assert dump is None or all(not rows for rows in dump.values()), dump
    assert all(n.startswith("doorstep-shell-") for n in page.evaluate("caches.keys()"))
    [event] = device_events(server_url, device_id, "device_wiped")
    assert event["detail"]["reason"] == "signed_out"
    assert (event["detail"]["count"], event["detail"]["drafts"], event["detail"]["needs_correcting"]) == (0, 1, 0)
    page.reload()
    expect(page.get_by_label("Username")).to_be_visible()


def test_sign_out_with_nothing_at_stake_asks_nothing(devices, demo, server_url) -> None:
    phone = devices()
    page = phone.open()
    phone.sign_in("officer3")
    device_id = phone.meta("device_id")
    page.get_by_role("link", name="This phone").click()
    page.get_by_role("button", name="Sign out").click()  # from the This phone screen too
    expect(page.get_by_text("You have signed out. Nothing is left on this phone.")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert not device_events(server_url, device_id, "device_wiped"), "nothing was lost: nothing to report"


def test_a_forgotten_pin_reports_unsent_work_and_a_new_pin_takes_over(devices, demo, server_url) -> None:
    case = demo.open_cases("officer2")[5]
    notes = f"Recorded before the PIN was forgotten {uuid.uuid4().hex[:8]}"
    phone = devices()
    page = phone.at_case("officer2", case, offline=True)
    record_visit(page, notes, outcome="refused")
    visit_id = phone.idb()["outbox"][0]["id"]
    page.get_by_label("Correction note").fill("Half a sentence")  # a draft, sealed under the old key
    expect(page.locator(".autosave")).not_to_have_attribute("data-saved-at", "")
    page.reload()
    phone.expect_locked()
    page.get_by_role("button", name="Forgot PIN?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your PIN?")
    # What a new PIN would delete is counted (while locked), and unlocking to sync it is offered.
    at_stake = page.get_by_test_id("at-stake")
    expect(at_stake.locator("li")).to_have_text(["1 change not sent yet", "1 draft not finished"])
    expect(at_stake.get_by_role("button", name="Unlock and sync first")).to_be_visible()
    axe = Axe()
    problems = check_screen(page, "forgot-pin-at-stake", axe)
    phone.enter_password("officer2")  # offline: refused, nothing changes (nothing to confirm yet)
    expect(page.get_by_role("alert")).to_contain_text("No signal")
    page.get_by_role("button", name="Back to unlock").click()
    phone.expect_locked()

    phone.offline(False)
    page.get_by_role("button", name="Forgot PIN?").click()
    logins: list[int] = []
    page.on("response", lambda r: r.url.endswith("/api/auth/login") and logins.append(r.status))
    phone.enter_password("officer2")
    confirm = page.get_by_role("dialog", name="Delete what is on this phone?")
    expect(confirm).to_contain_text("1 change not sent yet and 1 draft not finished will be deleted")
    problems += check_screen(page, "forgot-pin-confirm", axe)
    confirm.get_by_role("button", name="Keep them").click()  # asked first: nothing happens
    expect(confirm).to_have_count(0)
    assert not logins and phone.idb()["outbox"], "kept: not even signed in"
    page.get_by_role("button", name="Sign in").click()
    confirm.get_by_role("button", name="Sign in and delete them").click()
    lost = page.get_by_test_id("lost-changes")
    expect(lost).to_contain_text("1 change could not be kept")
    expect(lost).to_contain_text("Home visit, recorded")
    expect(lost.get_by_test_id("lost-drafts")).to_contain_text("1 draft not finished")
    # The office hears about it before anything is cleared.
    rows = [r for r in admin_audit(server_url, visit_id) if r["action"] == "device:outbox_unreadable"]
    assert len(rows) == 1
    assert rows[0]["detail"]["count"] == 1 and rows[0]["detail"]["reason"] == "pin_forgotten"
    assert rows[0]["detail"]["changes"][0]["type"] == "visit"
    assert rows[0]["detail"]["drafts"] == 1 and rows[0]["detail"]["needs_correcting"] == 0
    problems += check_screen(page, "set-pin-lost", axe)

    phone.set_pin("917364")
    phone.wait_synced()
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    page.get_by_role("link", name="Problems (1)").click()
    expect(page.get_by_role("heading", name="Home visit: lost, not sent")).to_be_visible()
    problems += check_screen(page, "problems-lost", axe)
    assert not problems, "\n".join(problems)
    assert not [v for v in demo.office.records("visit") if v.get("notes") == notes]
    assert phone.idb()["outbox"] == []

    page.reload()  # the old PIN is gone with the old key; the new one works
    page.get_by_label("PIN", exact=True).fill(PIN)
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong PIN")
    phone.unlock("917364")
    phone.wait_synced()
