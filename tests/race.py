"""Officers' phones pushing at once while the office follows the pull cursor: the race that
several server processes on one database must survive (tests/server/test_workers.py on SQLite,
tests/pg/test_app_servers.py on PostgreSQL). The test says where each push and pull goes."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from sync import Clock

SYNC = {"Doorstep-Protocol": "1"}


class Phone:
    """A phone signed in through one server (``url``); a request goes to another when given one."""

    def __init__(self, url: str, username: str, password: str, device_name: str) -> None:
        r = httpx.post(f"{url}/api/auth/login", json={"username": username, "password": password,
                                                      "device_name": device_name}, timeout=30)
        r.raise_for_status()
        body = r.json()
        self.url = url
        self.user_id, self.device_id = body["user"]["id"], body["device_id"]
        self.refresh_token = body["refresh_token"]
        self.headers = {"Authorization": f"Bearer {body['access_token']}", **SYNC}
        self.client = httpx.Client(base_url=url, timeout=60, headers=self.headers)
        self.clock = Clock(self.device_id)

    def change(self, type_: str, fields: dict[str, Any], id_: str | None = None) -> dict[str, Any]:
        return {"change_id": str(uuid.uuid4()), "type": type_, "id": id_ or str(uuid.uuid4()), "op": "put",
                "fields": fields, "base_version": None, "hlc": self.clock.send()}

    def push(self, changes: list[dict[str, Any]], url: str | None = None) -> list[dict[str, Any]]:
        r = self.client.post(f"{url or self.url}/api/sync/push", json={"client_id": self.device_id, "changes": changes})
        assert r.status_code == 200, r.text
        self.clock.receive(r.json()["server_hlc"])
        return r.json()["results"]

    def pull(self, cursor: str | None, limit: int, url: str | None = None) -> httpx.Response:
        params = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        return self.client.get(f"{url or self.url}/api/sync/pull", params=params)


Push = Callable[[int, int, list[dict[str, Any]]], list[dict[str, Any]]]  # (officer, batch no, changes)
Pull = Callable[[str | None], Any]  # cursor -> the pull's HTTP response


@dataclass
class Race:
    """What a race answered: each change's push result, the results of the batch sent again,
    and what the office saw (highest version of each record, every page)."""
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    resent: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    pages: list[list[dict[str, Any]]] = field(default_factory=list)


def run(batches: list[list[list[dict[str, Any]]]], push: Push, pull: Pull, *, resend_batch: int = 2,
        resend: Push | None = None, timeout: float = 300) -> Race:
    """Each officer's batches pushed from a thread of their own (batch ``resend_batch`` sent
    again, through ``resend`` if given, as after a timed-out answer) while one thread follows
    the cursor, and once more after the pushes end. Raises the first error any thread met."""
    race, errors, lock = Race(), [], threading.Lock()
    pushing = threading.Event()
    pushing.set()

    def pushes(k: int) -> None:
        try:
            for b, batch in enumerate(batches[k]):
                answer = push(k, b, batch)
                if b == resend_batch:
                    again = (resend or push)(k, b, batch)
                    with lock:
                        race.resent.update({r["change_id"]: r for r in again})
                with lock:
                    race.results.update({r["change_id"]: r for r in answer})
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def follows() -> None:
        cursor: str | None = None
        try:
            while True:
                done = not pushing.is_set()
                while True:
                    r = pull(cursor)
                    assert r.status_code == 200, r.text
                    body = r.json()
                    race.pages.append(body["changes"])
                    for item in body["changes"]:
                        race.seen[item["id"]] = max(race.seen.get(item["id"], 0), item.get("version", 0))
                    cursor = body["cursor"]
                    if not body["has_more"]:
                        break
                if done:
                    return
                time.sleep(0.01)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    puller = threading.Thread(target=follows)
    threads = [threading.Thread(target=pushes, args=(k,)) for k in range(len(batches))]
    puller.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    pushing.clear()
    puller.join(timeout=timeout)
    assert not errors, errors
    return race


def assert_nothing_lost_duplicated_or_skipped(race: Race, batches: list[list[list[dict[str, Any]]]]) -> None:
    pushed = [c for per in batches for batch in per for c in batch]
    # nothing lost: every change answered applied, once, at version 1
    assert len(race.results) == len(pushed)
    assert {r["status"] for r in race.results.values()} == {"applied"}
    assert {r["version"] for r in race.results.values()} == {1}
    # nothing duplicated: the batch sent again answers duplicate with the first versions
    assert race.resent and {r["status"] for r in race.resent.values()} == {"duplicate"}
    assert all(race.resent[c]["version"] == race.results[c]["version"] for c in race.resent)
    # nothing skipped: the office, pulling while every server wrote, saw every record
    assert {c["id"] for c in pushed} <= set(race.seen)
    assert all(race.seen[c["id"]] == 1 for c in pushed)
    assert all(len({i["id"] for i in page}) == len(page) for page in race.pages), "an entity twice in a page"
