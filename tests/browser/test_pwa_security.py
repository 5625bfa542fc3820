"""Device security in real Chromium: nothing personal in plaintext on the phone, and data from
before PINs sealed once a PIN is set. (The idle lock and wrong PINs: test_pwa_lock.py; signing
out and a forgotten PIN: test_pwa_sign_out.py.)"""
from __future__ import annotations

import time
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import demo_password
from tests.browser.device_storage import WALK_CONTROL, everything_as_text, long_named_case, plaintext_found
from tests.browser.test_pwa_offline_sync import record_visit

pytestmark = pytest.mark.browser


def test_nothing_about_the_pupil_household_or_visit_is_stored_in_plaintext(devices, demo) -> None:
    case = long_named_case(demo, "officer3", skip=3)
    notes = f"Mum said the landlord cut the heating {uuid.uuid4().hex[:8]}"
    concern = f"Bruise on the left arm, explained as a fall {uuid.uuid4().hex[:8]}"
    pupil, household = case["pupil"], case["household"]
    secrets = {"first name": pupil["first_name"], "last name": pupil["last_name"],
               "address": household["address"], "visit notes": notes, "concern details": concern}
    phone = devices()
    page = phone.open()
    logins: list[dict] = []
    page.on("response", lambda r: r.url.endswith("/api/auth/login") and logins.append(r.json()))
    phone.sign_in("officer3")
    # The walker finds a name in bytes and in UTF-16: the search below is not blind.
    control = everything_as_text(page.evaluate(WALK_CONTROL, "Quillfeather"))
    assert control.count("Quillfeather") >= 2

    phone.offline()
    phone.open_case(case)
    record_visit(page, notes, concern=concern)
    expect(phone.status).to_contain_text("1 change waiting")
    expect(page.get_by_text(concern)).to_be_visible()  # the app reads it back…
    secrets["refresh token"] = logins[0]["refresh_token"]
    secrets["access token"] = logins[0]["access_token"]
    dump, found = plaintext_found(phone, secrets)  # …but the storage does not hold it in the clear
    assert not found, f"in plaintext on the phone while offline: {found}"
    assert dump["stores"]["doorstep/outbox"] == 1 and dump["stores"]["doorstep/records"] > 100
    haystack = "\n".join(dump["texts"])
    assert case["case"]["id"] in haystack and "visit" in haystack  # ids and type names may be plain
    assert dump["cryptoKeys"] == 0, "a key is stored: it must live only in memory"
    assert all(name.startswith("doorstep-shell-") for name in dump["caches"])
    assert not [p for paths in dump["caches"].values() for p in paths if "/api/" in p]

    phone.offline(False)  # synced: the visit comes back from the server into the records store
    phone.wait_synced()
    server = [v for v in demo.office.records("visit") if v.get("notes") == notes]
    assert len(server) == 1 and server[0]["concern_details"] == concern
    page.get_by_role("button", name="Sync now").click()
    phone.wait_synced()
    dump, found = plaintext_found(phone, secrets)
    assert not found, f"in plaintext on the phone after syncing: {found}"
    assert server[0]["id"] in "\n".join(dump["texts"])
    assert dump["stores"]["doorstep/outbox"] == 0
    assert not phone.errors


LEGACY_V1 = """async ({ session, caseId, note }) => {
  const db = await new Promise((resolve, reject) => {
    const r = indexedDB.open('doorstep', 1);
    r.onupgradeneeded = () => {
      const d = r.result;
      const records = d.createObjectStore('records', { keyPath: ['type', 'id'] });
      records.createIndex('type', 'type');
      const outbox = d.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
      outbox.createIndex('record', ['type', 'id']);
      outbox.createIndex('change_id', 'change_id', { unique: true });
      d.createObjectStore('meta');
      d.createObjectStore('notices', { keyPath: 'id' });
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  await new Promise((resolve, reject) => {
    const t = db.transaction(['records', 'outbox', 'meta'], 'readwrite');
    t.objectStore('meta').put(session, 'session');
    t.objectStore('records').put({ type: 'note', id: note.id, version: null, payload: {} });
    t.objectStore('outbox').add({
      change_id: crypto.randomUUID(), type: 'note', id: note.id, op: 'put', base_version: null,
      hlc: `${String(Date.now()).padStart(15, '0')}-000000-${session.device_id}`,
      created_at: new Date().toISOString(), sent: false,
      payload: { subject_type: 'case', subject_id: caseId, text: note.text },
    });
    t.oncomplete = () => { db.close(); resolve(); };
    t.onerror = () => reject(t.error);
  });
}"""


def test_plaintext_data_from_before_pins_is_sealed_once_a_pin_is_set(devices, demo, server_url) -> None:
    """A phone that ran Doorstep v1 (no PIN, plaintext) keeps its unsent work."""
    case = long_named_case(demo, "officer3", skip=4)
    r = httpx.post(server_url + "/api/auth/login", json={  # the v1 app's sign-in
        "username": "officer3", "password": demo_password("officer3"), "device_name": "Doorstep v1"})
    body = r.json()
    session = {"access_token": body["access_token"], "refresh_token": body["refresh_token"],
               "expires_at": int(time.time() * 1000) + 600_000, "device_id": body["device_id"], "user": body["user"]}
    note = {"id": str(uuid.uuid4()), "text": f"Written by the old app {uuid.uuid4().hex[:8]}"}
    phone = devices()
    page = phone.page
    page.goto(phone.base + "/app/manifest.webmanifest")  # same origin, no app code
    page.evaluate(LEGACY_V1, {"session": session, "caseId": case["case"]["id"], "note": note})
    phone.open()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set a PIN for this phone")
    expect(page.get_by_text("Doorstep now locks with a PIN")).to_be_visible()
    phone.set_pin()
    phone.wait_synced()
    assert [n["subject_id"] for n in demo.office.records("note") if n.get("text") == note["text"]] == [case["case"]["id"]]
    _, found = plaintext_found(phone, {"note": note["text"], "refresh token": session["refresh_token"],
                                       "pupil": case["pupil"]["last_name"]})
    assert not found, found
    page.reload()
    phone.unlock()
    phone.wait_synced()
