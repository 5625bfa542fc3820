"""Expired tokens refresh by themselves; a change the server rejects is shown with its reason."""
from __future__ import annotations

import json
import uuid

import pytest
from playwright.sync_api import Route, expect

pytestmark = pytest.mark.browser


def test_an_expired_access_token_is_refreshed_and_the_sync_retried(devices, demo) -> None:
    phone = devices()
    page = phone.open()
    logins: list[dict] = []
    page.on("response", lambda r: r.url.endswith("/api/auth/login") and logins.append(r.json()))
    phone.sign_in("officer3")
    first = logins[0]
    expired = json.dumps({"error": {"code": "token_expired", "message": "expired", "details": {}}})
    answered: list[int] = []

    def expire_once(route: Route) -> None:
        if not answered:
            answered.append(401)
            route.fulfill(status=401, body=expired, content_type="application/json")
        else:
            route.continue_()

    phone.context.route("**/api/sync/pull*", expire_once)
    refreshes: list[tuple[dict, int, dict]] = []
    pulls: list[str | None] = []
    page.on("request", lambda r: "/api/sync/pull" in r.url and pulls.append(r.headers.get("authorization")))
    page.on("response", lambda r: r.url.endswith("/api/auth/refresh")
            and refreshes.append((json.loads(r.request.post_data or "{}"), r.status, r.json())))
    page.get_by_role("button", name="Sync now").click()
    expect(phone.status).to_contain_text("Syncing")
    phone.wait_synced()
    assert answered == [401] and [status for _, status, _ in refreshes] == [200]
    sent, _, got = refreshes[0]
    assert sent["refresh_token"] == first["refresh_token"]
    assert got["access_token"] != first["access_token"] and got["refresh_token"] != first["refresh_token"]
    assert pulls[-1] == f"Bearer {got['access_token']}"

    # The new pair was stored (sealed): after a reopen, the next refresh presents the new
    # refresh token (the old one is spent: presenting it again would revoke the phone).
    answered.clear()
    page.reload()
    phone.unlock()
    phone.wait_synced()
    assert [status for _, status, _ in refreshes] == [200, 200]
    assert refreshes[1][0]["refresh_token"] == got["refresh_token"]
    assert phone.meta("device_id") == first["device_id"]


def test_a_rejected_change_is_shown_with_the_servers_reason(devices, demo) -> None:
    case = demo.open_cases("officer3")[2]
    notes = f"Draft first {uuid.uuid4().hex[:6]}"
    phone = devices()
    page = phone.at_case("officer3", case)
    page.get_by_role("button", name="Record visit").click()
    page.get_by_label("Outcome").select_option("no_answer")
    phone.form_section("Barriers and notes")  # the form is in sections (pwa/views/sections.js)
    page.get_by_label("Notes", exact=True).fill(notes)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved on this phone.")).to_be_visible()
    phone.wait_synced()
    visit = next(v for v in demo.office.records("visit") if v.get("notes") == notes)

    # The office submits the draft (so it is now immutable) while the phone is offline.
    phone.offline()
    demo.office.put("visit", visit["id"], {"status": "submitted"}, visit["_version"])
    page.get_by_label("Notes", exact=True).fill(notes + " and a later thought")
    page.get_by_role("button", name="Save draft").click()
    expect(phone.status).to_contain_text("1 change waiting")
    phone.offline(False)
    phone.wait_synced()

    page.get_by_role("link", name="Problems (1)").click()
    expect(page.get_by_role("heading", name="Home visit: not accepted")).to_be_visible()
    expect(page.locator("ul.notices")).to_contain_text("was submitted; add a note to correct it")
    expect(page.locator("ul.notices")).to_contain_text("and a later thought")
    server = demo.office.record("visit", visit["id"])
    assert server["notes"] == notes and server["status"] == "submitted"
