"""The office acts on a device: revocation wipes it; a reassigned case leaves it, offline work still arrives."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.test_pwa_offline_sync import record_visit

pytestmark = pytest.mark.browser


def test_a_revoked_device_is_wiped_and_shows_sign_in(devices, demo) -> None:
    phone = devices()
    page = phone.open()
    phone.sign_in("officer1")
    device_id = phone.meta("device_id")
    assert phone.idb()["records"]
    listed = demo.office.get("/api/devices")["items"]
    assert device_id in [d["id"] for d in listed]

    r = demo.office.post(f"/api/devices/{device_id}/revoke")
    assert r.status_code == 200, r.text
    page.get_by_role("button", name="Sync now").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Doorstep")
    expect(page.get_by_text("The office has signed this phone out")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_visible()
    dump = phone.idb()
    assert dump is None or all(not rows for rows in dump.values()), dump
    assert page.evaluate("async () => (await caches.keys()).length") in (0, 1)  # the shell may be fetched again
    # Reloading keeps it signed out, and signing in again works.
    page.reload()
    expect(page.get_by_label("Username")).to_be_visible()
    phone.sign_in("officer1")
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")


def test_a_reassigned_case_leaves_the_device_but_offline_work_reaches_the_server(devices, demo) -> None:
    case = demo.open_cases("officer4")[0]
    case_id = case["case"]["id"]
    other = demo.user("officer1")["id"]
    notes = f"Visited before the case moved {uuid.uuid4()}"
    phone = devices()
    page = phone.at_case("officer4", case, offline=True)
    record_visit(page, notes)
    expect(phone.status).to_contain_text("1 change waiting")

    # Meanwhile the office gives the case to another officer.
    demo.office.put("case", case_id, {"assigned_officer_id": other}, case["case"]["_version"])
    phone.offline(False)
    phone.wait_synced()

    # The visit reached the server, flagged for the office, with this officer on it.
    officer4 = demo.user("officer4")["id"]
    visits = [v for v in demo.office.records("visit") if v.get("notes") == notes]
    assert len(visits) == 1 and visits[0]["officer_id"] == officer4
    flagged = demo.office.get("/api/visits", flag="out_of_scope")["items"]
    assert visits[0]["id"] in [v["id"] for v in flagged]
    # …and the case, its pupil and its visits are gone from the phone.
    expect(page.get_by_role("heading", level=1)).to_have_text("Case not on this device")
    page.get_by_role("link", name="Caseload", exact=True).click()
    expect(page.locator(f"a[href='#/case/{case_id}']")).to_have_count(0)
    records = phone.idb()["records"]
    ids = {r["id"] for r in records}
    assert case_id not in ids
    assert case["pupil"]["id"] not in ids
    assert visits[0]["id"] not in ids
    assert phone.idb()["outbox"] == []


def test_upgrade_required_keeps_the_outbox_and_asks_to_reload(devices, demo) -> None:
    case = demo.open_cases("officer4")[1]
    text = f"Kept through an upgrade {uuid.uuid4().hex[:6]}"
    phone = devices()
    page = phone.at_case("officer4", case, offline=True)
    phone.add_note(text)

    body = '{"error": {"code": "upgrade_required", "message": "Protocol 2 needed", "details": {}}}'
    phone.context.route("**/api/sync/**", lambda r: r.fulfill(status=426, body=body, content_type="application/json"))
    phone.offline(False)
    expect(page.get_by_text("Doorstep needs updating before it can sync")).to_be_visible()
    expect(phone.status).to_contain_text("1 change waiting")
    assert len(phone.idb()["outbox"]) == 1

    phone.context.unroute("**/api/sync/**")  # "the new version" is deployed
    page.get_by_role("button", name="Reload to update").click()
    phone.unlock()  # a reload is a reopen: locked
    phone.wait_synced()
    notes = [n for n in demo.office.records("note") if n.get("text") == text]
    assert len(notes) == 1 and notes[0]["subject_id"] == case["case"]["id"]
