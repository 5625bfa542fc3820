"""A seeded Doorstep database for the sync benchmarks (officers with open cases, one officer
with a big scope), and copying or removing one with its WAL files."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from _server import SERVER_ROOT
from _workload import BATCH, PASSWORD, ROOT, hlc, visit_fields


@dataclass
class Seed:
    """What the seeded database holds: who pushes into which cases, who has a big scope."""

    path: str
    officers: list[str]  # usernames of the pushing officers
    cases: dict[str, list[tuple[str, str]]]  # username -> [(case_id, household_id)]
    office: str = "bench-office"
    scope_officer: str = "bench-scope"
    scope_records: int = 0


def seed_database(path: str, officers: int = 16, cases_per_officer: int = 10,
                  scope_records: int = 2000) -> Seed:
    """A database with an office user, ``officers`` officers with open cases, and one
    officer (``bench-scope``) whose scope holds exactly ``scope_records`` records.

    Seeded by the code of the checkout that serves it (``SERVER_ROOT``: with
    ``--server-root`` another version's layout, in a child process)."""
    if SERVER_ROOT[0].resolve() == ROOT.resolve():
        return _seed_here(path, officers, cases_per_officer, scope_records)
    script = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); import _seed, orjson; "
              f"sys.path.insert(0, {str(SERVER_ROOT[0])!r}); "
              f"s = _seed._seed_here({path!r}, {officers}, {cases_per_officer}, {scope_records}); "
              "print(orjson.dumps(s.__dict__).decode())")
    out = subprocess.run([sys.executable, "-c", script], cwd=SERVER_ROOT[0], check=True, capture_output=True,
                         timeout=1800, env={**os.environ, "PYTHONPATH": str(SERVER_ROOT[0])})
    data = orjson.loads(out.stdout.splitlines()[-1])
    data["cases"] = {k: [tuple(pair) for pair in v] for k, v in data["cases"].items()}
    return Seed(**data)


def _seed_here(path: str, officers: int, cases_per_officer: int, scope_records: int) -> Seed:
    try:
        from server.identity.accounts import add_user
    except ImportError:  # a checkout before server/identity/ (2026-12-05)
        from server.accounts import add_user  # type: ignore[no-redef]
    from server.config import Settings
    from server.state import open_state
    from sync import Actor
    from sync.push import push

    st = open_state(Settings(db_path=path))
    office = add_user(st.db, "bench-office", PASSWORD, "office")
    actor = Actor(office.id, "office", None)
    node = "seed"
    counter = [0]

    def change(type_: str, fields: dict[str, Any], id_: str | None = None) -> dict[str, Any]:
        counter[0] += 1
        return {"change_id": str(uuid.uuid4()), "type": type_, "id": id_ or str(uuid.uuid4()), "op": "put",
                "fields": fields, "base_version": None,
                "hlc": hlc(int(time.time() * 1000) - 3_600_000, counter[0] % 1_000_000, node)}

    pending: list[dict[str, Any]] = []

    def flush() -> None:
        for lo in range(0, len(pending), BATCH):
            out = push(st.db, actor, pending[lo:lo + BATCH], st.clock)
            bad = [r for r in out.results if r.status not in ("applied", "merged")]
            if bad:
                raise RuntimeError(f"seeding failed: {bad[0]}")
        pending.clear()

    schools = [str(uuid.uuid4()) for _ in range(4)]
    pending += [change("school", {"name": f"Bench School {i}", "lat": 53.68, "lon": -1.49,
                                  "day_starts": "08:45"}, s) for i, s in enumerate(schools)]

    def open_case(officer_id: str, n: int) -> tuple[str, str]:
        hh, pupil, case = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        pending.append(change("household", {"address": f"{n} Bench Street", "postcode": "WF1 1AA",
                                            "lat": 53.68, "lon": -1.49}, hh))
        pending.append(change("pupil", {"upn": f"B{n:012d}", "first_name": "Sam", "last_name": f"Bench{n}",
                                        "school_id": schools[n % 4], "household_id": hh}, pupil))
        pending.append(change("case", {"pupil_id": pupil, "assigned_officer_id": officer_id}, case))
        return case, hh

    seed = Seed(path, [], {})
    n = 0
    for i in range(officers):
        username = f"bench-officer{i + 1}"
        user = add_user(st.db, username, PASSWORD, "officer")
        seed.officers.append(username)
        seed.cases[username] = []
        for _ in range(cases_per_officer):
            n += 1
            seed.cases[username].append(open_case(user.id, n))
    flush()
    if scope_records:
        # 4 schools + 100 cases with pupil and household + visits up to the total
        scoped = add_user(st.db, seed.scope_officer, PASSWORD, "officer")
        mine = []
        for _ in range(100):
            n += 1
            mine.append(open_case(scoped.id, n))
        visits = scope_records - len(schools) - 3 * len(mine)
        for k in range(visits):
            case_id, hh = mine[k % len(mine)]
            pending.append(change("visit", visit_fields(k, case_id, hh)))
        flush()
        seed.scope_records = scope_records
    st.db.close()
    return seed


def copy_db(src: str, dst: str) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(src)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copyfile(src, dst)
    return dst


def remove_db(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
