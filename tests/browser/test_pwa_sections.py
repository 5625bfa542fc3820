"""Forms in sections at 360 × 640 (issue 17, item 2; pwa/views/sections.js, docs/pwa.md "Form
sections"): "Section 2 of 4" with the section's name, Back / Save draft / Next in the bottom bar,
jumps between sections; the draft survives moving between sections, a reload and the idle lock
(and reopens at the section it was in); a summary step shows every answer in words and what
becomes final; a failing check on submit brings back the section of the field in error, focused
and clear of the sticky header and the bottom bar. axe: nothing serious or critical on any section
or on the summary."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import Device
from tests.browser.test_pwa_a11y import check_screen

pytestmark = pytest.mark.browser

HEIGHT = 640
# the screenshots in docs/pwa.md: written there with DOORSTEP_DOC_SHOTS=1, else to /tmp
IMG = Path(__file__).resolve().parents[2] / "docs" / "img" if os.environ.get("DOORSTEP_DOC_SHOTS") else Path("/tmp")


def heading(page: Page):  # noqa: ANN201 - a Playwright locator
    return page.locator(".form-section:not([hidden]) > h2")


def dock_button(page: Page, name: str):  # noqa: ANN201 - a Playwright locator
    return page.locator(".dock").get_by_role("button", name=name, exact=True)


def in_thumb_reach(page: Page, name: str) -> None:
    box = dock_button(page, name).bounding_box()
    assert box is not None, name
    assert box["height"] >= 44 and box["width"] >= 44, (name, box)
    assert box["y"] >= HEIGHT * 2 / 3 and box["y"] + box["height"] <= HEIGHT, (name, box)


def clear_of_header_and_dock(page: Page, control, note_text: str) -> None:  # noqa: ANN001
    """The field in error and its message are between the sticky header and the bottom bar."""
    header = page.locator("header.top").bounding_box()
    dock = page.locator(".dock").bounding_box()
    box = control.bounding_box()
    note = page.locator("p.field-error", has_text=note_text).bounding_box()
    assert header and dock and box and note
    assert note["y"] >= header["y"] + header["height"], (note, header)
    assert box["y"] + box["height"] <= dock["y"], (box, dock)


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(IMG / f"pwa-17-sections-{name}.png"))


def test_a_visit_in_sections_keeps_its_draft_and_ends_with_the_answers_in_words(devices, demo) -> None:
    case = demo.open_cases("officer4")[13]
    notes = f"Card through the door, dog barking {uuid.uuid4().hex[:8]}"
    details = f"Younger sibling alone at the window {uuid.uuid4().hex[:8]}"
    axe = Axe()
    phone: Device = devices()
    phone.context.clock.install()
    page = phone.open()
    phone.sign_in("officer4")
    phone.open_case(case)
    page.get_by_role("button", name="Record visit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Record visit: {case['name']}")

    # Section 1 of 4, its name; Next and Save draft in thumb reach, no Back and no Submit yet
    expect(heading(page)).to_have_text("Section 1 of 4: The visit")
    expect(page.get_by_role("navigation", name="Form sections").get_by_role("button")).to_have_count(4)
    in_thumb_reach(page, "Next")
    in_thumb_reach(page, "Save draft")
    expect(dock_button(page, "Back")).to_be_hidden()
    expect(dock_button(page, "Submit")).to_be_hidden()
    expect(page.get_by_label("Notes", exact=True)).to_be_hidden()  # a later section
    problems = check_screen(page, "sections-visit-1", axe)
    page.get_by_label("Outcome").select_option("card_left")
    shot(page, "visit-1")

    dock_button(page, "Next").click()
    expect(heading(page)).to_have_text("Section 2 of 4: Safeguarding")
    expect(heading(page)).to_be_focused()
    in_thumb_reach(page, "Back")
    page.get_by_label("Safeguarding concern").check()
    page.get_by_label("Concern details").fill(details)
    problems += check_screen(page, "sections-visit-2", axe)

    dock_button(page, "Next").click()
    expect(heading(page)).to_have_text("Section 3 of 4: Barriers and notes")
    barriers = page.locator("details.barriers > summary")
    expect(barriers).to_have_text("Barriers: none chosen")
    barriers.click()
    page.get_by_label("Housing", exact=True).check()
    page.get_by_label("Bullying").check()
    expect(barriers).to_have_text("Barriers: Bullying, Housing")
    page.get_by_label("Notes", exact=True).fill(notes)
    problems += check_screen(page, "sections-visit-3", axe)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "visit-3")

    # moving between sections keeps everything
    dock_button(page, "Back").click()
    expect(heading(page)).to_have_text("Section 2 of 4: Safeguarding")
    expect(page.get_by_label("Concern details")).to_have_value(details)
    page.get_by_role("navigation", name="Form sections").get_by_role("button", name="1 The visit").click()
    expect(page.get_by_label("Outcome")).to_have_value("card_left")
    line = page.locator(".autosave")
    expect(line).to_have_attribute("data-saved-section", "0")  # kept at once on a move
    phone.form_section("Safeguarding")
    expect(line).to_have_attribute("data-saved-section", "1")  # the draft knows the section

    # a reload: the draft reopens at the section it was in, every answer kept
    page.reload()
    phone.unlock()
    expect(heading(page)).to_have_text("Section 2 of 4: Safeguarding")
    expect(page.get_by_label("Concern details")).to_have_value(details)
    expect(page.get_by_label("Outcome")).to_have_value("card_left")
    expect(page.get_by_label("Notes", exact=True)).to_have_value(notes)
    expect(page.get_by_label("Housing", exact=True)).to_be_checked()

    # the idle lock, mid-section: sealed, then the same section on unlock
    phone.form_section("Barriers and notes")
    page.get_by_label("Notes", exact=True).fill(notes + " again")
    page.clock.fast_forward("05:30")
    phone.expect_locked()
    assert notes not in page.content()
    phone.unlock()
    expect(heading(page)).to_have_text("Section 3 of 4: Barriers and notes")
    expect(page.get_by_label("Notes", exact=True)).to_have_value(notes + " again")
    expect(page.get_by_label("Bullying")).to_be_checked()

    # the summary: every answer in words, what becomes final, Submit and Save draft in reach
    dock_button(page, "Next").click()
    expect(heading(page)).to_have_text("Section 4 of 4: Check and submit")
    answers = page.locator("dl.answers")
    for words in ("Card left", "Yes", details, "Bullying, Housing", notes + " again"):
        expect(answers).to_contain_text(words)
    expect(page.locator(".final")).to_contain_text("Once you submit, this visit is final")
    expect(page.locator(".final")).to_contain_text("add a correction note")
    in_thumb_reach(page, "Submit")
    in_thumb_reach(page, "Save draft")
    expect(dock_button(page, "Next")).to_be_hidden()
    problems += check_screen(page, "sections-visit-summary", axe)
    shot(page, "visit-summary")

    # "Change" goes back to the answer's section, the field focused
    page.get_by_role("button", name="Change Outcome").click()
    expect(heading(page)).to_have_text("Section 1 of 4: The visit")
    expect(page.get_by_label("Outcome")).to_be_focused()
    page.get_by_label("Outcome").select_option("")  # a slip: no outcome

    # a failing check on submit: back to the section, the field focused and clear of the bars
    phone.submit_form()
    expect(heading(page)).to_have_text("Section 1 of 4: The visit")
    outcome = page.get_by_label("Outcome")
    expect(outcome).to_be_focused()
    expect(outcome).to_have_attribute("aria-invalid", "true")
    clear_of_header_and_dock(page, outcome, "Choose the outcome")
    problems += check_screen(page, "sections-visit-error", axe)
    shot(page, "visit-error")
    assert not phone.idb()["outbox"], "nothing is queued"

    outcome.select_option("card_left")
    phone.submit_form()
    expect(page.get_by_text("Submitted: read-only.")).to_be_visible()
    phone.wait_synced()
    server = [v for v in demo.office.records("visit") if v.get("notes") == notes + " again"]
    assert len(server) == 1, server
    assert server[0]["barriers"] == ["bullying", "housing"] and server[0]["concern_details"] == details
    assert server[0]["status"] == "submitted"
    assert not (phone.idb() or {}).get("drafts")
    assert not problems, "\n".join(problems)
    assert not phone.errors


def test_a_conversation_in_sections_goes_back_to_the_first_problem(devices, demo) -> None:
    case = demo.open_cases("officer4")[14]
    action = f"Walking bus from Monday {uuid.uuid4().hex[:8]}"
    axe = Axe()
    phone: Device = devices()
    page = phone.open()
    phone.sign_in("officer4")
    phone.open_case(case)
    page.get_by_role("button", name="Record conversation").click()
    expect(heading(page)).to_have_text("Section 1 of 4: Who and why")
    problems = check_screen(page, "sections-conversation-1", axe)
    page.get_by_label("Reason given").fill("Late nights, oversleeping")

    phone.form_section("Barriers and views")
    page.locator("details.barriers > summary").click()
    page.get_by_label("Parental illness").check()
    expect(page.locator("details.barriers > summary")).to_have_text("Barriers: Parental illness")
    problems += check_screen(page, "sections-conversation-2", axe)

    phone.form_section("What happens next")
    page.get_by_role("button", name="Add action").click()
    page.get_by_label("Action 1", exact=True).fill(action)
    page.get_by_label("Owner of action 1").fill("parent")
    problems += check_screen(page, "sections-conversation-3", axe)
    dock_button(page, "Save draft").click()  # Save draft on any section
    expect(page.get_by_text("Draft saved on this phone.")).to_be_visible()

    # "Who was spoken to" is missing: Submit goes back to section 1 with it focused
    phone.form_section("Check and submit")
    answers = page.locator("dl.answers")
    for words in ("Not on a visit", "Not recorded", "Late nights, oversleeping", "Parental illness", f"{action} (parent)"):
        expect(answers).to_contain_text(words)
    expect(page.locator(".final")).to_contain_text("Once you submit, this conversation is final")
    problems += check_screen(page, "sections-conversation-summary", axe)
    shot(page, "conversation-summary")
    dock_button(page, "Submit").click()
    expect(heading(page)).to_have_text("Section 1 of 4: Who and why")
    who = page.get_by_label("Who was spoken to")
    expect(who).to_be_focused()
    clear_of_header_and_dock(page, who, "Say who you spoke to")
    problems += check_screen(page, "sections-conversation-error", axe)

    who.fill("Dad")
    who.press("Enter")  # Enter goes on to the next section, it does not submit
    expect(heading(page)).to_have_text("Section 2 of 4: Barriers and views")
    phone.submit_form()
    expect(page.get_by_text("Submitted: read-only.")).to_be_visible()
    phone.wait_synced()
    server = [c for c in demo.office.records("conversation") if c.get("agreed_actions") and c["agreed_actions"][0]["action"] == action]
    assert len(server) == 1 and server[0]["spoke_with"] == "Dad" and server[0]["status"] == "submitted"
    assert server[0]["barriers"] == ["parental_illness"]
    assert not problems, "\n".join(problems)
    assert not phone.errors
