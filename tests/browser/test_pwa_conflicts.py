"""Two phones edit one household offline: different fields both survive; the same field is a conflict."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def two_households(demo, username: str) -> list[dict]:
    seen: set[str] = set()
    out = []
    for c in demo.open_cases(username):
        hh = c["pupil"].get("household_id")
        if hh and hh not in seen:
            seen.add(hh)
            out.append(c)
    return out


def edit_household(page, case, *, access_notes: str | None = None, contact: tuple[str, str, str] | None = None) -> None:
    page.get_by_role("link", name="Edit contacts and access notes").click()
    if access_notes is not None:
        page.get_by_label("Access notes").fill(access_notes)
    if contact is not None:
        n = len(case["household"].get("contacts") or []) + 1
        page.get_by_role("button", name="Add contact").click()
        page.get_by_label(f"Contact {n} name").fill(contact[0])
        page.get_by_label(f"Contact {n} relationship").fill(contact[1])
        page.get_by_label(f"Contact {n} phone").fill(contact[2])
    page.get_by_role("button", name="Save household details").click()
    expect(page.get_by_text("Household details saved on this phone.")).to_be_visible()


def signed_in_pair(devices, username: str):
    a, b = devices(), devices()
    for phone in (a, b):
        phone.open()
        phone.sign_in(username)
    return a, b


def test_different_fields_edited_on_two_phones_both_survive(devices, demo) -> None:
    case = two_households(demo, "officer3")[0]
    hh_id = case["pupil"]["household_id"]
    notes = f"Side gate, ring twice {uuid.uuid4().hex[:6]}"
    gran = f"Gran {uuid.uuid4().hex[:6]}"
    a, b = signed_in_pair(devices, "officer3")
    for phone in (a, b):
        phone.offline()
        phone.open_case(case)
    edit_household(a.page, case, access_notes=notes)
    edit_household(b.page, case, contact=(gran, "grandmother", "07700 900999"))
    expect(a.status).to_contain_text("1 change waiting")
    expect(b.status).to_contain_text("1 change waiting")

    a.offline(False)
    a.wait_synced()
    b.offline(False)
    b.wait_synced()
    a.page.get_by_role("button", name="Sync now").click()
    a.wait_synced()

    server = demo.office.record("household", hh_id)
    assert server["access_notes"] == notes
    assert gran in [c["name"] for c in server["contacts"]]
    for phone in (a, b):
        phone.open_case(case)
        expect(phone.page.get_by_test_id("access-notes")).to_have_text(notes)
        expect(phone.page.get_by_role("link", name=f"Call {gran}")).to_be_visible()
    open_conflicts = demo.office.get("/api/conflicts", status="open")["items"]
    assert not [c for c in open_conflicts if c["entity_id"] == hh_id]


def test_the_same_field_edited_on_two_phones_is_a_conflict_and_both_converge(devices, demo) -> None:
    case = two_households(demo, "officer3")[1]
    hh_id = case["pupil"]["household_id"]
    first = f"Dog in the yard {uuid.uuid4().hex[:6]}"
    second = f"Use the back door {uuid.uuid4().hex[:6]}"
    a, b = signed_in_pair(devices, "officer3")
    for phone in (a, b):
        phone.offline()
        phone.open_case(case)
    edit_household(a.page, case, access_notes=first)   # stamped earlier…
    edit_household(b.page, case, access_notes=second)  # …than this one
    b.offline(False)
    b.wait_synced()
    a.offline(False)  # a's older write loses the field: merged, and a is told
    a.wait_synced()

    conflicts = [c for c in demo.office.get("/api/conflicts", status="open")["items"] if c["entity_id"] == hh_id]
    assert len(conflicts) == 1
    assert conflicts[0]["field"] == "access_notes"
    assert {conflicts[0]["kept"]["value"], conflicts[0]["lost"]["value"]} == {first, second}
    winner = demo.office.record("household", hh_id)["access_notes"]
    assert winner == conflicts[0]["kept"]["value"]

    b.page.get_by_role("button", name="Sync now").click()
    b.wait_synced()
    for phone in (a, b):
        phone.open_case(case)
        expect(phone.page.get_by_test_id("access-notes")).to_have_text(winner)
    # The losing phone shows what happened, with its value, until dismissed.
    loser = a if winner == second else b
    loser.page.get_by_role("link", name="Problems (1)").click()
    expect(loser.page.get_by_role("heading", name="Household: someone else changed it first")).to_be_visible()
    expect(loser.page.get_by_text(first if loser is a else second)).to_be_visible()
    loser.page.get_by_role("button", name="Dismiss household problem").click()
    expect(loser.page.get_by_text("Nothing needs your attention.")).to_be_visible()
    # The notice is the server's (docs/protocol.md §7.6): its dismissal syncs, for every phone of the officer.
    loser.wait_synced()
    [notice] = [n for n in demo.office.records("notice") if n["record_id"] == hh_id]
    assert notice["dismissed"] is True and notice["kind"] == "lost_at_push"
