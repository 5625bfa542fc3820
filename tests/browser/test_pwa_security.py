"""Device security in real Chromium: nothing personal in plaintext on the phone, the idle
lock, wrong PINs and the wipe, signing out, a forgotten PIN, and data from before PINs."""
from __future__ import annotations

import base64
import binascii
import re
import time
import uuid
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Route, expect

from tests.browser.conftest import PIN, Api, demo_password
from tests.browser.test_pwa_a11y import check_screen
from tests.browser.test_pwa_offline_sync import record_visit

pytestmark = pytest.mark.browser

# Every value the page can store, as text: all IndexedDB databases (every store, every
# key and value, walked recursively; ArrayBuffers and typed arrays decoded as UTF-8,
# Latin-1 and UTF-16), localStorage, sessionStorage and every Cache Storage body.
WALK = """
const texts = [];
let cryptoKeys = 0;
const seen = new Set();
const decoders = ['utf-8', 'latin1', 'utf-16le'].map((e) => new TextDecoder(e));
function bytes(u8) { for (const d of decoders) texts.push(d.decode(u8)); }
function walk(v) {
  if (v === null || v === undefined) return;
  const t = typeof v;
  if (t === 'string') { texts.push(v); return; }
  if (t === 'number' || t === 'boolean' || t === 'bigint') { texts.push(String(v)); return; }
  if (t !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (v instanceof ArrayBuffer) { bytes(new Uint8Array(v)); return; }
  if (ArrayBuffer.isView(v)) { bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)); return; }
  if (globalThis.CryptoKey && v instanceof CryptoKey) { cryptoKeys += 1; return; }
  if (v instanceof Date) { texts.push(v.toISOString()); return; }
  if (v instanceof Map) { for (const [k, x] of v) { walk(k); walk(x); } return; }
  if (v instanceof Set) { for (const x of v) walk(x); return; }
  for (const k of Object.keys(v)) { texts.push(k); walk(v[k]); }
}
"""

STORAGE_DUMP = "async () => {" + WALK + """
  const stores = {};
  const dbs = indexedDB.databases ? await indexedDB.databases() : [{ name: 'doorstep' }];
  for (const { name } of dbs) {
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open(name);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    try {
      for (const s of db.objectStoreNames) {
        const t = db.transaction(s, 'readonly');
        const [keys, values] = await Promise.all(['getAllKeys', 'getAll'].map((m) => new Promise((resolve, reject) => {
          const q = t.objectStore(s)[m]();
          q.onsuccess = () => resolve(q.result);
          q.onerror = () => reject(q.error);
        })));
        stores[`${name}/${s}`] = values.length;
        walk(keys);
        walk(values);
      }
    } finally { db.close(); }
  }
  for (const area of [localStorage, sessionStorage]) {
    for (let i = 0; i < area.length; i += 1) { texts.push(area.key(i)); texts.push(area.getItem(area.key(i))); }
  }
  const caches_ = {};
  for (const cname of await caches.keys()) {
    const cache = await caches.open(cname);
    caches_[cname] = [];
    for (const req of await cache.keys()) {
      caches_[cname].push(new URL(req.url).pathname);
      bytes(new Uint8Array(await (await cache.match(req)).arrayBuffer()));
    }
  }
  return { texts, stores, caches: caches_, cryptoKeys };
}"""

# The same walker over a made-up value, to show it would find a name inside bytes.
WALK_CONTROL = "(name) => {" + WALK + """
  const u8 = new TextEncoder().encode(`{"first_name":"${name}"}`);
  walk({ deep: [{ buf: u8.buffer }] });
  walk(new Uint16Array([...name].map((c) => c.charCodeAt(0))));
  return texts;
}"""

B64 = re.compile(r"^[A-Za-z0-9+/_-]{12,}={0,2}$")


def everything_as_text(texts: list[str]) -> str:
    """The texts, plus anything in them that decodes as base64."""
    out = list(texts)
    for t in texts:
        for word in re.findall(r"[A-Za-z0-9+/_-]{12,}={0,2}", t):
            if B64.match(word):
                try:
                    out.append(base64.b64decode(word + "=" * (-len(word) % 4), altchars=b"-_").decode("latin-1"))
                except (binascii.Error, ValueError):
                    pass
    return "\n".join(out)


def plaintext_found(phone, secrets: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    dump = phone.page.evaluate(STORAGE_DUMP)
    haystack = everything_as_text(dump["texts"])
    return dump, [f"{what} ({value!r})" for what, value in secrets.items() if value in haystack]


def long_named_case(demo, username: str, skip: int = 0) -> dict[str, Any]:
    """A case whose pupil's names and address are long enough not to turn up in random bytes."""
    found = [c for c in demo.open_cases(username)
             if len(c["pupil"]["first_name"]) >= 5 and len(c["pupil"]["last_name"]) >= 5
             and c["household"] and len(c["household"]["address"]) >= 8]
    assert len(found) > skip, f"{username} has too few long-named cases"
    return found[skip]


def admin_audit(server_url: str, entity_id: str) -> list[dict[str, Any]]:
    admin = Api(server_url, "admin")
    try:
        return admin.get("/api/audit", entity_id=entity_id)["items"]
    finally:
        admin.close()


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


def test_idle_past_five_minutes_locks_and_only_the_right_pin_unlocks_offline(devices, demo) -> None:
    case = long_named_case(demo, "officer4", skip=2)
    notes = f"Nobody home, curtains drawn {uuid.uuid4().hex[:8]}"
    phone = devices()
    phone.context.clock.install()
    page = phone.open()
    phone.sign_in("officer4")
    phone.offline()
    phone.open_case(case)
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
    page = phone.open()
    phone.sign_in("officer4")
    phone.offline()
    phone.open_case(case)
    page.get_by_label("Add a note to this case").fill(text)
    page.get_by_role("button", name="Add note").click()
    expect(phone.status).to_contain_text("1 change waiting")
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
    page = phone.open()
    phone.sign_in("officer2")
    phone.offline()
    phone.open_case(case)
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

