"""Wellbeing plans and safe lone working in real Chromium at 360 × 640 (docs/relationships.md):
a wellbeing plan recorded with no signal, synced by itself and seen in the office against the
register; a check-in made before a visit, overdue in the office (read in a second browser), then
checked out with "I'm safe"; a submitted visit checking its case's check-in out. The phone's clock
is Playwright's (no sleeping): the check-in is made with the phone's time two hours back, then the
clock jumps to now. Screenshots for docs/relationships.md are taken here."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from .conftest import form_section, submit_form
from .steps import IMG, first_version_synced, office_desk

pytestmark = pytest.mark.browser


def test_a_wellbeing_plan_recorded_offline_syncs_and_the_office_sees_it(devices, demo, browser, server_url) -> None:
    case = demo.case_without("officer1", "wellbeing_plan")
    case_id = case["case"]["id"]
    phone = devices()
    page = phone.at_case("officer1", case)
    phone.offline()
    expect(phone.status).to_contain_text("Offline")

    page.get_by_role("link", name="Record a wellbeing plan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Record a wellbeing plan")
    page.get_by_label("What helps", exact=True).fill("Coming in by the side gate before the bell")
    page.get_by_label("What makes it harder").fill("Crowded corridors; being picked to read aloud")
    page.get_by_label("Trusted adult").fill("Mr Patel, learning mentor")
    page.get_by_label("Safe space").fill("The learning support base")
    form_section(page, "Adjustments")
    page.get_by_role("button", name="Add adjustment").click()
    page.get_by_label("Adjustment 1", exact=True).fill("Time-out card")
    form_section(page, "Gradual return")
    page.get_by_role("button", name="Add week").click()
    page.get_by_label("Week 1 starts").fill("2026-11-30")
    page.get_by_label("Week 1 sessions planned").fill("3")
    page.get_by_role("button", name="Add week").click()
    expect(page.get_by_label("Week 2 starts")).to_have_value("2026-12-07")
    page.get_by_label("Week 2 sessions planned").fill("5")
    form_section(page, "Review date")
    page.get_by_label("Review date", exact=True).fill("2026-12-14")
    form_section(page, "Check and submit")
    expect(page.locator(".answers")).to_contain_text("30 Nov 2026: 3; 7 Dec 2026: 5")
    page.screenshot(path=str(IMG / "relationships-wellbeing-phone.png"))
    submit_form(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(case["name"])
    expect(page.get_by_role("link", name=re.compile(r"^Version 1, review by 14 Dec 2026"))).to_be_visible()

    plan = first_version_synced(phone, demo, "wellbeing_plan", case_id)
    assert plan["return_timetable"] == [{"week_starting": "2026-11-30", "sessions": 3},
                                        {"week_starting": "2026-12-07", "sessions": 5}]
    assert not phone.errors

    with office_desk(browser, server_url, {"width": 1280, "height": 900}) as desk:
        expect(desk.get_by_role("heading", level=1, name="Overview")).to_be_visible()
        desk.goto(f"{server_url}/office/cases/{case_id}#wellbeing-heading")
        box = desk.locator("section.case-wellbeing")
        expect(box).to_contain_text("Version 1 (current)")
        expect(box).to_contain_text("Mr Patel, learning mentor")
        expect(box.locator("table.wellbeing-weeks tbody tr")).to_have_count(2)
        # the demo's own plan, two versions, its return against the demo term's marks
        demo_case = next(p["case_id"] for p in demo.office.records("wellbeing_plan") if p.get("supersedes"))
        desk.goto(f"{server_url}/office/cases/{demo_case}#wellbeing-heading")
        expect(box).to_contain_text("Version 2 (current)")
        expect(box).to_contain_text("Version 1 (reviewed)")
        expect(box.locator("svg.wellbeing-chart")).to_be_visible()
        box.screenshot(path=str(IMG / "relationships-wellbeing-office.png"))


def test_check_in_overdue_in_the_office_then_checked_out(devices, demo, browser, server_url) -> None:
    # a case (and household) no other test records a visit on: such a visit, pulled to this phone,
    # would check this check-in out before it could show overdue (other tests use officer2's first 13)
    cases = demo.open_cases("officer2")
    used = {c["pupil"].get("household_id") for c in cases[:13]}
    case = next(c for c in reversed(cases) if c["household"] and c["household"].get("access_notes")
                and c["pupil"].get("household_id") not in used)
    real_now = dt.datetime.now(dt.timezone.utc)
    phone = devices()
    phone.context.clock.install(time=real_now - dt.timedelta(hours=2))  # the visit began two hours ago
    page = phone.at_case("officer2", case)
    section = page.locator("section.checkin")
    expect(section.get_by_role("list", name="Known risks")).to_contain_text(case["household"]["access_notes"][:40])
    expect(page.get_by_label("Expected duration")).to_have_value("45")
    phone.offline()
    section.get_by_role("button", name="Start visit").click()
    expect(section.locator(".checkin-running")).to_contain_text("Checked in at")
    expect(section.get_by_role("button", name="I'm safe")).to_be_visible()
    section.screenshot(path=str(IMG / "relationships-checkin-phone.png"))
    assert [e["type"] for e in phone.idb()["outbox"]] == ["check_in"], "queued offline like any change"
    phone.offline(False)
    phone.wait_synced()
    check_in = next({**c["fields"], "id": i} for (t, i), c in demo.office.pull_all().items()
                    if t == "check_in" and c["fields"]["case_id"] == case["case"]["id"] and not c["fields"].get("closed_at"))
    assert check_in["officer_id"] == demo.user("officer2")["id"] and check_in["expected_minutes"] == 45

    with office_desk(browser, server_url, {"width": 1280, "height": 900}) as desk:
        expect(desk.get_by_role("heading", level=1, name="Overview")).to_be_visible()
        alert = desk.locator(f"[data-check-in='{check_in['id']}']")
        expect(alert).to_contain_text(case["household"]["address"])
        expect(alert).to_contain_text("minutes overdue")
        expect(alert).to_contain_text("Nobody has acknowledged this")  # 75 minutes overdue: escalated
        desk.locator("section.checkin-alerts").screenshot(path=str(IMG / "relationships-checkin-office.png"))
        alert.get_by_role("button", name="Acknowledge").click()
        expect(desk.locator(f"[data-check-in='{check_in['id']}']")).to_contain_text("Acknowledged by")

        # back on the phone two hours later: the overdue check-in shows on every screen
        page.clock.fast_forward("02:00:00")
        banner = page.locator("[data-banner='checkin']")
        locked = page.get_by_role("heading", name="Doorstep is locked")
        expect(locked.or_(banner)).to_be_visible()  # two idle hours lock the app; it may not have drawn yet
        if locked.count():
            phone.unlock()
        expect(banner).to_contain_text("Check-in overdue")
        expect(banner).to_contain_text(case["household"]["address"])
        page.screenshot(path=str(IMG / "relationships-checkin-banner.png"))
        banner.get_by_role("link", name="I'm safe: check out").click()
        page.get_by_role("button", name="I'm safe").click()
        expect(banner).to_have_count(0)
        phone.wait_synced()
        closed = demo.office.record("check_in", check_in["id"])
        assert closed["closed_how"] == "safe" and closed["closed_at"] >= closed["started_at"]
        desk.reload()
        expect(desk.locator(f"[data-check-in='{check_in['id']}']")).to_have_count(0)

        # a submitted visit checks its case's check-in out
        phone.open_case(case)
        page.locator("section.checkin").get_by_role("button", name="Start visit").click()
        page.get_by_role("button", name="Record visit").click()
        page.get_by_label("Outcome").select_option("no_answer")
        submit_form(page)
        phone.wait_synced()
        mine = [c for c in demo.office.records("check_in") if c["case_id"] == case["case"]["id"]]
        assert sorted(c.get("closed_how") for c in mine) == ["safe", "visit_submitted"]
        assert not phone.errors


def test_an_unacknowledged_alert_says_whom_to_call(browser, tmp_path, monkeypatch) -> None:
    """Escalation, read in the office in real Chromium, with the contact set (a server of its own)."""
    import uuid

    import httpx

    from server.config import Settings
    from server.identity.accounts import add_user
    from server.state import open_state
    from tests.live_server import LiveServer

    db = str(tmp_path / "escalate.db")
    st = open_state(Settings(db_path=db))
    for name, role in (("office", "office"), ("officer", "officer")):
        add_user(st.db, name, "escalate-pass-1", role)
    st.db.close()
    monkeypatch.setenv("DOORSTEP_CHECKIN_ESCALATION_CONTACT", "Duty manager, 01632 960000")
    server = LiveServer(db).start()
    clients: list[httpx.Client] = []
    try:
        def session(name: str) -> tuple[httpx.Client, dict]:
            http = httpx.Client(base_url=server.url, timeout=30)
            clients.append(http)
            body = http.post("/api/auth/login", json={"username": name, "password": "escalate-pass-1",
                                                      "device_name": "t"}).json()
            http.headers.update({"Authorization": f"Bearer {body['access_token']}", "Doorstep-Protocol": "1"})
            return http, body

        def push(who: tuple[httpx.Client, dict], type_: str, fields: dict, n: int) -> str:
            id_ = str(uuid.uuid4())
            hlc = f"{int(dt.datetime.now().timestamp() * 1000) + n:015d}-000000-{who[1]['device_id']}"
            r = who[0].post("/api/sync/push", json={"client_id": who[1]["device_id"], "changes": [
                {"change_id": str(uuid.uuid4()), "type": type_, "id": id_, "op": "put", "fields": fields,
                 "base_version": None, "hlc": hlc}]})
            assert r.json()["results"][0]["status"] == "applied", r.text
            return id_

        office, officer = session("office"), session("officer")
        school = push(office, "school", {"name": "Hexthorpe Primary"}, 1)
        household = push(office, "household", {"address": "12 Shady Lane, Hexthorpe"}, 2)
        pupil = push(office, "pupil", {"upn": "A123456789012", "first_name": "Ava", "last_name": "Stone",
                                       "school_id": school, "household_id": household}, 3)
        case = push(office, "case", {"pupil_id": pupil, "assigned_officer_id": officer[1]["user"]["id"]}, 4)
        started = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=95)).strftime("%Y-%m-%dT%H:%M:%SZ")
        push(officer, "check_in", {"case_id": case, "started_at": started, "expected_minutes": 45}, 5)

        with office_desk(browser, server.url, {"width": 1280, "height": 900}, password="escalate-pass-1") as desk:
            alerts = desk.locator("section.checkin-alerts")
            expect(alerts).to_contain_text("12 Shady Lane, Hexthorpe")
            expect(alerts).to_contain_text(re.compile(r"\b5[01] minutes overdue"))
            call = alerts.get_by_role("link", name="01632 960000")
            expect(call).to_have_attribute("href", "tel:01632960000")
            expect(alerts.locator(".escalate")).to_contain_text("Call Duty manager on 01632 960000")
            alerts.screenshot(path=str(IMG / "relationships-checkin-escalated.png"))
            alerts.get_by_role("button", name="Acknowledge").click()
            expect(alerts).to_contain_text("Acknowledged by")
            expect(alerts.locator(".escalate")).to_have_count(0)
    finally:
        for http in clients:
            http.close()
        server.stop()


def test_the_demos_overdue_check_in_shows_on_its_officers_phone(devices, demo) -> None:
    """A check-in made on another phone (the demo's) reaches its officer's phone, and only theirs."""
    from fixtures.relationships import _id

    demo_check_in = demo.office.record("check_in", _id("check-in:1"))
    officer = next(u for u in ("officer1", "officer2", "officer3", "officer4")
                   if demo.user(u)["id"] == demo_check_in["officer_id"])
    phone = devices()
    page = phone.open()
    phone.sign_in(officer)
    banner = page.locator("[data-banner='checkin']")
    expect(banner).to_contain_text("Check-in overdue")
    page.get_by_role("link", name="Transport", exact=True).click()
    expect(banner).to_contain_text("Check-in overdue")  # on every screen
    assert not phone.errors
