"""Helpers of the sign-in and token tests (test_api_auth*.py): the PROTOCOL.md §1 error body,
bearer headers, signing in, and the server's signing key read from the database (to forge or
expire a token, as an attacker who stole the database could)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt

from tests import store

from tests.conftest import PASSWORD, SYNC

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"
LOGOUT = "/api/auth/logout"
PULL = "/api/sync/pull"

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
    found = store.rows(db_path, "SELECT kid, secret FROM signing_keys WHERE retired_at IS NULL "
                                "ORDER BY created_at DESC, kid DESC LIMIT 1")
    assert found, "the server has no signing key"
    return found[0][0], found[0][1]


def forge(claims: dict[str, Any], secret: str, kid: str, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm, headers={"kid": kid})


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})
