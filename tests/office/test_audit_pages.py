"""The audit log page: admins only, newest first, paged, filtered by record and by user."""
from __future__ import annotations

import re

import pytest

from server import audit
from server.headers import CSP
from server.office import audit_pages

from .conftest import text_of
from .helpers import add_visit


def rows_of(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-audit="(\d+)">', html)]


def row_html(html: str, audit_id: int) -> str:
    start = html.index(f'<tr data-audit="{audit_id}">')
    return html[start:html.index("</tr>", start)]


def test_the_office_role_gets_403_and_no_link(office_page):
    office = office_page("office")
    r = office.get("/office/audit")
    assert r.status_code == 403 and "The audit log is for admin staff." in text_of(r.text)
    assert 'href="/office/audit"' not in office.get("/office/").text


def test_admins_see_the_audit_log_and_its_link(office_page):
    admin = office_page("admin")
    assert admin.get("/office/audit").status_code == 200
    assert 'href="/office/audit"' in admin.get("/office/").text


def test_rows_newest_first_with_user_device_action_records_and_details(world, office_page, app_state):
    _office, officer, ids = world
    visit = add_visit(officer, ids["case"])
    admin = office_page("admin")
    admin.get(f"/office/pupils/{ids['pupil']}")  # an office view of the pupil
    html = admin.get("/office/audit").text
    order = rows_of(html)
    assert order == sorted(order, reverse=True) and len(order) >= 5
    newest = text_of(row_html(html, order[0]))
    assert "Viewed in the office" in newest and "office_view" in newest and admin.user["username"] in newest
    assert "page: pupil" in newest and "1 record" in newest
    assert f'href="/office/pupils/{ids["pupil"]}"' in row_html(html, order[0])
    push = app_state.db.query("SELECT id FROM audit WHERE action = 'push' AND device_id = ? ORDER BY id DESC",
                              (officer.device_id,))[0]["id"]
    row = row_html(html, push)
    assert "Sent changes" in text_of(row) and officer.user["username"] in text_of(row)
    assert "phone" in text_of(row) and officer.device_id[:8] in row  # the device's name and id
    assert f'href="/office/visits/{visit}"' in row  # records touched, linked where there is a page


def test_filter_by_record_finds_reads_and_the_pushes_that_wrote_it(world, office_page, app_state):
    _office, officer, ids = world
    visit = add_visit(officer, ids["case"])
    admin = office_page("admin")
    admin.get(f"/office/visits/{visit}")
    html = admin.get("/office/audit", entity=visit).text
    text = text_of(html)
    expected = [r["id"] for r in audit.for_entity(app_state.db, visit, None, 100)]
    assert rows_of(html) == expected and len(expected) >= 2
    assert "Sent changes" in text and "Viewed in the office" in text
    assert f"Entries for the visit {visit}" in text
    view = app_state.db.query("SELECT max(id) AS id FROM audit WHERE action = 'office_view'")[0]["id"]
    assert view in expected and view not in rows_of(admin.get("/office/audit", entity=ids["household"]).text)
    # by user: only that user's rows
    mine = admin.get("/office/audit", user=officer.user["id"]).text
    users = set(app_state.db.query("SELECT DISTINCT user_id FROM audit WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))",
                                   (str(rows_of(mine)),))[0].values())
    assert rows_of(mine) and users == {officer.user["id"]}
    # both filters together
    both = admin.get("/office/audit", entity=visit, user=admin.user["id"]).text
    assert rows_of(both) and all("Viewed in the office" in text_of(row_html(both, i)) for i in rows_of(both))


def test_paging_with_older_entries(world, office_page, app_state, monkeypatch):
    monkeypatch.setattr(audit_pages, "PAGE_SIZE", 3)
    admin = office_page("admin")
    for _ in range(4):
        admin.get("/office/register")
    all_ids = [r["id"] for r in app_state.db.query("SELECT id FROM audit ORDER BY id DESC")]
    first = admin.get("/office/audit").text
    assert rows_of(first) == all_ids[:3]
    older = re.search(r'<a href="(/office/audit\?before=\d+)" rel="next">Older entries</a>', first).group(1)
    second = admin.get(older).text
    assert rows_of(second) == all_ids[3:6] and "Newest entries" in second
    seen, page = [], "/office/audit"
    while page:
        html = admin.get(page.replace("&amp;", "&")).text
        seen += rows_of(html)
        link = re.search(r'<a href="([^"]+)" rel="next">', html)
        page = link.group(1) if link else ""
    assert seen == all_ids


def test_bad_filters_are_ignored_and_said(office_page):
    admin = office_page("admin")
    r = admin.get("/office/audit", entity="not-an-id", user="nobody", before="x")
    assert r.status_code == 200 and "The record id must be a full id" in text_of(r.text)
    assert rows_of(r.text)


def test_long_lists_of_records_are_cut_and_counted(office_page, app_state):
    admin = office_page("admin")
    many = [f"00000000-0000-4000-8000-{n:012d}" for n in range(45)]
    with app_state.db.write() as txn:
        audit.record(txn, "system", None, "marks_import", many, {"stored": 90, "rejected": 0})
    html = admin.get("/office/audit").text
    newest = rows_of(html)[0]
    row = row_html(html, newest)
    assert "45 records" in text_of(row) and "and 25 more" in text_of(row)
    assert "Imported attendance marks" in text_of(row) and "system" in text_of(row)
    assert "stored: 90" in text_of(row)


def test_action_and_detail_words():
    assert audit_pages.action_words("device:outbox_unreadable") == "Device reported: outbox unreadable"
    assert audit_pages.action_words("something_new") == "Something new"
    assert audit_pages.detail_words({"dry_run": False, "runs": ["a", "b"], "ids": list(range(9))}) == [
        "dry run: no", "runs: a, b", "ids: 9 items"]


def test_the_audit_page_keeps_to_the_csp_and_labels_its_fields(world, office_page):
    admin = office_page("admin")
    r = admin.get("/office/audit")
    html = r.text
    assert r.headers["content-security-policy"] == CSP and html.count("<h1>") == 1
    assert not re.search(r"\sstyle=", html) and not re.search(r"\son[a-z]+=", html)
    assert 'href="/office/audit" aria-current="page"' in html
    for field in re.findall(r"<(?:input|select)\b[^>]*>", html):
        if 'type="hidden"' in field:
            continue
        field_id = re.search(r'id="([^"]+)"', field).group(1)
        assert f'for="{field_id}"' in html


@pytest.mark.parametrize("path", ["/office/audit", "/office/audit?entity=x"])
def test_signed_out_visitors_are_sent_to_sign_in(client, path):
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/office/login?next=")


@pytest.mark.browser
def test_in_chromium_admins_filter_the_log_and_it_passes_axe(desk):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    page = desk.sign_in("admin")
    page.get_by_role("link", name="Register", exact=True).click()
    page.locator("table a[href^='/office/pupils/']").first.click()  # an office view of a pupil
    pupil_id = page.url.rsplit("/", 1)[1]
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    newest = page.locator("table.audit-table tbody tr").first
    expect(newest).to_contain_text("Viewed in the office")
    newest.locator("summary").click()
    newest.get_by_role("link", name=f"entries for {pupil_id}").click()
    expect(page.get_by_label("Record id")).to_have_value(pupil_id)
    expect(page.get_by_text(f"Entries for the pupil {pupil_id}")).to_be_visible()
    expect(page.locator("table.audit-table tbody tr").first).to_contain_text("page: pupil")
    for size in ({"width": 1280, "height": 800}, {"width": 800, "height": 1000}):
        page.set_viewport_size(size)
        bad = [v for v in Axe().run(page).response["violations"] if v.get("impact") in ("serious", "critical")]
        assert not bad, [(v["id"], v["help"]) for v in bad]
    assert not desk.csp_violations(), desk.console


@pytest.mark.browser
def test_in_chromium_the_office_role_has_no_audit_log(desk):
    from playwright.sync_api import expect

    page = desk.sign_in("office")
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)
    response = page.goto(desk.base + "/office/audit")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Admins only")
