"""The office pages in real headless Chromium against a real ``doorstep serve --demo``.

One server and one browser for the session; each test has a fresh context
(its own cookies). Data each test changes is its own: distinct visits, cases,
households, devices and pupils.
"""
from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api")
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .conftest import Desk
from .helpers import marks_csv

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")


def live_records(api: Any, type_: str) -> list[dict[str, Any]]:
    return [{**c["fields"], "_version": c["version"]} for (t, _), c in api.pull_all().items()
            if t == type_ and not c.get("removed") and not c.get("deleted")]


def assert_accessible(page: Any, where: str) -> None:
    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not bad, f"{where}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']} at "
                                             f"{[n['target'] for n in v['nodes']][:3]}" for v in bad)


def log_rows(page: Any) -> Any:
    return page.locator("table.log tbody tr")


def test_filter_the_log_to_child_not_seen_and_to_safeguarding_concern(desk: Desk, apis):
    office = apis("office")
    visits = live_records(office, "visit")
    not_seen = sum(1 for v in visits if v.get("child_seen") is False)
    concerns = sum(1 for v in visits if v.get("safeguarding_concern"))
    assert concerns >= 2 and not_seen > 0
    page = desk.sign_in()
    page.get_by_role("link", name="Visit log", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Visit log")
    # safeguarding concerns sort first and are marked in words
    expect(log_rows(page).first.locator(".badge-concern")).to_have_text(re.compile("Safeguarding concern"))

    page.get_by_label("Child not seen").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"child_not_seen=1"))
    expect(page.locator("#result-count")).to_contain_text(f"{not_seen} record")
    shown = min(not_seen, 25)
    expect(log_rows(page)).to_have_count(shown)
    expect(log_rows(page).filter(has_text=re.compile("child not seen", re.IGNORECASE))).to_have_count(shown)
    assert_accessible(page, "visit log, child not seen")

    page.get_by_label("Child not seen").uncheck()
    page.get_by_label("Safeguarding concern").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"concern=1"))
    expect(log_rows(page)).to_have_count(concerns)
    expect(log_rows(page).filter(has_text="Safeguarding concern")).to_have_count(concerns)
    expect(page.locator("tr.row-concern")).to_have_count(concerns)
    assert not desk.csp_violations(), desk.console


def test_mark_a_visit_reviewed_and_see_who_and_when(desk: Desk, apis):
    office = apis("office")
    visit = next(v for v in sorted(live_records(office, "visit"), key=lambda v: v["id"])
                 if v.get("outcome") == "card_left")
    page = desk.sign_in()
    page.goto(f"{desk.base}/office/visits/{visit['id']}")
    expect(page.locator("#review")).to_contain_text("Not reviewed yet")
    page.get_by_label("Reviewed", exact=True).check()
    page.get_by_label("Comment").fill("Card left; school to chase on Monday")
    page.get_by_role("button", name="Save review").click()
    expect(page.get_by_role("status")).to_have_text("Review saved.")
    expect(page.locator("#reviewed-by")).to_have_text(re.compile(r"^by Lesley Barraclough, \d{1,2} \w{3} \d{4}, \d{2}:\d{2}$"))
    expect(page.locator("#review .review-reviewed")).to_have_text("Reviewed")
    expect(page.locator("#review")).to_contain_text("Card left; school to chase on Monday")
    page.goto(f"{desk.base}/office/visits?review=reviewed")
    expect(page.locator(f'tr[data-id="{visit["id"]}"]')).to_contain_text("Lesley Barraclough")


def test_resolve_a_conflict_and_see_the_value_change_in_the_api(desk: Desk, apis):
    phone, tablet = apis("officer1", "phone A"), apis("officer1", "tablet B")
    households = sorted(live_records(phone, "household"), key=lambda h: h["id"])
    household = households[0]
    early_hlc = f"{int(time.time() * 1000) - 5000:015d}-000000-{tablet.device_id}"  # written first, sent later
    late = phone.push("household", household["id"], {"access_notes": "Side gate, dog in the yard"},
                      household["_version"])
    assert late["status"] == "applied"
    lost = tablet.push("household", household["id"], {"access_notes": "Ring the top bell"}, household["_version"],
                       hlc=early_hlc)
    assert lost["status"] == "merged" and lost["lost_fields"] == ["access_notes"]
    office = apis("office")
    conflict = next(c for c in office.get("/api/conflicts", status="open").json()["items"]
                    if c["entity_id"] == household["id"])

    page = desk.sign_in()
    page.get_by_role("link", name=re.compile("^Conflicts")).click()
    card = page.locator(f'article[data-conflict="{conflict["id"]}"]')
    expect(card.locator(".side-kept")).to_contain_text("Side gate, dog in the yard")
    expect(card.locator(".side-kept")).to_contain_text("on phone A")
    expect(card.locator(".side-lost")).to_contain_text("Ring the top bell")
    expect(card.locator(".side-lost")).to_contain_text("on tablet B")
    assert_accessible(page, "conflicts")
    card.get_by_role("button", name="Use this instead").click()
    expect(page.get_by_role("status")).to_contain_text("Conflict resolved")
    expect(page.locator(f'article[data-conflict="{conflict["id"]}"]')).to_have_count(0)

    [now] = [h for h in live_records(office, "household") if h["id"] == household["id"]]
    assert now["access_notes"] == "Ring the top bell"
    resolved = office.get("/api/conflicts", status="resolved").json()["items"]
    assert any(c["id"] == conflict["id"] and c["choice"] == "lost" for c in resolved)


def test_reassign_a_case(desk: Desk, apis):
    officer2, officer3, office = apis("officer2"), apis("officer3"), apis("office")
    case = min((c for c in live_records(office, "case") if c.get("status") == "open"
                and c.get("assigned_officer_id") == officer2.user["id"]), key=lambda c: c["id"])
    cursor = officer2.get("/api/sync/pull", limit=5000).json()
    while cursor["has_more"]:
        cursor = officer2.get("/api/sync/pull", limit=5000, cursor=cursor["cursor"]).json()
    page = desk.sign_in()
    page.goto(f"{desk.base}/office/cases/{case['id']}")
    expect(page.locator("#case-officer")).to_have_text(officer2.user["display_name"])
    page.get_by_label("Officer", exact=True).select_option(label=officer3.user["display_name"])
    page.get_by_role("button", name="Reassign").click()
    expect(page.get_by_role("status")).to_contain_text("Case reassigned")
    expect(page.locator("#case-officer")).to_have_text(officer3.user["display_name"])
    # the old officer's device purges it at its next pull; the new officer's gets it
    changes = officer2.get("/api/sync/pull", cursor=cursor["cursor"]).json()["changes"]
    assert {"type": "case", "id": case["id"], "removed": True} in [
        {k: c.get(k) for k in ("type", "id", "removed")} for c in changes]
    assert any(c["id"] == case["id"] for c in live_records(officer3, "case"))


def test_revoke_a_device_and_its_next_call_is_refused(desk: Desk, apis):
    name = f"Lost phone {uuid.uuid4().hex[:6]}"
    phone = apis("officer4", name)
    assert phone.get("/api/sync/pull", limit=1).status_code == 200
    page = desk.sign_in()
    page.get_by_role("link", name="Devices", exact=True).click()
    row = page.locator(f'tr[data-device="{phone.device_id}"]')
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("officer4")
    row.get_by_role("button", name=re.compile(f"^Revoke {name}")).click()
    # the kind and a reason, then a confirmation: only that revokes
    page.get_by_label("Lost or stolen").check()
    page.get_by_label("Reason").fill("Reported lost")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Revoke “{name}” as lost or stolen?")
    assert phone.get("/api/sync/pull", limit=1).status_code == 200
    page.get_by_role("button", name="Yes, revoke this device").click()
    expect(page.get_by_role("status")).to_contain_text(f"Revoked “{name}”")
    expect(page.locator(f'tr[data-device="{phone.device_id}"]')).to_contain_text("Revoked")
    answer = phone.get("/api/sync/pull", limit=1)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "device_revoked"
    assert answer.json()["error"]["details"] == {"kind": "lost"}


def test_import_a_csv_with_three_bad_rows(desk: Desk, apis, tmp_path: Path):
    office = apis("office")
    pupil = max(live_records(office, "pupil"), key=lambda p: p["id"])
    before = pupil["possible_sessions"]
    good = marks_csv(pupil["upn"], ["/"] * 10 + ["N"] * 2, start="2027-01-11").splitlines()  # spring term
    lines = good[:4] + [f"{pupil['upn']},2027-01-11,XM,/"] + good[4:9] + ["NOTAPUPIL0000,2027-01-12,AM,/"] + \
        good[9:] + [f"{pupil['upn']},2027-01-13,AM,%"]
    path = tmp_path / "spring-marks.csv"
    path.write_text("\n".join(lines) + "\n")
    page = desk.sign_in()
    page.get_by_role("link", name="Marks import", exact=True).click()
    page.get_by_label(re.compile("^CSV file")).set_input_files(str(path))
    held: list[Any] = []  # hold the upload at the network so the progress can be seen
    page.route("**/office/marks", lambda route: held.append(route) if route.request.method == "POST"
               else route.continue_())
    page.get_by_role("button", name="Import marks").click()
    expect(page.locator("#upload-progress")).to_be_visible()
    expect(page.get_by_role("button", name="Import marks")).to_be_disabled()
    expect(page.locator("#upload-bar")).to_be_attached()
    assert len(held) == 1 and held[0].request.headers.get("content-type", "").startswith("multipart/form-data")
    held[0].continue_()
    expect(page).to_have_url(re.compile(r"/office/marks/[0-9a-f-]{36}$"))
    assert not desk.errors, desk.errors
    expect(page.locator("#rows-read")).to_have_text("15")
    expect(page.locator("#rows-stored")).to_have_text("12")
    expect(page.locator("#rows-rejected")).to_have_text("3")
    rejected = page.locator("table.rejected tbody tr")
    expect(rejected).to_have_count(3)
    expect(rejected.nth(0)).to_contain_text("5")
    expect(rejected.nth(1)).to_contain_text("NOTAPUPIL0000")
    expect(rejected.nth(2)).to_contain_text("%")
    assert_accessible(page, "import report")
    # the good rows are stored: the register counts them, and sending them again changes nothing
    [after] = [p for p in live_records(office, "pupil") if p["id"] == pupil["id"]]
    assert after["possible_sessions"] == before + 12
    again = office.post("/api/register/marks", content="\n".join(good) + "\n",
                        headers={"Content-Type": "text/csv"}).json()
    assert again["stored"] == 0 and again["unchanged"] == 12


def test_an_officer_is_refused(desk: Desk):
    page = desk.sign_in("officer1")
    expect(page.get_by_role("alert")).to_contain_text("for office and admin staff")
    expect(page).to_have_url(re.compile(r"/office/login$"))
    page.goto(f"{desk.base}/office/visits")
    expect(page).to_have_url(re.compile(r"/office/login\?next="))


def test_sign_out(desk: Desk):
    page = desk.sign_in("admin")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    page.goto(f"{desk.base}/office/cases")
    expect(page).to_have_url(re.compile(r"/office/login\?next=%2Foffice%2Fcases$"))


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 800, "height": 1000}],
                         ids=["laptop", "tablet"])
def test_axe_finds_nothing_serious_on_any_office_page(chromium, live, apis, viewport):
    office = apis("office")
    everything = office.pull_all()
    first = {t: min(i for (tt, i), c in everything.items() if tt == t and not c.get("removed"))
             for t in ("visit", "conversation", "pupil")}
    first["case"] = min(i for (t, i), c in everything.items() if t == "case" and not c.get("removed")
                           and c["fields"].get("stage") == "support")  # the ladder refuses prosecution
    threshold = next(c["fields"]["id"] for (t, _), c in sorted(everything.items())
                     if t == "pupil" and c["fields"].get("penalty_threshold_met"))
    context = chromium.new_context(viewport=viewport, locale="en-GB")
    try:
        desk = Desk(context, live.url)
        page = desk.open("/office/login")
        assert_accessible(page, "sign-in")
        desk.sign_in()
        page = desk.page
        paths = ["/office/", "/office/visits", "/office/visits?concern=1", f"/office/visits/{first['visit']}",
                 f"/office/conversations/{first['conversation']}", "/office/conflicts",
                 "/office/conflicts?show=resolved", "/office/register", "/office/register?list=persistent",
                 "/office/register?list=threshold", f"/office/pupils/{first['pupil']}", f"/office/pupils/{threshold}",
                 "/office/cases", f"/office/cases/{first['case']}", "/office/cases/new", "/office/marks",
                 "/office/devices", "/office/export", "/office/no-such-page"]
        for path in paths:
            response = page.goto(live.url + path)
            assert response is not None and response.status in (200, 404), path
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            assert_accessible(page, path)
        # a page with a form error, and the ladder's refusal
        page.goto(f"{live.url}/office/cases/{first['case']}")
        page.get_by_label("New stage").select_option("prosecution")
        page.get_by_role("button", name="Move stage").click()
        expect(page.get_by_role("alert")).to_contain_text("Cannot move to prosecution")
        assert_accessible(page, "case with a ladder error")
        assert not desk.csp_violations(), desk.console
    finally:
        context.close()
