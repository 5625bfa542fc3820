"""Conflicts told to the losing phone, and office reviews on the phone (issue #15, items 4 and 5).

- Two officers' phones edit one household's access notes offline; the first syncs, then the
  second, whose later edit replaces the first without having seen it. The first officer's
  phone shows what replaced their text, by whom, on which device and when, with their own text
  to copy; the second officer's phone shows nothing.
- The office marks a visit "Needs follow-up" with a comment on the office page; the officer's
  phone lists it under Follow-ups; a follow-up note clears it, on the phone at once and in the
  office once it syncs. So do a follow-up visit and a follow-up conversation, opened from the
  item with the link to the reviewed visit (`follow_up_of`) already set.

Both new screens are checked with axe at 360 × 640.
"""
from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .conftest import Demo, form_section, submit_form
from .steps import office_desk
from .test_pwa_a11y import check_screen
from .test_pwa_conflicts import edit_household

pytestmark = pytest.mark.browser


def serious(page: Any) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} at " + ", ".join(str(n["target"]) for n in v["nodes"][:3])
            for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def shared_household(demo: Demo, first: str, second: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A new household with a pupil on a case of each officer: both phones hold it. The demo has no
    household two officers share; ``close_cases`` takes the cases away again, so the other tests'
    caseloads are as the demo made them."""
    office = demo.office
    school = sorted(office.records("school"), key=lambda s: s["id"])[0]
    hh = str(uuid.uuid4())
    tag = uuid.uuid4().hex[:6]
    office.put("household", hh, {"address": f"{tag} Notice Row, Wakefield", "postcode": "WF1 2AB"}, None)
    out = []
    for n, username in enumerate((first, second)):
        pupil, case = str(uuid.uuid4()), str(uuid.uuid4())
        upn = f"N{uuid.uuid4().hex[:11].upper()}{n}"
        names = {"first_name": ("Ada", "Bo")[n], "last_name": f"Notice{tag}"}
        office.put("pupil", pupil, {"upn": upn, **names, "school_id": school["id"], "household_id": hh}, None)
        made = office.put("case", case, {"pupil_id": pupil, "assigned_officer_id": demo.user(username)["id"]}, None)
        out.append({"case": {"id": case, "_version": made["version"]},
                    "name": f"{names['first_name']} {names['last_name']}", "household": {}})
    return out[0], out[1], hh


def close_cases(demo: Demo, *cases: dict[str, Any]) -> None:
    for c in cases:
        demo.office.put("case", c["case"]["id"], {"status": "closed"}, c["case"]["_version"])


def test_the_phone_whose_synced_text_was_replaced_is_told_with_its_own_text(devices, demo, server_url) -> None:
    first_case, second_case, hh = shared_household(demo, "officer4", "officer1")
    try:
        told_on_the_losing_phone(devices, demo, server_url, first_case, second_case, hh)
    finally:
        close_cases(demo, first_case, second_case)


def told_on_the_losing_phone(devices: Any, demo: Demo, server_url: str, first_case: dict[str, Any],
                             second_case: dict[str, Any], hh: str) -> None:
    mine = f"Dog in the yard, ring twice {uuid.uuid4().hex[:6]}"
    theirs = f"Use the back door after 4pm {uuid.uuid4().hex[:6]}"
    a, b = devices(), devices()
    a.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server_url)
    for phone, username, case in ((a, "officer4", first_case), (b, "officer1", second_case)):
        phone.at_case(username, case, offline=True)
    edit_household(a.page, first_case, access_notes=mine)      # made first…
    edit_household(b.page, second_case, access_notes=theirs)   # …and this later, without seeing it
    a.offline(False)
    a.wait_synced()              # a's text reaches the server first
    b.offline(False)
    b.wait_synced()              # b's later edit replaces it: a is told afterwards
    a.page.get_by_role("button", name="Sync now").click()
    a.wait_synced()

    page = a.page
    page.get_by_role("link", name="Problems (1)").click()
    item = page.locator("li.synced-notice")
    expect(item.get_by_role("heading", level=2)).to_have_text("Household: your value was replaced")
    second_name = demo.user("officer1")["display_name"]
    expect(item).to_contain_text(re.compile(
        rf"{re.escape(second_name)} changed access notes on .+ \(\d{{1,2}} \w{{3}} \d{{4}}, \d\d:\d\d:\d\d\) "
        "without seeing your change, which had already synced. Theirs replaced yours."))
    expect(item.locator(".own-text")).to_have_text(mine)
    expect(item.locator(".their-text")).to_have_text(theirs)
    expect(item.get_by_role("link", name=re.compile("Notice Row"))).to_be_visible()
    item.get_by_role("button", name="Copy your text").click()
    expect(item.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == mine
    problems = serious(page)
    assert not problems, "\n".join(problems)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # The notice is the server's record: the names and times come from it.
    [notice] = [n for n in demo.office.records("notice") if n["record_id"] == hh]
    assert notice["recipient_id"] == demo.user("officer4")["id"] and notice["kind"] == "replaced"
    assert notice["replaced_by_name"] == second_name and notice["your_text"] == mine
    assert notice["replaced_on"] and notice["replaced_on"] in item.inner_text()

    # The officer whose edit won is told nothing.
    b.page.get_by_role("button", name="Sync now").click()
    b.wait_synced()
    expect(b.page.get_by_role("link", name="Problems", exact=True)).to_be_visible()
    b.page.get_by_role("link", name="Problems", exact=True).click()
    expect(b.page.get_by_text("Nothing needs your attention.")).to_be_visible()

    # Dismissed on the phone, it is dismissed for the officer everywhere (it syncs).
    item.get_by_role("button", name="Dismiss household problem").click()
    expect(page.get_by_text("Nothing needs your attention.")).to_be_visible()
    a.wait_synced()
    assert demo.office.record("notice", notice["id"])["dismissed"] is True
    assert not a.errors and not b.errors, a.errors + b.errors


def office_review(browser: Any, base: str, visit_id: str, comment: str) -> None:
    """The office marks the visit "Needs follow-up" with a comment, on the office page."""
    with office_desk(browser, base, {"width": 1280, "height": 800}) as page:
        expect(page.get_by_role("heading", level=1, name="Overview")).to_be_visible()
        page.goto(f"{base}/office/visits/{visit_id}")
        page.get_by_label("Needs follow-up", exact=True).check()
        page.get_by_label("Comment").fill(comment)
        page.get_by_role("button", name="Save review").click()
        expect(page.get_by_role("status")).to_have_text("Review saved.")
        expect(page.locator("#follow-up-waiting")).to_be_visible()


def office_sees_the_answer(browser: Any, base: str, visit_id: str) -> str:
    with office_desk(browser, base, {"width": 1280, "height": 800}) as page:
        page.goto(f"{base}/office/visits/{visit_id}")
        return page.locator("#follow-up-answered").inner_text()


def test_an_office_review_asking_for_follow_up_reaches_the_phone_and_a_note_clears_it(
        devices, demo, browser, server_url) -> None:
    case = demo.open_cases("officer2")[9]
    demo.user("officer2")  # signs officer2 in to the API too
    officer = next(api for api in demo._apis if api.username == "officer2")
    visit = str(uuid.uuid4())
    officer.put("visit", visit, {"case_id": case["case"]["id"], "started_at": "2026-11-23T09:30:00Z",
                                 "outcome": "spoke_to_parent", "child_seen": False,
                                 "notes": "Mum says the bus pass expired.", "status": "submitted"}, None)
    comment = f"Please check the bus pass was renewed {uuid.uuid4().hex[:6]}"

    phone = devices()
    page = phone.open()
    phone.sign_in("officer2")
    office_review(browser, server_url, visit, comment)
    page.get_by_role("button", name="Sync now").click()
    phone.wait_synced()

    page.get_by_role("link", name="Follow-ups (1)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Follow-ups")
    item = page.locator("li.followup")
    expect(item.get_by_role("heading", level=2)).to_have_text(f"Home visit: {case['name']}")
    expect(item.locator("blockquote.comment")).to_have_text(comment)
    expect(item).to_contain_text(re.compile(r"Needs follow-up, asked by .+, \d{1,2} \w{3} \d{4}, \d\d:\d\d:"))
    expect(item.get_by_role("link", name=re.compile(r"^Open the home visit"))).to_have_attribute(
        "href", f"#/case/{case['case']['id']}/visit/{visit}")
    expect(item.get_by_role("button", name="Record follow-up visit")).to_be_visible()
    expect(item.get_by_role("button", name="Record follow-up conversation")).to_be_visible()
    problems = serious(page)
    item.get_by_role("button", name="Add a note").click()
    problems += [f"note form: {p}" for p in serious(page)]
    assert not problems, "\n".join(problems)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    phone.offline()  # answered offline: it clears on the phone at once
    item.get_by_label("Follow-up note on this home visit").fill("Bus pass renewed on Friday; school told.")
    # Called away mid-note: it is kept like any form, and the item opens with it.
    page.get_by_role("link", name="Caseload", exact=True).click()
    page.get_by_role("link", name="Follow-ups (1)").click()
    expect(item.get_by_role("button", name="Add a note")).to_have_attribute("aria-expanded", "true")
    expect(item.get_by_label("Follow-up note on this home visit")).to_have_value("Bus pass renewed on Friday; school told.")
    item.get_by_role("button", name="Save follow-up note").click()
    expect(page.get_by_text("Follow-up note saved on this phone.")).to_be_visible()
    expect(page.get_by_text("No follow-ups. Nothing the office asked for is waiting.")).to_be_visible()
    expect(page.get_by_role("heading", name="Answered, waiting to sync")).to_be_visible()
    phone.offline(False)
    phone.wait_synced()
    expect(page.get_by_role("heading", name="Answered, waiting to sync")).to_have_count(0)
    expect(page.get_by_role("link", name="Follow-ups", exact=True)).to_be_visible()  # the page it is on

    review = next(r for r in demo.office.records("review") if r["subject_id"] == visit)
    assert review["state"] == "needs_follow_up" and review["comment"] == comment
    assert review["answered_type"] == "note"
    note = demo.office.record("note", review["answered_id"])
    assert note["subject_id"] == visit and note["text"] == "Bus pass renewed on Friday; school told."
    assert "Followed up by the officer: a note reached the office" in office_sees_the_answer(browser, server_url, visit)
    assert not phone.errors, phone.errors


def submitted_visit(demo: Demo, username: str, case: dict[str, Any], notes: str) -> str:
    """A visit the officer submitted (through the API), for the office to review."""
    demo.user(username)
    officer = next(api for api in demo._apis if api.username == username)
    visit = str(uuid.uuid4())
    officer.put("visit", visit, {"case_id": case["case"]["id"], "started_at": "2026-11-23T09:30:00Z",
                                 "outcome": "spoke_to_parent", "child_seen": False, "notes": notes,
                                 "status": "submitted"}, None)
    return visit


def test_a_follow_up_visit_or_conversation_opened_from_the_review_answers_it(devices, demo, browser, server_url) -> None:
    case = demo.open_cases("officer3")[9]
    first = submitted_visit(demo, "officer3", case, "Dad says the alarm clock broke.")
    second = submitted_visit(demo, "officer3", case, "Nobody in; neighbour says they moved.")
    office_review(browser, server_url, first, f"Visit again in the morning {uuid.uuid4().hex[:6]}")
    office_review(browser, server_url, second, f"Ring the family {uuid.uuid4().hex[:6]}")
    phone = devices()
    page = phone.open()
    phone.sign_in("officer3")
    page.get_by_role("button", name="Sync now").click()
    phone.wait_synced()

    page.get_by_role("link", name="Follow-ups (2)").click()
    problems = check_screen(page, "follow-ups", Axe())
    item = page.locator("li.followup").filter(has=page.locator(f"a[href$='/visit/{first}']"))
    item.get_by_role("button", name="Record follow-up visit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Record visit: {case['name']}")
    expect(page.locator("p.follows")).to_contain_text("Follows up the home visit of 23 Nov 2026")
    problems += check_screen(page, "follow-up-visit", Axe())
    page.get_by_label("Outcome").select_option("spoke_to_parent")
    form_section(page, "Barriers and notes")  # the form is in sections (pwa/views/sections.js)
    page.get_by_label("Notes", exact=True).fill("Alarm clock bought; Dad walks him in.")
    submit_form(page)
    expect(page.get_by_text("Submitted: read-only.")).to_be_visible()

    # The other, with a conversation: left half done, resumed from Drafts, the link kept.
    page.get_by_role("link", name="Follow-ups (1)").click()
    other = page.locator("li.followup").filter(has=page.locator(f"a[href$='/visit/{second}']"))
    other.get_by_role("button", name="Record follow-up conversation").click()
    expect(page.locator("p.follows")).to_contain_text("Follows up the home visit of 23 Nov 2026")
    page.get_by_label("Who was spoken to").fill("Neighbour at number 12")
    page.get_by_role("link", name="Caseload", exact=True).click()
    page.get_by_role("link", name="Drafts (1)").click()
    page.get_by_role("link", name=f"Resume Conversation: {case['name']}").click()
    expect(page.locator("p.follows")).to_contain_text("Follows up the home visit")
    submit_form(page)
    expect(page.get_by_text("Submitted: read-only.")).to_be_visible()
    assert not problems, "\n".join(problems)

    # Both answered: cleared on the phone (the link goes), and for the office once synced.
    expect(page.get_by_role("link", name=re.compile("^Follow-ups"))).to_have_count(0)
    phone.wait_synced()
    reviews = {r["subject_id"]: r for r in demo.office.records("review") if r["subject_id"] in (first, second)}
    assert reviews[first]["answered_type"] == "visit" and reviews[second]["answered_type"] == "conversation"
    visit = demo.office.record("visit", reviews[first]["answered_id"])
    assert visit["follow_up_of"] == first and visit["status"] == "submitted"
    conversation = demo.office.record("conversation", reviews[second]["answered_id"])
    assert conversation["follow_up_of"] == second and conversation["spoke_with"] == "Neighbour at number 12"
    assert not phone.errors, phone.errors
