"""Shared fixtures: a server on a real SQLite file, users, signed-in clients.

With ``DOORSTEP_TEST_STORE=postgresql`` every server a test makes runs on a fresh PostgreSQL
database instead (cloned from a migrated template in a throwaway cluster the run owns:
tests/pg/cluster.py), so the same tests check both stores (docs/postgresql.md, "Tests")."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

# Cheaper argon2id for the test suite only (the servers it starts inherit this).
os.environ.setdefault("DOORSTEP_ARGON2_TIME", "1")
os.environ.setdefault("DOORSTEP_ARGON2_MEMORY_KIB", "8192")

from server.app import create_app
from server.config import Settings
from server.identity.accounts import add_user
from server.state import AppState, open_state
from sync import Clock

PASSWORD = "correct-horse-battery"
SYNC = {"Doorstep-Protocol": "1"}


@dataclass
class Session:
    """One signed-in device talking to the API."""

    client: TestClient
    token: str
    refresh_token: str
    device_id: str
    user: dict[str, Any]
    clock: Clock

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **SYNC}

    def push(self, changes: list[dict[str, Any]]) -> Any:
        r = self.client.post("/api/sync/push", headers=self.headers,
                             json={"client_id": self.device_id, "changes": changes})
        if r.status_code == 200:
            self.clock.receive(r.json()["server_hlc"])
        return r

    def pull(self, cursor: str | None = None, limit: int | None = None) -> Any:
        params: dict[str, Any] = {}
        if cursor is not None:
            params["cursor"] = cursor
        if limit is not None:
            params["limit"] = limit
        return self.client.get("/api/sync/pull", headers=self.headers, params=params)

    def pull_all(self, cursor: str | None = None) -> tuple[list[dict[str, Any]], str]:
        out: list[dict[str, Any]] = []
        while True:
            body = self.pull(cursor).json()
            out += body["changes"]
            cursor = body["cursor"]
            if not body["has_more"]:
                return out, cursor

    def change(self, type_: str, id_: str, fields: dict[str, Any], base_version: int | None = None,
               op: str = "put") -> dict[str, Any]:
        return {"change_id": str(uuid.uuid4()), "type": type_, "id": id_, "op": op, "fields": fields,
                "base_version": base_version, "hlc": self.clock.send()}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, headers=self.headers, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(path, headers=self.headers, json=body)


STORE = os.environ.get("DOORSTEP_TEST_STORE", "sqlite")
ON_POSTGRES = STORE == "postgresql"
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="reads or writes the SQLite file itself")


# what the PostgreSQL pass runs: the tests of the server over its database (the engine's own
# tests run on PostgreSQL in tests/pg in the first pass; the PWA's and planner's need no store)
STORE_DEPENDENT = ("server", "office", "casework", "relationships")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, only the storage-dependent tests run (browser tests drive the
    PWA, whose server is the same code on either store: they run on SQLite)."""
    if not ON_POSTGRES:
        return
    root = Path(__file__).parent
    keep, drop = [], []
    for item in items:
        parts = Path(str(item.path)).relative_to(root).parts
        (keep if parts[0] in STORE_DEPENDENT and not item.get_closest_marker("browser") else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Any]:
    """A throwaway PostgreSQL cluster for the run, stopped by its PID afterwards."""
    from tests.pg import cluster

    reason = cluster.why_not()
    try:
        import psycopg  # noqa: F401
    except ImportError:
        reason = reason or "psycopg 3 is not installed: pip install '.[pg]'"
    if reason and ON_POSTGRES:  # asked for PostgreSQL: not having it is a failure, not a skip
        pytest.fail(f"DOORSTEP_TEST_STORE=postgresql but {reason}", pytrace=False)
    if reason:
        pytest.skip(reason)
    running = cluster.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster: Any) -> str:
    """A database with the server's whole schema, the template each test's database copies."""
    import psycopg

    from server.pg import PgDatabase

    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE doorstep_template")
    db = PgDatabase(pg_cluster.url("doorstep_template"))
    db.migrate()
    db.close()
    return "doorstep_template"


@pytest.fixture
def pg_database(pg_cluster: Any, pg_template: str) -> Iterator[Any]:
    """A factory of fresh PostgreSQL databases (URLs), each dropped after the test."""
    import psycopg

    made: list[str] = []

    def make() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
        made.append(name)
        return pg_cluster.url(name)

    yield make
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        for name in made:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def db_path(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where the test's server keeps its data: a SQLite file, or a PostgreSQL database's URL."""
    if ON_POSTGRES:
        return request.getfixturevalue("pg_database")()
    return str(tmp_path / "doorstep.db")


@pytest.fixture
def app_state(db_path: str) -> Iterator[AppState]:
    st = open_state(Settings(db_path=db_path))
    yield st
    st.db.close()


@pytest.fixture
def client(app_state: AppState) -> Iterator[TestClient]:
    with TestClient(create_app(app_state=app_state), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def make_user(app_state: AppState):
    def make(role: str, username: str | None = None) -> dict[str, Any]:
        user = add_user(app_state.db, username or f"{role}-{uuid.uuid4().hex[:8]}", PASSWORD, role)
        return user.as_dict()
    return make


@pytest.fixture
def login(client: TestClient, make_user):
    def sign_in(role: str = "officer", username: str | None = None, device: str = "phone") -> Session:
        if username is None:
            username = make_user(role)["username"]
        r = client.post("/api/auth/login", json={"username": username, "password": PASSWORD,
                                                 "device_name": device})
        assert r.status_code == 200, r.text
        body = r.json()
        return Session(client, body["access_token"], body["refresh_token"], body["device_id"], body["user"],
                       Clock(body["device_id"]))
    return sign_in


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def world(login):
    """An office session that has created a school, household, pupil and an officer's case."""
    office = login("office")
    officer = login("officer")
    ids = {k: new_id() for k in ("school", "household", "pupil", "case")}
    r = office.push([
        office.change("school", ids["school"], {"name": "Hexthorpe Primary", "lat": 53.52, "lon": -1.15,
                                                "day_starts": "08:45"}),
        office.change("household", ids["household"], {"address": "12 Shady Lane", "lat": 53.521,
                                                      "lon": -1.151}),
        office.change("pupil", ids["pupil"], {"upn": "A123456789012", "first_name": "Ava",
                                              "last_name": "Stone", "school_id": ids["school"],
                                              "household_id": ids["household"]}),
        office.change("case", ids["case"], {"pupil_id": ids["pupil"],
                                            "assigned_officer_id": officer.user["id"]}),
    ])
    assert [x["status"] for x in r.json()["results"]] == ["applied"] * 4, r.text
    return office, officer, ids


CHROMIUM = "/usr/bin/chromium"
HERMETIC = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """One headless Debian Chromium for the whole run.

    Playwright's sync API runs an event loop while it is open, so a second
    ``sync_playwright()`` in the same run fails: every browser test folder
    takes its browser from here.
    """
    import shutil

    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[HERMETIC])
        yield browser
        browser.close()
