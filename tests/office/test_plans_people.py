"""Parents and attendance support plans over HTTP: the sync API's validation errors, the office's
household and case pages, recording and reviewing a plan (server/casework/plans*.py, people*.py)."""
from __future__ import annotations

import re
import uuid

from .conftest import text_of

ROW = {"action_0": "Breakfast club place", "owner_0": "school", "due_0": "2026-12-01"}


def test_the_sync_api_names_what_is_wrong_with_a_person_or_a_plan(world) -> None:
    _office, officer, ids = world
    person, plan = str(uuid.uuid4()), str(uuid.uuid4())
    r = officer.push([
        officer.change("person", person, {"household_id": ids["household"], "name": "Jo Stone", "email": "not-an-email",
                                          "parental_responsibility": "yes"}),
        officer.change("support_plan", plan, {"case_id": ids["case"], "status": "submitted",
                                              "actions": [{"action": "Walk in", "owner": "mum"}]}),
        officer.change("support_plan", str(uuid.uuid4()), {"case_id": ids["case"], "status": "submitted"}),
    ])
    assert r.status_code == 200
    first, second, third = r.json()["results"]
    assert first["status"] == "rejected"
    assert {e["field"] for e in first["errors"]} == {"email", "parental_responsibility"}
    assert [e["field"] for e in second["errors"]] == ["actions"] and "owner" in second["errors"][0]["message"]
    assert [(e["field"], e["code"]) for e in third["errors"]] == [("actions", "validation_failed"),
                                                                   ("review_on", "validation_failed")]
    ok = officer.push([officer.change("person", person, {"household_id": ids["household"], "name": "Jo Stone"})])
    assert ok.json()["results"][0]["status"] == "applied"
    items, _ = officer.pull_all()
    assert any(i["type"] == "person" and i["id"] == person for i in items)


def test_the_office_records_a_plan_and_reviews_it_as_a_new_version(world, office_page) -> None:
    _office, officer, ids = world
    page = office_page()
    case = page.get(f"/office/cases/{ids['case']}").text
    assert "No support plan yet" in text_of(case)
    refused = page.post(f"/office/cases/{ids['case']}/plans", {"family_consent": "given", "barriers": "bullying"})
    assert refused.status_code == 422
    words = text_of(refused.text)
    assert "at least one agreed action" in words and "review date" in words
    r = page.post(f"/office/cases/{ids['case']}/plans", {**ROW, "family_consent": "given", "barriers": "bullying",
                                                         "review_on": "2026-12-14", "family_view": "Wants help"})
    assert r.status_code == 303, r.text
    case = text_of(page.get(f"/office/cases/{ids['case']}").text)
    assert "Version 1" in case and "Breakfast club place — The school" in case and "14 Dec 2026" in case
    first = re.search(r'data-plan="([0-9a-f-]+)"', page.get(f"/office/cases/{ids['case']}").text).group(1)
    review = page.get(f"/office/cases/{ids['case']}/plans/new", reviews=first).text
    assert 'value="Breakfast club place"' in review and "version 2" in text_of(review)
    no_outcome = page.post(f"/office/cases/{ids['case']}/plans", {**ROW, "supersedes": first, "family_consent": "given",
                                                                  "review_on": "2027-01-11"})
    assert no_outcome.status_code == 422 and "outcome of the review" in text_of(no_outcome.text)
    r = page.post(f"/office/cases/{ids['case']}/plans", {**ROW, "supersedes": first, "family_consent": "given",
                                                         "review_on": "2027-01-11", "review_outcome": "continue",
                                                         "review_notes": "Better mornings"})
    assert r.status_code == 303, r.text
    case = text_of(page.get(f"/office/cases/{ids['case']}").text)
    assert "Version 2 (current)" in case and "Version 1 (reviewed)" in case and "Better mornings" in case
    items, _ = officer.pull_all()
    plans = sorted((i["fields"]["plan_version"], i["fields"].get("supersedes")) for i in items
                   if i["type"] == "support_plan")
    assert plans == [(1, None), (2, first)]


def test_the_office_adds_and_changes_a_parent_and_names_the_case_parents(world, office_page) -> None:
    _office, officer, ids = world
    page = office_page()
    bad = page.post(f"/office/households/{ids['household']}/persons", {"name": "", "email": "x"})
    assert bad.status_code == 422 and "name" in text_of(bad.text).lower()
    r = page.post(f"/office/households/{ids['household']}/persons",
                  {"name": "Jo Stone", "relationship": "mother", "parental_responsibility": "yes",
                   "needs_interpreter": "yes", "preferred_language": "Polish", "phone": "07700 900123"})
    assert r.status_code == 303
    house = page.get(f"/office/households/{ids['household']}").text
    person = re.search(r'href="/office/persons/([0-9a-f-]+)"', house).group(1)
    assert "Jo Stone" in house and "Polish" in house
    r = page.post(f"/office/persons/{person}", {"name": "Jo Stone", "relationship": "mother", "email": "jo@example.org",
                                                "parental_responsibility": "yes"})
    assert r.status_code == 303
    r = page.post(f"/office/cases/{ids['case']}/parents", {"parent_ids": person})
    assert r.status_code == 303
    case = page.get(f"/office/cases/{ids['case']}").text
    assert re.search(rf'value="{person}" checked', case)
    items, _ = officer.pull_all()
    got = {i["id"]: i for i in items}
    assert got[person]["fields"]["email"] == "jo@example.org" and got[ids["case"]]["fields"]["parent_ids"] == [person]
    assert page.get(f"/office/persons/{uuid.uuid4()}").status_code == 404


def test_only_a_submitted_plan_of_the_case_can_be_reviewed_and_an_unknown_case_is_a_404(world, office_page) -> None:
    """The form offers a review only of what the engine lets a new version supersede
    (sync/casework.py): a submitted plan of this case; a draft opens a new plan instead."""
    _office, officer, ids = world
    page = office_page()
    draft = str(uuid.uuid4())
    r = officer.push([officer.change("support_plan", draft, {"case_id": ids["case"], "status": "draft",
                                                             "actions": [{"action": "Walk in together"}]})])
    assert r.json()["results"][0]["status"] == "applied", r.text
    form = text_of(page.get(f"/office/cases/{ids['case']}/plans/new", reviews=draft).text)
    assert "Record a support plan" in form and "Review the support plan" not in form
    for path in ("plans", "wellbeing"):
        missing = page.post(f"/office/cases/{uuid.uuid4()}/{path}", {**ROW, "family_consent": "given"})
        assert missing.status_code == 404, (path, missing.status_code)
