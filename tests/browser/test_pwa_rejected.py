"""Nothing rejected is thrown away: a change the server rejects stays on the phone
as "needs correcting", opens at its form with the server's message beside the
field, and is corrected and applied (or discarded, after asking).

The phone runs an older shell: its schema.js still has an outcome code (and a
longer note limit) the server no longer takes, so the PWA's own checks pass and
the server rejects, as after a schema change reaches the server first."""
from __future__ import annotations

import json
import re
import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Route, expect

from .test_pwa_a11y import check_screen

pytestmark = pytest.mark.browser

OLD_CODE = "door_knocked"


def older_schema(route: Route) -> None:
    """pwa/schema.js as an older shell had it: one more outcome, and notes up to 20,000 characters."""
    response = route.fetch()
    head, marker, rest = response.text().partition("export const SCHEMA = ")
    doc = json.loads(rest.rstrip().rstrip(";"))  # whatever the layout sync.schema_export writes
    doc["enums"]["outcome"].insert(0, OLD_CODE)
    words = doc["vocabulary"]["enums"]
    words["outcome"] = {OLD_CODE: {"label": "Knocked, no reply"}, **words["outcome"]}
    assert doc["types"]["note"]["fields"]["text"]["max"] == 10_000, "schema.js changed: update this test"
    doc["types"]["note"]["fields"]["text"]["max"] = 20_000
    body = head + marker + json.dumps(doc, ensure_ascii=False) + ";\n"
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-encoding", "content-length")}
    route.fulfill(status=response.status, headers=headers, body=body)  # the body as text: not gzipped


def old_shell_phone(devices):  # noqa: ANN001, ANN201 - the conftest factory and its Device
    phone = devices(service_workers="block")  # the page fetches schema.js itself, so the route applies
    phone.page.route(re.compile(r".*/app/schema\.js(\?.*)?$"), older_schema)
    phone.open(wait_worker=False)
    return phone


def test_a_rejected_visit_needs_correcting_shows_the_servers_message_and_is_sent_again(devices, demo) -> None:
    case = demo.open_cases("officer2")[12]
    notes = f"Letterbox taped shut {uuid.uuid4().hex[:8]}"
    phone = old_shell_phone(devices)
    page = phone.page
    phone.sign_in("officer2")
    phone.open_case(case)
    page.get_by_role("button", name="Record visit").click()
    page.get_by_label("Outcome").select_option(OLD_CODE)  # fine by the phone's (older) schema
    phone.form_section("Barriers and notes")  # the form is in sections (pwa/views/sections.js)
    page.get_by_label("Notes", exact=True).fill(notes)
    phone.submit_form()
    phone.wait_synced()
    assert not [v for v in demo.office.records("visit") if v.get("notes") == notes], "the server took it"

    # Kept: the screen turns into the form to correct, and the Drafts list has it.
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Visit to {case['name']}: needs correcting")
    expect(page.get_by_role("link", name="Drafts (1)")).to_be_visible()
    # The Problems list says what happened and links to the same form.
    page.get_by_role("link", name="Problems (1)").click()
    fix = page.get_by_role("link", name="Correct this home visit")
    expect(fix).to_have_attribute("href", re.compile(r"^#/correct/visit/[\w-]+$"))
    fix.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Visit to {case['name']}: needs correcting")
    expect(page.get_by_label("Outcome")).to_have_attribute("aria-invalid", "true")
    page.get_by_role("link", name="Drafts (1)").click()
    expect(page.get_by_role("heading", name="Needs correcting (1)")).to_be_visible()
    card = page.get_by_role("link", name=re.compile(f"^Correct Home visit: {re.escape(case['name'])}"))
    expect(card).to_contain_text("outcome must be one of")
    problems = check_screen(page, "drafts-list", Axe())
    card.click()

    outcome = page.get_by_label("Outcome")
    expect(page.get_by_role("alert")).to_contain_text("The server did not accept this")
    expect(outcome).to_have_attribute("aria-invalid", "true")
    expect(outcome).to_have_accessible_description(re.compile("outcome must be one of seen_child_and_parent"))
    expect(outcome).to_have_value(OLD_CODE)
    expect(page.get_by_label("Notes", exact=True)).to_have_value(notes)  # nothing lost
    problems += check_screen(page, "needs-correcting", Axe())
    page.get_by_role("button", name="Discard draft").click()  # asked first: keep it
    expect(page.get_by_role("dialog", name="Discard this draft?")).to_be_visible()
    problems += check_screen(page, "discard-dialog", Axe())
    page.get_by_role("dialog").get_by_role("button", name="Keep it").click()
    assert not problems, "\n".join(problems)

    outcome.select_option("no_answer")  # corrected
    phone.submit_form()
    expect(page.get_by_text("Submitted: read-only.")).to_be_visible()
    phone.wait_synced()
    server = [v for v in demo.office.records("visit") if v.get("notes") == notes]
    assert len(server) == 1 and server[0]["outcome"] == "no_answer" and server[0]["status"] == "submitted"
    expect(page.get_by_role("link", name="Drafts", exact=True)).to_be_visible()
    assert not (phone.idb() or {}).get("drafts")
    # The Problems list still says what happened; corrected, it no longer links to a correction.
    page.get_by_role("link", name="Problems (1)").click()
    expect(page.locator("ul.notices")).to_contain_text("kept under Drafts")
    expect(page.get_by_role("link", name="Correct this home visit")).to_have_count(0)
    assert not phone.errors


def test_a_rejected_note_is_corrected_on_its_own_screen_or_discarded(devices, demo) -> None:
    case = demo.open_cases("officer3")[12]
    marker = uuid.uuid4().hex[:8]
    long_text = f"{marker} " + "The family moved in with grandparents. " * 300  # 11,700 characters
    phone = old_shell_phone(devices)
    page = phone.page
    phone.sign_in("officer3")
    phone.open_case(case)
    page.get_by_label("Add a note to this case").fill(long_text)
    page.get_by_role("button", name="Add note").click()
    phone.wait_synced()
    expect(page.get_by_role("link", name="Drafts (1)")).to_be_visible()
    expect(page.get_by_role("heading", name="Not finished on this phone")).to_be_visible()  # on the case too
    page.get_by_role("link", name="Problems (1)").click()  # and under Problems, linked to its screen
    expect(page.get_by_role("link", name="Correct this note")).to_have_attribute("href", re.compile(r"^#/correct/note/"))
    phone.open_case(case)
    page.get_by_role("link", name="Correct note").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Note: {case['name']}: needs correcting")
    text = page.get_by_label("Text", exact=True)
    expect(text).to_have_value(long_text.strip())
    expect(text).to_have_accessible_description(re.compile("text must be at most 10000 characters"))
    short = f"{marker} The family moved in with grandparents."
    text.fill(short)
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Drafts")
    phone.wait_synced()
    notes = [n for n in demo.office.records("note") if marker in n.get("text", "")]
    assert [n["text"] for n in notes] == [short] and notes[0]["subject_id"] == case["case"]["id"]
    expect(page.get_by_text("Nothing unfinished.")).to_be_visible()

    # Rejected again, and this time discarded: asked first.
    phone.open_case(case)
    page.get_by_label("Add a note to this case").fill(long_text)
    page.get_by_role("button", name="Add note").click()
    phone.wait_synced()
    page.get_by_role("link", name="Drafts (1)").click()
    item = page.locator("ul.drafts li", has_text="Not accepted")
    item.get_by_role("button", name=re.compile("^Discard")).click()
    dialog = page.get_by_role("dialog", name="Discard this draft?")
    expect(dialog).to_contain_text("The server did not accept it")
    dialog.get_by_role("button", name="Discard draft").click()
    expect(page.get_by_text("Nothing unfinished.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Needs correcting"))).to_have_count(0)
    assert not (phone.idb() or {}).get("drafts")
    assert not phone.errors


def longer_access_notes(route: Route) -> None:
    """pwa/schema.js as an older shell had it: household access notes up to 20,000 characters."""
    response = route.fetch()
    body = response.text()
    household = body.index('"household": {')
    notes = body.index('"access_notes": {', household)
    limit = body.index('"max": 2000', notes)
    assert limit - notes < 200, "schema.js changed shape: update this test"
    route.fulfill(response=response, body=body[:limit] + '"max": 20000' + body[limit + len('"max": 2000'):])


def test_a_rejected_household_edit_opens_at_its_form_from_problems(devices, demo) -> None:
    case = demo.open_cases("officer4")[13]
    hh_id = case["pupil"]["household_id"]
    before = demo.office.record("household", hh_id)
    marker = uuid.uuid4().hex[:8]
    long_notes = f"{marker} " + "Ring the bell by the side gate. " * 80  # 2,560 characters
    phone = devices(service_workers="block")
    phone.page.route(re.compile(r".*/app/schema\.js(\?.*)?$"), longer_access_notes)
    page = phone.open(wait_worker=False)
    phone.sign_in("officer4")
    phone.open_case(case)
    page.get_by_role("link", name="Edit contacts and access notes").click()
    page.get_by_label("Access notes").fill(long_notes)  # fine by the phone's (older) schema
    page.get_by_role("button", name="Save household details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(case["name"])  # (a sync's redraw may clear the flash)
    phone.wait_synced()
    assert demo.office.record("household", hh_id)["access_notes"] == before.get("access_notes"), "the server took it"

    page.get_by_role("link", name="Problems (1)").click()
    fix = page.get_by_role("link", name="Correct this household")
    expect(fix).to_have_attribute("href", f"#/correct/household/{hh_id}")
    fix.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts and access notes: needs correcting")
    notes = page.get_by_label("Access notes")
    expect(page.get_by_role("alert")).to_contain_text("The server did not accept this")
    expect(notes).to_have_value(long_notes.strip())
    expect(notes).to_have_attribute("aria-invalid", "true")
    expect(notes).to_have_accessible_description(re.compile("access_notes must be at most 2000 characters"))
    problems = check_screen(page, "household-needs-correcting", Axe())
    assert not problems, "\n".join(problems)

    short = f"{marker} Ring the bell by the side gate."
    notes.fill(short)
    page.get_by_role("button", name="Save household details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(case["name"])  # (a sync's redraw may clear the flash)
    phone.wait_synced()
    assert demo.office.record("household", hh_id)["access_notes"] == short
    assert not (phone.idb() or {}).get("drafts")
    assert not phone.errors
