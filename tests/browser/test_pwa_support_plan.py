"""An attendance support plan recorded on the phone with no signal, at 360 × 640, synced by itself,
then reviewed as a second version, and seen in the office with its versions; the phone's parents and
carers. Screenshots for docs/casework.md ("Parents and support plans") are taken here."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from .conftest import form_section, submit_form
from .steps import IMG, first_version_synced, office_desk

pytestmark = pytest.mark.browser

REVIEW_ON = (dt.date.today() + dt.timedelta(days=28)).isoformat()


def test_a_plan_recorded_offline_syncs_and_the_office_sees_its_versions(devices, demo, browser, server_url) -> None:
    case = demo.case_without("officer3", "support_plan")
    case_id = case["case"]["id"]
    phone = devices()
    page = phone.at_case("officer3", case)
    phone.offline()
    expect(phone.status).to_contain_text("Offline")

    page.get_by_role("link", name="Record a support plan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Record a support plan")
    page.locator("details.barriers > summary").click()
    page.get_by_label("Bullying").check()
    page.get_by_label("The family's view", exact=True).fill("She wants to go back if the bullying is dealt with")
    form_section(page, "Actions")
    page.get_by_role("button", name="Add action").click()
    page.get_by_label("Action 1", exact=True).fill("Meet the head of year about the bullying")
    page.get_by_label("Who does action 1").select_option("school")
    page.get_by_label("Action 1 due date").fill(REVIEW_ON)
    page.get_by_role("button", name="Add action").click()
    page.get_by_label("Action 2", exact=True).fill("Walk in with her cousin each morning")
    page.get_by_label("Who does action 2").select_option("family")
    form_section(page, "Review and consent")
    page.get_by_label("Review date", exact=True).fill(REVIEW_ON)
    page.get_by_label("Family consent").select_option("given")
    form_section(page, "Check and submit")
    expect(page.locator(".answers")).to_contain_text("Meet the head of year about the bullying (The school)")
    page.screenshot(path=str(IMG / "casework-plan-phone-check.png"))
    submit_form(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(case["name"])
    expect(page.get_by_role("link", name=re.compile(r"^Version 1, review by"))).to_be_visible()

    plan = first_version_synced(phone, demo, "support_plan", case_id)
    assert [a["owner"] for a in plan["actions"]] == ["school", "family"]

    # the review: a new version, opening with the last one's actions; the first stays as it was
    page.get_by_role("link", name="Review the plan").click()
    expect(page.get_by_label("Action 1", exact=True)).to_have_value("Meet the head of year about the bullying")
    page.get_by_label("Outcome of the review").select_option("continue")
    page.get_by_label("What the review found").fill("Two good weeks; the cousin walks in with her")
    form_section(page, "Barriers and views")
    page.get_by_label("The family's view", exact=True).fill("Mornings are calmer; she wants to keep the plan")
    form_section(page, "Review and consent")
    page.get_by_label("Review date", exact=True).fill(REVIEW_ON)
    submit_form(page)
    phone.wait_synced()
    plans = sorted((p["plan_version"], p.get("supersedes")) for p in demo.office.records("support_plan")
                   if p["case_id"] == case_id)
    assert plans == [(1, None), (2, next(p for p in demo.office.records("support_plan")
                                         if p["case_id"] == case_id and p["plan_version"] == 1)["id"])]
    expect(page.get_by_role("link", name=re.compile(r"^Version 2, review by"))).to_be_visible()
    assert not phone.errors

    with office_desk(browser, server_url, {"width": 1280, "height": 900}) as desk:
        expect(desk.get_by_role("heading", level=1, name="Overview")).to_be_visible()
        desk.goto(f"{server_url}/office/cases/{case_id}#plans-heading")
        plans_box = desk.locator("section.case-plans")
        expect(plans_box).to_contain_text("Version 2 (current)")
        expect(plans_box).to_contain_text("Version 1 (reviewed)")
        expect(plans_box).to_contain_text("Two good weeks")
        plans_box.screenshot(path=str(IMG / "casework-plan-office-case.png"))


def test_parents_and_carers_on_the_phone(devices, demo) -> None:
    case = demo.case_without("officer4", "support_plan")
    phone = devices()
    page = phone.at_case("officer4", case)
    phone.offline()
    page.get_by_role("link", name="Add a parent or carer").click()
    page.get_by_label("Name", exact=True).fill("Dana Okafor")
    page.get_by_label("Relationship").fill("aunt")
    page.get_by_label("Parental responsibility").select_option("no")
    page.get_by_label("Email").fill("not an email")
    page.get_by_role("button", name="Save parent or carer").click()
    expect(page.get_by_role("alert")).to_contain_text("email")
    page.get_by_label("Email").fill("dana@example.org")
    page.get_by_label("This case concerns this parent or carer").check()
    page.get_by_role("button", name="Save parent or carer").click()
    people = page.locator("section.people")
    expect(people).to_contain_text("Dana Okafor")
    expect(people.locator("li", has_text="Dana Okafor")).to_contain_text("Named on this case")
    page.screenshot(path=str(IMG / "casework-plan-phone-household.png"))
    phone.offline(False)
    phone.wait_synced()
    dana = next(p for p in demo.office.records("person") if p["name"] == "Dana Okafor")
    assert dana["household_id"] == case["pupil"]["household_id"] and dana["parental_responsibility"] is False
    assert dana["id"] in demo.office.record("case", case["case"]["id"])["parent_ids"]
    assert not phone.errors
