"""Sign-in and sign-out (PROTOCOL.md §1, §2), through the HTTP API only: the login's shape,
the JWT's claims and ``kid``, wrong passwords, throttling (429) and logout.

Refresh rotation and reuse detection: test_api_auth_refresh.py; verifying tokens (expired,
foreign, tampered, retired keys, garbled headers): test_api_auth_tokens.py. test_totp.py and
test_user_admin.py import ``assert_error``, ``bearer`` and ``sign_in`` from here.
"""
from __future__ import annotations

import time
import uuid

import jwt
import pytest

from tests import store
from tests.conftest import PASSWORD
from tests.server.auth_helpers import (
    LOGIN,
    LOGOUT,
    REFRESH,
    assert_error,
    bearer,
    claims_of,
    pull_with,
    sign_in,
)


# -- login -----------------------------------------------------------------------

def test_login_answers_the_token_pair_and_user(client, make_user, app_state):
    user = make_user("officer", "ada")
    r = sign_in(client, "ada", device="Ada's phone")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "refresh_token", "expires_in", "device_id", "user"}
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert isinstance(body["refresh_token"], str) and body["refresh_token"]
    assert body["refresh_token"] != body["access_token"]
    assert body["expires_in"] == app_state.settings.access_ttl_s == 15 * 60
    assert isinstance(body["expires_in"], int) and not isinstance(body["expires_in"], bool)
    uuid.UUID(body["device_id"])
    assert body["user"] == {"id": user["id"], "username": "ada", "display_name": user["display_name"],
                            "role": "officer"}
    uuid.UUID(body["user"]["id"])


@pytest.mark.parametrize("role", ["officer", "office", "admin"])
def test_access_token_is_a_jwt_with_the_protocol_claims_and_a_kid(client, make_user, role):
    user = make_user(role)
    before = int(time.time())
    body = sign_in(client, user["username"]).json()
    after = int(time.time())
    token = body["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    assert isinstance(header.get("kid"), str) and header["kid"]
    claims = claims_of(token)
    assert {"sub", "role", "dev", "exp", "iat", "jti"} <= set(claims)
    assert claims["sub"] == user["id"]
    assert claims["role"] == role
    assert claims["dev"] == body["device_id"]
    assert before <= claims["iat"] <= after
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    assert isinstance(claims["jti"], str) and claims["jti"]


def test_each_sign_in_is_a_new_device_with_a_fresh_token_id(client, make_user):
    name = make_user("officer")["username"]
    first, second = sign_in(client, name).json(), sign_in(client, name).json()
    assert first["device_id"] != second["device_id"]
    assert claims_of(first["access_token"])["jti"] != claims_of(second["access_token"])["jti"]
    assert first["refresh_token"] != second["refresh_token"]
    for body in (first, second):
        assert pull_with(client, body["access_token"]).status_code == 200


def test_the_access_token_opens_the_api(client, make_user):
    name = make_user("officer")["username"]
    token = sign_in(client, name).json()["access_token"]
    r = pull_with(client, token)
    assert r.status_code == 200, r.text
    assert {"changes", "cursor", "has_more"} <= set(r.json())


def test_a_hash_made_with_older_settings_is_upgraded_at_sign_in(client, make_user, db_path):
    """Sign-in verifies a hash of any argon2 settings, then stores it again with today's."""
    from argon2 import PasswordHasher

    user = make_user("officer")
    old = PasswordHasher(time_cost=2, memory_cost=4096, parallelism=2).hash(PASSWORD)
    store.execute(db_path, "UPDATE users SET password_hash = ? WHERE id = ?", (old, user["id"]))
    assert sign_in(client, user["username"]).status_code == 200
    stored = store.one(db_path, "SELECT password_hash FROM users WHERE id = ?", (user["id"],))
    assert stored != old and stored.startswith("$argon2id$") and ",p=1$" in stored
    assert sign_in(client, user["username"], device="tablet").status_code == 200
    assert_error(sign_in(client, user["username"], password="not-the-password"), 401, "unauthenticated")


def test_wrong_password_is_401_unauthenticated(client, make_user):
    name = make_user("officer")["username"]
    err = assert_error(sign_in(client, name, password="not-the-password"), 401, "unauthenticated")
    assert "Bearer" not in err["message"]


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, make_user):
    name = make_user("officer")["username"]
    wrong_password = sign_in(client, name, password="not-the-password")
    unknown_user = sign_in(client, "nobody-" + uuid.uuid4().hex[:8], password="not-the-password")
    assert_error(wrong_password, 401, "unauthenticated")
    assert_error(unknown_user, 401, "unauthenticated")
    assert unknown_user.json() == wrong_password.json()  # no user enumeration


@pytest.mark.parametrize("body, field", [
    ({"password": PASSWORD, "device_name": "phone"}, "username"),
    ({"username": "ada", "device_name": "phone"}, "password"),
    ({"username": "ada", "password": PASSWORD}, "device_name"),
    ({"username": "ada", "password": PASSWORD, "device_name": "   "}, "device_name"),
    ({"username": 7, "password": PASSWORD, "device_name": "phone"}, "username"),
])
def test_login_with_a_missing_or_bad_field_is_422_naming_it(client, make_user, body, field):
    make_user("officer", "ada")
    err = assert_error(client.post(LOGIN, json=body), 422, "validation_failed")
    assert err["details"].get("field") == field, err


# -- throttling ------------------------------------------------------------------

def test_five_failures_then_even_the_right_password_is_429_rate_limited(client, make_user, app_state):
    limit = app_state.settings.login_max_failures
    assert limit == 5  # the documented default
    name = make_user("officer")["username"]
    for _ in range(limit):
        assert_error(sign_in(client, name, password="wrong-password"), 401, "unauthenticated")
    assert_error(sign_in(client, name), 429, "rate_limited")
    assert_error(sign_in(client, name, password="wrong-password"), 429, "rate_limited")


def test_four_failures_still_let_the_right_password_in(client, make_user):
    name = make_user("officer")["username"]
    for _ in range(4):
        assert_error(sign_in(client, name, password="wrong-password"), 401, "unauthenticated")
    assert sign_in(client, name).status_code == 200


def test_a_success_before_the_limit_resets_the_count(client, make_user):
    name = make_user("officer")["username"]
    for _ in range(4):
        assert_error(sign_in(client, name, password="wrong-password"), 401, "unauthenticated")
    assert sign_in(client, name).status_code == 200
    # Without the reset this would be failures 5..8 and the next attempt refused.
    for _ in range(4):
        assert_error(sign_in(client, name, password="wrong-password"), 401, "unauthenticated")
    assert sign_in(client, name).status_code == 200
    # And the limit applies afresh from here.
    for _ in range(5):
        assert_error(sign_in(client, name, password="wrong-password"), 401, "unauthenticated")
    assert_error(sign_in(client, name), 429, "rate_limited")


def test_throttling_one_username_leaves_others_alone(client, make_user):
    victim, bystander = make_user("officer")["username"], make_user("officer")["username"]
    for _ in range(5):
        sign_in(client, victim, password="wrong-password")
    assert_error(sign_in(client, victim), 429, "rate_limited")
    assert sign_in(client, bystander).status_code == 200


def test_unknown_usernames_are_throttled_too(client):
    name = "ghost-" + uuid.uuid4().hex[:8]
    for _ in range(5):
        assert_error(sign_in(client, name, password="wrong-password"), 401, "unauthenticated")
    assert_error(sign_in(client, name, password="wrong-password"), 429, "rate_limited")


# -- logout ----------------------------------------------------------------------

def test_logout_revokes_the_device_session(client, login):
    s = login("officer")
    r = client.post(LOGOUT, headers=bearer(s.token))
    assert r.status_code == 200, r.text
    assert_error(pull_with(client, s.token), 401, "device_revoked")
    assert_error(client.post(REFRESH, json={"refresh_token": s.refresh_token}), 401, "device_revoked")
    assert_error(client.post(LOGOUT, headers=bearer(s.token)), 401, "device_revoked")
    push = client.post("/api/sync/push", headers=bearer(s.token), json={"client_id": s.device_id, "changes": []})
    assert_error(push, 401, "device_revoked")


def test_logout_of_one_device_leaves_the_other_signed_in(client, login):
    phone = login("office")
    laptop = login(username=phone.user["username"], device="laptop")
    assert client.post(LOGOUT, headers=bearer(phone.token)).status_code == 200
    assert_error(client.get("/api/devices", headers=bearer(phone.token)), 401, "device_revoked")
    assert client.get("/api/devices", headers=bearer(laptop.token)).status_code == 200


def test_signing_in_again_after_logout_works(client, login):
    s = login("officer")
    assert client.post(LOGOUT, headers=bearer(s.token)).status_code == 200
    again = sign_in(client, s.user["username"])
    assert again.status_code == 200
    assert again.json()["device_id"] != s.device_id
    assert pull_with(client, again.json()["access_token"]).status_code == 200


def test_logout_needs_a_token(client):
    assert_error(client.post(LOGOUT), 401, "unauthenticated")
