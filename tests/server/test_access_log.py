"""The JSON access log and request ids (issue 16, item 7; server/monitor/access.py)."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.live_server import ROOT, LiveServer


@pytest.fixture
def access_lines(caplog) -> Any:
    caplog.set_level(logging.INFO, logger="doorstep.access")

    def lines() -> list[dict[str, Any]]:
        return [json.loads(r.getMessage()) for r in caplog.records if r.name == "doorstep.access"]
    return lines


def test_one_line_a_request_with_id_route_template_status_duration_and_user_id(client, login, access_lines):
    office = login("office")
    device = str(uuid.uuid4())
    r = client.post(f"/api/devices/{device}/revoke", headers={**office.headers, "X-Request-Id": "desk-42"})
    assert r.status_code == 404 and r.headers["x-request-id"] == "desk-42"
    line = access_lines()[-1]
    assert set(line) == {"ts", "request_id", "method", "route", "status", "duration_ms", "user_id", "client"}
    assert line["request_id"] == "desk-42" and line["method"] == "POST"
    assert line["route"] == "/api/devices/{device_id}/revoke" and device not in json.dumps(line)
    assert line["status"] == 404 and line["duration_ms"] >= 0
    assert line["user_id"] == office.user["id"]
    assert office.user["username"] not in json.dumps(line)  # an id, never a name


def test_each_request_gets_a_fresh_id_when_it_sends_none_or_a_bad_one(client, access_lines):
    bad_ids = ["", "has space", "x" * 129, "new\nline", "é"]
    answers = [client.get("/api/health")] + [client.get("/api/health", headers={"X-Request-Id": b}) for b in bad_ids
                                             if "\n" not in b and b.isascii()]
    ids = [r.headers["x-request-id"] for r in answers]
    assert len(set(ids)) == len(ids) and all(len(i) == 32 for i in ids)
    assert [line["request_id"] for line in access_lines()] == ids


def test_paths_no_route_takes_are_logged_without_the_raw_path(client, access_lines):
    client.get("/api/pupils/A123456789012/secret")
    line = access_lines()[-1]
    assert line["route"] == "unmatched" and line["status"] == 404
    assert "A123456789012" not in json.dumps(line)


def test_office_pages_log_the_signed_in_user_id(client, make_user, access_lines):
    from tests.office.conftest import OfficePage

    user = make_user("office")
    page = OfficePage(client, user)
    assert page.sign_in().status_code == 303
    assert page.get("/office/").status_code == 200
    line = access_lines()[-1]
    assert line["route"] == "/office/" and line["user_id"] == user["id"]


@pytest.mark.slow
def test_serve_writes_json_access_lines_instead_of_uvicorns(tmp_path):
    db = str(tmp_path / "log.db")
    env = {**os.environ, "DOORSTEP_PASSWORD": PASSWORD}
    for args in (("init",), ("user", "add", "boss", "--role", "office")):
        subprocess.run([sys.executable, "-m", "server.cli", "--db", db, *args], cwd=ROOT, env=env,
                       check=True, capture_output=True, timeout=60)
    with LiveServer(db) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        r = http.post("/api/auth/login", json={"username": "boss", "password": PASSWORD, "device_name": "d"},
                      headers={"X-Request-Id": "sign-in-1"})
        token = r.json()["access_token"]
        http.get("/api/devices", headers={"Authorization": f"Bearer {token}"})
    lines = [json.loads(line) for line in live.output().splitlines() if line.startswith("{")]
    login = [x for x in lines if x["request_id"] == "sign-in-1"]
    assert len(login) == 1 and login[0]["route"] == "/api/auth/login" and login[0]["status"] == 200
    devices = [x for x in lines if x["route"] == "/api/devices"]
    assert len(devices) == 1 and devices[0]["user_id"] == r.json()["user"]["id"]
    assert "HTTP/1.1" not in live.output()  # uvicorn's own access log is off
    assert "boss" not in "".join(json.dumps(x) for x in lines)
