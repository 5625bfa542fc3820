"""Security headers, key rotation, and device events in the audit log."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/api/health", "/api/openapi.json", "/api/sync/pull", "/api/nowhere",
                                  "/app/", "/"])
def test_every_response_carries_the_security_headers(client, path):
    r = client.get(path, follow_redirects=False)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"


def test_api_answers_are_not_cached(client):
    assert client.get("/api/health").headers["cache-control"] == "no-store"


def test_rotated_keys_keep_sessions_and_retired_keys_are_refused(app_state, login):
    old = login("office")
    old_kid = app_state.signer.ensure_key()
    new_kid = app_state.signer.rotate()
    assert new_kid != old_kid
    assert old.get("/api/devices").status_code == 200  # rotation signs nobody out
    fresh = login("office")
    assert fresh.get("/api/devices").status_code == 200
    assert app_state.signer.retire(old_kid)
    r = old.get("/api/devices")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    assert fresh.get("/api/devices").status_code == 200


def test_a_device_reports_unreadable_work_to_the_audit_log(world, login):
    office, officer, ids = world
    admin = login("admin")
    r = officer.post("/api/audit/events", {"event": "outbox_unreadable", "details": {"count": 2},
                                           "entity_ids": [ids["case"]]})
    assert r.status_code == 201
    rows = admin.get("/api/audit", entity_id=ids["case"]).json()["items"]
    assert any(row["action"] == "device:outbox_unreadable" and row["device_id"] == officer.device_id
               and row["detail"] == {"count": 2} for row in rows)
    assert officer.post("/api/audit/events", {"event": "anything"}).status_code == 422
