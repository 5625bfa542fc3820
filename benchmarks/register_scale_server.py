"""``register_scale.py`` against ``doorstep serve``: the register lists (API and office page),
the office's marks upload, and officers' pushes during it.

Every loop is bounded by a count and every wait by a timeout.
"""
from __future__ import annotations

import datetime as dt
import html
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from _common import PASSWORD, SignedIn, visit_changes
from register_scale_authority import Authority
from register_scale_local import MB, read_only

PUSH_BATCH = 200
PUSH_EVERY_S = 0.5
LIST_REQUESTS = 40
IMPORT_WAIT_S = 3 * 3600
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT_RE = re.compile(r'<a rel="next" href="([^"]+)"')


def api_list(url: str, who: SignedIn, params: dict[str, str], requests: int = LIST_REQUESTS
             ) -> dict[str, Any]:
    """``requests`` GETs of /api/register/pupils following ``next``, from the first page again when done."""
    latencies, failures, pages, items, restarts = [], 0, 0, 0, 0
    cursor = None
    with httpx.Client(base_url=url, timeout=120, headers=who.headers) as client:
        for _ in range(requests):
            query = dict(params)
            if cursor:
                query["cursor"] = cursor
            t0 = time.perf_counter()
            r = client.get("/api/register/pupils", params=query)
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                failures += 1
                cursor = None
                continue
            body = orjson.loads(r.content)
            pages += 1
            items += len(body["items"])
            cursor = body.get("next")
            if not cursor:
                restarts += 1
    return {"latencies": latencies, "failures": failures, "pages": pages, "items": items, "restarts": restarts}


class OfficeClient:
    """The office pages as a browser uses them: the sign-in form, the session cookie, the CSRF token."""

    def __init__(self, url: str, username: str, timeout: float = 120) -> None:
        self.http = httpx.Client(base_url=url, timeout=timeout)
        r = self.http.get("/office/login")
        token = _csrf(r.text)
        r = self.http.post("/office/login", data={"csrf_token": token, "username": username,
                                                   "password": PASSWORD, "next": "/office/"},
                           follow_redirects=False)
        if r.status_code != 303:
            raise RuntimeError(f"office sign-in answered {r.status_code}: {r.text[:300]}")
        self.csrf = _csrf(self.http.get("/office/").text)

    def close(self) -> None:
        self.http.close()


def _csrf(page: str) -> str:
    match = CSRF_RE.search(page)
    if not match:
        raise RuntimeError("the office page has no CSRF token")
    return match.group(1)


def upload_limit(office: OfficeClient) -> int:
    """The office upload's size limit, as the marks page states it ("at most N MB")."""
    match = re.search(r"at most (\d+) MB", office.http.get("/office/marks").text)
    if match:
        return int(match.group(1)) * MB
    import server.office  # noqa: F401  (loads the office routes before the page module they import)
    from server.register.import_pages import MAX_UPLOAD_BYTES

    return MAX_UPLOAD_BYTES


def office_list(office: OfficeClient, which: str = "persistent", requests: int = LIST_REQUESTS) -> dict[str, Any]:
    """``requests`` GETs of /office/register?list=WHICH following its "Next" links."""
    first = f"/office/register?list={which}"
    latencies, failures, pages, restarts = [], 0, 0, 0
    path = first
    for _ in range(requests):
        t0 = time.perf_counter()
        r = office.http.get(path, follow_redirects=False)
        latencies.append(time.perf_counter() - t0)
        if r.status_code != 200:
            failures += 1
            path = first
            continue
        pages += 1
        match = NEXT_RE.search(r.text)
        if match:
            path = html.unescape(match.group(1))
        else:
            path, restarts = first, restarts + 1
    return {"latencies": latencies, "failures": failures, "pages": pages, "restarts": restarts}


def open_cases(url: str, office: SignedIn, db: Path, officers: list[SignedIn], auth: Authority
               ) -> list[tuple[str, str]]:
    """One open case per officer, pushed by the office for a severely absent pupil of the roll;
    returns (case id, household id) per officer."""
    from server.register.roll import pupil_id_for

    chosen = sorted(range(len(auth.pupils)), key=lambda i: -auth.pupils[i].propensity)[:len(officers)]
    pupil_ids = [pupil_id_for(auth.pupils[i].upn) for i in chosen]
    conn = read_only(db)
    try:
        households = dict(conn.execute(
            "SELECT id, json_extract(data, '$.household_id') FROM pupils WHERE id IN "
            "(SELECT value FROM json_each(?))", (orjson.dumps(pupil_ids).decode(),)).fetchall())
    finally:
        conn.close()
    missing = [p for p in pupil_ids if not households.get(p)]
    if missing:
        raise RuntimeError(f"{len(missing)} chosen pupils have no household after the roll import")
    ms = int(time.time() * 1000) - 120_000
    changes, cases = [], []
    for k, (who, pupil_id) in enumerate(zip(officers, pupil_ids)):
        case_id = str(uuid.uuid4())
        changes.append({"change_id": str(uuid.uuid4()), "type": "case", "id": case_id, "op": "put",
                        "fields": {"pupil_id": pupil_id, "assigned_officer_id": who.user_id,
                                   "opened_on": "2026-11-30"},
                        "base_version": None, "hlc": f"{ms:015d}-{k:06d}-benchoffice"})
        cases.append((case_id, households[pupil_id]))
    r = httpx.post(f"{url}/api/sync/push", headers=office.headers, timeout=120,
                   content=orjson.dumps({"client_id": office.device_id, "changes": changes}))
    if r.status_code != 200:
        raise RuntimeError(f"pushing the cases answered {r.status_code}: {r.text[:300]}")
    bad = [x for x in orjson.loads(r.content)["results"] if x["status"] != "applied"]
    if bad:
        raise RuntimeError(f"a case was not applied: {bad[0]}")
    return cases


@dataclass
class PushLog:
    starts: list[float] = field(default_factory=list)  # perf_counter at each push's start
    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    not_applied: int = 0
    errors: list[str] = field(default_factory=list)


def pusher(url: str, who: SignedIn, case: tuple[str, str], node: str, stop: threading.Event,
           log: PushLog, lock: threading.Lock, max_pushes: int) -> None:
    """Push 200 new visits for the officer's case every ~0.5 s until ``stop`` (at most ``max_pushes``)."""
    with httpx.Client(base_url=url, timeout=120, headers=who.headers) as client:
        for _ in range(max_pushes):
            if stop.is_set():
                return
            body = orjson.dumps({"client_id": who.device_id, "changes": visit_changes(PUSH_BATCH, [case], node)})
            t0 = time.perf_counter()
            try:
                r = client.post("/api/sync/push", content=body)
                status, content = r.status_code, r.content
            except httpx.HTTPError as exc:
                status, content = 0, repr(exc).encode()
            took = time.perf_counter() - t0
            with lock:
                log.starts.append(t0)
                log.latencies.append(took)
                log.statuses.append(status)
                if status == 200:
                    log.not_applied += sum(1 for x in orjson.loads(content)["results"] if x["status"] != "applied")
                elif len(log.errors) < 5:
                    log.errors.append(f"{status}: {content[:200]!r}")
            stop.wait(max(0.0, PUSH_EVERY_S - took))


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def pushes_alone(url: str, officers: list[SignedIn], cases: list[tuple[str, str]], seconds: float = 10.0
                 ) -> PushLog:
    """The same eight pushers for ``seconds`` with no import running: the baseline."""
    stop, lock, log = threading.Event(), threading.Lock(), PushLog()
    max_pushes = int(seconds / PUSH_EVERY_S) + 2
    threads = [threading.Thread(target=pusher, args=(url, who, case, f"alone{k}", stop, log, lock, max_pushes),
                                daemon=True) for k, (who, case) in enumerate(zip(officers, cases))]
    for t in threads:
        t.start()
    stop.wait(seconds)
    stop.set()
    for t in threads:
        t.join(60)
    return log


def upload_under_load(url: str, db: Path, office: OfficeClient, officers: list[SignedIn],
                      cases: list[tuple[str, str]], path: Path, rows: int) -> dict[str, Any]:
    """POST the marks file to /office/marks while the officers push; wait until the import is done."""
    conn = read_only(db)
    try:
        before = conn.execute("SELECT coalesce(max(no), 0) FROM imports").fetchone()[0]
    finally:
        conn.close()
    stop, lock, log = threading.Event(), threading.Lock(), PushLog()
    max_pushes = int(IMPORT_WAIT_S / PUSH_EVERY_S) + 1
    threads = [threading.Thread(target=pusher, args=(url, who, case, f"load{k}", stop, log, lock, max_pushes),
                                daemon=True) for k, (who, case) in enumerate(zip(officers, cases))]
    answer: dict[str, Any] = {}
    content = path.read_bytes()

    def post() -> None:
        try:
            r = office.http.post("/office/marks", data={"csrf_token": office.csrf},
                                 files={"file": (path.name, content, "text/csv")}, follow_redirects=False,
                                 timeout=IMPORT_WAIT_S)
            answer.update(status=r.status_code, location=r.headers.get("location", ""), text=r.text[:500])
        except httpx.HTTPError as exc:
            answer.update(status=0, error=repr(exc))
        answer["answered"] = time.perf_counter()

    for t in threads:
        t.start()
    time.sleep(1.0)  # the pushes are under way before the upload starts
    start = time.perf_counter()
    poster = threading.Thread(target=post, daemon=True)
    poster.start()
    done_row = None
    deadline = time.monotonic() + IMPORT_WAIT_S
    conn = read_only(db)
    has_jobs = conn.execute("SELECT 1 FROM sqlite_schema WHERE name = 'jobs'").fetchone() is not None
    try:
        for _ in range(int(IMPORT_WAIT_S / 0.25) + 1):
            if time.monotonic() > deadline:
                break
            if "answered" in answer and answer.get("status") not in (200, 302, 303):
                break
            # the import's id is in the answer's Location (/office/marks/{id}: the job's and the import's id)
            import_id = answer.get("location", "").rstrip("/").rsplit("/", 1)[-1] if "answered" in answer else ""
            if import_id and has_jobs:
                job = conn.execute("SELECT status, error FROM jobs WHERE id = ?", (import_id,)).fetchone()
                if job is not None and job[0] in ("failed", "cancelled"):
                    answer["job"] = f"job {job[0]}: {(job[1] or '')[:500]}"
                    break
            row = conn.execute("SELECT no, status, started_at, finished_at, report FROM imports "
                               "WHERE no > ? AND kind = 'marks' ORDER BY no DESC LIMIT 1", (before,)).fetchone()
            if row is not None and row[1] in ("done", "failed"):
                done_row = row
                break
            time.sleep(0.25)
    finally:
        conn.close()
        done = time.perf_counter()
        stop.set()
        for t in threads:
            t.join(60)
        poster.join(IMPORT_WAIT_S if done_row is not None else 5)
    # the pushes that started while the import ran (the upload's POST until the import was done)
    during = [i for i, t in enumerate(log.starts) if start <= t <= done]
    out: dict[str, Any] = {"rows": rows, "bytes": len(content), "answer": answer, "log": log,
                           "wall_s": done - start, "pushes": len(during), "pushes_all": len(log.starts),
                           "latencies": [log.latencies[i] for i in during],
                           "failures": sum(1 for i in during if log.statuses[i] != 200),
                           "failures_all": sum(1 for s in log.statuses if s != 200)}
    if done_row is None:
        out["error"] = f"the import did not finish: {answer}"
        return out
    started, finished = parse_time(done_row[2]), parse_time(done_row[3])
    out["import_s"] = (finished - started).total_seconds() if started and finished else float("nan")
    out["import_status"] = done_row[1]
    if started is not None and "answered" in answer:
        # from the POST to the import's start: upload, job queue (the answer came at answer["answered"])
        out["answered_s"] = answer["answered"] - start
    report = orjson.loads(done_row[4] or "{}")
    out["stored"], out["rejected"] = report.get("stored"), report.get("rejected_count")
    return out
