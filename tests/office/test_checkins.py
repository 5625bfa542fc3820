"""Safe lone working in the office over HTTP: a check-in synced from a phone and not closed within
its duration plus the grace period is an overdue alert on the overview (officer, address, time
started, minutes overdue); "Acknowledge" is recorded and audited; unacknowledged past
DOORSTEP_CHECKIN_ESCALATE_MINUTES it escalates to the named contact; checking out ends it
(server/relationships/checkins*.py). Times are set relative to now: nothing sleeps."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid

from server.config import Settings
from server.relationships import checkins

from .conftest import text_of

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc)


def ago(minutes: int) -> str:
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def check_in(officer, ids, minutes_ago: int, expected: int = 45) -> str:
    id_ = str(uuid.uuid4())
    r = officer.push([officer.change("check_in", id_, {"case_id": ids["case"], "started_at": ago(minutes_ago),
                                                       "expected_minutes": expected})])
    assert r.json()["results"][0]["status"] == "applied", r.text
    return id_


def test_the_alert_follows_the_duration_the_grace_and_the_escalation() -> None:
    rules = checkins.Rules(grace_min=15, escalate_min=15)
    c = {"started_at": "2026-11-20T10:30:00.000Z", "expected_minutes": 45}  # due 11:15, alert 11:30, escalate 11:45
    assert checkins.state(c, False, NOW - dt.timedelta(minutes=31), rules) is None, "11:29: inside the grace"
    alert = checkins.state(c, False, NOW - dt.timedelta(minutes=30), rules)
    assert alert is not None and alert["minutes_overdue"] == 15 and not alert["escalated"]
    assert checkins.state(c, False, NOW - dt.timedelta(minutes=15), rules)["escalated"]
    assert not checkins.state(c, True, NOW, rules)["escalated"], "acknowledged: no escalation"
    assert checkins.state({**c, "closed_at": "2026-11-20T11:50:00.000Z", "closed_how": "safe"}, False, NOW,
                          rules) is None
    assert checkins.Rules(contact="Duty manager, 01924 300000").contact_parts() == ("Duty manager", "01924 300000")


def test_the_settings_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("DOORSTEP_CHECKIN_GRACE_MINUTES", "20")
    monkeypatch.setenv("DOORSTEP_CHECKIN_ESCALATE_MINUTES", "5")
    monkeypatch.setenv("DOORSTEP_CHECKIN_ESCALATION_CONTACT", " Duty manager, 01924 300000 ")
    rules = checkins.Rules.of(Settings(db_path="x.db"))
    assert rules == checkins.Rules(20, 5, "Duty manager, 01924 300000")


def test_an_overdue_check_in_is_alerted_acknowledged_and_ended_by_checking_out(world, office_page, login) -> None:
    _office, officer, ids = world
    page = office_page()
    calm = text_of(page.get("/office/").text)
    assert "overdue check-in" not in calm
    fresh = check_in(officer, ids, 50)  # due 5 minutes ago: inside the 15-minute grace
    late = check_in(officer, ids, 70)  # due 25 minutes ago: overdue, not yet escalated
    html = page.get("/office/").text
    words = text_of(html)
    assert "Lone working: 1 overdue check-in" in words
    assert f'data-check-in="{late}"' in html and f'data-check-in="{fresh}"' not in html
    assert "12 Shady Lane" in words and "expected 45 minutes" in words
    assert re.search(r"\b2[56] minutes overdue", words), "25 minutes, or 26 if a minute turned meanwhile"
    assert "Call " not in words
    user = page.user["id"]
    r = page.post(f"/office/check-ins/{late}/acknowledge", {"note": "Rang the officer, no answer"})
    assert r.status_code == 303 and r.headers["location"].startswith("/office/?done=ack")
    words = text_of(page.get("/office/", done="ack").text)
    assert "Acknowledged by" in words and "the alert stays until the officer checks out" in words
    assert page.post(f"/office/check-ins/{late}/acknowledge").status_code == 303, "twice is harmless"
    assert page.post(f"/office/check-ins/{uuid.uuid4()}/acknowledge").status_code == 404
    assert page.post("/office/check-ins/not-an-id/acknowledge").status_code == 404
    closed = officer.push([officer.change("check_in", late, {"closed_at": ago(0), "closed_how": "safe"}, 1)])
    assert closed.json()["results"][0]["status"] == "applied"
    assert "overdue check-in" not in text_of(page.get("/office/").text)
    rows = login("admin").get("/api/audit", entity_id=late).json()["items"]
    acks = [e for e in rows if e["action"] == "check_in_acknowledged"]
    assert len(acks) == 1 and acks[0]["user_id"] == user


def test_an_unacknowledged_alert_escalates_to_the_named_contact(world, office_page, app_state) -> None:
    _office, officer, ids = world
    page = office_page()
    long_late = check_in(officer, ids, 120)  # due 75 minutes ago: past grace (15) and escalation (15)
    words = text_of(page.get("/office/").text)
    assert re.search(r"\b7[56] minutes overdue", words)
    assert "no escalation contact is set (DOORSTEP_CHECKIN_ESCALATION_CONTACT)" in words
    app_state.settings = dataclasses.replace(app_state.settings,
                                             checkin_escalation_contact="Duty manager, 01924 300000")
    html = page.get("/office/check-ins").text
    assert "Call Duty manager on" in text_of(html) and 'href="tel:01924300000"' in html
    page.post(f"/office/check-ins/{long_late}/acknowledge")
    assert "Call Duty manager" not in text_of(page.get("/office/check-ins").text), "acknowledged: no escalation"


def test_the_phone_cannot_check_in_someone_else_or_nowhere(world, login) -> None:
    _office, officer, ids = world
    other = login("officer")
    id_ = str(uuid.uuid4())
    r = officer.push([officer.change("check_in", id_, {"case_id": ids["case"], "started_at": ago(1),
                                                       "expected_minutes": 45, "officer_id": other.user["id"]}),
                      officer.change("check_in", str(uuid.uuid4()), {"started_at": ago(1), "expected_minutes": 2})])
    first, second = r.json()["results"]
    assert first["status"] == "applied"
    assert {e["field"] for e in second["errors"]} == {"expected_minutes"}
    items, _ = officer.pull_all()
    mine = [i for i in items if i["type"] == "check_in"]
    assert [(i["id"], i["fields"]["officer_id"]) for i in mine] == [(id_, officer.user["id"])]
    theirs, _ = other.pull_all()
    assert not [i for i in theirs if i["type"] == "check_in"]

