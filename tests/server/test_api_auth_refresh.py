"""Refresh rotation and reuse detection (PROTOCOL.md §2), through the HTTP API only."""
from __future__ import annotations

from tests.server.auth_helpers import REFRESH, assert_error, claims_of, pull_with


# -- refresh rotation and reuse detection ------------------------------------------

def test_refresh_returns_a_new_working_pair_for_the_same_device(client, login):
    s = login("officer")
    r = client.post(REFRESH, json={"refresh_token": s.refresh_token})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "refresh_token", "expires_in", "device_id", "user"}
    assert body["device_id"] == s.device_id
    assert body["user"] == s.user
    assert body["refresh_token"] != s.refresh_token
    assert body["access_token"] != s.token
    claims = claims_of(body["access_token"])
    assert claims["dev"] == s.device_id and claims["sub"] == s.user["id"]
    assert claims["jti"] != claims_of(s.token)["jti"]
    assert pull_with(client, body["access_token"]).status_code == 200
    # The new refresh token is itself good for one more rotation.
    again = client.post(REFRESH, json={"refresh_token": body["refresh_token"]})
    assert again.status_code == 200, again.text
    assert again.json()["device_id"] == s.device_id


def test_reusing_a_refresh_token_revokes_the_whole_device_session(client, login):
    s = login("officer")
    first = client.post(REFRESH, json={"refresh_token": s.refresh_token})
    assert first.status_code == 200
    new = first.json()
    assert pull_with(client, new["access_token"]).status_code == 200

    assert_error(client.post(REFRESH, json={"refresh_token": s.refresh_token}), 401, "device_revoked")

    # Every token of that device is dead now: the old and new access tokens, the new refresh token.
    assert_error(pull_with(client, new["access_token"]), 401, "device_revoked")
    assert_error(pull_with(client, s.token), 401, "device_revoked")
    assert_error(client.post(REFRESH, json={"refresh_token": new["refresh_token"]}), 401, "device_revoked")
    assert_error(client.post(REFRESH, json={"refresh_token": s.refresh_token}), 401, "device_revoked")


def test_reuse_detection_spares_the_users_other_devices(client, login):
    s = login("officer")
    other = login(username=s.user["username"], device="tablet")
    assert client.post(REFRESH, json={"refresh_token": s.refresh_token}).status_code == 200
    assert_error(client.post(REFRESH, json={"refresh_token": s.refresh_token}), 401, "device_revoked")
    assert pull_with(client, other.token).status_code == 200
    assert client.post(REFRESH, json={"refresh_token": other.refresh_token}).status_code == 200


def test_an_unknown_refresh_token_is_401_unauthenticated(client, login):
    login("officer")
    assert_error(client.post(REFRESH, json={"refresh_token": "not-a-token-we-issued"}), 401,
                 "unauthenticated")


def test_an_access_token_is_not_a_refresh_token(client, login):
    s = login("officer")
    r = client.post(REFRESH, json={"refresh_token": s.token})
    assert r.status_code in (401, 422), r.text
    assert_error(r, r.status_code, "unauthenticated" if r.status_code == 401 else "validation_failed")
    assert pull_with(client, s.token).status_code == 200
