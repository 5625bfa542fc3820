"""Revoking a phone without losing work (docs/protocol.md §2.6): a phone revoked as returned sends
what it recorded offline, then wipes and says so; a phone revoked as lost wipes, and the unsent
changes it lost are counted on the server and shown in the office. Named at sign-in, the phone
shows its name in "This phone" and the office sees it. Each new or changed screen passes axe at
360 x 640."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, Demo, Device, demo_password
from tests.browser.test_pwa_a11y import TARGETS

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")


def assert_accessible(page: Page, where: str, within: str | None = "#main") -> None:
    """No serious or critical axe violation; nothing ``within`` the screen's own content wider
    than the phone (the header's navigation is the shell's, checked by test_pwa_a11y.py)."""
    page.screenshot(path=f"/tmp/doorstep-revoke-{where.replace(' ', '-')}.png", full_page=True)
    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not bad, f"{where}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']} at "
                                             f"{[n['target'] for n in v['nodes']][:3]}" for v in bad)
    if within:
        wide = page.evaluate("""([sel, w]) => [...document.querySelectorAll(`${sel} *`)]
          .filter((el) => el.getBoundingClientRect().right > w + 0.5)
          .map((el) => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)""",
                             [within, PHONE["width"]])
        assert not wide, f"{where} is wider than the phone: {wide[:5]}"
        small = page.evaluate(TARGETS)
        assert not small, f"{where}: targets smaller than 44 px: {small}"


def listed(demo: Demo, device_id: str) -> dict[str, Any]:
    """The device as GET /api/devices lists it (every page followed)."""
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        body = demo.office.get("/api/devices", **params)
        for d in body["items"]:
            if d["id"] == device_id:
                return d
        cursor = body["next"]
        assert cursor, f"device {device_id} is not listed"


def sign_in_named(phone: Device, username: str, name: str) -> str:
    """Sign in, naming the phone; returns the name the field offered (browser and platform)."""
    field = phone.page.get_by_label("Name this phone")
    offered = field.input_value()
    field.fill(name)
    phone.sign_in(username)
    return offered


def add_note_offline(phone: Device, case: dict[str, Any], text: str) -> None:
    phone.offline()
    expect(phone.status).to_contain_text("Offline")
    phone.open_case(case)
    phone.add_note(text)


def notes_with(demo: Demo, text: str) -> list[dict[str, Any]]:
    return [n for n in demo.office.records("note") if n.get("text") == text]


def test_a_returned_phone_sends_its_offline_work_then_wipes_and_says_so(devices, demo) -> None:
    case = demo.open_cases("officer3")[2]
    text = f"Recorded on a phone being handed back {uuid.uuid4()}"
    name = f"Sam's old phone {uuid.uuid4().hex[:6]}"
    phone = devices()
    page = phone.open()
    assert_accessible(page, "sign-in with the phone's name")
    assert sign_in_named(phone, "officer3", name) == "Chrome on Linux"  # browser and platform
    device_id = phone.meta("device_id")
    d = listed(demo, device_id)
    assert d["name"] == name
    assert d["unsent"] == 0 and d["app_version"] and d["app_version"].startswith("doorstep-shell-")
    assert d["phone_last_sync_at"] is None or d["phone_last_sync_at"].endswith("Z")

    # the phone shows its name
    page.get_by_role("link", name="This phone").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This phone")
    expect(page.locator("[data-field=device-name]")).to_have_text(name)
    expect(page.locator("[data-field=app-version]")).to_have_text(d["app_version"])
    assert_accessible(page, "this phone")

    add_note_offline(phone, case, text)
    r = demo.office.post(f"/api/devices/{device_id}/revoke", {"kind": "returned", "reason": "Replaced by a new phone"})
    assert r.status_code == 200 and r.json()["kind"] == "returned", r.text
    phone.offline(False)

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Doorstep")
    message = page.get_by_text("The office has signed this phone out of Doorstep as returned or replaced")
    expect(message).to_be_visible()
    expect(message).to_contain_text("1 change was sent to the server first.")
    expect(message).not_to_contain_text("lost")
    assert_accessible(page, "sign-in after a returned phone's wipe")
    dump = phone.idb()
    assert dump is None or all(not rows for rows in dump.values()), dump
    # the note reached the server, once; the office sees the final push
    notes = notes_with(demo, text)
    assert len(notes) == 1 and notes[0]["subject_id"] == case["case"]["id"]
    rev = listed(demo, device_id)["revocation"]
    assert rev["kind"] == "returned" and rev["reason"] == "Replaced by a new phone"
    assert rev["final_push_at"] and rev["final_push_changes"] == 1 and rev["lost_unsent"] == 0
    # the officer signs in again on the same page: a new device that syncs as any other
    phone.sign_in("officer3")
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    fresh = phone.meta("device_id")
    assert fresh != device_id and listed(demo, fresh)["revoked"] is False
    assert not phone.errors


def office_sign_in(devices: Any, base: str) -> Page:
    desk = devices()
    page = desk.page
    page.goto(base + "/office/login")
    page.get_by_label("Username").fill("office")
    page.get_by_label("Password").fill(demo_password("office"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Devices", exact=True)).to_be_visible()
    return page


def test_a_lost_phone_wipes_and_the_office_sees_what_it_lost(devices, demo, server_url) -> None:
    case = demo.open_cases("officer3")[3]
    text = f"Recorded on a phone that is then lost {uuid.uuid4()}"
    name = f"Lost phone {uuid.uuid4().hex[:6]}"
    phone = devices()
    page = phone.open()
    sign_in_named(phone, "officer3", name)
    device_id = phone.meta("device_id")
    add_note_offline(phone, case, text)

    # the office revokes it as lost: the kind, a reason, then a confirmation
    desk = office_sign_in(devices, server_url)
    desk.get_by_role("link", name="Devices", exact=True).click()
    assert_accessible(desk, "office devices", within=None)
    row = desk.locator(f"tr[data-device='{device_id}']")
    expect(row).to_contain_text(name)
    row.get_by_role("button", name=f"Revoke {name}").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text(f"Revoke “{name}”")
    assert_accessible(desk, "office revoke form", within=None)
    desk.get_by_role("button", name="Continue").click()
    expect(desk.get_by_role("alert")).to_contain_text("Choose what happened to the phone.")
    assert_accessible(desk, "office revoke form with errors", within=None)
    desk.get_by_label("Lost or stolen").check()
    desk.get_by_label("Reason").fill("Left on the 8:10 bus")
    desk.get_by_role("button", name="Continue").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text(f"Revoke “{name}” as lost or stolen?")
    assert_accessible(desk, "office revoke confirmation", within=None)
    assert listed(demo, device_id)["revoked"] is False  # not before the confirmation
    desk.get_by_role("button", name="Yes, revoke this device").click()
    expect(desk.get_by_role("status")).to_contain_text(f"Revoked “{name}”")

    phone.offline(False)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Doorstep")
    message = page.get_by_text("The office has signed this phone out of Doorstep as lost or stolen")
    expect(message).to_contain_text("1 change that had not been sent was lost.")
    assert_accessible(page, "sign-in after a lost phone's wipe")
    dump = phone.idb()
    assert dump is None or all(not rows for rows in dump.values()), dump
    assert notes_with(demo, text) == []  # nothing is accepted from a lost phone

    rev = listed(demo, device_id)["revocation"]
    assert rev["kind"] == "lost" and rev["reason"] == "Left on the 8:10 bus"
    assert rev["lost_unsent"] == 1 and rev["lost_reported_at"]
    desk.reload()
    row = desk.locator(f"tr[data-device='{device_id}']")
    expect(row).to_contain_text("lost or stolen")
    expect(row).to_contain_text("“Left on the 8:10 bus”")
    expect(row).to_contain_text("1 unsent change lost")
    assert_accessible(desk, "office devices after the wipe", within=None)
    assert not phone.errors
