"""Device security in real Chromium: the idle lock (and its run-time setting), ten wrong PINs
wiping the phone and the loss reported, and a wipe in one tab reaching the others."""
from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PIN
from tests.browser.device_storage import admin_audit, long_named_case
from tests.browser.test_pwa_offline_sync import record_visit

pytestmark = pytest.mark.browser


def test_idle_past_five_minutes_locks_and_only_the_right_pin_unlocks_offline(devices, demo) -> None:
    case = long_named_case(demo, "officer4", skip=2)
    notes = f"Nobody home, curtains drawn {uuid.uuid4().hex[:8]}"
    phone = devices()
    phone.context.clock.install()
    page = phone.at_case("officer4", case, offline=True)
    record_visit(page, notes, outcome="no_answer")
    visit_id = phone.idb()["outbox"][0]["id"]
    status = "document.getElementById('sync-status').textContent"

    page.clock.fast_forward("04:50")
    assert "Locked" not in page.evaluate(status)
    page.get_by_role("link", name="Back to case").click()  # activity: the wait starts again
    expect(page.get_by_role("heading", level=1)).to_have_text(case["name"])
    page.clock.fast_forward("04:50")
    assert "Locked" not in page.evaluate(status), "locked although the officer was active"
    page.clock.fast_forward("00:20")  # five minutes and ten seconds without a touch
    phone.expect_locked()
    # Nothing personal is left on the screen, the title or the navigation.
    expect(page.locator("nav#nav")).to_be_hidden()
    for secret in (case["name"], case["pupil"]["last_name"], notes):
        assert secret not in page.content() and secret not in page.title()
    expect(page.get_by_role("button", name="Forgot PIN?")).to_be_visible()

    page.get_by_label("PIN", exact=True).fill("739104")
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong PIN. 9 tries left")
    phone.expect_locked()
    assert phone.meta("pin_failures") == 1

    phone.unlock(PIN)  # still offline
    expect(phone.status).to_contain_text("Offline")
    expect(phone.status).to_contain_text("1 change waiting")
    assert phone.meta("pin_failures") == 0
    expect(page.get_by_role("heading", level=1)).to_have_text(case["name"])  # back where it was
    page.locator(f"a[href$='/visit/{visit_id}']").click()
    expect(page.get_by_text(notes)).to_be_visible()
    phone.offline(False)
    phone.wait_synced()
    assert [v["notes"] for v in demo.office.records("visit") if v.get("notes") == notes] == [notes]


def test_the_idle_time_can_be_shortened_at_run_time(devices, demo) -> None:
    phone = devices()
    page = phone.page
    page.goto(phone.base + "/app/?lock=3")
    expect(page.locator("html[data-ready='1']")).to_be_attached()
    phone.enter_password("officer1")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set a PIN for this phone")
    page.get_by_label("PIN", exact=True).fill(PIN)
    page.get_by_label("Confirm PIN", exact=True).fill(PIN)
    page.get_by_role("button", name="Set PIN").click()
    started = time.monotonic()
    phone.expect_locked()  # three seconds without a touch
    assert time.monotonic() - started >= 2.5
    phone.unlock()  # (and three seconds later it locks again: assert nothing slower than a render)
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")


def test_ten_wrong_pins_in_a_row_wipe_the_device_and_the_loss_is_reported(devices, demo, server_url) -> None:
    case = demo.open_cases("officer4")[3]
    text = f"Dad works nights {uuid.uuid4().hex[:8]}"
    phone = devices()
    page = phone.at_case("officer4", case, offline=True)
    phone.add_note(text)
    note_id = phone.idb()["outbox"][0]["id"]

    page.reload()  # reopened: locked
    for i in range(1, 10):
        page.get_by_label("PIN", exact=True).fill(f"{739100 + i}")
        page.get_by_role("button", name="Unlock").click()
        left = 10 - i
        expect(page.get_by_role("alert")).to_contain_text(f"{left} {'try' if left == 1 else 'tries'} left")
        if i == 5:
            page.reload()  # the count is kept on the phone, not in the page
            phone.expect_locked()
    assert phone.meta("pin_failures") == 9
    page.get_by_label("PIN", exact=True).fill("739110")
    page.get_by_role("button", name="Unlock").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Doorstep")
    expect(page.get_by_text("Ten wrong PINs were entered")).to_be_visible()
    dump = phone.idb()
    assert dump is not None
    assert dump["records"] == [] and dump["outbox"] == [] and dump["notices"] == []
    meta = dict(zip(phone._meta_keys(), dump["meta"], strict=True))
    assert list(meta) == ["wipe_report"], "the keyring, the session and the data are gone"
    report = meta["wipe_report"]
    assert report["event"] == "pin_wipe" and report["attempts"] == 10
    assert [(c["type"], c["id"]) for c in report["lost"]] == [("note", note_id)]
    assert text not in str(report)
    assert all(n.startswith("doorstep-shell-") for n in page.evaluate("caches.keys()"))
    page.reload()  # still wiped, still explained, and the app still starts offline
    expect(page.get_by_text("Ten wrong PINs were entered")).to_be_visible()

    phone.offline(False)
    phone.enter_password("officer4")  # the report goes to the audit log with the new sign-in
    expect(page.get_by_test_id("lost-changes")).to_contain_text("1 change could not be kept")
    expect(page.get_by_test_id("lost-changes")).to_contain_text("Note, recorded")
    rows = [r for r in admin_audit(server_url, note_id) if r["action"] == "device:pin_wipe"]
    assert len(rows) == 1 and rows[0]["detail"]["count"] == 1 and rows[0]["detail"]["attempts"] == 10
    phone.set_pin("204816")
    phone.wait_synced()
    page.get_by_role("link", name="Problems (1)").click()
    expect(page.get_by_role("heading", name="Note: lost, not sent")).to_be_visible()
    assert not [n for n in demo.office.records("note") if n.get("text") == text]
    assert phone.meta("wipe_report") is None


def test_a_wipe_in_one_tab_starts_the_other_tabs_again(devices, demo) -> None:
    phone = devices()
    first = phone.open()
    phone.sign_in("officer1")
    expect(first.get_by_role("heading", level=1)).to_have_text("My caseload")
    second = phone.new_page()  # a second tab: locked, with its own key
    phone.open()
    for i in range(1, 11):
        second.get_by_label("PIN", exact=True).fill(f"{739100 + i}")
        second.get_by_role("button", name="Unlock").click()
        if i < 10:
            expect(second.get_by_role("alert")).to_contain_text(f"{10 - i} tr")
    expect(second.get_by_text("Ten wrong PINs were entered")).to_be_visible()
    # The first tab, unlocked a moment ago, drops its key and starts again.
    expect(first.get_by_role("heading", level=1)).to_have_text("Sign in to Doorstep")
    expect(first.get_by_text("Ten wrong PINs were entered")).to_be_visible()
