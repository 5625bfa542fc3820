"""Several authorities on one server (server/tenancy, issue #21 item 3): one database each,
chosen per request by host name; a token of one authority is refused by another.

The authorities are made as an operator makes them, through ``server.cli.main``; requests go
through the dispatcher with explicit Host headers (Starlette's TestClient) and, end to end,
through a real ``doorstep serve`` process.
"""
from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlite_utils
from starlette.testclient import TestClient

from server import jobs
from server.cli import main
from server.migrations import migrations
from server.tenancy.dispatch import Dispatcher, build, pending
from server.tenancy.registry import Authority
from sync import Clock
from tests.conftest import PASSWORD, SYNC, Session
from tests.live_server import LiveServer
from tests.server.auth_helpers import assert_error, claims_of, forge, server_key

A_HOSTS = ("alpha.test", "127.0.0.1")  # 127.0.0.1: the live server's own health check lands on alpha
B_HOST = "beta.test"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def tenants(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two authorities, each with the same usernames: office1 (office) and officer1 (officer)."""
    directory = tmp_path / "authorities"
    hosts = [a for h in A_HOSTS for a in ("--host", h)]
    assert run(capsys, "--tenants", str(directory), "tenant", "add", "alpha", *hosts)[0] == 0
    assert run(capsys, "--tenants", str(directory), "tenant", "add", "beta", "--host", B_HOST)[0] == 0
    monkeypatch.setenv("DOORSTEP_PASSWORD", PASSWORD)
    for name in ("alpha", "beta"):
        for user, role in (("office1", "office"), ("officer1", "officer")):
            assert run(capsys, "--db", str(directory / f"{name}.db"), "user", "add", user, "--role", role)[0] == 0
    return directory


@pytest.fixture
def dispatcher(tenants: Path) -> Iterator[Dispatcher]:
    app = build(tenants)
    with TestClient(app):  # the lifespan: every authority's app starts (job runner) and stops
        yield app


def client_for(app: Any, host: str) -> TestClient:
    return TestClient(app, base_url=f"http://{host}", raise_server_exceptions=False)


def sign_in(client: Any, username: str) -> Session:
    r = client.post("/api/auth/login", json={"username": username, "password": PASSWORD, "device_name": "phone"})
    assert r.status_code == 200, r.text
    body = r.json()
    return Session(client, body["access_token"], body["refresh_token"], body["device_id"], body["user"],
                   Clock(body["device_id"]))


def push_world(office: Session, officer_id: str) -> dict[str, str]:
    ids = {k: str(uuid.uuid4()) for k in ("school", "household", "pupil", "case")}
    r = office.push([
        office.change("school", ids["school"], {"name": "Alpha Primary", "lat": 53.5, "lon": -1.1}),
        office.change("household", ids["household"], {"address": "1 Alpha Row", "lat": 53.5, "lon": -1.1}),
        office.change("pupil", ids["pupil"], {"upn": "A123456789012", "first_name": "Zephyrine",
                                              "last_name": "Quillfeather", "school_id": ids["school"],
                                              "household_id": ids["household"]}),
        office.change("case", ids["case"], {"pupil_id": ids["pupil"], "assigned_officer_id": officer_id}),
    ])
    assert r.status_code == 200 and [x["status"] for x in r.json()["results"]] == ["applied"] * 4, r.text
    return ids


def pull_ids(session: Session) -> set[str]:
    changes, _cursor = session.pull_all()
    return {c["id"] for c in changes}


def office_sign_in(client: Any, username: str = "office1") -> None:
    """Sign in to the office pages with their own form (cookie session, CSRF)."""
    page = client.get("/office/login")
    assert page.status_code == 200, page.text
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = client.post("/office/login", data={"csrf_token": token, "username": username, "password": PASSWORD,
                                           "next": "/office/"}, follow_redirects=False)
    assert r.status_code == 303, r.text


# --- the registry and the CLI ---------------------------------------------------------------


def test_tenant_add_creates_each_database_current_and_lists_them(tenants: Path, capsys) -> None:
    code, out, _ = run(capsys, "--tenants", str(tenants), "tenant", "list")
    assert code == 0
    lines = [line.split("\t") for line in out.strip().splitlines()]
    assert lines == [["alpha", " ".join(A_HOSTS), str(tenants / "alpha.db"), "current"],
                     ["beta", B_HOST, str(tenants / "beta.db"), "current"]]
    assert pending(str(tenants / "alpha.db")) == [] and pending(str(tenants / "beta.db")) == []
    assert not [p for p in os.listdir(tenants) if p.endswith(".tmp")]  # the registry was renamed into place


def test_tenant_add_refuses_a_name_or_host_already_taken_and_bad_names(tenants: Path, capsys) -> None:
    before = (tenants / "authorities.json").read_text()
    refusals = [
        (["alpha", "--host", "gamma.test"], "authority alpha already exists"),
        (["gamma", "--host", "BETA.test"], "host beta.test already belongs to authority beta"),
        (["gamma", "--host", "gamma.test", "--host", "gamma.test"], "given twice"),
        (["Gamma", "--host", "gamma.test"], "is not an authority name"),
        (["gamma_1", "--host", "gamma.test"], "is not an authority name"),
        (["gamma", "--host", "gamma.test:8443"], "is not a host name"),
        (["gamma", "--host", "https://gamma.test"], "is not a host name"),
    ]
    for argv, message in refusals:
        code, _out, err = run(capsys, "--tenants", str(tenants), "tenant", "add", *argv)
        assert code == 2 and message in err, (argv, err)
    assert (tenants / "authorities.json").read_text() == before
    assert not (tenants / "gamma.db").exists()
    code, _out, err = run(capsys, "tenant", "list")  # no --tenants and no $DOORSTEP_TENANTS
    assert code == 2 and "--tenants" in err
    code, _out, err = run(capsys, "--tenants", str(tenants), "keys", "rotate")  # one authority's: --db
    assert code == 2 and f"--db {tenants / 'NAME.db'}" in err


def test_serve_refuses_a_database_that_is_not_current_and_never_migrates_it(tenants: Path, capsys) -> None:
    """An older release's database restored as beta's: serve stops (exit 2) before listening and
    leaves it as it was; tenant migrate, one process, brings it up to date."""
    beta = tenants / "beta.db"
    beta.unlink()
    older = sqlite_utils.Database(str(beta))
    last = migrations.pending(older)[-1].name  # every one, on an empty file
    migrations.apply(older, stop_before=last)
    older.close()
    assert len(pending(str(beta)) or []) == 1
    code, out, err = run(capsys, "--tenants", str(tenants), "serve", "--port", "1")
    assert code == 2 and "authority beta: its database is not current" in err and "tenant migrate" in err, err
    assert "Doorstep for" not in out
    assert len(pending(str(beta)) or []) == 1  # serve migrated nothing
    code, _out, err = run(capsys, "--tenants", str(tenants), "tenant", "list")
    assert code == 0 and "1 migrations pending" in _out
    code, out, _err = run(capsys, "--tenants", str(tenants), "tenant", "migrate")
    assert code == 0 and "authority beta: database current" in out
    assert pending(str(beta)) == []


def test_serve_refuses_a_missing_database_and_migrate_does_not_create_one(tenants: Path, capsys) -> None:
    (tenants / "alpha.db").unlink()
    code, _out, err = run(capsys, "--tenants", str(tenants), "serve", "--port", "1")
    assert code == 2 and f"no database at {tenants / 'alpha.db'}" in err
    code, _out, err = run(capsys, "--tenants", str(tenants), "tenant", "migrate")
    assert code == 2 and "authority alpha: no database" in err
    assert not (tenants / "alpha.db").exists()
    code, _out, err = run(capsys, "--tenants", str(tenants / "empty"), "serve", "--port", "1")
    assert code == 2 and "no authorities in" in err


# --- the dispatcher ---------------------------------------------------------------------------


def test_an_unknown_host_answers_404_and_reaches_no_authority() -> None:
    """The host picks the app, whatever its case and port; a host nobody answers on gets the
    house error and reaches no authority's app, so no database."""
    reached: list[str] = []

    def recording(name: str) -> Any:
        async def app(scope: dict, receive: Any, send: Any) -> None:
            reached.append(name)
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        return app

    app = Dispatcher([(Authority("alpha", ("alpha.test",), "unused.db"), recording("alpha")),
                      (Authority("beta", ("beta.test", "b.example"), "unused.db"), recording("beta"))])
    err = assert_error(client_for(app, "nowhere.test").get("/api/health"), 404, "unknown_authority")
    assert "nowhere.test" in err["message"]
    assert_error(client_for(app, "alpha.test.evil.test").post("/api/auth/login", json={}), 404, "unknown_authority")
    assert reached == []
    assert client_for(app, "ALPHA.Test:8443").get("/api/health").status_code == 204
    assert client_for(app, "b.example").get("/office/").status_code == 204
    assert reached == ["alpha", "beta"]


def test_data_pushed_at_one_authority_never_reaches_another(dispatcher: Dispatcher) -> None:
    a, b = client_for(dispatcher, "alpha.test"), client_for(dispatcher, B_HOST)
    a_office, b_office = sign_in(a, "office1"), sign_in(b, "office1")
    a_officer, b_officer = sign_in(a, "officer1"), sign_in(b, "officer1")
    ids = push_world(a_office, a_officer.user["id"])
    assert set(ids.values()) <= pull_ids(a_office)
    assert ids["case"] in pull_ids(a_officer)
    assert not set(ids.values()) & (pull_ids(b_office) | pull_ids(b_officer))
    assert a_office.user["id"] != b_office.user["id"]  # the same username, two different people
    office_sign_in(a)
    office_sign_in(b)
    assert "Quillfeather" in a.get("/office/cases").text
    page = b.get("/office/cases")
    assert page.status_code == 200 and "Quillfeather" not in page.text
    assert b.get(f"/office/cases/{ids['case']}").status_code == 404


def test_a_token_of_one_authority_is_refused_by_another(dispatcher: Dispatcher, tenants: Path) -> None:
    a, b = client_for(dispatcher, "alpha.test"), client_for(dispatcher, B_HOST)
    at_a, at_b = sign_in(a, "office1"), sign_in(b, "office1")
    assert claims_of(at_a.token)["aud"] == "alpha" and claims_of(at_b.token)["aud"] == "beta"
    assert at_b.pull().status_code == 200
    # A's token at B's host: refused (B holds no such key)
    assert_error(b.get("/api/sync/pull", headers=at_a.headers), 401, "unauthenticated")
    # A's refresh token at B's host: refused (refresh tokens are opaque rows in A's database)
    assert_error(b.post("/api/auth/refresh", json={"refresh_token": at_a.refresh_token}), 401, "unauthenticated")
    # even if the keys matched: A's signing key put into B's database, A's token is still refused
    kid, secret = server_key(str(tenants / "alpha.db"))
    with sqlite3.connect(tenants / "beta.db") as conn:
        conn.execute("INSERT INTO signing_keys (kid, secret, created_at) VALUES (?, ?, '2026-01-01T00:00:00Z')",
                     (kid, secret))
    conn.close()
    err = assert_error(b.get("/api/sync/pull", headers=at_a.headers), 401, "unauthenticated")
    assert "another authority" in err["message"]


def test_a_token_signed_with_the_right_key_for_the_wrong_authority_is_refused(
        dispatcher: Dispatcher, tenants: Path) -> None:
    """B's own user, device and signing key, but A's audience: refused. The same claims naming B
    pass, so it is the audience that refuses it; a token naming no authority is refused too."""
    b = client_for(dispatcher, B_HOST)
    session = sign_in(b, "office1")
    kid, secret = server_key(str(tenants / "beta.db"))
    claims = {**claims_of(session.token), "jti": uuid.uuid4().hex}
    ok = forge({**claims, "aud": "beta"}, secret, kid)
    assert b.get("/api/sync/pull", headers={**SYNC, "Authorization": f"Bearer {ok}"}).status_code == 200
    for aud in ("alpha", ["alpha", "beta"], ""):
        wrong = forge({**claims, "aud": aud}, secret, kid)
        r = b.get("/api/sync/pull", headers={**SYNC, "Authorization": f"Bearer {wrong}"})
        assert_error(r, 401, "unauthenticated")
    none = forge({k: v for k, v in claims.items() if k != "aud"}, secret, kid)
    err = assert_error(b.get("/api/sync/pull", headers={**SYNC, "Authorization": f"Bearer {none}"}),
                       401, "unauthenticated")
    assert "names no authority" in err["message"]


def test_outside_tenancy_tokens_name_doorstep_and_one_without_aud_still_works(login, app_state) -> None:
    """A server for one authority: its tokens carry aud "doorstep"; one issued before aud existed
    is accepted until it expires; one naming an authority is refused."""
    session = login("office")
    assert claims_of(session.token)["aud"] == "doorstep"
    key = app_state.db.query("SELECT kid, secret FROM signing_keys WHERE retired_at IS NULL "
                             "ORDER BY created_at DESC, kid DESC LIMIT 1")[0]  # SQLite or PostgreSQL
    kid, secret = key["kid"], key["secret"]
    claims = {k: v for k, v in claims_of(session.token).items() if k != "aud"}
    old = forge({**claims, "jti": uuid.uuid4().hex}, secret, kid)
    r = session.client.get("/api/sync/pull", headers={**SYNC, "Authorization": f"Bearer {old}"})
    assert r.status_code == 200, r.text
    other = forge({**claims, "jti": uuid.uuid4().hex, "aud": "alpha"}, secret, kid)
    r = session.client.get("/api/sync/pull", headers={**SYNC, "Authorization": f"Bearer {other}"})
    assert_error(r, 401, "unauthenticated")


def test_each_authority_runs_its_own_jobs(dispatcher: Dispatcher) -> None:
    """The lifespan reached every authority's app: each one's job runner takes its own jobs."""
    jobs.register("tenancy_test_whoami", lambda ctx: {"authority": ctx.state.settings.authority})
    queued = {a.name: (app.state.doorstep.db, jobs.submit(app.state.doorstep.db, "tenancy_test_whoami"))
              for a, app in dispatcher.apps}
    deadline = time.monotonic() + 60
    done: dict[str, Any] = {}
    while len(done) < len(queued) and time.monotonic() < deadline:
        for name, (db, job_id) in queued.items():
            job = jobs.get(db, job_id)
            if job and job["status"] == "done":
                done[name] = job["result"]
        time.sleep(0.1)
    assert done == {"alpha": {"authority": "alpha"}, "beta": {"authority": "beta"}}


# --- a real server --------------------------------------------------------------------------


def live(tenants: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> LiveServer:
    """``doorstep serve`` with DOORSTEP_TENANTS set, as the systemd unit sets it (docs/deploy.md);
    LiveServer's own health check arrives with Host 127.0.0.1, one of alpha's hosts."""
    monkeypatch.setenv("DOORSTEP_TENANTS", str(tenants))
    return LiveServer(str(tenants / "serve"), *extra).start(timeout=120)


def check_live(server: LiveServer) -> None:
    def client(host: str) -> httpx.Client:
        return httpx.Client(base_url=server.url, headers={"Host": host}, timeout=30)

    with client("alpha.test") as a, client(B_HOST) as b, client("nowhere.test") as nowhere:
        assert_error(nowhere.get("/api/health"), 404, "unknown_authority")
        a_office, a_officer, b_office = sign_in(a, "office1"), sign_in(a, "officer1"), sign_in(b, "office1")
        ids = push_world(a_office, a_officer.user["id"])
        assert ids["case"] in pull_ids(a_officer)
        assert not set(ids.values()) & pull_ids(b_office)
        err = assert_error(b.get("/api/sync/pull", headers=a_office.headers), 401, "unauthenticated")
        assert err["message"]
        assert b.get("/api/sync/pull", headers=b_office.headers).status_code == 200
        office_sign_in(b)
        page = b.get("/office/cases")
        assert page.status_code == 200 and "Quillfeather" not in page.text
        assert a.get("/api/ready").json()["status"] == "ready" and b.get("/api/ready").json()["status"] == "ready"


def test_one_real_server_answers_for_both_authorities(tenants: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = live(tenants, monkeypatch)
    try:
        check_live(server)
        assert "Doorstep for alpha (alpha.test 127.0.0.1), beta (beta.test)" in server.output()
    finally:
        server.stop()
    # a clean stop on SIGTERM (uvicorn ends by re-raising it): every authority's lifespan ended
    assert server.proc is not None and server.proc.returncode in (0, -15), server.output()
    assert "Traceback" not in server.output() and "did not shut down" not in server.output()


@pytest.mark.slow
def test_two_workers_each_dispatch_to_every_authority(tenants: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = live(tenants, monkeypatch, "--workers", "2")
    try:
        check_live(server)
    finally:
        server.stop()
