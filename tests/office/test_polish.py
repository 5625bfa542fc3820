"""Office polish (issue 17, item 7): a favicon, the visit detail in words (no bare ids or codes),
and a review that cannot be saved staying on its visit with the reason beside the form."""
from __future__ import annotations

import re

from .conftest import text_of
from .helpers import add_conversation, add_visit

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def visible(html: str) -> str:
    """The page's text without the review form's action and hidden inputs (which hold ids)."""
    return text_of(re.sub(r"<(form|input)[^>]*>", " ", html))


def test_every_office_page_names_a_favicon_that_is_served(client, office_page) -> None:
    page = office_page()
    for path in ("/office/login", "/office/", "/office/visits"):
        html = client.get(path).text
        link = re.search(r'<link rel="icon" type="image/png" sizes="32x32" href="([^"]+)">', html)
        assert link, f"{path} names no icon"
        icon = client.get(link.group(1))
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"
        assert icon.content.startswith(b"\x89PNG")
    assert page  # signed in for the pages above


def test_the_visit_detail_names_records_and_codes_in_words(world, office_page) -> None:
    _office, officer, ids = world
    visit = add_visit(officer, ids["case"], household_id=ids["household"], barriers=["housing", "bullying"])
    page = office_page()
    html = page.get(f"/office/visits/{visit}").text
    text = visible(html)
    assert not UUID.search(text), UUID.search(text)
    assert "Barriers Housing, Bullying" in text and "housing" not in text
    assert "Case Support, open" in text and "Household 12 Shady Lane" in text
    assert f'<a href="/office/cases/{ids["case"]}">Support, open</a>' in html
    # the history says the same in words: the officer by name, the case and the household
    history = text[text.index("What changed"):]
    assert "Officer: officer-" in history and "Case: Support, open" in history
    assert "Household: 12 Shady Lane" in history


def test_the_conversation_detail_names_its_visit_and_owners_in_words(world, office_page) -> None:
    _office, officer, ids = world
    visit = add_visit(officer, ids["case"], household_id=ids["household"])
    conv = add_conversation(officer, ids["case"], visit_id=visit, follow_up_of=visit, agreed_actions=[
        {"action": "Refer to the school nurse", "owner": "school_nurse", "due_on": "2026-11-20"}])
    page = office_page()
    html = page.get(f"/office/conversations/{conv}").text
    text = visible(html)
    assert not UUID.search(text), UUID.search(text)
    assert "Held during a visit the home visit of 4 Nov 2026, 10:00" in text
    assert "Follows up the home visit of 4 Nov 2026, 10:00" in text
    assert f'<a href="/office/visits/{visit}">the home visit of 4 Nov 2026, 10:00</a>' in html
    assert "Refer to the school nurse — School nurse, due 20 Nov 2026" in text
    assert "school_nurse" not in text and "2026-11-20" not in text


def test_a_review_that_cannot_be_saved_stays_on_its_visit(world, office_page, app_state) -> None:
    _office, officer, ids = world
    visit = add_visit(officer, ids["case"])
    page = office_page()
    r = page.post(f"/office/visits/{visit}/review", {"state": "needs_follow_up", "comment": "  "})
    assert r.status_code == 422
    text = visible(r.text)
    assert "Home visit: Ava Stone" in text  # the visit's own page, not an error page
    assert "Review not saved: Say in the comment what follow-up is needed." in text
    assert re.search(r'value="needs_follow_up" checked', r.text)  # what was chosen is kept
    assert 'aria-invalid="true"' in r.text and "Back to the office overview" not in r.text
    assert app_state.db.query("SELECT count(*) AS n FROM reviews WHERE entity_id = ?", (visit,))[0]["n"] == 0
    # a state that does not exist: the same, and the comment typed is kept
    r = page.post(f"/office/visits/{visit}/review", {"state": "bogus", "comment": "Ring the school"})
    assert r.status_code == 422 and "Choose a review state" in r.text and ">Ring the school</textarea>" in r.text
    # fixed, it saves and goes back to the visit as before
    r = page.post(f"/office/visits/{visit}/review", {"state": "needs_follow_up", "comment": "Ring the school"})
    assert r.status_code == 303 and r.headers["location"] == f"/office/visits/{visit}?saved=review#review"
