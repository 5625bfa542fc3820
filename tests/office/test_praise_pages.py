"""The office's praise page (issue 19 item 2): improving pupils from the register with the
suggested text, queueing the chosen families, the CSV export and the case chronology."""
from __future__ import annotations

import csv
import io

from .conftest import text_of
from tests.server.test_improvement import import_csv, present, week

UPN = "A123456789012"  # the world's pupil, Ava Stone


def improving_marks() -> list[str]:
    # 24 of 40 sessions over four weeks, then 28 of 40: ten points better
    return [row for n in range(8) for row in week(UPN, n, present(6 if n < 4 else 7))]


def test_improving_pupil_is_suggested_queued_and_exported(world, office_page) -> None:
    office, _officer, ids = world
    import_csv(office, improving_marks())
    page = office_page()
    html = page.get("/office/praise").text
    text = text_of(html)
    assert "Ava Stone" in text and "Not texted" in text
    assert "No UK mobile number is recorded for the family." in text  # no contacts yet
    assert page.post("/office/praise/queue", {"pupil_id": ids["pupil"]}).headers["location"].endswith("done=none")

    r = office.push([office.change("household", ids["household"], {
        "contacts": [{"name": "Jo Stone", "relationship": "mother", "phone": "07700 900456"}]}, base_version=1)])
    assert r.json()["results"][0]["status"] == "applied"
    text = text_of(page.get("/office/praise").text)
    assert "Ava has been coming to school much more often" in text and "Not texted" not in text
    r = page.post("/office/praise/queue", {"pupil_id": ids["pupil"]})
    assert r.status_code == 303 and r.headers["location"].endswith("done=queued")
    assert "To send" in text_of(page.get("/office/praise").text)
    # queued once: the same family is not offered again within the interval
    assert "already made for this family" in text_of(page.get("/office/praise").text)

    assert page.post("/office/praise/send").status_code == 409  # Notify is not set up here
    r = page.post("/office/praise/export", {"school": ""})
    [row] = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert row["mobile"] == "07700900456" and row["upn"] == UPN and "Ava" in row["message"]
    case = text_of(page.get(f"/office/cases/{ids['case']}").text)
    assert "Texts to the family" in case and "Exported for the school's texting system" in case


def test_a_pupil_not_improving_cannot_be_queued(world, office_page) -> None:
    office, _officer, ids = world
    import_csv(office, [row for n in range(8) for row in week(UPN, n, present(6))])
    page = office_page()
    assert "Ava Stone" not in page.get("/office/praise").text
    assert page.post("/office/praise/queue", {"pupil_id": ids["pupil"]}).headers["location"].endswith("done=none")


def test_templates_are_checked_and_saved(office_page) -> None:
    page = office_page()
    r = page.post("/office/praise/templates", {"kind": "praise_family", "language": "English",
                                               "body": "{first_name} is at 95% now!", "notify_template_id": ""})
    assert r.status_code == 422 and "Leave out figures" in text_of(r.text)
    r = page.post("/office/praise/templates", {"kind": "praise_family", "language": "Urdu",
                                               "body": "{first_name} اسکول میں بہت زیادہ آ رہے ہیں۔ شکریہ!",
                                               "notify_template_id": ""})
    assert r.status_code == 303
    assert "Urdu" in text_of(page.get("/office/praise/templates").text)


def test_contact_preferences_need_a_real_household(world, office_page) -> None:
    _office, _officer, ids = world
    page = office_page()
    assert page.post(f"/office/households/{ids['pupil']}/contact-preferences", {"opted_out": "yes"}).status_code == 404
    r = page.post(f"/office/households/{ids['household']}/contact-preferences",
                  {"opted_out": "yes", "reason": "Asked at the door"})
    assert r.status_code == 303
