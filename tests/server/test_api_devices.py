"""Devices and their revocation (PROTOCOL.md §2), through the HTTP API only."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from tests.conftest import SYNC

DEVICES = "/api/devices"


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]


def revoke_url(device_id: str) -> str:
    return f"{DEVICES}/{device_id}/revoke"


def all_devices(session: Any, limit: int | None = None) -> list[dict[str, Any]]:
    """Every device, following ``next`` through the pages."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        params: dict[str, Any] = {}
        if limit is not None:
            params["limit"] = limit
        if cursor is not None:
            params["cursor"] = cursor
        r = session.get(DEVICES, **params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "next"}, body
        items += body["items"]
        cursor = body["next"]
        if cursor is None:
            return items
    raise AssertionError("the device list never ended")


def device(session: Any, device_id: str) -> dict[str, Any]:
    found = [d for d in all_devices(session) if d["id"] == device_id]
    assert len(found) == 1, f"device {device_id} listed {len(found)} times"
    return found[0]


def parse_time(text: str) -> dt.datetime:
    assert text.endswith("Z"), text
    return dt.datetime.fromisoformat(text)


# -- listing -------------------------------------------------------------------

@pytest.mark.parametrize("role", ["office", "admin"])
def test_office_and_admin_list_devices_with_user_name_and_last_sync(login, role):
    officer = login("officer", device="Field phone 7")
    viewer = login(role)
    d = device(viewer, officer.device_id)
    assert d["name"] == "Field phone 7"
    assert d["user"]["id"] == officer.user["id"]
    assert d["user"]["username"] == officer.user["username"]
    assert d["user"]["display_name"] == officer.user["display_name"]
    assert "last_sync_at" in d and d["last_sync_at"] is None  # never synced yet
    # The viewer's own device is listed too.
    assert device(viewer, viewer.device_id)["user"]["id"] == viewer.user["id"]


def test_last_sync_at_is_set_by_a_pull(login):
    officer = login("officer")
    office = login("office")
    assert device(office, officer.device_id)["last_sync_at"] is None
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    assert officer.pull().status_code == 200
    end = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    synced = device(office, officer.device_id)["last_sync_at"]
    assert isinstance(synced, str)
    assert start <= parse_time(synced) <= end
    # Only that device: the office's own device has not synced.
    assert device(office, office.device_id)["last_sync_at"] is None


def test_last_sync_at_is_set_by_a_push(login):
    officer = login("officer")
    office = login("office")
    r = officer.push([])
    assert r.status_code == 200, r.text
    assert device(office, officer.device_id)["last_sync_at"] is not None


def test_an_officer_may_not_list_devices(login):
    officer = login("officer")
    assert_error(officer.get(DEVICES), 403, "forbidden")


def test_listing_devices_needs_a_token(client):
    assert_error(client.get(DEVICES), 401, "unauthenticated")


def test_the_device_list_pages_with_next(login):
    office = login("office")
    ids = {office.device_id} | {login("officer").device_id for _ in range(4)}
    paged = all_devices(office, limit=2)
    assert [d["id"] for d in paged].count(office.device_id) == 1
    assert ids <= {d["id"] for d in paged}
    assert len(paged) == len({d["id"] for d in paged})  # no device on two pages
    first = office.get(DEVICES, limit=2).json()
    assert len(first["items"]) == 2 and isinstance(first["next"], str)


# -- revoking ------------------------------------------------------------------

@pytest.mark.parametrize("role", ["office", "admin"])
def test_a_revoked_device_is_refused_on_its_next_push_and_pull(login, role):
    officer = login("officer")
    assert officer.pull().status_code == 200
    staff = login(role)
    r = staff.post(revoke_url(officer.device_id))
    assert r.status_code == 200, r.text
    assert_error(officer.pull(), 401, "device_revoked")
    assert_error(officer.push([]), 401, "device_revoked")
    assert_error(officer.client.post("/api/auth/refresh", json={"refresh_token": officer.refresh_token}),
                 401, "device_revoked")
    assert_error(officer.client.post("/api/auth/logout", headers=officer.headers), 401, "device_revoked")


def test_revoking_one_device_leaves_the_users_other_devices_working(login):
    phone = login("officer")
    tablet = login(username=phone.user["username"], device="tablet")
    office = login("office")
    assert office.post(revoke_url(phone.device_id)).status_code == 200
    assert_error(phone.pull(), 401, "device_revoked")
    assert tablet.pull().status_code == 200
    assert office.get(DEVICES).status_code == 200


def test_the_device_list_shows_a_revoked_device_as_revoked(login):
    officer = login("officer")
    office = login("office")
    assert device(office, officer.device_id).get("revoked") in (False, None)
    assert office.post(revoke_url(officer.device_id)).status_code == 200
    d = device(office, officer.device_id)
    assert d["revoked"] is True


def test_a_user_may_sign_in_again_on_a_new_device_after_revocation(login, client):
    from tests.conftest import PASSWORD
    officer = login("officer")
    office = login("office")
    assert office.post(revoke_url(officer.device_id)).status_code == 200
    r = client.post("/api/auth/login", json={"username": officer.user["username"], "password": PASSWORD,
                                             "device_name": "new phone"})
    assert r.status_code == 200
    assert r.json()["device_id"] != officer.device_id
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}", **SYNC}
    assert client.get("/api/sync/pull", headers=fresh).status_code == 200


def test_an_officer_may_not_revoke_a_device(login):
    victim = login("officer")
    attacker = login("officer")
    assert_error(attacker.post(revoke_url(victim.device_id)), 403, "forbidden")
    assert victim.pull().status_code == 200


def test_revoking_needs_a_token(client, login):
    victim = login("officer")
    assert_error(client.post(revoke_url(victim.device_id)), 401, "unauthenticated")
    assert victim.pull().status_code == 200


@pytest.mark.parametrize("device_id", [str(uuid.uuid4()), "not-a-uuid", "0" * 36, "%20"],
                         ids=["unknown-uuid", "not-a-uuid", "zeros", "blank"])
def test_revoking_an_unknown_device_is_404_not_found(login, device_id):
    office = login("office")
    assert_error(office.post(revoke_url(device_id)), 404, "not_found")
    assert office.get(DEVICES).status_code == 200  # nothing else was revoked


def test_revoking_is_audited(login):
    officer = login("officer")
    office = login("office")
    admin = login("admin")
    assert office.post(revoke_url(officer.device_id)).status_code == 200
    r = admin.get("/api/audit", entity_id=officer.device_id)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"items", "next"}
    revocations = [e for e in body["items"] if e["action"] == "revoke_device"]
    assert len(revocations) == 1, body
    entry = revocations[0]
    assert entry["user_id"] == office.user["id"]  # who did it, named by id
    assert entry["device_id"] == office.device_id  # from which device
    assert isinstance(entry["at"], str) and parse_time(entry["at"])


def test_the_audit_trail_of_a_device_is_for_admins_only(login):
    officer = login("officer")
    office = login("office")
    assert office.post(revoke_url(officer.device_id)).status_code == 200
    assert_error(office.get("/api/audit", entity_id=officer.device_id), 403, "forbidden")
    assert_error(login("officer").get("/api/audit", entity_id=officer.device_id), 403, "forbidden")
