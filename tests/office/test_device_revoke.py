"""The office's devices page: alerts for unsent work, revoking with a kind, a reason and a confirmation."""
from __future__ import annotations

import datetime as dt
import uuid

from tests.server.test_api_devices import assert_error
from tests.server.test_device_status import audit_rows, pull, push

from .conftest import text_of


def test_office_sees_unsent_alerts_and_revokes_with_kind_reason_and_confirmation(login, office_page, app_state):
    phone = login("officer", device="Sam's Pixel 7")
    assert pull(phone, unsent=2, version="doorstep-shell-abc").status_code == 200
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with app_state.db.write() as txn:
        txn.execute("UPDATE devices SET unsent_since = ? WHERE id = ?", (long_ago, phone.device_id))
    page = office_page()
    html = page.get("/office/devices").text
    alert = text_of(html[html.index('data-alert="unsent"'):html.index("</section>")])
    assert "for more than 24 hours" in alert and "Sam's Pixel 7" in alert and "2 unsent changes" in alert
    row = text_of(html[html.index(f'<tr data-device="{phone.device_id}"'):])[:400]
    assert "App doorstep-shell-abc" in row

    url = f"/office/devices/{phone.device_id}/revoke"
    form = page.get(url)
    assert form.status_code == 200 and "What happened to this phone?" in form.text
    missing = page.post(url, {})
    assert missing.status_code == 422
    assert "Choose what happened to the phone." in missing.text and "Give the reason" in missing.text
    confirm = page.post(url, {"kind": "returned", "reason": "Handed in, replaced"})
    assert confirm.status_code == 200 and "Revoke “Sam&#39;s Pixel 7” as returned or replaced?" in confirm.text
    assert pull(phone).status_code == 200  # nothing happened yet
    change = page.post(url, {"kind": "returned", "reason": "Handed in, replaced", "edit": "1"})
    assert 'value="returned" required aria-describedby="kind-returned-hint" checked' in change.text
    done = page.post(url, {"kind": "returned", "reason": "Handed in, replaced", "confirm": "yes"})
    assert done.status_code == 303
    assert assert_error(pull(phone), 401, "device_revoked")["details"] == {"kind": "returned", "final_push": True}
    [entry] = audit_rows(app_state, "revoke_device", phone.device_id)
    assert entry["detail"] == {"via": "office", "kind": "returned", "reason": "Handed in, replaced", "unsent": 2}
    row = text_of(page.get("/office/devices").text)
    assert "returned or replaced" in row and "“Handed in, replaced”" in row and "Waiting for its final sync" in row
    # a returned phone can only be declared lost now
    declare = page.get(url)
    assert declare.status_code == 200 and 'value="returned"' not in declare.text
    assert page.post(url, {"kind": "returned", "reason": "x", "confirm": "yes"}).status_code == 422
    assert page.post(url, {"kind": "lost", "reason": "Never handed in", "confirm": "yes"}).status_code == 303
    assert_error(push(phone, [], unsent=2), 401, "device_revoked")
    html = text_of(page.get("/office/devices").text)
    assert "Wiped" in html and "2 unsent changes lost" in html
    assert page.get(url).status_code == 409  # nothing left to revoke
    assert page.get(f"/office/devices/{uuid.uuid4()}/revoke").status_code == 404
