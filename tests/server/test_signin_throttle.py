"""Sign-in throttling (issue 16, item 6; server/identity/throttle.py), through the HTTP API.

Hashes are counted by the hashing module itself (``doorstep_password_hashes_total``, read from
prometheus-client's registry in-process, or from a live server's metrics port): nothing is
patched. Different source addresses are different ``TestClient(client=...)`` peers in
process, and 127.0.0.x source addresses against a live server.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.identity.accounts import add_user
from server.identity.throttle import FIRST_DELAY_S, Policy
from server.state import open_state
from tests.conftest import PASSWORD
from tests.live_server import ROOT, LiveServer, free_port

LOGIN = "/api/auth/login"


def hashes() -> float:
    return REGISTRY.get_sample_value("doorstep_password_hashes_total") or 0.0


def assert_429(r: Any) -> int:
    assert r.status_code == 429, (r.status_code, r.text)
    err = r.json()["error"]
    assert err["code"] == "rate_limited" and set(err) == {"code", "message", "details"}
    retry = int(r.headers["retry-after"])
    assert retry >= 1 and err["details"]["retry_after_s"] == retry
    return retry


def attempt(client: Any, username: str, password: str = "wrong-password") -> Any:
    return client.post(LOGIN, json={"username": username, "password": password, "device_name": "phone"})


@pytest.fixture
def server(tmp_path):
    """An app on its own database, with a small address limit, and clients from any address."""
    st = open_state(Settings(db_path=str(tmp_path / "throttle.db"), signin_address_limit=12))
    app = create_app(app_state=st)
    clients: list[TestClient] = []

    def from_address(address: str) -> TestClient:
        c = TestClient(app, raise_server_exceptions=False, client=(address, 40000))
        c.__enter__()
        clients.append(c)
        return c

    yield st, from_address
    for c in clients:
        c.__exit__(None, None, None)
    st.db.close()


def test_a_stranger_elsewhere_cannot_lock_the_real_officer_out(server):
    st, at = server
    officer = add_user(st.db, "ewo-" + uuid.uuid4().hex[:6], PASSWORD, "officer").username
    stranger = at("203.0.113.9")
    codes = [attempt(stranger, officer).status_code for _ in range(10)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}  # the stranger waits…
    assert attempt(at("198.51.100.7"), officer, PASSWORD).status_code == 200  # …the officer does not


def test_five_free_failures_then_the_pair_waits_before_any_hash(server):
    st, at = server
    name = add_user(st.db, "ewo-" + uuid.uuid4().hex[:6], PASSWORD, "officer").username
    phone = at("192.0.2.44")
    for _ in range(5):
        assert attempt(phone, name).status_code == 401
    before = hashes()
    retry = assert_429(attempt(phone, name, PASSWORD))  # even the right password, for now
    assert retry <= FIRST_DELAY_S
    for _ in range(20):
        assert_429(attempt(phone, name))
    assert hashes() == before  # refused before hashing: no hash at all


def test_the_wait_grows_with_each_failure_and_is_capped():
    policy = Policy(free_failures=5, window_s=900, address_limit=300)
    waits = [policy.pair_delay(n) for n in range(1, 12)]
    assert waits == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]
    assert Policy(5, 900, 300).pair_delay(10_000) == 900


def test_an_address_over_its_limit_waits_for_everyone_on_it_and_no_one_else(server):
    st, at = server
    officer = add_user(st.db, "ewo-" + uuid.uuid4().hex[:6], PASSWORD, "officer").username
    shared = at("100.64.0.1")  # a carrier's shared address
    for k in range(12):  # the limit (12 here), each a different unknown username
        assert attempt(shared, f"ghost-{k}-{uuid.uuid4().hex[:6]}").status_code == 401
    before = hashes()
    assert_429(attempt(shared, officer, PASSWORD))
    assert_429(attempt(shared, "ghost-" + uuid.uuid4().hex))
    assert_429(shared.post(LOGIN, content=b"{not even json"))  # refused before the body is read
    assert hashes() == before
    assert attempt(at("100.64.0.2"), officer, PASSWORD).status_code == 200


def test_unknown_usernames_cost_exactly_one_hash_each_within_the_limits(server):
    _st, at = server
    client = at("192.0.2.80")
    before = hashes()
    for _ in range(6):
        assert attempt(client, "nobody-" + uuid.uuid4().hex[:8]).status_code == 401
    assert hashes() - before == 6  # one dummy verification each, so timing does not tell


def test_a_success_gives_its_count_back_to_the_address(server):
    st, at = server
    name = add_user(st.db, "ewo-" + uuid.uuid4().hex[:6], PASSWORD, "officer").username
    office = at("192.0.2.90")
    for _ in range(30):  # far more sign-ins than the address limit of 12, all right
        assert attempt(office, name, PASSWORD).status_code == 200


def test_counts_are_shared_by_every_worker_through_the_database(tmp_path):
    settings = Settings(db_path=str(tmp_path / "shared.db"), signin_address_limit=300)
    first, second = open_state(settings), open_state(settings)  # two workers' own connections
    try:
        name = add_user(first.db, "ewo-" + uuid.uuid4().hex[:6], PASSWORD, "officer").username
        with TestClient(create_app(app_state=first), client=("192.0.2.5", 1)) as a, \
                TestClient(create_app(app_state=second), client=("192.0.2.5", 2)) as b:
            for k in range(5):
                assert attempt(a if k % 2 else b, name).status_code == 401
            assert_429(attempt(a, name, PASSWORD))
            assert_429(attempt(b, name, PASSWORD))
    finally:
        first.db.close()
        second.db.close()


def test_the_office_sign_in_is_throttled_the_same_way(client, make_user):
    from tests.office.conftest import OfficePage

    user = make_user("office")
    page = OfficePage(client, user)
    for _ in range(5):
        assert page.sign_in("wrong password!").status_code == 401
    r = page.sign_in()
    assert r.status_code == 429 and int(r.headers["retry-after"]) <= FIRST_DELAY_S


# -- a flood against a real server ------------------------------------------------------------

def _cli(db: str, *args: str) -> None:
    env = {**os.environ, "DOORSTEP_PASSWORD": PASSWORD}
    subprocess.run([sys.executable, "-m", "server.cli", "--db", db, *args], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=60)


def scrape(port: int, name: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@contextmanager
def env(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.mark.slow
def test_a_flood_of_random_usernames_costs_a_bounded_number_of_hashes(tmp_path):
    db = str(tmp_path / "flood.db")
    _cli(db, "init")
    _cli(db, "user", "add", "officer1", "--role", "officer")
    limit, threads, each = 40, 32, 10
    metrics_port = free_port()
    with env(DOORSTEP_SIGNIN_ADDRESS_LIMIT=str(limit), DOORSTEP_METRICS_PORT=str(metrics_port)), \
            LiveServer(db) as live:
        start = scrape(metrics_port, "doorstep_password_hashes_total")
        statuses: list[int] = []
        lock = threading.Lock()

        def flood() -> None:
            with httpx.Client(base_url=live.url, timeout=60) as http:
                for _ in range(each):
                    r = attempt(http, "x" + uuid.uuid4().hex[:10])
                    if r.status_code == 429:
                        assert_429(r)
                    with lock:
                        statuses.append(r.status_code)

        workers = [threading.Thread(target=flood) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        flood_hashes = scrape(metrics_port, "doorstep_password_hashes_total") - start
        assert len(statuses) == threads * each and set(statuses) <= {401, 429}
        assert statuses.count(401) == limit  # exactly the address's budget got an answer…
        assert flood_hashes == limit  # …and a hash; the other 280 were refused before hashing
        assert scrape(metrics_port, 'doorstep_signin_throttled_total{scope="address"}') == threads * each - limit

        # the officer, from another address (127.0.0.2 is loopback too), is not held up
        other = httpx.Client(base_url=live.url, timeout=30,
                             transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        with other:
            r = attempt(other, "officer1", PASSWORD)
        assert r.status_code == 200, r.text
        assert "Traceback" not in live.output()
