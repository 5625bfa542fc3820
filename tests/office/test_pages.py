"""Every office page: renders for office and admin, keeps to the CSP, and is labelled."""
from __future__ import annotations

import re

import pytest

from server.headers import CSP

from .helpers import add_conversation, add_visit


@pytest.fixture
def pages(world, app_state):
    _office, officer, ids = world
    visit = add_visit(officer, ids["case"], safeguarding_concern=True, concern_details="Worried")
    conv = add_conversation(officer, ids["case"], visit_id=visit)
    return ["/office/", "/office/visits", "/office/visits?concern=1&page=1", f"/office/visits/{visit}",
            f"/office/conversations/{conv}", "/office/conflicts", "/office/conflicts?show=resolved",
            "/office/register", "/office/register?list=persistent", "/office/register?list=threshold",
            f"/office/pupils/{ids['pupil']}", "/office/cases", f"/office/cases/{ids['case']}", "/office/cases/new",
            "/office/marks", "/office/devices", "/office/devices?show=active", "/office/export"]


@pytest.mark.parametrize("role", ["office", "admin"])
def test_every_page_renders_and_keeps_to_the_csp(role, pages, office_page):
    page = office_page(role)
    for path in pages:
        r = page.get(path)
        assert r.status_code == 200, path
        html = r.text
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["cache-control"] == "no-store" and r.headers["x-frame-options"] == "DENY"
        assert not re.search(r"\sstyle=", html), path  # no inline styles
        assert not re.search(r"<style", html), path
        for script in re.findall(r"<script[^>]*>", html):
            assert 'src="/office/static/' in script, path  # no inline scripts
        assert not re.search(r"\son[a-z]+=", html), path  # no inline event handlers
        assert '<html lang="en-GB">' in html and "<h1>" in html and '<main id="main"' in html
        for field in re.findall(r'<(?:input|select|textarea)\b[^>]*>', html):
            if 'type="hidden"' in field or 'type="submit"' in field:
                continue
            field_id = re.search(r'id="([^"]+)"', field)
            inside_label = re.search(r'<label[^>]*>(?:(?!</label>).)*' + re.escape(field), html, flags=re.DOTALL)
            assert inside_label or (field_id and f'for="{field_id.group(1)}"' in html), (path, field)


def test_static_assets(client):
    css = client.get("/office/static/office.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = client.get("/office/static/office.js")
    assert js.status_code == 200 and "XMLHttpRequest" in js.text


def test_overview_counts_what_needs_attention(world, office_page):
    _office, officer, ids = world
    add_visit(officer, ids["case"], safeguarding_concern=True, concern_details="Worried")
    add_visit(officer, ids["case"], child_seen=False, outcome="no_answer")
    page = office_page()
    html = page.get("/office/").text
    assert re.search(r'<li class="tile-concern"><a href="/office/visits\?concern=1&amp;review=new">'
                     r'<span class="n">1</span> Safeguarding concerns not yet reviewed', html)
    assert re.search(r'<span class="n">1</span> Visits where the child was not seen', html)
    assert re.search(r'<span class="n">2</span> Records not yet reviewed', html)


def test_unknown_office_paths_are_html_404s(office_page):
    page = office_page()
    r = page.get("/office/nothing/here")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert page.get("/office").status_code == 308
