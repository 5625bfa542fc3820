"""Against a real `doorstep serve` process: the security headers on every response (every
file of the PWA, the app shell, the API, errors), and signing-key rotation from the
command line — a retired key's tokens are refused while the current key's work."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from tests.live_server import ROOT, LiveServer

PWA = ROOT / "pwa"
SYNC = {"Doorstep-Protocol": "1"}
PASSWORD = "live-headers-password"


def doorstep(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOORSTEP_PASSWORD": PASSWORD}
    return subprocess.run([sys.executable, "-m", "server.cli", "--db", db, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    db = str(tmp_path_factory.mktemp("headers") / "doorstep.db")
    assert doorstep(db, "init").returncode == 0
    for name, role in (("field1", "officer"), ("boss1", "admin")):
        r = doorstep(db, "user", "add", name, "--role", role)
        assert r.returncode == 0, r.stderr
    with LiveServer(db) as server:
        yield server, db


def pwa_files() -> list[str]:
    """Every file the server serves under /app/ (the whole pwa/ folder)."""
    return sorted(p.relative_to(PWA).as_posix() for p in PWA.rglob("*")
                  if p.is_file() and "node_modules" not in p.parts)


def assert_security_headers(r: httpx.Response) -> None:
    where = f"{r.request.method} {r.request.url.path} → {r.status_code}"
    csp = r.headers.get("content-security-policy")
    assert csp, f"no Content-Security-Policy on {where}"
    directives = {d.split()[0]: d.split()[1:] for d in (x.strip() for x in csp.split(";")) if d}
    script = directives.get("script-src") or directives.get("default-src")
    assert script == ["'self'"], f"script-src on {where}: {script}"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, where
    assert directives.get("object-src") == ["'none'"], where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert directives.get("base-uri") == ["'self'"], where
    assert r.headers.get("x-content-type-options") == "nosniff", where
    assert r.headers.get("referrer-policy") == "no-referrer", where
    assert r.headers.get("x-frame-options") == "DENY", where


def login(base: str, username: str) -> dict:
    r = httpx.post(f"{base}/api/auth/login", json={"username": username, "password": PASSWORD, "device_name": "t"})
    assert r.status_code == 200, r.text
    return r.json()


def pull(base: str, token: str) -> httpx.Response:
    return httpx.get(f"{base}/api/sync/pull", headers={"Authorization": f"Bearer {token}", **SYNC})


def test_every_pwa_file_carries_the_headers_and_its_real_type(live) -> None:
    server, _ = live
    files = pwa_files()
    assert {"index.html", "app.js", "db.js", "crypto.js", "lock.js", "sw.js", "views/pin.js"} <= set(files)
    types = {".js": "javascript", ".mjs": "javascript", ".css": "text/css", ".html": "text/html",
             ".png": "image/png", ".webmanifest": "manifest+json", ".json": "json"}
    with httpx.Client(base_url=server.url) as http:
        for name in files:
            r = http.get(f"/app/{name}")
            assert r.status_code == 200, name
            assert_security_headers(r)
            # nosniff means the type must be right, or the browser refuses module scripts
            expected = types.get(Path(name).suffix)
            assert expected and expected in r.headers["content-type"], (name, r.headers["content-type"])
            assert r.headers["cache-control"] == "no-cache", name  # revalidated: a new version is seen
        for path in ("/app/", "/app/?lock=2", "/app/index.html"):
            r = http.get(path)
            assert r.status_code == 200
            assert_security_headers(r)


def test_the_app_shell_has_no_inline_script_or_handler_for_the_policy_to_block(live) -> None:
    server, _ = live
    html = httpx.get(f"{server.url}/app/").text
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.DOTALL | re.IGNORECASE)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE), "inline event handler"
    assert "javascript:" not in html.lower()
    for name in pwa_files():
        if name.endswith(".js") and not name.startswith("tests/"):
            src = (PWA / name).read_text()
            assert not re.search(r"\beval\(|new Function\(|innerHTML\s*=|insertAdjacentHTML|document\.write", src), name


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/", 308), ("GET", "/app", 308), ("GET", "/app/nowhere.js", 404),
    ("GET", "/api/health", 200), ("GET", "/api/openapi.json", 200),
    ("GET", "/api/sync/pull", 401), ("GET", "/api/devices", 401), ("GET", "/api/audit", 401),
    ("POST", "/api/audit/events", 401), ("GET", "/api/nowhere", 404), ("DELETE", "/api/health", 405),
    ("POST", "/api/auth/login", 422), ("POST", "/api/auth/refresh", 422),
])
def test_every_api_answer_and_error_carries_the_headers(live, method: str, path: str, status: int) -> None:
    server, _ = live
    r = httpx.request(method, server.url + path, headers=SYNC, follow_redirects=False,
                      content=b"{not json" if method == "POST" else None)
    assert r.status_code == status, r.text
    assert_security_headers(r)
    if path.startswith("/api/"):
        assert r.headers["cache-control"] == "no-store"


def test_a_signed_in_answer_carries_the_headers(live) -> None:
    server, _ = live
    token = login(server.url, "field1")["access_token"]
    r = pull(server.url, token)
    assert r.status_code == 200
    assert_security_headers(r)
    assert r.headers["cache-control"] == "no-store"


def test_a_retired_key_is_refused_and_the_current_key_works(live) -> None:
    server, db = live
    before = login(server.url, "field1")
    old_kid = jwt.get_unverified_header(before["access_token"])["kid"]
    assert pull(server.url, before["access_token"]).status_code == 200

    rotated = doorstep(db, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    new_kid = rotated.stdout.split()[-1]
    assert new_kid != old_kid
    # Rotating signs nobody out: the old key still verifies until it is retired.
    assert pull(server.url, before["access_token"]).status_code == 200
    after = login(server.url, "field1")
    assert jwt.get_unverified_header(after["access_token"])["kid"] == new_kid

    retired = doorstep(db, "keys", "retire", old_kid)
    assert retired.returncode == 0, retired.stderr
    refused = pull(server.url, before["access_token"])
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthenticated"
    assert_security_headers(refused)
    assert pull(server.url, after["access_token"]).status_code == 200

    # A forged token: the retired key's id on a token signed with some other secret.
    forged = jwt.encode({"sub": after["user"]["id"], "role": "admin", "dev": after["device_id"], "iat": 1,
                         "exp": 2**31, "jti": "x"}, "a-guessed-secret-of-at-least-32-bytes", algorithm="HS256", headers={"kid": new_kid})
    assert pull(server.url, forged).status_code == 401
    # The device whose token was refused refreshes to a token from the current key: not signed out.
    r = httpx.post(f"{server.url}/api/auth/refresh", json={"refresh_token": before["refresh_token"]})
    assert r.status_code == 200, r.text
    assert jwt.get_unverified_header(r.json()["access_token"])["kid"] == new_kid
    assert pull(server.url, r.json()["access_token"]).status_code == 200
    # Retiring twice, or a key that never was, is an error.
    assert doorstep(db, "keys", "retire", old_kid).returncode == 1
    assert doorstep(db, "keys", "retire", "no-such-kid").returncode == 1
