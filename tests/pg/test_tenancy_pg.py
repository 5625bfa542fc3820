"""Several authorities on PostgreSQL (server/tenancy, issue #21 item 3): one PostgreSQL database
each, named in the registry by its URL, chosen per request by host name behind one real
``doorstep --tenants DIR serve`` process.

The authorities are made as an operator makes them, through ``server.cli.main``: ``tenant add
--db URL`` on an empty database migrates it; ``serve`` never migrates and refuses a database that
is not current; a URL holding a password is refused before anything is written.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.config import Settings
from server.identity.accounts import add_user
from server.state import open_state
from server.tenancy.dispatch import pending
from tests.conftest import PASSWORD
from tests.live_server import LiveServer
from tests.server.auth_helpers import assert_error, claims_of
from tests.server.test_tenancy import (
    B_HOST,
    check_live,
    office_sign_in,
    pull_ids,
    push_world,
    run,
    sign_in,
)

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is not installed: pip install '.[pg]'")
A_HOSTS = ("alpha.test", "127.0.0.1")  # 127.0.0.1: the live server's own health check lands on alpha


def emptied(url: str) -> str:
    """The database at ``url`` with nothing in it (the fixture's databases are cloned migrated):
    so ``tenant add`` has the whole schema to make."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url


def rows(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture
def tenants(tmp_path: Path, pg_database: Any, capsys: pytest.CaptureFixture[str]) -> tuple[Path, dict[str, str]]:
    """Two authorities on two empty PostgreSQL databases, each with office1 and officer1."""
    directory = tmp_path / "authorities"
    urls = {"alpha": emptied(pg_database()), "beta": emptied(pg_database())}
    hosts = {"alpha": [a for h in A_HOSTS for a in ("--host", h)], "beta": ["--host", B_HOST]}
    for name, url in urls.items():
        assert pending(url) is None  # no Doorstep schema yet
        code, out, err = run(capsys, "--tenants", str(directory), "tenant", "add", name, *hosts[name], "--db", url)
        assert code == 0, err
        assert f"authority {name}: database migrated at {url}" in out
    for url in urls.values():
        state = open_state(Settings(db_path=url), migrate=False)
        try:
            for user, role in (("office1", "office"), ("officer1", "officer")):
                add_user(state.db, user, PASSWORD, role)
        finally:
            state.db.close()
    return directory, urls


@pytest.fixture
def live(tenants: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """``doorstep serve`` with DOORSTEP_TENANTS set, as the systemd unit sets it (docs/deploy.md)."""
    directory, _urls = tenants
    monkeypatch.setenv("DOORSTEP_TENANTS", str(directory))
    server = LiveServer(str(directory / "serve")).start(timeout=120)
    try:
        yield server
    finally:
        server.stop()


def test_tenant_add_migrates_each_database_and_the_registry_names_it(tenants, capsys) -> None:
    directory, urls = tenants
    assert pending(urls["alpha"]) == [] and pending(urls["beta"]) == []
    registry = json.loads((directory / "authorities.json").read_text())
    assert registry == {"authorities": [{"name": "alpha", "hosts": list(A_HOSTS), "db": urls["alpha"]},
                                        {"name": "beta", "hosts": [B_HOST], "db": urls["beta"]}]}
    assert not list(directory.glob("*.db"))  # no SQLite file made beside them
    code, out, _ = run(capsys, "--tenants", str(directory), "tenant", "list")
    assert code == 0
    assert [line.split("\t") for line in out.strip().splitlines()] == [
        ["alpha", " ".join(A_HOSTS), urls["alpha"], "current"], ["beta", B_HOST, urls["beta"], "current"]]
    # each database got its own signing key, as doorstep init gives one
    assert rows(urls["alpha"], "SELECT count(*) FROM signing_keys")[0][0] == 1
    assert rows(urls["alpha"], "SELECT kid FROM signing_keys") != rows(urls["beta"], "SELECT kid FROM signing_keys")


def test_two_authorities_on_two_databases_behind_one_server(tenants, live: LiveServer) -> None:
    _directory, urls = tenants

    def client(host: str) -> httpx.Client:
        return httpx.Client(base_url=live.url, headers={"Host": host}, timeout=30)

    with client("alpha.test") as a, client(B_HOST) as b, client("nowhere.test") as nowhere:
        err = assert_error(nowhere.get("/api/health"), 404, "unknown_authority")
        assert "nowhere.test" in err["message"]
        assert_error(nowhere.post("/api/auth/login", json={"username": "office1", "password": PASSWORD,
                                                           "device_name": "phone"}), 404, "unknown_authority")
        a_office, a_officer, b_office = sign_in(a, "office1"), sign_in(a, "officer1"), sign_in(b, "office1")
        assert claims_of(a_office.token)["aud"] == "alpha" and claims_of(b_office.token)["aud"] == "beta"
        ids = push_world(a_office, a_officer.user["id"])
        assert ids["case"] in pull_ids(a_officer)
        assert not set(ids.values()) & pull_ids(b_office)
        office_sign_in(b)
        page = b.get("/office/cases")
        assert page.status_code == 200 and "Quillfeather" not in page.text
        assert a.get("/api/ready").json()["status"] == "ready" and b.get("/api/ready").json()["status"] == "ready"

        # alpha's token and refresh token at beta's host: refused
        assert_error(b.get("/api/sync/pull", headers=a_office.headers), 401, "unauthenticated")
        assert_error(b.post("/api/auth/refresh", json={"refresh_token": a_office.refresh_token}),
                     401, "unauthenticated")
        # even with alpha's signing key put into beta's database, the audience refuses it
        kid, secret = rows(urls["alpha"], "SELECT kid, secret FROM signing_keys")[0]
        with psycopg.connect(urls["beta"]) as conn:
            conn.execute("INSERT INTO signing_keys (kid, secret, created_at) VALUES (%s, %s, %s)",
                         (kid, secret, "2026-01-01T00:00:00Z"))
        err = assert_error(b.get("/api/sync/pull", headers=a_office.headers), 401, "unauthenticated")
        assert "another authority" in err["message"]
        assert b.get("/api/sync/pull", headers=b_office.headers).status_code == 200
        assert a.get("/api/sync/pull", headers=a_office.headers).status_code == 200

    # each authority's data is in its own database only
    for table in ("schools", "households", "pupils", "cases"):
        assert rows(urls["alpha"], f"SELECT count(*) FROM {table}")[0][0] == 1, table
        assert rows(urls["beta"], f"SELECT count(*) FROM {table}")[0][0] == 0, table
    assert rows(urls["alpha"], "SELECT id FROM pupils") == [(ids["pupil"],)]
    devices = {name: {r[0] for r in rows(url, "SELECT id FROM devices")} for name, url in urls.items()}
    assert a_office.device_id in devices["alpha"] and a_office.device_id not in devices["beta"]
    assert b_office.device_id in devices["beta"] and b_office.device_id not in devices["alpha"]
    # the same username, two different people
    office_ids = {name: rows(url, "SELECT id FROM users WHERE username = 'office1'")[0][0]
                  for name, url in urls.items()}
    assert office_ids == {"alpha": a_office.user["id"], "beta": b_office.user["id"]}
    assert office_ids["alpha"] != office_ids["beta"]
    assert "Doorstep for alpha (alpha.test 127.0.0.1), beta (beta.test)" in live.output()


def test_serve_refuses_a_database_not_current_and_tenant_migrate_brings_it_up(tenants, capsys) -> None:
    """beta's database as an older release left it (one migration not applied): serve stops
    before listening and migrates nothing; tenant migrate, one process, brings it current."""
    directory, urls = tenants
    last = rows(urls["beta"], "SELECT name FROM schema_migrations ORDER BY name DESC LIMIT 1")[0][0]
    with psycopg.connect(urls["beta"]) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE name = %s", (last,))
    assert pending(urls["beta"]) == [last]
    code, out, err = run(capsys, "--tenants", str(directory), "serve", "--port", "1")
    assert code == 2 and "authority beta: its database is not current" in err and "tenant migrate" in err, err
    assert "Doorstep for" not in out
    assert pending(urls["beta"]) == [last]  # serve migrated nothing
    code, out, _err = run(capsys, "--tenants", str(directory), "tenant", "list")
    assert code == 0 and "beta\tbeta.test\t" in out and "1 migrations pending" in out
    code, out, _err = run(capsys, "--tenants", str(directory), "tenant", "migrate")
    assert code == 0 and "authority alpha: database current" in out and "authority beta: database current" in out
    assert pending(urls["beta"]) == []


def test_a_database_emptied_or_gone_is_never_served_nor_recreated_by_migrate(tenants, capsys, pg_cluster) -> None:
    directory, urls = tenants
    emptied(urls["beta"])  # a database replaced by an empty one: never migrated afresh in its place
    code, _out, err = run(capsys, "--tenants", str(directory), "serve", "--port", "1")
    assert code == 2 and "authority beta: the database" in err and "holds no Doorstep schema" in err, err
    code, _out, err = run(capsys, "--tenants", str(directory), "tenant", "migrate")
    assert code == 2 and "holds no Doorstep schema" in err
    assert pending(urls["beta"]) is None
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {urls['beta'].rsplit('/', 1)[1]} WITH (FORCE)")
    code, out, err = run(capsys, "--tenants", str(directory), "tenant", "list")
    assert code == 0 and "beta\tbeta.test\t" in out and "cannot read" in out and "does not exist" in out
    code, _out, err = run(capsys, "--tenants", str(directory), "serve", "--port", "1")
    assert code == 2 and "authority beta: cannot read" in err and "does not exist" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_tenant_add_refuses_a_password_a_missing_database_and_a_database_taken(
        tenants, capsys, pg_cluster, pg_database) -> None:
    directory, urls = tenants
    registry = directory / "authorities.json"
    before = registry.read_text()
    fresh = emptied(pg_database())
    with_password = fresh.replace("doorstep@", "doorstep:Sup3rSecret@")
    refusals = [
        ([with_password], "the database URL holds a password"),
        ([f"{fresh}?password=Sup3rSecret"], "the database URL holds a password"),
        ([pg_cluster.url("no_such_database")], "does not exist"),
        ([urls["alpha"]], "already belongs to authority alpha"),
        (["/var/lib/doorstep/gamma.db"], "is not a PostgreSQL database URL"),
    ]
    for db, message in refusals:
        code, out, err = run(capsys, "--tenants", str(directory), "tenant", "add", "gamma", "--host", "gamma.test",
                             "--db", *db)
        assert code == 2 and message in err, (db, err)
        assert "Sup3rSecret" not in out + err
        assert "Traceback" not in err
    assert "PGPASSWORD" in run(capsys, "--tenants", str(directory), "tenant", "add", "gamma", "--host", "g.test",
                               "--db", with_password)[2]
    assert registry.read_text() == before
    assert pending(fresh) is None  # nothing was made in the database whose URL held the password


def test_a_registry_holding_a_password_is_refused_by_serve(tenants, capsys) -> None:
    """The registry is a file others may read: a password edited into it by hand stops serve."""
    directory, urls = tenants
    registry = directory / "authorities.json"
    body = json.loads(registry.read_text())
    body["authorities"][1]["db"] = urls["beta"].replace("doorstep@", "doorstep:Sup3rSecret@")
    registry.write_text(json.dumps(body))
    for argv in (("serve", "--port", "1"), ("tenant", "list"), ("tenant", "migrate")):
        code, out, err = run(capsys, "--tenants", str(directory), *argv)
        assert code == 2 and "authority beta" in err and "holds a password" in err, (argv, err)
        assert "Sup3rSecret" not in out + err and "Doorstep for" not in out


def test_two_authorities_in_one_database_are_refused_at_load(tenants, capsys) -> None:
    directory, urls = tenants
    registry = directory / "authorities.json"
    body = json.loads(registry.read_text())
    body["authorities"][1]["db"] = urls["alpha"]
    registry.write_text(json.dumps(body))
    code, _out, err = run(capsys, "--tenants", str(directory), "serve", "--port", "1")
    assert code == 2 and "names a PostgreSQL database for two authorities" in err


def test_a_sqlite_authority_and_a_postgresql_one_side_by_side(tenants, capsys) -> None:
    """The registry mixes them: an entry without db is DIR/NAME.db, as before."""
    directory, _urls = tenants
    code, out, err = run(capsys, "--tenants", str(directory), "tenant", "add", "gamma", "--host", "gamma.test")
    assert code == 0, err
    assert f"database created at {directory / 'gamma.db'}" in out
    entry = json.loads((directory / "authorities.json").read_text())["authorities"][2]
    assert entry == {"name": "gamma", "hosts": ["gamma.test"]}
    code, out, _err = run(capsys, "--tenants", str(directory), "tenant", "list")
    assert code == 0 and out.count("\tcurrent") == 3
    assert pending(str(directory / "gamma.db")) == []


def test_serve_without_tenants_refuses_a_database_never_initialised(pg_database, capsys) -> None:
    """docs/deploy.md, "Several app servers on PostgreSQL": a server started before ``doorstep
    init`` refuses with the step to run, and creates nothing (not even a signing key)."""
    url = emptied(pg_database())
    code, out, err = run(capsys, "--db", url, "serve", "--port", "1")
    assert code == 2 and "doorstep --db URL init" in err and "Traceback" not in err, err
    assert "Doorstep on" not in out
    assert pending(url) is None


@pytest.mark.slow
def test_two_workers_each_dispatch_to_both_postgresql_authorities(tenants, monkeypatch) -> None:
    """``serve --workers 2``: each worker builds its dispatcher from DOORSTEP_TENANTS
    (server/asgi.py), checking and opening both PostgreSQL databases itself."""
    directory, _urls = tenants
    monkeypatch.setenv("DOORSTEP_TENANTS", str(directory))
    server = LiveServer(str(directory / "serve"), "--workers", "2").start(timeout=120)
    try:
        check_live(server)
    finally:
        server.stop()
    assert "Traceback" not in server.output()
