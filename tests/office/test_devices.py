"""Devices: listed with user, name and last sync; revoking one stops its tokens at once."""
from __future__ import annotations

import csv
import io
import uuid

from .conftest import text_of


def test_list_shows_user_name_and_last_sync(login, office_page):
    phone = login("officer", device="Pixel 7 of Sam")
    assert phone.pull().status_code == 200  # a sync stamps last_sync_at
    quiet = login("officer", device="Old tablet")
    page = office_page()
    html = page.get("/office/devices").text
    text = text_of(html)
    assert f'data-device="{phone.device_id}"' in html and f'data-device="{quiet.device_id}"' in html
    row = text_of(html[html.index(f'data-device="{phone.device_id}"'):])
    row = row[:row.index("Revoke")]
    assert "Pixel 7 of Sam" in row and phone.user["username"] in row and "Never" not in row
    quiet_row = text_of(html[html.index(f'data-device="{quiet.device_id}"'):])
    assert "Never" in quiet_row[:quiet_row.index("Revoke")]
    assert "Revoke Pixel 7 of Sam of" in text  # each button says which device (it opens the revoke form)
    rows = list(csv.DictReader(io.StringIO(page.get("/office/devices.csv").content.decode("utf-8-sig"))))
    assert {r["device_name"] for r in rows} >= {"Pixel 7 of Sam", "Old tablet"}


def test_revoke_stops_the_device_at_its_next_call(login, office_page, app_state):
    phone = login("officer", device="Lost phone")
    assert phone.pull().status_code == 200
    page = office_page()
    r = page.post(f"/office/devices/{phone.device_id}/revoke",
                  {"kind": "lost", "reason": "Reported stolen", "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == f"/office/devices?revoked={phone.device_id}"
    assert "Revoked “Lost phone”" in page.get(r.headers["location"]).text
    answer = phone.pull()
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "device_revoked"
    refresh = phone.client.post("/api/auth/refresh", json={"refresh_token": phone.refresh_token})
    assert refresh.json()["error"]["code"] == "device_revoked"
    html = page.get("/office/devices").text
    row = text_of(html[html.index(f'data-device="{phone.device_id}"'):])
    assert "Revoked" in row[:300] and f"by {page.user['username']}" in row[:300]
    assert f'data-device="{phone.device_id}"' not in page.get("/office/devices", show="active").text
    audit = app_state.db.query("SELECT user_id FROM audit WHERE action = 'revoke_device' AND entity_ids LIKE ?",
                               (f'%{phone.device_id}%',))
    assert [a["user_id"] for a in audit] == [page.user["id"]]


def test_revoking_an_unknown_device(office_page):
    page = office_page()
    assert page.post(f"/office/devices/{uuid.uuid4()}/revoke").status_code == 404
    assert page.post("/office/devices/nope/revoke").status_code == 404
