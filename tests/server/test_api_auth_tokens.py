"""Verifying access tokens (PROTOCOL.md §1, §2), through the HTTP API only: expired, foreign,
tampered, unsigned, unknown-key, unknown-device and retired-key tokens, and garbled headers.

The one place that looks behind the API is where a test needs a token signed with
the server's own key (an already expired one): it reads the key from the
``signing_keys`` table with sqlite3 (``server_key``), as an attacker who stole the database could.
"""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import uuid

import jwt
import pytest

from tests.conftest import SYNC
from tests.server.auth_helpers import (
    PULL,
    REFRESH,
    ROOT,
    assert_error,
    bearer,
    claims_of,
    forge,
    pull_with,
    server_key,
)


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


def test_a_token_accepted_once_is_refused_when_it_expires(client, login, db_path):
    """The server remembers tokens it has checked (server/identity/tokens.py); the expiry is
    still checked on every request."""
    s = login("officer")
    kid, secret = server_key(db_path)
    exp = int(time.time()) + 2
    token = forge({**claims_of(s.token), "iat": exp - 2, "exp": exp, "jti": uuid.uuid4().hex}, secret, kid)
    assert pull_with(client, token).status_code == 200
    assert pull_with(client, token).status_code == 200  # checked again, from what was remembered
    time.sleep(max(0.0, exp - time.time()) + 0.05)
    assert_error(pull_with(client, token), 401, "token_expired")


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
