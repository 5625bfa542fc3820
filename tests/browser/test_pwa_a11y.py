"""Every screen at 360 × 640: no serious or critical axe violations, no sideways scroll, 44 px targets."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

TARGETS = """() => {
  const bad = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  for (const el of document.querySelectorAll('button, a[href], select, textarea, input:not([type=checkbox])')) {
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.height < 44 || r.width < 44) bad.push(`${el.tagName} "${(el.textContent || el.id).trim().slice(0, 40)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  for (const el of document.querySelectorAll('input[type=checkbox]')) {
    if (!visible(el)) continue;
    const row = el.closest('.check') || el;
    if (row.getBoundingClientRect().height < 44) bad.push(`checkbox ${el.id}`);
  }
  return bad;
}"""


def check_screen(page: Page, name: str, axe: Axe) -> list[str]:
    problems = []
    results = axe.run(page)
    for v in results.response["violations"]:
        if v.get("impact") in ("serious", "critical"):
            problems.append(f"{name}: axe {v['id']} ({v['impact']}): {v['help']} at "
                            + ", ".join(str(n["target"]) for n in v["nodes"][:3]))
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > 360:
        problems.append(f"{name}: scrolls sideways ({width} px wide)")
    problems += [f"{name}: small target {t}" for t in page.evaluate(TARGETS)]
    page.screenshot(path=f"/tmp/doorstep-{name}.png", full_page=True)
    return problems


def test_every_screen_is_accessible_on_a_phone(devices, demo) -> None:
    axe = Axe()
    case = demo.open_cases("officer1")[1]
    phone = devices()
    page = phone.open()
    problems = check_screen(page, "sign-in", axe)
    phone.enter_password("officer1")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set a PIN for this phone")
    problems += check_screen(page, "set-pin", axe)
    page.get_by_label("PIN", exact=True).fill("123456")
    page.get_by_label("Confirm PIN", exact=True).fill("123456")
    page.get_by_role("button", name="Set PIN").click()
    expect(page.get_by_role("alert")).to_contain_text("digits in order")
    problems += check_screen(page, "set-pin-refused", axe)
    phone.set_pin()
    phone.wait_synced()
    problems += check_screen(page, "caseload", axe)
    phone.open_case(case)
    problems += check_screen(page, "case", axe)

    page.get_by_role("button", name="Record visit").click()
    phone.form_section("Safeguarding")  # the form is in sections (each is checked in test_pwa_sections.py)
    page.get_by_label("Safeguarding concern").check()
    problems += check_screen(page, "visit-form", axe)
    phone.submit_form()  # nothing chosen: the errors show
    expect(page.get_by_role("alert")).to_contain_text("Choose the outcome")
    problems += check_screen(page, "visit-errors", axe)
    page.get_by_label("Outcome").select_option("no_answer")
    phone.form_section("Safeguarding")
    page.get_by_label("Safeguarding concern").uncheck()
    phone.submit_form()
    expect(page.get_by_text("Submitted: read-only.")).to_be_visible()
    problems += check_screen(page, "visit-submitted", axe)

    page.get_by_role("link", name="Back to case").click()
    page.get_by_role("button", name="Record conversation").click()
    phone.form_section("What happens next")
    page.get_by_role("button", name="Add action").click()
    problems += check_screen(page, "conversation-form", axe)

    page.get_by_role("link", name="Back to case").click()
    expect(page.get_by_role("link", name="Drafts (1)")).to_be_visible()  # the conversation's action row, kept
    page.get_by_role("link", name="Edit contacts and access notes").click()
    problems += check_screen(page, "household", axe)
    page.get_by_label("Access notes").fill("x" * 2001)
    page.get_by_role("button", name="Save household details").click()
    expect(page.get_by_role("alert")).to_contain_text("Access notes is too long")
    problems += check_screen(page, "household-errors", axe)
    page.get_by_role("button", name="Discard changes").click()
    page.get_by_role("dialog").get_by_role("button", name="Discard changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(case["name"])

    page.get_by_role("link", name="Caseload", exact=True).click()
    page.get_by_role("link", name="This phone").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This phone")
    problems += check_screen(page, "settings", axe)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("dialog", name="Sign out and delete work not sent?")).to_be_visible()
    problems += check_screen(page, "sign-out-confirm", axe)
    page.get_by_role("dialog").get_by_role("button", name="Stay signed in").click()

    page.get_by_role("link", name="Transport").click()
    problems += check_screen(page, "runs", axe)
    page.get_by_role("link", name="Problems").click()
    problems += check_screen(page, "problems", axe)

    phone.offline()
    page.reload()
    phone.expect_locked()
    problems += check_screen(page, "lock", axe)
    page.get_by_label("PIN", exact=True).fill("000000")
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong PIN")
    problems += check_screen(page, "lock-wrong-pin", axe)
    page.get_by_role("button", name="Forgot PIN?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your PIN?")
    expect(page.get_by_test_id("at-stake")).to_contain_text("1 draft not finished")
    problems += check_screen(page, "forgot-pin", axe)
    page.get_by_role("button", name="Back to unlock").click()
    phone.unlock()
    expect(phone.status).to_contain_text("Offline")
    problems += check_screen(page, "offline", axe)
    assert not problems, "\n".join(problems)
