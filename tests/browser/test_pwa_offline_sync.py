"""Work recorded offline reaches the server once, without a click, with the officer from the token."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from playwright.sync_api import Route, expect

from .conftest import form_section, submit_form

pytestmark = pytest.mark.browser

NEXT_CONTACT = (dt.date.today() + dt.timedelta(days=2)).isoformat()


def record_visit(page, notes: str, *, outcome: str = "spoke_to_parent", concern: str | None = None,
                 read_only_shown: bool = True) -> None:
    """Fill and submit the visit form; by default wait for the submitted visit's read-only page
    (a test whose sync ends the sign-in at once may see the sign-in screen first instead)."""
    page.get_by_role("button", name="Record visit").click()
    page.get_by_label("Outcome").select_option(outcome)
    if outcome not in ("no_answer", "card_left", "refused"):  # else "child seen" asks first (test_pwa_checks.py)
        page.get_by_label("Child seen").check()
    if concern:
        form_section(page, "Safeguarding")  # the form is in sections (pwa/views/sections.js)
        page.get_by_label("Safeguarding concern").check()
        page.get_by_label("Concern details").fill(concern)
    form_section(page, "Barriers and notes")
    page.locator("details.barriers > summary").click()  # the barriers are behind a disclosure
    page.get_by_label("Physical health").check()
    page.get_by_label("Notes", exact=True).fill(notes)
    submit_form(page)
    if read_only_shown:
        expect(page.get_by_text("Submitted: read-only.")).to_be_visible()


def record_conversation(page, spoke_with: str, action: str) -> None:
    page.get_by_role("button", name="Record conversation").click()
    page.get_by_label("Who was spoken to").fill(spoke_with)
    page.get_by_label("Reason given").fill("Says mornings are hard since the new baby")
    form_section(page, "Barriers and views")
    page.locator("details.barriers > summary").click()  # the barriers are behind a disclosure
    page.get_by_label("Parental illness").check()
    page.get_by_label("Parent's view").fill("Wants help with the school run")
    form_section(page, "What happens next")
    page.get_by_role("button", name="Add action").click()
    page.get_by_label("Action 1", exact=True).fill(action)
    page.get_by_label("Owner of action 1").fill("parent")
    page.get_by_label("Action 1 due date").fill("2026-12-01")
    page.get_by_label("Next contact").fill(NEXT_CONTACT)  # after today: one before today asks first
    submit_form(page)
    expect(page.get_by_text("Submitted: read-only.")).to_be_visible()


def test_offline_visit_and_conversation_sync_by_themselves(devices, demo) -> None:
    case = demo.open_cases("officer2")[0]
    officer = demo.user("officer2")
    notes = f"Offline visit {uuid.uuid4()}"
    spoke = f"Mum {uuid.uuid4().hex[:6]}"
    phone = devices()
    page = phone.open()
    phone.sign_in("officer2")
    phone.offline()
    expect(phone.status).to_contain_text("Offline")
    phone.open_case(case)
    record_visit(page, notes)
    page.get_by_role("link", name="Back to case").click()
    record_conversation(page, spoke, "Walk to school together on Mondays")
    expect(phone.status).to_contain_text("2 changes waiting")
    # Both are on disk before anything is sent.
    outbox = phone.idb()["outbox"]
    assert sorted(e["type"] for e in outbox) == ["conversation", "visit"]

    phone.offline(False)  # no click: the online event (and retries) sync it
    phone.wait_synced()
    expect(phone.status).not_to_contain_text("waiting")

    visits = [v for v in demo.office.records("visit") if v.get("notes") == notes]
    assert len(visits) == 1
    v = visits[0]
    assert v["officer_id"] == officer["id"]
    assert v["case_id"] == case["case"]["id"]
    assert v["status"] == "submitted" and v["outcome"] == "spoke_to_parent" and v["child_seen"] is True
    assert v["barriers"] == ["physical_health"]
    convs = [c for c in demo.office.records("conversation") if c.get("spoke_with") == spoke]
    assert len(convs) == 1
    c = convs[0]
    assert c["created_by"] == officer["id"] and c["status"] == "submitted"
    assert c["agreed_actions"] == [{"action": "Walk to school together on Mondays", "owner": "parent", "due_on": "2026-12-01"}]
    assert c["next_contact_on"] == NEXT_CONTACT
    assert phone.idb()["outbox"] == []
    # The case screen shows them in the chronology, no longer waiting.
    phone.open_case(case)
    expect(page.get_by_role("link", name="Conversation,").first).to_be_visible()
    assert not phone.errors


def test_closing_the_page_after_submit_loses_nothing(devices, demo) -> None:
    case = demo.open_cases("officer2")[1]
    notes = f"Closed before sync {uuid.uuid4()}"
    phone = devices()
    page = phone.open()
    phone.sign_in("officer2")
    phone.offline()
    phone.open_case(case)
    record_visit(page, notes, outcome="no_answer")
    page.close()

    phone.offline(False)
    page = phone.new_page()
    phone.open()
    phone.unlock()
    phone.wait_synced()
    assert [v["notes"] for v in demo.office.records("visit") if v.get("notes") == notes] == [notes]
    assert phone.idb()["outbox"] == []


def test_a_lost_answer_is_resent_and_applied_once(devices, demo) -> None:
    """The push reaches the server but the answer never comes back; the page closes."""
    case = demo.open_cases("officer2")[2]
    notes = f"Answer lost {uuid.uuid4()}"
    phone = devices()
    page = phone.open()
    phone.sign_in("officer2")
    phone.offline()
    phone.open_case(case)
    record_visit(page, notes, outcome="card_left")
    seen: list[str] = []

    def lose_answer(route: Route) -> None:
        route.fetch()  # the server applies the batch…
        seen.append(route.request.post_data or "")
        route.abort("connectionreset")  # …and the answer is lost

    phone.context.route("**/api/sync/push", lose_answer)
    phone.offline(False)
    expect(phone.status).to_contain_text("retrying")
    assert seen and notes in seen[0]
    page.close()
    phone.context.unroute("**/api/sync/push")

    results: list[dict] = []
    page = phone.new_page()
    page.on("response", lambda r: r.url.endswith("/api/sync/push") and results.extend(r.json()["results"]))
    phone.open()
    phone.unlock()
    phone.wait_synced()
    assert [v["notes"] for v in demo.office.records("visit") if v.get("notes") == notes] == [notes]
    assert [r["status"] for r in results] == ["duplicate"]
    assert phone.idb()["outbox"] == []


def test_a_conversation_recorded_on_a_visit_is_linked_to_it_and_shown_at_its_time(devices, demo) -> None:
    case = demo.open_cases("officer2")[0]
    notes = f"Visit with a talk {uuid.uuid4()}"
    spoke = f"Dad {uuid.uuid4().hex[:6]}"
    phone = devices()
    page = phone.open()
    phone.sign_in("officer2")
    phone.offline()
    phone.open_case(case)
    record_visit(page, notes)
    page.get_by_role("button", name="Record conversation on this visit").click()
    held = page.get_by_label("Held during a visit")
    chosen = held.locator("option:checked")
    expect(chosen).to_contain_text("Home visit,")
    visit_label = chosen.inner_text()
    page.get_by_label("Who was spoken to").fill(spoke)
    submit_form(page)
    expect(page.get_by_text("Submitted: read-only.")).to_be_visible()
    expect(page.get_by_role("link", name=visit_label)).to_be_visible()

    phone.offline(False)
    phone.wait_synced()
    visit = next(v for v in demo.office.records("visit") if v.get("notes") == notes)
    conv = next(c for c in demo.office.records("conversation") if c.get("spoke_with") == spoke)
    assert conv["visit_id"] == visit["id"] and conv["case_id"] == case["case"]["id"]
    # A conversation recorded from the case is on no visit unless the officer picks one.
    phone.open_case(case)
    page.get_by_role("button", name="Record conversation").click()
    expect(page.get_by_label("Held during a visit").locator("option:checked")).to_have_text("Not on a visit")
    assert not phone.errors
