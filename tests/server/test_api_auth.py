"""Sign-in, tokens, refresh rotation, sign-out (PROTOCOL.md §1, §2), through the HTTP API only.

The one place that looks behind the API is where a test needs a token signed with
the server's own key (an already expired one): it reads the key from the
``signing_keys`` table with sqlite3, as an attacker who stole the database could.
"""
from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.conftest import PASSWORD, SYNC

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"
LOGOUT = "/api/auth/logout"
PULL = "/api/sync/pull"


# -- helpers ---------------------------------------------------------------------

def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The PROTOCOL.md §1 error body, exactly, with this status and code."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "details"}, err
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"].strip(), err
    assert isinstance(err["details"], dict), err
    assert "Traceback" not in response.text
    return err


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **SYNC}


def pull_with(client: Any, token: str) -> Any:
    return client.get(PULL, headers=bearer(token))


def sign_in(client: Any, username: str, password: str = PASSWORD, device: str = "phone") -> Any:
    return client.post(LOGIN, json={"username": username, "password": password, "device_name": device})


def server_key(db_path: str) -> tuple[str, str]:
    """(kid, secret) of the server's current signing key, read straight from the database."""
    conn = sqlite3.connect(db_path)
    try:
        row = conn.execute("SELECT kid, secret FROM signing_keys WHERE retired_at IS NULL "
                           "ORDER BY created_at DESC, kid DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    assert row is not None, "the server has no signing key"
    return row[0], row[1]


def forge(claims: dict[str, Any], secret: str, kid: str, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm, headers={"kid": kid})


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


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
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (old, user["id"]))
    assert sign_in(client, user["username"]).status_code == 200
    with sqlite3.connect(db_path) as conn:
        (stored,) = conn.execute("SELECT password_hash FROM users WHERE id = ?", (user["id"],)).fetchone()
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


# -- token verification ------------------------------------------------------------

def test_an_expired_access_token_is_401_token_expired(client, login, db_path):
    s = login("officer")
    kid, secret = server_key(db_path)
    now = int(time.time())
    claims = {**claims_of(s.token), "iat": now - 3600, "exp": now - 60, "jti": uuid.uuid4().hex}
    token = forge(claims, secret, kid)
    assert_error(pull_with(client, token), 401, "token_expired")
    # The same claims, still in date, are accepted: it is the expiry that was refused.
    fresh = forge({**claims, "iat": now, "exp": now + 600}, secret, kid)
    assert pull_with(client, fresh).status_code == 200


def test_a_token_signed_with_another_secret_is_401_unauthenticated(client, login):
    s = login("officer")
    kid = jwt.get_unverified_header(s.token)["kid"]
    token = forge({**claims_of(s.token), "jti": uuid.uuid4().hex}, "some-other-secret-" + "x" * 32, kid)
    assert_error(pull_with(client, token), 401, "unauthenticated")


def test_a_tampered_token_is_401_unauthenticated(client, login):
    s = login("officer")
    head, _, sig = s.token.split(".")
    claims = {**claims_of(s.token), "role": "admin"}
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert_error(pull_with(client, f"{head}.{forged_payload}.{sig}"), 401, "unauthenticated")


def test_an_unsigned_alg_none_token_is_401_unauthenticated(client, login):
    s = login("office")
    kid = jwt.get_unverified_header(s.token)["kid"]
    token = jwt.encode({**claims_of(s.token), "jti": uuid.uuid4().hex}, None, algorithm="none",
                       headers={"kid": kid})
    assert_error(client.get("/api/devices", headers=bearer(token)), 401, "unauthenticated")


def test_a_token_without_a_kid_or_with_an_unknown_kid_is_401_unauthenticated(client, login, db_path):
    s = login("officer")
    _, secret = server_key(db_path)
    claims = {**claims_of(s.token), "jti": uuid.uuid4().hex}
    assert_error(pull_with(client, jwt.encode(claims, secret, algorithm="HS256")), 401, "unauthenticated")
    assert_error(pull_with(client, forge(claims, secret, "no-such-kid")), 401, "unauthenticated")


def test_a_token_for_a_device_the_server_never_issued_is_401_unauthenticated(client, login, db_path):
    s = login("officer")
    kid, secret = server_key(db_path)
    claims = {**claims_of(s.token), "dev": str(uuid.uuid4()), "jti": uuid.uuid4().hex}
    assert_error(pull_with(client, forge(claims, secret, kid)), 401, "unauthenticated")
    # Someone else's device with this user's id is no better.
    other = login("officer")
    claims = {**claims_of(s.token), "dev": other.device_id, "jti": uuid.uuid4().hex}
    assert_error(pull_with(client, forge(claims, secret, kid)), 401, "unauthenticated")


def test_a_token_missing_a_claim_is_401_unauthenticated(client, login, db_path):
    s = login("officer")
    kid, secret = server_key(db_path)
    full = {**claims_of(s.token), "jti": uuid.uuid4().hex}
    for claim in ("sub", "dev", "exp", "jti"):
        claims = {k: v for k, v in full.items() if k != claim}
        assert_error(pull_with(client, forge(claims, secret, kid)), 401, "unauthenticated")


def test_the_role_comes_from_the_account_not_the_token(client, login, db_path):
    s = login("officer")
    kid, secret = server_key(db_path)
    token = forge({**claims_of(s.token), "role": "admin", "jti": uuid.uuid4().hex}, secret, kid)
    assert_error(client.get("/api/devices", headers=bearer(token)), 403, "forbidden")


def test_a_retired_key_is_refused_and_the_new_key_works(client, login, app_state):
    before = login("officer")
    old_kid = jwt.get_unverified_header(before.token)["kid"]
    time.sleep(0.01)  # the new key must be strictly newer than the old one
    new_kid = app_state.signer.rotate()
    assert new_kid != old_kid
    after = login("officer")
    assert jwt.get_unverified_header(after.token)["kid"] == new_kid
    # Rotating alone keeps old tokens valid until they expire.
    assert pull_with(client, before.token).status_code == 200

    assert app_state.signer.retire(old_kid)
    assert_error(pull_with(client, before.token), 401, "unauthenticated")
    assert pull_with(client, after.token).status_code == 200
    # The refresh token is not a JWT: it still yields a pair, signed with the new key.
    refreshed = client.post(REFRESH, json={"refresh_token": before.refresh_token})
    assert refreshed.status_code == 200, refreshed.text
    assert jwt.get_unverified_header(refreshed.json()["access_token"])["kid"] == new_kid
    assert pull_with(client, refreshed.json()["access_token"]).status_code == 200


def test_a_key_retired_from_the_command_line_is_refused_by_the_running_server(client, login, db_path):
    before = login("officer")
    assert pull_with(client, before.token).status_code == 200  # the server has now seen the key
    old_kid = jwt.get_unverified_header(before.token)["kid"]
    time.sleep(0.01)
    cli = [sys.executable, "-m", "server.cli", "--db", db_path, "keys"]
    rotated = subprocess.run([*cli, "rotate"], capture_output=True, text=True, timeout=60, cwd=ROOT,
                             check=False)
    assert rotated.returncode == 0, rotated.stderr
    retired = subprocess.run([*cli, "retire", old_kid], capture_output=True, text=True, timeout=60, cwd=ROOT,
                             check=False)
    assert retired.returncode == 0, retired.stderr
    after = login("officer")
    assert jwt.get_unverified_header(after.token)["kid"] != old_kid  # the rotation did reach the server
    assert pull_with(client, after.token).status_code == 200
    assert_error(pull_with(client, before.token), 401, "unauthenticated")


@pytest.mark.parametrize("header", [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Bearer not-a-jwt",
    "Bearer a.b.c",
    "Bearer eyJhbGciOiJIUzI1NiJ9.e30.",
    "Basic dXNlcjpwYXNz",
    "Token abc",
    "Bearer " + "x" * 10_000,
], ids=["missing", "empty", "scheme-only", "scheme-space", "not-a-jwt", "three-junk-parts",
        "empty-claims", "basic", "other-scheme", "very-long"])
def test_missing_or_garbled_authorization_is_401_unauthenticated(client, login, header):
    login("officer")
    headers = dict(SYNC)
    if header is not None:
        headers["Authorization"] = header
    assert_error(client.get(PULL, headers=headers), 401, "unauthenticated")
    assert_error(client.get("/api/devices", headers=headers), 401, "unauthenticated")


def test_health_and_openapi_need_no_token(client):
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert client.get("/api/openapi.json").status_code == 200
