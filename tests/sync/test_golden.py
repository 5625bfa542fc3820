"""Golden vectors (tests/golden/*.json, format in tests/golden/README.md) run against the engine.

The same files are run by pwa/tests/golden.test.mjs against the PWA's clock, outbox and
handling of server answers, so the phone and the server are checked against one truth.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from sync import MAX_LIMIT, Actor, Clock, MemoryStore, pull, push

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
VECTORS = sorted(GOLDEN.glob("*.json"))
SERVER_STAMPED = ("id", "created_at", "created_by", "updated_at", "updated_by")


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def actor(raw: dict[str, Any]) -> Actor:
    return Actor(raw["user_id"], raw["role"], raw.get("device_id"))


def normal_result(r: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The result as the vector states it: errors keep ``message`` only where the vector gives one."""
    errors = []
    for i, e in enumerate(r["errors"]):
        want = expected["errors"][i] if i < len(expected.get("errors", [])) else {}
        errors.append({k: e[k] for k in ("field", "code", "message") if k in want or k != "message"})
    out = {"change_id": r["change_id"], "status": r["status"], "version": r["version"], "errors": errors,
           "lost_fields": r["lost_fields"]}
    if r.get("clock_skew"):
        out["clock_skew"] = True
    return out


def normal_item(item: dict[str, Any]) -> dict[str, Any]:
    if item.get("removed") or item.get("deleted"):
        return item
    fields = {k: v for k, v in item["fields"].items() if k not in SERVER_STAMPED}
    assert item["fields"]["id"] == item["id"]
    return {**item, "fields": fields}


def pull_pages(store: MemoryStore, who: Actor, cursor: str | None, limit: int, clock: Clock,
               now: dt.datetime) -> tuple[list[dict[str, Any]], str]:
    pages = []
    while True:
        body = pull(store, who, cursor, limit, clock, now=now).body
        pages.append(body)
        cursor = body["cursor"]
        if not body["has_more"]:
            return pages, cursor


class Run:
    """One vector played against a memory store, with the server clock's wall fixed at ``now``."""

    def __init__(self, vector: dict[str, Any]) -> None:
        self.v = vector
        self.now = dt.datetime.fromisoformat(vector["now"].replace("Z", "+00:00"))
        now_ms = int(self.now.timestamp() * 1000)
        self.store = MemoryStore()
        self.store.users.update(vector["users"])
        self.clock = Clock("server", wall=lambda: now_ms)
        for step in vector["state"]:
            out = push(self.store, actor(step["actor"]), step["changes"], self.clock, now=self.now)
            bad = [r.as_dict() for r in out.results if r.status not in ("applied", "merged", "duplicate")]
            assert not bad, f"state of {vector['name']} did not apply: {bad}"
        # every "since": "before_batch" pull starts from a complete pull taken here, one page each
        self.cursors: list[str | None] = []
        for p in vector["expect"]["pull"]:
            if p["since"] == "before_batch":
                pages, cursor = pull_pages(self.store, actor(p["as"]), None, MAX_LIMIT, self.clock, self.now)
                assert len(pages) == 1
                self.cursors.append(cursor)
            else:
                self.cursors.append(None)
        self.outcome = push(self.store, actor(vector["actor"]), vector["batch"], self.clock, now=self.now)


@pytest.fixture(scope="module", params=VECTORS, ids=[p.stem for p in VECTORS])
def run(request: pytest.FixtureRequest) -> Run:
    return Run(load(request.param))


def test_there_are_vectors() -> None:
    assert len(VECTORS) >= 15
    names = [load(p)["name"] for p in VECTORS]
    assert len(set(names)) == len(names)


def test_results(run: Run) -> None:
    expected = run.v["expect"]["results"]
    got = [r.as_dict() for r in run.outcome.results]
    assert [normal_result(r, e) for r, e in zip(got, expected)] == expected
    assert len(got) == len(expected)


def test_server_hlc(run: Run) -> None:
    want = run.v["expect"].get("server_hlc")
    # later than every stamp the batch kept (a re-stamped change's own stamp was replaced)
    stamps = [c["hlc"] for c, r in zip(run.v["batch"], run.outcome.results)
              if r.status in ("applied", "merged") and not r.clock_skew]
    assert all(run.outcome.server_hlc > s for s in stamps), "server_hlc is later than the batch"
    if want is not None:
        assert run.outcome.server_hlc == want


def test_pull_pages(run: Run) -> None:
    for p, cursor in zip(run.v["expect"]["pull"], run.cursors):
        pages, _ = pull_pages(run.store, actor(p["as"]), cursor, p.get("limit", MAX_LIMIT), run.clock, run.now)
        got = [{"changes": [normal_item(i) for i in page["changes"]], "has_more": page["has_more"]} for page in pages]
        assert got == p["pages"], f"pull as {p['as']['user_id']} since {p['since']}"


def test_conflicts(run: Run) -> None:
    def key(c: dict[str, Any]) -> str:
        return json.dumps(c, sort_keys=True)

    got = [{k: c.as_dict()[k] for k in ("type", "entity_id", "field", "kept", "lost")}
           for c in run.store.conflicts.values()]
    assert sorted(got, key=key) == sorted(run.v["expect"]["conflicts"], key=key)
    assert all(c.status == "open" for c in run.store.conflicts.values())


CLOCKED = [p for p in VECTORS if "clock" in load(p)]


@pytest.mark.parametrize("path", CLOCKED, ids=[p.stem for p in CLOCKED])
def test_clock_steps(path: Path) -> None:
    spec = load(path)["clock"]
    wall = {"ms": 0}
    clock = Clock(spec["node"], wall=lambda: wall["ms"])
    for step in spec["steps"]:
        if "send" in step:
            wall["ms"] = step["send"]
            assert clock.send() == step["expect"]
        else:
            clock.receive(step["receive"])


def test_vector_format() -> None:
    for path in VECTORS:
        v = load(path)
        assert set(v) <= {"name", "description", "now", "users", "state", "actor", "batch", "expect", "clock"}, path
        assert set(v["expect"]) <= {"results", "pull", "conflicts", "server_hlc"}, path
        assert len(v["expect"]["results"]) == len(v["batch"]), path
        for p in v["expect"]["pull"]:
            assert p["since"] in ("before_batch", "start"), path
            assert p["pages"] and p["pages"][-1]["has_more"] is False, path
