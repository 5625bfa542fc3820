"""What phones report on every call, and the two kinds of revoke (docs/protocol.md §2.6, §2.7)."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from server.identity import devices as device_rows
from tests.conftest import SYNC
from tests.server.test_api_devices import DEVICES, assert_error, device, revoke_url


def status(unsent: Any = None, version: Any = None, last: Any = None) -> dict[str, str]:
    out = {}
    if unsent is not None:
        out["Doorstep-Unsent"] = str(unsent)
    if version is not None:
        out["Doorstep-App-Version"] = version
    if last is not None:
        out["Doorstep-Last-Sync"] = last
    return out


def pull(s: Any, **report: Any) -> Any:
    return s.client.get("/api/sync/pull", headers={**s.headers, **status(**report)})


def push(s: Any, changes: list[dict[str, Any]], **report: Any) -> Any:
    r = s.client.post("/api/sync/push", headers={**s.headers, **status(**report)},
                      json={"client_id": s.device_id, "changes": changes})
    if r.status_code == 200:
        s.clock.receive(r.json()["server_hlc"])
    return r


def refresh(s: Any, **report: Any) -> Any:
    r = s.client.post("/api/auth/refresh", json={"refresh_token": s.refresh_token}, headers=status(**report))
    if r.status_code == 200:
        s.token, s.refresh_token = r.json()["access_token"], r.json()["refresh_token"]
    return r


def note(s: Any, case_id: str, text: str) -> dict[str, Any]:
    return s.change("note", str(uuid.uuid4()), {"subject_type": "case", "subject_id": case_id, "text": text})


def audit_rows(app_state: Any, action: str, device_id: str) -> list[dict[str, Any]]:
    import orjson

    rows = app_state.db.query("SELECT user_id, device_id, detail FROM audit WHERE action = ? AND entity_ids LIKE ?",
                              (action, f"%{device_id}%"))
    return [{**r, "detail": orjson.loads(r["detail"])} for r in rows]


# -- the status headers ------------------------------------------------------------------

def test_every_call_reports_unsent_app_version_and_last_sync(login):
    officer = login("officer", device="Sam's Pixel")
    office = login("office")
    d = device(office, officer.device_id)
    assert (d["unsent"], d["unsent_since"], d["app_version"], d["phone_last_sync_at"]) == (None, None, None, None)

    r = pull(officer, unsent=3, version="doorstep-shell-0123abcd", last="2026-11-23T08:15:00+01:00")
    assert r.status_code == 200
    d = device(office, officer.device_id)
    assert d["unsent"] == 3 and d["app_version"] == "doorstep-shell-0123abcd"
    assert d["phone_last_sync_at"] == "2026-11-23T07:15:00Z"  # normalised to UTC
    since = d["unsent_since"]
    assert since is not None

    # still holding work: the time it started is kept
    assert push(officer, [], unsent=5).status_code == 200
    d = device(office, officer.device_id)
    assert d["unsent"] == 5 and d["unsent_since"] == since and d["app_version"] == "doorstep-shell-0123abcd"
    # all sent: cleared; a refresh and any other call report too
    assert refresh(officer, unsent=0, version="doorstep-shell-ffff0000").status_code == 200
    d = device(office, officer.device_id)
    assert d["unsent"] == 0 and d["unsent_since"] is None and d["app_version"] == "doorstep-shell-ffff0000"
    r = officer.client.post("/api/audit/events", headers={**officer.headers, **status(unsent=1)},
                            json={"event": "storage_not_persistent", "details": {}})
    assert r.status_code in (200, 201), r.text
    assert device(office, officer.device_id)["unsent"] == 1


def test_sign_in_reports_too(client, make_user):
    from tests.conftest import PASSWORD

    user = make_user("officer")
    r = client.post("/api/auth/login", headers=status(unsent=0, version="v9"),
                    json={"username": user["username"], "password": PASSWORD, "device_name": "Firefox on Android"})
    assert r.status_code == 200
    office = client.post("/api/auth/login", json={"username": make_user("office")["username"], "password": PASSWORD,
                                                  "device_name": "desk"}).json()
    items = client.get(DEVICES, headers={"Authorization": f"Bearer {office['access_token']}"},
                       params={"limit": 500}).json()["items"]
    mine = next(d for d in items if d["id"] == r.json()["device_id"])
    assert mine["name"] == "Firefox on Android" and mine["app_version"] == "v9" and mine["unsent"] == 0


@pytest.mark.parametrize("headers", [
    {"Doorstep-Unsent": "-1"}, {"Doorstep-Unsent": "three"}, {"Doorstep-Unsent": "1e3"},
    {"Doorstep-Unsent": "99999999999999999999"}, {"Doorstep-Unsent": "٣".encode()},
    {"Doorstep-App-Version": "x" * 65}, {"Doorstep-App-Version": "café".encode("latin-1")},
    {"Doorstep-Last-Sync": "yesterday"}, {"Doorstep-Last-Sync": "2026-11-23T08:15:00"},
    {"Doorstep-Last-Sync": "2026-13-40T08:15:00Z"}, {"Doorstep-Last-Sync": ""}, {"Doorstep-Unsent": ""},
], ids=lambda h: "-".join(f"{k}={v[:12]!r}" for k, v in h.items()))
def test_bad_status_values_are_ignored_never_an_error(login, headers):
    officer = login("officer")
    office = login("office")
    assert pull(officer, unsent=2, version="v1", last="2026-11-23T08:00:00Z").status_code == 200
    r = officer.client.get("/api/sync/pull", headers={**officer.headers, **headers})
    assert r.status_code == 200, r.text
    d = device(office, officer.device_id)
    assert (d["unsent"], d["app_version"], d["phone_last_sync_at"]) == (2, "v1", "2026-11-23T08:00:00Z")


def test_a_report_is_written_only_when_it_changes(login, monkeypatch):
    from server.identity import status as status_module

    officer = login("officer")
    assert pull(officer, unsent=2, version="v1").status_code == 200
    writes = []
    real = status_module.store
    monkeypatch.setattr(status_module, "store",
                        lambda txn, device_id, rep: (writes.append(rep), real(txn, device_id, rep)))
    event = {"event": "storage_not_persistent", "details": {}}
    for _ in range(2):
        r = officer.client.post("/api/audit/events", headers={**officer.headers, **status(unsent=2, version="v1")},
                                json=event)
        assert r.status_code in (200, 201)
    assert pull(officer, unsent=2, version="v1").status_code == 200
    assert writes == []
    assert pull(officer, unsent=0, version="v1").status_code == 200
    assert [w.unsent for w in writes] == [0]


# -- revoke: the body ---------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"kind": "stolen"}, {"kind": None}, {"kind": 1}, {"kind": "returned", "reason": 5},
    {"kind": "returned", "reason": "x" * 501}, [], "lost", 3,
], ids=["kind-unknown", "kind-null", "kind-number", "reason-number", "reason-too-long", "array", "string", "number"])
def test_a_bad_revoke_body_is_422_and_revokes_nothing(login, body):
    officer = login("officer")
    office = login("office")
    err = assert_error(office.post(revoke_url(officer.device_id), body), 422, "validation_failed")
    if isinstance(body, dict):
        assert err["details"]["field"] in ("kind", "reason")
    assert pull(officer).status_code == 200


def test_a_revoke_body_that_is_not_json_is_422(login):
    officer = login("officer")
    office = login("office")
    r = office.client.post(revoke_url(officer.device_id), headers=office.headers, content=b"{kind")
    assert_error(r, 422, "validation_failed")
    assert pull(officer).status_code == 200


@pytest.mark.parametrize("body", [None, {}, {"kind": "lost"}, {"kind": "lost", "reason": "Left on a bus"}])
def test_no_body_or_lost_revokes_as_lost(login, app_state, body):
    officer = login("officer")
    office = login("office")
    r = office.client.post(revoke_url(officer.device_id), headers=office.headers,
                           **({} if body is None else {"json": body}))
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["revoked"] is True and answer["revoked_reason"] == "revoked" and answer["kind"] == "lost"
    assert answer["reason"] == ((body or {}).get("reason") or "")
    err = assert_error(pull(officer), 401, "device_revoked")
    assert err["details"] == {"kind": "lost"}
    [entry] = audit_rows(app_state, "revoke_device", officer.device_id)
    assert entry["user_id"] == office.user["id"]
    assert entry["detail"]["kind"] == "lost" and entry["detail"]["reason"] == answer["reason"]


# -- lost ---------------------------------------------------------------------------------

def test_a_lost_phone_is_refused_and_its_unsent_count_is_recorded_once(login, app_state):
    officer = login("officer")
    office = login("office")
    assert pull(officer, unsent=2).status_code == 200
    assert office.post(revoke_url(officer.device_id), {"kind": "lost", "reason": "Stolen"}).status_code == 200
    listed = device(office, officer.device_id)["revocation"]
    assert listed["kind"] == "lost" and listed["reason"] == "Stolen" and listed["by"] == office.user["id"]
    assert listed["lost_unsent"] == 2 and listed["lost_reported_at"] is None  # its last report, until it says more

    err = assert_error(push(officer, [], unsent=7), 401, "device_revoked")
    assert err["details"] == {"kind": "lost"}
    # later requests (the phone retrying, or a thief) change nothing
    assert_error(pull(officer, unsent=0), 401, "device_revoked")
    assert_error(refresh(officer, unsent=1), 401, "device_revoked")
    listed = device(office, officer.device_id)["revocation"]
    assert listed["lost_unsent"] == 7 and listed["lost_reported_at"] is not None
    [wiped] = audit_rows(app_state, "revoked_device_wiped", officer.device_id)
    assert wiped["detail"] == {"kind": "lost", "lost_unsent": 7} and wiped["user_id"] == officer.user["id"]


def test_a_lost_phone_that_does_not_say_keeps_its_last_reported_count(login):
    officer = login("officer")
    office = login("office")
    assert pull(officer, unsent=4).status_code == 200
    assert office.post(revoke_url(officer.device_id)).status_code == 200
    err = assert_error(refresh(officer), 401, "device_revoked")  # the refresh path records it too
    assert err["details"] == {"kind": "lost"}
    listed = device(office, officer.device_id)["revocation"]
    assert listed["lost_unsent"] == 4 and listed["lost_reported_at"] is not None


def test_sign_out_and_reuse_still_answer_device_revoked_without_a_kind(login):
    officer = login("officer")
    assert officer.client.post("/api/auth/logout", headers=officer.headers).status_code == 200
    err = assert_error(pull(officer, unsent=3), 401, "device_revoked")
    assert err["details"] == {}
    office = login("office")
    assert device(office, officer.device_id)["revocation"] is None


# -- returned -----------------------------------------------------------------------------

def test_a_returned_phone_pushes_once_then_is_refused(world, login, app_state):
    office, officer, ids = world
    assert pull(officer, unsent=1).status_code == 200
    r = office.post(revoke_url(officer.device_id), {"kind": "returned", "reason": "Replaced by a new phone"})
    assert r.status_code == 200 and r.json()["kind"] == "returned" and r.json()["reason"] == "Replaced by a new phone"

    # anything but a push or a refresh: refused, and told to push
    err = assert_error(pull(officer, unsent=1), 401, "device_revoked")
    assert err["details"] == {"kind": "returned", "final_push": True}
    # it may refresh (its access token may have expired meanwhile)
    assert refresh(officer, unsent=1).status_code == 200
    text = f"Written offline {uuid.uuid4()}"
    r = push(officer, [note(officer, ids["case"], text)], unsent=1)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["final"] is True and body["results"][0]["status"] == "applied"
    notes = [c for c in office.pull_all()[0] if c["type"] == "note" and c["fields"].get("text") == text]
    assert len(notes) == 1

    # from now on: refused, final push over
    for answer in (pull(officer), push(officer, []), refresh(officer),
                   officer.client.post("/api/auth/logout", headers=officer.headers)):
        assert assert_error(answer, 401, "device_revoked")["details"] == {"kind": "returned", "final_push": False}
    rev = device(office, officer.device_id)["revocation"]
    assert rev["kind"] == "returned" and rev["final_push_at"] is not None
    assert rev["final_push_changes"] == 1 and rev["lost_unsent"] == 0
    [final] = audit_rows(app_state, "revoked_device_final_push", officer.device_id)
    assert final["detail"] == {"changes": 1, "lost_unsent": 0}
    [entry] = audit_rows(app_state, "revoke_device", officer.device_id)
    assert entry["detail"]["kind"] == "returned" and entry["detail"]["reason"] == "Replaced by a new phone"


def test_a_returned_phones_push_without_a_report_is_its_only_one(world):
    office, officer, ids = world
    assert office.post(revoke_url(officer.device_id), {"kind": "returned", "reason": "r"}).status_code == 200
    r = push(officer, [note(officer, ids["case"], "one")])
    assert r.status_code == 200 and r.json()["final"] is True
    assert_error(push(officer, [note(officer, ids["case"], "two")]), 401, "device_revoked")


def test_a_returned_phone_sends_a_big_outbox_in_several_pushes(world):
    """The final push is every push until the one that empties the outbox, as Doorstep-Unsent says."""
    office, officer, ids = world
    assert office.post(revoke_url(officer.device_id), {"kind": "returned", "reason": "r"}).status_code == 200
    batch = [note(officer, ids["case"], f"n{i}") for i in range(5)]
    first = push(officer, batch[:2], unsent=5)
    assert first.status_code == 200 and first.json()["final"] is True
    again = push(officer, batch[:2], unsent=5)  # its answer was lost: sent again, duplicates
    assert [x["status"] for x in again.json()["results"]] == ["duplicate"] * 2
    last = push(officer, batch[2:], unsent=3)
    assert last.status_code == 200 and last.json()["final"] is True
    assert [x["status"] for x in last.json()["results"]] == ["applied"] * 3
    assert_error(push(officer, [], unsent=0), 401, "device_revoked")
    rev = device(office, officer.device_id)["revocation"]
    assert rev["final_push_changes"] == 7 and rev["lost_unsent"] == 0


def test_a_returned_phones_final_push_ends_at_the_push_limit(world, app_state):
    office, officer, ids = world
    assert office.post(revoke_url(officer.device_id), {"kind": "returned", "reason": "r"}).status_code == 200
    limit = app_state.settings.max_changes
    changes = [note(officer, ids["case"], f"n{i}") for i in range(limit)]
    assert push(officer, changes[:600], unsent=5000).status_code == 200
    r = push(officer, changes[600:], unsent=4400)  # 1,000 in all: the end, whatever it says
    assert r.status_code == 200 and r.json()["final"] is True
    assert_error(push(officer, [], unsent=4000), 401, "device_revoked")
    assert device(office, officer.device_id)["revocation"]["lost_unsent"] == 4000


def test_a_returned_phone_can_be_declared_lost_before_its_final_push(world):
    office, officer, ids = world
    assert office.post(revoke_url(officer.device_id), {"kind": "returned", "reason": "handed in"}).status_code == 200
    r = office.post(revoke_url(officer.device_id), {"kind": "lost", "reason": "never arrived"})
    assert r.status_code == 200 and r.json()["kind"] == "lost"
    assert assert_error(push(officer, [note(officer, ids["case"], "x")], unsent=1), 401,
                        "device_revoked")["details"] == {"kind": "lost"}
    assert_error(refresh(officer), 401, "device_revoked")
    # and a second revoke leaves the first one as it was
    r = office.post(revoke_url(officer.device_id), {"kind": "returned", "reason": "changed my mind"})
    assert r.status_code == 200 and r.json()["kind"] == "lost" and r.json()["reason"] == "never arrived"


def test_a_returned_phone_that_reuses_a_refresh_token_is_over(login):
    officer = login("officer")
    office = login("office")
    assert office.post(revoke_url(officer.device_id), {"kind": "returned", "reason": "r"}).status_code == 200
    spent = officer.refresh_token
    assert refresh(officer).status_code == 200
    r = officer.client.post("/api/auth/refresh", json={"refresh_token": spent})
    assert assert_error(r, 401, "device_revoked")["details"] == {"kind": "returned", "final_push": False}
    assert_error(push(officer, []), 401, "device_revoked")


# -- the office alert -----------------------------------------------------------------------

def test_devices_holding_unsent_work_too_long_are_listed(login, app_state):
    old = login("officer", device="Old unsent")
    fresh = login("officer", device="Fresh unsent")
    lost = login("officer", device="Lost unsent")
    office = login("office")
    for s in (old, fresh, lost):
        assert pull(s, unsent=3).status_code == 200
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with app_state.db.write() as txn:
        txn.execute("UPDATE devices SET unsent_since = ? WHERE id IN (?, ?)", (long_ago, old.device_id, lost.device_id))
    assert office.post(revoke_url(lost.device_id)).status_code == 200
    alerted = [d["id"] for d in device_rows.unsent_alerts(app_state.db, app_state.settings.unsent_alert_hours)]
    assert old.device_id in alerted and fresh.device_id not in alerted and lost.device_id not in alerted
    assert app_state.settings.unsent_alert_hours == 24
    # sending it clears the alert
    assert pull(old, unsent=0).status_code == 200
    assert old.device_id not in [d["id"] for d in device_rows.unsent_alerts(app_state.db, 24)]


def test_the_device_list_api_shows_status_and_revocation(login):
    officer = login("officer")
    office = login("office")
    assert officer.client.get("/api/sync/pull", headers={**officer.headers, **SYNC,
                                                          **status(unsent=0, version="v2")}).status_code == 200
    d = device(office, officer.device_id)
    assert {"unsent", "unsent_since", "app_version", "phone_last_sync_at", "revocation"} <= set(d)
    assert d["revocation"] is None and d["unsent"] == 0 and d["app_version"] == "v2"
