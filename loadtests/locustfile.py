"""Load test: a morning of field officers and a few office users (docs/performance.md).

Seed a database, serve it, run locust headless against 127.0.0.1 (it stops by itself):

    python loadtests/locustfile.py seed --db /tmp/load.db --officers 500 --office 5
    DOORSTEP_ACCESS_TTL=120 doorstep --db /tmp/load.db serve --port 8765 &
    locust -f loadtests/locustfile.py --headless -u 505 -r 10 -t 3m \\
        --host http://127.0.0.1:8765 --stop-timeout 10 --only-summary

Officers sign in, do an initial pull, then record a visit and a conversation
every ~30 s (one push, as a phone sends its outbox) and pull every ~60 s,
refreshing the access token before it expires (or when the server says it
has). Office users page through the visit log and the conflict queue.
"""
from __future__ import annotations

import itertools
import random
import sys
import time
import uuid
from typing import Any
from urllib.parse import urlparse

PASSWORD = "load-test-password"
SYNC = {"Doorstep-Protocol": "1"}
OFFICER_PREFIX, OFFICE_PREFIX = "load-officer", "load-office"
CASES_PER_OFFICER, VISITS_PER_CASE = 2, 3
MAX_PAGES = 20  # every paging loop is bounded


def _hlc(node: str, counter: itertools.count) -> str:
    return f"{int(time.time() * 1000):015d}-{next(counter) % 1_000_000:06d}-{node}"


# -- seeding (run as a script, not by locust) ----------------------------------

def seed(db: str, officers: int, office: int, conflicts: int = 60) -> None:
    """Users with the load-test password, each officer's open cases with past visits, and
    some open conflicts for the office queue."""
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from server.identity.accounts import add_user
    from server.config import Settings
    from server.state import open_state
    from sync import Actor
    from sync.push import push

    st = open_state(Settings(db_path=db))
    if st.db.query("SELECT 1 FROM users WHERE username = ?", (f"{OFFICE_PREFIX}1",)):
        print(f"{db} is already seeded")
        return
    boss = add_user(st.db, f"{OFFICE_PREFIX}1", PASSWORD, "office")
    for n in range(2, office + 1):
        add_user(st.db, f"{OFFICE_PREFIX}{n}", PASSWORD, "office")
    actor, counter = Actor(boss.id, "office", "seed"), itertools.count()

    def change(type_: str, fields: dict[str, Any], id_: str | None = None, node: str = "seed",
               base: int | None = None) -> dict[str, Any]:
        return {"change_id": str(uuid.uuid4()), "type": type_, "id": id_ or str(uuid.uuid4()), "op": "put",
                "fields": fields, "base_version": base, "hlc": _hlc(node, counter)}

    def send(changes: list[dict[str, Any]], who: Actor = actor) -> None:
        for lo in range(0, len(changes), 500):
            out = push(st.db, who, changes[lo:lo + 500], st.clock)
            bad = [r for r in out.results if r.status not in ("applied", "merged")]
            if bad:
                raise RuntimeError(f"seeding failed: {bad[0]}")

    schools = [str(uuid.uuid4()) for _ in range(7)]
    send([change("school", {"name": f"Load School {i}", "lat": 53.68, "lon": -1.49, "day_starts": "08:45"}, s)
          for i, s in enumerate(schools)])
    households: list[str] = []
    for n in range(1, officers + 1):
        user = add_user(st.db, f"{OFFICER_PREFIX}{n}", PASSWORD, "officer")
        me = Actor(user.id, "officer", f"seed{n}")
        batch, visits = [], []
        for k in range(CASES_PER_OFFICER):
            hh, pupil, case = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
            households.append(hh)
            batch += [change("household", {"address": f"{n}.{k} Load Lane", "lat": 53.68, "lon": -1.49}, hh),
                      change("pupil", {"upn": f"L{n:08d}{k:04d}", "first_name": "Lee", "last_name": f"Load{n}",
                                       "school_id": schools[n % 7], "household_id": hh}, pupil),
                      change("case", {"pupil_id": pupil, "assigned_officer_id": user.id}, case)]
            visits += [change("visit", {"case_id": case, "outcome": "no_answer", "status": "submitted",
                                        "notes": "Seeded visit"}, node=f"seed{n}")
                       for _ in range(VISITS_PER_CASE)]
        send(batch)
        send(visits, me)
        if n % 50 == 0:
            print(f"seeded {n} officers", flush=True)
    # two devices that had not seen each other's edit: one conflict each
    for i in range(min(conflicts, len(households))):
        send([change("household", {"access_notes": "Side gate"}, households[i], node="deviceA")])
        send([change("household", {"access_notes": "Ring twice"}, households[i], node="deviceB", base=1)])
    open_conflicts = st.db.query("SELECT count(*) AS n FROM conflicts WHERE status = 'open'")[0]["n"]
    print(f"seeded {db}: {officers} officers, {office} office users, {open_conflicts} open conflicts; "
          f"password {PASSWORD!r}")


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "seed":
    import argparse

    ap = argparse.ArgumentParser(prog="locustfile.py seed")
    ap.add_argument("seed")
    ap.add_argument("--db", required=True)
    ap.add_argument("--officers", type=int, default=500)
    ap.add_argument("--office", type=int, default=5)
    a = ap.parse_args()
    seed(a.db, a.officers, a.office)
    sys.exit(0)


# -- the users (imported by locust) -----------------------------------------------

from locust import HttpUser, between, events, task

_officer_numbers = itertools.count(1)
_office_numbers = itertools.count(1)


@events.test_start.add_listener
def _loopback_only(environment: Any, **_: Any) -> None:
    host = urlparse(environment.host or "").hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise SystemExit(f"this load test only runs against 127.0.0.1, not {host!r}")


class _Signed(HttpUser):
    abstract = True
    username = ""

    def sign_in(self) -> None:
        with self.client.post("/api/auth/login", json={"username": self.username, "password": PASSWORD,
                                                       "device_name": "locust"},
                              name="/api/auth/login", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"login {self.username}: {r.status_code} {r.text[:200]}")
                raise RuntimeError("cannot sign in")
            self._keep(r.json())
            self.device_id = r.json()["device_id"]
        self.clock_node = self.device_id
        self.counter = itertools.count()

    def _keep(self, body: dict[str, Any]) -> None:
        self.token, self.refresh_token = body["access_token"], body["refresh_token"]
        self.expires_at = time.monotonic() + int(body["expires_in"])

    def refresh(self) -> None:
        with self.client.post("/api/auth/refresh", json={"refresh_token": self.refresh_token},
                              name="/api/auth/refresh", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"refresh: {r.status_code} {r.text[:200]}")
                return
            self._keep(r.json())

    def headers(self) -> dict[str, str]:
        if time.monotonic() > self.expires_at - 20:  # refresh a little before it expires
            self.refresh()
        return {"Authorization": f"Bearer {self.token}", **SYNC}

    def call(self, method: str, path: str, name: str, **kw: Any) -> dict[str, Any] | None:
        """One API call; a ``token_expired`` answer refreshes and tries once more."""
        for attempt in (1, 2):
            with self.client.request(method, path, headers=self.headers(), name=name, catch_response=True,
                                     **kw) as r:
                if r.status_code == 401 and attempt == 1 and "token_expired" in r.text:
                    r.success()  # expected now and then: refresh and retry
                    self.expires_at = 0
                    continue
                if r.status_code != 200:
                    r.failure(f"{r.status_code} {r.text[:200]}")
                    return None
                return r.json()
        return None


class Officer(_Signed):
    """A field officer's phone: sign in, initial pull, then visits every ~30 s, pulls every ~60 s."""

    weight = 100
    wait_time = between(25, 35)

    def on_start(self) -> None:
        self.username = f"{OFFICER_PREFIX}{next(_officer_numbers)}"
        self.sign_in()
        self.cursor: str | None = None
        self.cases: list[str] = []
        self.pull()
        self.rounds = 0

    def pull(self) -> None:
        for _ in range(MAX_PAGES):
            params = {"cursor": self.cursor} if self.cursor else {}
            body = self.call("GET", "/api/sync/pull", "/api/sync/pull", params=params)
            if body is None:
                return
            for item in body["changes"]:
                live = not item.get("removed") and not item.get("deleted")
                if item["type"] == "case" and live and item["id"] not in self.cases:
                    self.cases.append(item["id"])
            self.cursor = body["cursor"]
            if not body["has_more"]:
                return

    @task
    def record_and_sync(self) -> None:
        if self.cases:
            case = random.choice(self.cases)
            visit = str(uuid.uuid4())
            stamp = _hlc(self.clock_node, self.counter)
            changes = [
                {"change_id": str(uuid.uuid4()), "type": "visit", "id": visit, "op": "put", "base_version": None,
                 "hlc": stamp, "fields": {"case_id": case, "outcome": "spoke_to_parent", "child_seen": True,
                                          "started_at": "2026-11-23T09:10:00Z", "lat": 53.68, "lon": -1.49,
                                          "notes": "Mum says he is anxious about PE; school to call.",
                                          "status": "submitted"}},
                {"change_id": str(uuid.uuid4()), "type": "conversation", "id": str(uuid.uuid4()), "op": "put",
                 "base_version": None, "hlc": _hlc(self.clock_node, self.counter),
                 "fields": {"case_id": case, "visit_id": visit, "spoke_with": "parent",
                            "reason_given": "anxiety", "status": "submitted"}}]
            body = self.call("POST", "/api/sync/push", "/api/sync/push",
                             json={"client_id": self.device_id, "changes": changes})
            if body is not None:
                bad = [r for r in body["results"] if r["status"] not in ("applied", "merged", "duplicate")]
                if bad:
                    events.request.fire(request_type="CHECK", name="push results", response_time=0,
                                        response_length=0, exception=RuntimeError(str(bad[0])[:200]))
        self.rounds += 1
        if self.rounds % 2 == 0:
            self.pull()


class OfficeUser(_Signed):
    """Office staff paging through the visit log and the conflict queue."""

    fixed_count = 5
    wait_time = between(5, 15)

    def on_start(self) -> None:
        self.username = f"{OFFICE_PREFIX}{next(_office_numbers)}"
        self.sign_in()

    def pages(self, path: str, params: dict[str, str], pages: int) -> None:
        cursor = None
        for _ in range(min(pages, MAX_PAGES)):
            body = self.call("GET", path, path, params=params | ({"cursor": cursor} if cursor else {}))
            if body is None or not body.get("next"):
                return
            cursor = body["next"]

    @task(2)
    def visit_log(self) -> None:
        self.pages("/api/visits", {"limit": "50"}, 3)

    @task(1)
    def conflict_queue(self) -> None:
        self.pages("/api/conflicts", {"status": "open", "limit": "20"}, 3)
