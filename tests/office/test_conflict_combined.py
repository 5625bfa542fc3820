"""The conflict queue to the second, with who and which device on both sides, and a combined
value the office writes (docs/office.md)."""
from __future__ import annotations

import json
import re
import time

from .conftest import text_of


def make_conflict(world, login) -> dict:
    office, officer, ids = world
    tablet = login("officer", username=officer.user["username"], device="Pixel tablet")
    now = int(time.time() * 1000)
    early = {**tablet.change("household", ids["household"], {"access_notes": "ring twice"}, 1),
             "hlc": f"{now - 4000:015d}-000000-{tablet.device_id}"}
    late = {**officer.change("household", ids["household"], {"access_notes": "use the side gate"}, 1),
            "hlc": f"{now - 2000:015d}-000000-{officer.device_id}"}
    assert officer.push([late]).json()["results"][0]["status"] == "applied"
    assert tablet.push([early]).json()["results"][0]["status"] == "merged"
    [conflict] = office.get("/api/conflicts", status="open").json()["items"]
    return conflict


def test_both_sides_to_the_second_with_user_and_device(world, login, office_page):
    conflict = make_conflict(world, login)
    _office, officer, _ids = world
    html = office_page().get("/office/conflicts").text
    kept = text_of(html[html.index('data-side="kept">') + 17:])
    lost = text_of(html[html.index('data-side="lost">') + 17:])
    name = officer.user["display_name"]
    assert re.match(rf"Written by {name}, \d+ \w{{3}} \d{{4}}, \d\d:\d\d:\d\d, on phone ", kept), kept[:120]
    assert re.match(rf"Written by {name}, \d+ \w{{3}} \d{{4}}, \d\d:\d\d:\d\d, on Pixel tablet ", lost), lost[:120]
    # a text field offers a combined value, starting with both
    assert f'action="/office/conflicts/{conflict["id"]}/resolve" class="combine"' in html
    assert "Or write a combined value" in html
    start = re.search(r'<textarea id="combine-[^"]+" name="value"[^>]*>([^<]*)</textarea>', html).group(1)
    assert start == "use the side gate\nring twice"


def test_the_combined_value_is_applied_and_audited(world, login, office_page, app_state):
    conflict = make_conflict(world, login)
    office, officer, ids = world
    page = office_page()
    r = page.post(f"/office/conflicts/{conflict['id']}/resolve",
                  {"choose": "combined", "value": "Use the side gate\r\nand ring twice"})
    assert r.status_code == 303, r.text
    [done] = office.get("/api/conflicts", status="resolved").json()["items"]
    assert done["choice"] == "combined" and done["value"] == "Use the side gate\nand ring twice"
    items, _ = officer.pull_all()
    [household] = [i for i in items if i["id"] == ids["household"]]
    assert household["fields"]["access_notes"] == "Use the side gate\nand ring twice"
    resolved = text_of(page.get("/office/conflicts", show="resolved").text)
    assert "writing a combined value" in resolved and "Combined value (written by the office)" in resolved
    rows = app_state.db.query("SELECT user_id, detail FROM audit WHERE action = 'resolve_conflict'")
    assert [(r["user_id"], json.loads(r["detail"])) for r in rows] == [
        (page.user["id"], {"choose": "combined", "field": "access_notes", "via": "office"})]


def test_a_combined_value_that_breaks_the_fields_rule_is_refused(world, login, office_page):
    conflict = make_conflict(world, login)
    office, _officer, _ids = world
    page = office_page()
    r = page.post(f"/office/conflicts/{conflict['id']}/resolve", {"choose": "combined", "value": "x" * 2001})
    assert r.status_code == 422 and "at most 2000 characters" in r.text
    r = page.post(f"/office/conflicts/{conflict['id']}/resolve", {"choose": "combined", "value": "  "})
    assert r.status_code == 422 and "Write the combined value" in r.text
    assert len(office.get("/api/conflicts", status="open").json()["items"]) == 1
