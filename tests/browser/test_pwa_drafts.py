"""Field work is never lost: a form is kept on the phone as it is typed and
survives the idle lock, navigation, a reload, closing the tab and a restart; the
Drafts list resumes it; discarding asks first (pwa/drafts.js, docs/pwa.md)."""
from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import CHROMIUM, HERMETIC, PHONE, Device

pytestmark = pytest.mark.browser

KEPT = "Kept on this phone as you type (last at"


def start_visit(page: Page, case: dict[str, Any]) -> None:
    page.get_by_role("button", name="Record visit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Record visit: {case['name']}")


def drafts_rows(phone: Device) -> list[dict[str, Any]]:
    return (phone.idb() or {}).get("drafts", [])


def test_the_idle_lock_saves_the_form_sealed_and_unlock_reopens_it_as_it_was(devices, demo) -> None:
    case = demo.open_cases("officer1")[11]
    notes = f"Curtains twitched, nobody came {uuid.uuid4().hex[:8]}"
    details = f"Shouting heard inside {uuid.uuid4().hex[:8]}"
    phone = devices()
    phone.context.clock.install()
    page = phone.at_case("officer1", case)
    start_visit(page, case)
    page.get_by_label("Outcome").select_option("card_left")
    phone.form_section("Safeguarding")  # the form is in sections (pwa/views/sections.js)
    page.get_by_label("Safeguarding concern").check()
    page.get_by_label("Concern details").fill(details)
    phone.form_section("Barriers and notes")
    page.locator("details.barriers > summary").click()  # the barriers are behind a disclosure
    page.get_by_label("Housing", exact=True).check()
    page.get_by_label("Notes", exact=True).fill(notes)
    # No pause: the officer is called away mid-sentence and the phone locks.
    page.clock.fast_forward("05:30")
    phone.expect_locked()
    for secret in (notes, details, case["name"]):
        assert secret not in page.content()
    rows = drafts_rows(phone)
    assert len(rows) == 1 and rows[0]["type"] == "visit", rows
    assert notes not in json.dumps(phone.idb(), default=str), "the draft is stored sealed"
    assert not phone.idb()["outbox"], "a kept draft is not sent"

    phone.unlock()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Record visit: {case['name']}")
    expect(page.get_by_label("Notes", exact=True)).to_have_value(notes)
    expect(page.get_by_label("Outcome")).to_have_value("card_left")
    expect(page.get_by_label("Safeguarding concern")).to_be_checked()
    expect(page.get_by_label("Concern details")).to_have_value(details)
    expect(page.get_by_label("Housing", exact=True)).to_be_checked()

    phone.submit_form()
    expect(page.get_by_text("Submitted: read-only.")).to_be_visible()
    phone.wait_synced()
    assert not drafts_rows(phone), "a submitted visit is no longer a draft"
    server = [v for v in demo.office.records("visit") if v.get("notes") == notes]
    assert len(server) == 1 and server[0]["concern_details"] == details and server[0]["barriers"] == ["housing"]
    assert not phone.errors


def test_navigating_away_mid_form_keeps_it_and_the_drafts_list_resumes_it(devices, demo) -> None:
    case = demo.open_cases("officer2")[11]
    who = f"Mum (Jo {uuid.uuid4().hex[:6]})"
    action = f"Walk to school together {uuid.uuid4().hex[:6]}"
    phone = devices()
    page = phone.at_case("officer2", case)
    page.get_by_role("button", name="Record conversation").click()
    page.get_by_label("Who was spoken to").fill(who)
    phone.form_section("What happens next")
    page.get_by_role("button", name="Add action").click()
    page.get_by_label("Action 1", exact=True).fill(action)
    page.get_by_role("button", name="Add action").click()  # a second row, left empty
    # Straight to the caseload, before the autosave's pause has passed.
    page.get_by_role("link", name="Caseload", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    expect(page.get_by_role("link", name="Drafts (1)")).to_be_visible()

    page.go_back()  # the phone's Back
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Record conversation: {case['name']}")
    expect(page.get_by_label("Who was spoken to")).to_have_value(who)
    expect(page.get_by_label("Action 1", exact=True)).to_have_value(action)
    expect(page.get_by_label("Action 2", exact=True)).to_have_value("")  # exactly as it was

    page.get_by_role("link", name="Back to case").click()
    expect(page.get_by_role("heading", name="Not finished on this phone")).to_be_visible()
    page.get_by_role("link", name="Transport").click()
    page.get_by_role("link", name="Drafts (1)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Drafts")
    page.get_by_role("link", name=f"Resume Conversation: {case['name']}").click()
    expect(page.get_by_label("Who was spoken to")).to_have_value(who)
    page.get_by_role("button", name="Save draft").click()  # "Save draft" still sends a draft record
    expect(page.get_by_text("Draft saved on this phone.")).to_be_visible()
    phone.wait_synced()
    saved = [c for c in demo.office.records("conversation") if c.get("spoke_with") == who]
    assert len(saved) == 1 and saved[0]["status"] == "draft"
    assert saved[0]["agreed_actions"] == [{"action": action, "owner": None, "due_on": None}]
    expect(page.get_by_role("link", name="Drafts", exact=True)).to_be_visible()  # nothing kept beside it
    assert not phone.errors


def test_an_invalid_form_is_kept_through_a_reload_and_closing_the_tab(devices, demo) -> None:
    case = demo.open_cases("officer3")[11]
    marker = uuid.uuid4().hex[:8]
    long_notes = f"{marker} " + "word " * 2_001  # over the 10,000 characters the server takes
    phone = devices()
    page = phone.at_case("officer3", case)
    start_visit(page, case)
    phone.form_section("Barriers and notes")
    page.get_by_label("Notes", exact=True).fill(long_notes)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("alert")).to_contain_text("Notes is too long")  # blocks sending…
    assert not phone.idb()["outbox"]
    expect(page.get_by_text(KEPT)).to_be_visible()  # …never typing

    page.reload()
    phone.unlock()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Record visit: {case['name']}")
    expect(page.get_by_label("Notes", exact=True)).to_have_value(long_notes)

    short = f"{marker} shortened after the reload"
    line = page.locator(".autosave")
    before = line.get_attribute("data-saved-at")
    page.get_by_label("Notes", exact=True).fill(short)
    expect(line).not_to_have_attribute("data-saved-at", before or "")  # kept within a second
    page.close()  # the tab is closed
    page = phone.new_page()
    phone.open()
    phone.unlock()
    page.get_by_role("link", name="Drafts (1)").click()
    page.get_by_role("link", name=f"Resume Home visit: {case['name']}").click()
    expect(page.get_by_label("Notes", exact=True)).to_have_value(short)
    phone.form_section("The visit")
    page.get_by_label("Outcome").select_option("no_answer")
    phone.submit_form()
    expect(page.get_by_text("Submitted: read-only.")).to_be_visible()
    phone.wait_synced()
    assert [v["notes"] for v in demo.office.records("visit") if marker in (v.get("notes") or "")] == [short]


def test_a_draft_survives_a_phone_restart(browser: Browser, server_url: str, demo, tmp_path: Path) -> None:
    case = demo.open_cases("officer4")[11]
    text = f"Dad says the bus was late all week {uuid.uuid4().hex[:8]}"
    profile = tmp_path / "phone-profile"

    def boot() -> Device:
        ctx = browser.browser_type.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=[HERMETIC], viewport=PHONE, bypass_csp=True)
        return Device(ctx, server_url)

    phone = boot()
    try:
        page = phone.at_case("officer4", case)
        page.get_by_label("Add a note to this case").fill(text)
        expect(page.get_by_text(KEPT)).to_be_visible()
    finally:
        phone.context.close()  # the phone is switched off

    phone = boot()
    try:
        page = phone.open()
        phone.unlock()
        expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
        page.get_by_role("link", name="Drafts (1)").click()
        page.get_by_role("link", name=f"Resume Note: {case['name']}").click()
        expect(page.get_by_label("Add a note to this case")).to_have_value(text)
        page.get_by_role("button", name="Add note").click()
        # (the "Note saved" flash can be cleared by a sync's redraw at once: the server's copy is the check)
        phone.wait_synced()
        assert [n["text"] for n in demo.office.records("note") if n.get("text") == text] == [text]
        assert not drafts_rows(phone)
        assert not phone.errors
    finally:
        phone.context.close()


def test_discarding_a_draft_asks_first(devices, demo) -> None:
    case = demo.open_cases("officer1")[12]
    notes = f"Will call back Thursday {uuid.uuid4().hex[:8]}"
    phone = devices()
    page = phone.at_case("officer1", case)
    start_visit(page, case)
    phone.form_section("Barriers and notes")
    page.get_by_label("Notes", exact=True).fill(notes)
    expect(page.get_by_text(KEPT)).to_be_visible()

    # From the form: asked, and "Keep it" keeps it.
    page.get_by_role("button", name="Discard draft").click()
    dialog = page.get_by_role("dialog", name="Discard this draft?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Keep it")).to_be_focused()
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_label("Notes", exact=True)).to_have_value(notes)
    assert len(drafts_rows(phone)) == 1

    # From the Drafts list: Escape is "keep it" too; only "Discard draft" discards.
    page.get_by_role("link", name="Drafts (1)").click()
    item = page.locator("ul.drafts li", has_text=f"Home visit: {case['name']}")
    item.get_by_role("button", name=f"Discard Home visit: {case['name']}").click()
    expect(page.get_by_role("dialog", name="Discard this draft?")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(item).to_be_visible()
    item.get_by_role("button", name=f"Discard Home visit: {case['name']}").click()
    page.get_by_role("dialog").get_by_role("button", name="Discard draft").click()
    expect(page.get_by_text("Nothing unfinished.")).to_be_visible()
    expect(page.get_by_role("link", name="Drafts", exact=True)).to_be_visible()
    assert not drafts_rows(phone)
    assert not phone.idb()["outbox"], "nothing was ever sent"
    assert not phone.errors


def test_a_version_1_database_is_upgraded_with_its_data(devices, demo) -> None:
    """Phones that installed Doorstep before drafts: the upgrade adds the store and keeps the rest."""
    phone = devices()
    page = phone.page
    page.goto(phone.base + "/app/manifest.webmanifest")  # the app's origin, without the app
    page.evaluate("""() => new Promise((resolve, reject) => {
      const r = indexedDB.open('doorstep', 1);
      r.onupgradeneeded = () => {
        const db = r.result;
        const records = db.createObjectStore('records', { keyPath: ['type', 'id'] });
        records.createIndex('type', 'type');
        const outbox = db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
        outbox.createIndex('record', ['type', 'id']);
        outbox.createIndex('change_id', 'change_id', { unique: true });
        db.createObjectStore('meta');
        db.createObjectStore('notices', { keyPath: 'id' });
      };
      r.onsuccess = () => {
        const t = r.result.transaction('meta', 'readwrite');
        t.objectStore('meta').put('001795421700000-000000-old-device', 'hlc');
        t.oncomplete = () => { r.result.close(); resolve(); };
        t.onerror = () => reject(t.error);
      };
      r.onerror = () => reject(r.error);
    })""")
    phone.open()
    version = page.evaluate("""() => new Promise((resolve, reject) => {
      const r = indexedDB.open('doorstep');
      r.onsuccess = () => { const v = [r.result.version, [...r.result.objectStoreNames]]; r.result.close(); resolve(v); };
      r.onerror = () => reject(r.error);
    })""")
    assert version[0] == 2 and "drafts" in version[1], version
    assert phone.meta("hlc") == "001795421700000-000000-old-device"
    phone.sign_in("officer2")
    assert not phone.errors


def test_the_household_form_is_kept_as_typed_and_checked_before_it_is_sent(devices, demo) -> None:
    """The contacts and access notes form keeps its draft and checks the declared schema, like the visit form."""
    case = demo.open_cases("officer4")[12]
    hh_id = case["pupil"]["household_id"]
    marker = uuid.uuid4().hex[:8]
    phone = devices()
    page = phone.at_case("officer4", case)
    page.get_by_role("link", name="Edit contacts and access notes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts and access notes")
    n = len(case["household"].get("contacts") or []) + 1
    too_long = f"{marker} " + "Side gate. " * 200  # over the 2,000 characters the schema allows
    page.get_by_label("Access notes").fill(too_long)
    page.get_by_role("button", name="Add contact").click()
    page.get_by_label(f"Contact {n} phone").fill("07700 900123")  # a phone number without a name
    # Away before the autosave's pause, and back through the Drafts list: kept as typed.
    page.get_by_role("link", name="Caseload", exact=True).click()
    page.get_by_role("link", name="Drafts (1)").click()
    page.get_by_role("link", name=f"Resume Contacts and access notes: {case['name']}").click()
    expect(page.get_by_label("Access notes")).to_have_value(too_long)
    expect(page.get_by_label(f"Contact {n} phone")).to_have_value("07700 900123")
    expect(page.get_by_label(f"Contact {n} name")).to_have_value("")

    # Checked against the schema before anything is queued; the problems show beside the fields.
    page.get_by_role("button", name="Save household details").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Access notes is too long")
    expect(alert).to_contain_text("Give the contact's name, or remove the contact.")
    expect(page.get_by_label(f"Contact {n} name")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Access notes")).to_have_accessible_description(re.compile("at most 2,000 characters"))
    assert not phone.idb()["outbox"], "nothing was queued"
    assert len(drafts_rows(phone)) == 1

    page.reload()  # still kept
    phone.unlock()
    expect(page.get_by_label("Access notes")).to_have_value(too_long)
    short = f"{marker} Side gate, ring twice."
    page.get_by_label("Access notes").fill(short)
    page.get_by_label(f"Contact {n} name").fill(f"Aunt {marker}")
    page.get_by_role("button", name="Save household details").click()
    # (the "saved" flash can be cleared by the sync's redraw at once: the server's copy is the check)
    expect(page.get_by_role("heading", level=1)).to_have_text(case["name"])
    phone.wait_synced()
    server = demo.office.record("household", hh_id)
    assert server["access_notes"] == short
    assert {"name": f"Aunt {marker}", "relationship": None, "phone": "07700 900123"} in server["contacts"]
    assert not drafts_rows(phone), "sent: the draft has done its job"
    assert not phone.errors
