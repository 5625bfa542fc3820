"""The attendance register at an authority's size, in one run (issue 13 item 7; docs/performance.md).

    python benchmarks/register_scale.py                                  # 2,000 and 40,000 pupils, 15 weeks
    python benchmarks/register_scale.py --pupils 200000 --weeks 3        # the largest size, a shorter term

For each size N (``--pupils``), on a fresh database:

1. **Roll import.** A roll CSV of N pupils (schools of ~200-1,500 pupils, about one
   school per 400 pupils; households of 1-4 siblings sharing an address; UPNs with
   valid check letters) loaded with ``server.register.roll.import_file``: pupils/s.
2. **Marks.** ``--weeks`` school weeks of AM/PM marks from Monday 2026-09-07, in the
   order a school MIS sends daily extracts (by date, then pupil): each pupil has an
   absence propensity (about 20 % persistently absent, 10 %+, and 2 % severely, 50 %+);
   codes mostly ``/`` and ``\\``, with I, M, N, O, G (a holiday week for a few), U, L,
   B, C2, and one ``#`` INSET day per school.
3. **Import ÷ raw.** The same CSV read in-process with ``csv.reader`` and inserted with
   ``executemany`` (4,000 rows a transaction, WAL, synchronous=NORMAL) into a table with
   ``register_marks``' key and layout, against ``doorstep marks import FILE`` as a child
   process (wall time; peak RSS: the child's own VmHWM, sampled from /proc every 0.1 s).
4. **Bytes on disk a mark**: ``register_marks`` alone, the weekly counts and figures,
   and the whole database, from ``dbstat``.
5. **Next school day** (two marks a pupil) through the CLI, then the same rows again
   (a trailing blank line added, so the file-hash shortcut does not apply).
6. **List latency** against ``doorstep serve``: ``GET /api/register/pupils`` (band=persistent
   and unfiltered, pages of 200 following ``next``) and the office page
   ``/office/register?list=persistent`` following its "Next" links; p50/p95.
7. **Officers' pushes during a big import** (``--import-under-load``, on by default from
   40,000 pupils): 8 officers with an open case each push 200 new visits every ~0.5 s
   while the office uploads min(1,000,000, N x 20) marks at ``/office/marks``; pushes,
   failures, p50/p99 and the import's own duration.

Everything runs on 127.0.0.1; every loop is bounded by a count and every wait by a
timeout; the temporary folder is removed and the server stopped at the end, also on errors.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import html
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    PASSWORD,
    ROOT,
    SYNC,
    Process,
    SignedIn,
    doorstep_server,
    fmt,
    login,
    percentile,
    visit_changes,
)

from server.register.upn import make_upn  # noqa: E402  (_common put the checkout on sys.path)

START = dt.date(2026, 9, 7)  # a Monday: the first day of the autumn term's marks
ON_ROLL_FROM = dt.date(2026, 9, 1)
RAW_BATCH = 4_000
OFFICERS = 8
PUSH_BATCH = 200
PUSH_EVERY_S = 0.5
LIST_REQUESTS = 40
LIST_LIMIT = 200
UNDER_LOAD_CAP = 1_000_000
CHILD_TIMEOUT_S = 3 * 3600
IMPORT_WAIT_S = 3 * 3600
MB = 1024 * 1024
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT_RE = re.compile(r'<a rel="next" href="([^"]+)"')


# -- the authority: schools, households, pupils ---------------------------------------------

FIRST = ("Aisha Alfie Amelia Archie Ava Bella Charlie Chloe Daisy Dylan Ella Ethan Evie Finley Freya George "
         "Grace Harry Harvey Isabella Isla Jack Jacob Jessica Joshua Layla Leo Lily Logan Lucy Mason Mia "
         "Mohammed Noah Olivia Oscar Poppy Riley Rosie Ruby Sienna Sophia Teddy Theo Thomas Willow Zara").split()
LAST = ("Ahmed Ali Bailey Baker Barker Bell Brown Clarke Cooper Davies Dixon Evans Fletcher Green Hall Harris "
        "Hill Holmes Hughes Hussain Jackson Johnson Jones Kaur Khan King Lee Marsh Mitchell Moore Patel Price "
        "Roberts Robinson Shaw Singh Smith Taylor Thompson Turner Walker Ward Watson White Wilson Wood "
        "Wright Young").split()
STREETS = ("Acre Albion Alder Ash Aspen Bank Beech Belle Birch Bridge Brook Castle Cedar Chapel Cherry Church "
           "Cliff Colliery Croft Dale Elm Fern Field Garden Green Grove Hawthorn Hazel Heath High Hill Holly "
           "Ings Laburnum Lime Low Manor Maple Marsh Mill Moor Oak Orchard Park Pinfold Poplar Priory Quarry "
           "Rectory School Spring Station Sycamore Thorn Vicarage Water Well Willow Wood").split()
SUFFIXES = ("Road", "Street", "Lane", "Close", "Avenue", "Grove", "Terrace", "Drive")
RELATIONS = ("Mother", "Father", "Grandmother", "Carer", "Aunt", "Stepfather")


@dataclass
class School:
    urn: str
    name: str
    phase: str  # primary or secondary (7-11)
    size: int
    postcode: str
    lat: float
    lon: float
    inset: int = 0  # the school-day index of its INSET day ('#')


@dataclass
class Pupil:
    upn: str
    school: int  # index into Authority.schools
    household: int
    propensity: float  # chance of missing a school day
    holiday_week: int  # -1: none; else the week of G marks
    part_time: bool  # on a part-time timetable (C2 in the afternoon)


@dataclass
class Authority:
    schools: list[School]
    pupils: list[Pupil]
    households: int


def school_sizes(n: int, rng: random.Random) -> list[tuple[str, int]]:
    """About one school per 400 pupils, each 200-1,500 (primaries ~200-450, secondaries ~800-1,500)."""
    count = max(1, round(n / 400))
    if n < 200:
        return [("primary", n)]
    phases = ["secondary" if rng.random() < 0.2 else "primary" for _ in range(count)]
    if count >= 3 and "secondary" not in phases:
        phases[-1] = "secondary"
    weights = [rng.uniform(800, 1500) if p == "secondary" else rng.uniform(200, 450) for p in phases]
    scale = n / sum(weights)
    sizes = [min(1500, max(200, round(w * scale))) for w in weights]
    # settle the rounding and clamping so the sizes add up to n, staying within 200-1,500 where possible
    for _ in range(10 * count + 10):
        diff = n - sum(sizes)
        if diff == 0:
            break
        step = 1 if diff > 0 else -1
        room = [i for i, s in enumerate(sizes) if (s < 1500 if step > 0 else s > 200)]
        if not room:
            room = list(range(count))
        share = max(1, abs(diff) // len(room))
        for i in room:
            if sum(sizes) == n:
                break
            headroom = (1500 - sizes[i]) if step > 0 else (sizes[i] - 200)
            sizes[i] += step * min(share, abs(n - sum(sizes)), max(headroom, 1 if len(room) == count else 0))
    return list(zip(phases, sizes))


def make_authority(n: int, weeks: int, rng: random.Random) -> Authority:
    schools = []
    for i, (phase, size) in enumerate(school_sizes(n, rng)):
        area = i // 3
        schools.append(School(
            urn=str(140_000 + i), name=f"{rng.choice(STREETS)} {'Primary' if phase == 'primary' else 'Academy'} "
            f"{i + 1}", phase=phase, size=size, postcode=f"WF{1 + area % 17} {area % 10}{'ABDEFGHJ'[i % 8]}Z",
            lat=53.60 + (area % 20) * 0.01, lon=-1.60 + (area % 25) * 0.01,
            inset=rng.randrange(max(1, weeks * 5))))
    # pupils school by school; households are runs of 1-4 consecutive pupils (siblings, one address),
    # so siblings mostly share a school and sometimes straddle two neighbouring ones
    pupils: list[Pupil] = []
    household, left_in_household = -1, 0
    serial = 0
    for s, school in enumerate(schools):
        for _ in range(school.size):
            if left_in_household == 0:
                household += 1
                r = rng.random()
                left_in_household = 1 if r < 0.58 else 2 if r < 0.86 else 3 if r < 0.96 else 4
            left_in_household -= 1
            serial += 1
            r = rng.random()
            if r < 0.02:  # severe: misses half or more
                p = rng.uniform(0.56, 0.95)
            elif r < 0.20:  # persistent: misses 10 % or more
                p = rng.uniform(0.115, 0.42)
            else:
                p = rng.uniform(0.0, 0.075)
            holiday = rng.randrange(weeks) if weeks >= 2 and rng.random() < 0.015 else -1
            part_time = p >= 0.5 and rng.random() < 0.25  # C2 every afternoon: severe absence on its own
            pupils.append(Pupil(make_upn(serial), s, household, p, holiday, part_time))
    return Authority(schools, pupils, household + 1)


ROLL_COLUMNS = ("upn", "first_name", "last_name", "date_of_birth", "year_group", "urn", "school_name",
                "school_postcode", "school_lat", "school_lon", "school_day_starts", "household_address",
                "household_postcode", "household_lat", "household_lon", "contact_name",
                "contact_relationship", "contact_phone", "send", "fsm", "on_roll_from", "enrolment")


def household_address(h: int) -> tuple[str, str]:
    street = f"{STREETS[h % len(STREETS)]} {SUFFIXES[(h // len(STREETS)) % len(SUFFIXES)]}"
    number = h // (len(STREETS) * len(SUFFIXES)) + 1
    area = h // 37
    return f"{number} {street}, Wakefield", f"WF{1 + area % 17} {area % 9 + 1}{'ABDEFGHJLNPQRSTUWXYZ'[h % 20]}" \
                                             f"{'ABDEFGHJLNPQRSTUWXYZ'[(h // 20) % 20]}"


def write_roll(auth: Authority, path: Path, rng: random.Random) -> None:
    surnames: dict[int, str] = {}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(ROLL_COLUMNS)
        for p in auth.pupils:
            school = auth.schools[p.school]
            lo, hi = (0, 6) if school.phase == "primary" else (7, 11)
            year = rng.randint(lo, hi)
            born = dt.date(2021 - year, 9, 1) + dt.timedelta(days=rng.randrange(365))
            last = surnames.setdefault(p.household, rng.choice(LAST))
            address, postcode = household_address(p.household)
            w.writerow((p.upn, rng.choice(FIRST), last, born.isoformat(), "R" if year == 0 else str(year),
                        school.urn, school.name, school.postcode, f"{school.lat:.5f}", f"{school.lon:.5f}",
                        "08:45", address, postcode, f"{53.6 + (p.household % 997) / 5000:.5f}",
                        f"{-1.6 + (p.household % 991) / 5000:.5f}", f"{rng.choice(FIRST)} {last}",
                        RELATIONS[p.household % len(RELATIONS)], f"07700 9{p.household % 100_000:05d}",
                        "sen_support" if rng.random() < 0.13 else "ehcp" if rng.random() < 0.03 else "none",
                        "Y" if rng.random() < 0.24 else "N", ON_ROLL_FROM.isoformat(), "C"))


# -- marks ----------------------------------------------------------------------------------

def school_days(first: dt.date, count: int) -> list[dt.date]:
    """``count`` weekdays from ``first`` (a weekday) on."""
    out, day = [], first
    for _ in range(count * 2 + 7):
        if len(out) == count:
            break
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def day_lines(auth: Authority, day: dt.date, index: int, rng: random.Random) -> list[str]:
    """One school day's extract: AM and PM for every pupil, pupil by pupil. ``index`` is the
    day's number in the term (school days from START): its week and INSET day."""
    week = index // 5
    date = day.isoformat()
    am, pm = f",{date},AM,", f",{date},PM,"
    rnd = rng.random
    out: list[str] = []
    add = out.append
    inset = {s for s, school in enumerate(auth.schools) if school.inset == index}
    for p in auth.pupils:
        upn = p.upn
        if inset and p.school in inset:
            add(f"{upn}{am}#\n{upn}{pm}#\n")
            continue
        if p.holiday_week == week:
            add(f"{upn}{am}G\n{upn}{pm}G\n")
            continue
        r = rnd()
        if r >= p.propensity:  # in school
            if r > 0.995:
                add(f"{upn}{am}B\n{upn}{pm}B\n")  # approved activity off site
            elif r > 0.965:
                add(f"{upn}{am}L\n{upn}{pm}\\\n")  # late before the register closed
            elif p.part_time:
                add(f"{upn}{am}/\n{upn}{pm}C2\n")
            else:
                add(f"{upn}{am}/\n{upn}{pm}\\\n")
            continue
        # absent (or half a day): the reason
        c = rnd()
        if p.propensity >= 0.5:  # severe absence: mostly unexplained or unauthorised
            code = "O" if c < 0.45 else "N" if c < 0.75 else "I" if c < 0.9 else "G"
            add(f"{upn}{am}{code}\n{upn}{pm}{code}\n")
        elif c < 0.50:
            add(f"{upn}{am}I\n{upn}{pm}I\n")
        elif c < 0.62:
            add(f"{upn}{am}M\n{upn}{pm}\\\n")  # a medical appointment in the morning
        elif c < 0.74:
            add(f"{upn}{am}N\n{upn}{pm}N\n")
        elif c < 0.88:
            add(f"{upn}{am}O\n{upn}{pm}O\n")
        elif c < 0.96:
            add(f"{upn}{am}U\n{upn}{pm}\\\n")  # after the register closed
        else:
            add(f"{upn}{am}I\n{upn}{pm}C2\n" if p.part_time else f"{upn}{am}/\n{upn}{pm}I\n")
    return out


def write_marks(auth: Authority, path: Path, days: list[tuple[int, dt.date]], rng: random.Random,
                cap: int | None = None, max_bytes: int | None = None) -> tuple[int, int]:
    """Marks of ``days`` ((term index, date) pairs), date by date; at most ``cap`` rows and
    ``max_bytes`` bytes. Returns (rows, bytes)."""
    rows, size = 0, 0
    header = "upn,date,session,code\n"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        fh.write(header)
        size += len(header)
        for index, day in days:
            lines = day_lines(auth, day, index, rng)
            if cap is not None and rows + 2 * len(lines) > cap or max_bytes is not None:
                # the last day is cut short (pupil by pupil) at the cap or the size limit
                for chunk in lines:
                    if (cap is not None and rows + 2 > cap) or (max_bytes is not None
                                                                 and size + len(chunk) > max_bytes):
                        return rows, size
                    fh.write(chunk)
                    rows, size = rows + 2, size + len(chunk)
                continue
            text = "".join(lines)
            fh.write(text)
            rows += 2 * len(lines)
            size += len(text)
    return rows, size


# -- the raw limit --------------------------------------------------------------------------

def raw_import(csv_path: Path, upn_pk: dict[str, int], db_path: Path) -> tuple[int, float]:
    """Rows and seconds: csv.reader, UPN -> key, date -> ordinal, executemany 4,000 a transaction."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("CREATE TABLE register_marks (pupil_pk INTEGER, day INTEGER, session INTEGER, code TEXT, "
                     "import_no INTEGER, PRIMARY KEY (pupil_pk, day, session)) WITHOUT ROWID")
        sql = "INSERT INTO register_marks (pupil_pk, day, session, code, import_no) VALUES (?, ?, ?, ?, ?)"
        days: dict[str, int] = {}
        rows = 0
        start = time.perf_counter()
        with open(csv_path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            next(reader)
            batch: list[tuple[int, int, int, str, int]] = []
            for upn, date, session, code in reader:
                day = days.get(date)
                if day is None:
                    day = days[date] = dt.date.fromisoformat(date).toordinal()
                batch.append((upn_pk[upn], day, 0 if session == "AM" else 1, code, 1))
                if len(batch) >= RAW_BATCH:
                    conn.execute("BEGIN")
                    conn.executemany(sql, batch)
                    conn.execute("COMMIT")
                    rows += len(batch)
                    batch = []
            if batch:
                conn.execute("BEGIN")
                conn.executemany(sql, batch)
                conn.execute("COMMIT")
                rows += len(batch)
        return rows, time.perf_counter() - start
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)


# -- child processes --------------------------------------------------------------------------

@dataclass
class Child:
    seconds: float
    maxrss_mb: float  # the child's peak resident set (VmHWM), memory-mapped database pages included
    returncode: int
    output: str
    anon_mb: float = float("nan")  # peak RssAnon sampled every 0.1 s: the heap alone, no mapped file
    file_mb: float = float("nan")  # peak RssFile sampled likewise: mostly the database's mmap
    shmem_mb: float = float("nan")  # peak RssShmem sampled likewise (the WAL index)


def _rss(pid: int) -> tuple[int, int, int, int]:
    """(RssAnon, RssFile, RssShmem, VmHWM) of a process in KiB; zeros once it is gone. VmHWM is
    the peak resident set of the process's own memory since its exec; ``ru_maxrss`` is not:
    Linux carries into it the pages the child shared with this (large) parent at fork."""
    got = {"RssAnon:": 0, "RssFile:": 0, "RssShmem:": 0, "VmHWM:": 0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name = line.split(" ", 1)[0].split("\t", 1)[0]
            if name in got:
                got[name] = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return got["RssAnon:"], got["RssFile:"], got["RssShmem:"], got["VmHWM:"]


def doorstep_cli(db: Path, *args: str, env: dict[str, str] | None = None,
                 timeout: float = CHILD_TIMEOUT_S) -> Child:
    """Run ``doorstep --db DB ARGS`` as a child; its wall time and its own peak RSS (VmHWM from
    /proc: ru_maxrss would include the pages it shared with this process at fork)."""
    argv = [sys.executable, "-m", "server.cli", "--db", str(db), *args]
    log = Path(f"{db}.cli-{uuid.uuid4().hex[:6]}.log")
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
        got: list[Any] = []
        waiter = threading.Thread(target=lambda: got.append(os.wait4(proc.pid, 0)), daemon=True)
        waiter.start()
        anon = file = shmem = hwm = 0
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.1) + 1):
            if not waiter.is_alive() or time.monotonic() > deadline:
                break
            a, f, m, h = _rss(proc.pid)
            anon, file, shmem, hwm = max(anon, a), max(file, f), max(shmem, m), max(hwm, h)
            waiter.join(0.1)
        if waiter.is_alive():
            os.killpg(proc.pid, signal.SIGKILL)
            waiter.join(30)
            raise RuntimeError(f"doorstep {' '.join(args)} did not finish in {timeout:.0f} s")
        seconds = time.perf_counter() - start
    _pid, status, usage = got[0]
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    log.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"doorstep {' '.join(args)} exited with {proc.returncode}: {text[-2000:]}")
    # the child's own peak (VmHWM, sampled to its last 0.1 s); ru_maxrss only when /proc gave nothing
    peak = hwm if hwm else usage.ru_maxrss
    return Child(seconds, peak / 1024, proc.returncode, text, anon / 1024, file / 1024, shmem / 1024)


def marks_import(db: Path, path: Path) -> Child:
    return doorstep_cli(db, "marks", "import", str(path))


# -- the database on disk ------------------------------------------------------------------------

def disk_use(db: Path) -> dict[str, int]:
    """Bytes by table or index (dbstat), after a checkpoint; '*' is the whole file."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        out: dict[str, int] = {}
        try:
            out = {name: size for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")}
        except sqlite3.OperationalError:
            pass  # no dbstat in this SQLite: the whole file only
        out["*"] = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
        return out
    finally:
        conn.close()


def read_only(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


# -- the server: lists, the office, pushes under an import -------------------------------------

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


# -- one size -------------------------------------------------------------------------------

def band_counts(db: Path) -> dict[str, int]:
    conn = read_only(db)
    try:
        return dict(conn.execute("SELECT band, count(*) FROM figures WHERE year = 2026 GROUP BY band").fetchall())
    finally:
        conn.close()


def add_users(db: Path) -> None:
    env = {"DOORSTEP_PASSWORD": PASSWORD}
    doorstep_cli(db, "user", "add", "bench-office", "--role", "office", env=env, timeout=120)
    for k in range(OFFICERS):
        doorstep_cli(db, "user", "add", f"bench-officer{k + 1}", "--role", "officer", env=env, timeout=120)


def say(text: str) -> None:
    print(text, flush=True)


def run_size(n: int, weeks: int, seed: int, under_load: bool, work: Path, servers: list[Process]) -> dict[str, Any]:
    from server.config import Settings
    from server.register import roll
    from server.state import open_state

    res: dict[str, Any] = {"pupils": n, "weeks": weeks}
    rng = random.Random(f"{seed}:{n}")
    t_size = time.perf_counter()
    say(f"\n## {n:,} pupils, {weeks} weeks (seed {seed})")

    # 1. the authority through the roll import
    auth = make_authority(n, weeks, rng)
    roll_csv = work / f"roll-{n}.csv"
    write_roll(auth, roll_csv, rng)
    res.update(schools=len(auth.schools), households=auth.households,
               roll_mb=roll_csv.stat().st_size / MB)
    db = work / f"doorstep-{n}.db"
    st = open_state(Settings(db_path=str(db)))
    try:
        t0 = time.perf_counter()
        report = roll.import_file(st.db, st.clock, roll_csv, on=ON_ROLL_FROM)
        res["roll_s"] = time.perf_counter() - t0
    finally:
        st.db.close()
    res["roll_rate"] = n / res["roll_s"]
    if report.rejected_total or report.pupils_created != n or report.not_saved:
        raise RuntimeError(f"roll import: {report.pupils_created} pupils created of {n}, "
                           f"{report.rejected_total} rejected ({report.rejected[:3]}), not saved {report.not_saved[:3]}")
    res["households_created"] = report.households_created
    say(f"roll: {len(auth.schools)} schools, {report.households_created:,} households, {n:,} pupils "
        f"({res['roll_mb']:.1f} MB) in {res['roll_s']:.1f} s = {fmt(res['roll_rate'])} pupils/s")

    # 2. the term's marks
    term = list(enumerate(school_days(START, weeks * 5)))
    marks_csv = work / f"marks-{n}.csv"
    t0 = time.perf_counter()
    rows, size = write_marks(auth, marks_csv, term, rng)
    res.update(marks=rows, marks_mb=size / MB)
    say(f"marks: {rows:,} rows ({size / MB:.0f} MB, {term[0][1]} to {term[-1][1]}) written in "
        f"{time.perf_counter() - t0:.1f} s")

    # 3. raw insert vs the CLI import
    conn = read_only(db)
    try:
        upn_pk = dict(conn.execute("SELECT upn, pk FROM register_pupils").fetchall())
    finally:
        conn.close()
    if len(upn_pk) != n:
        raise RuntimeError(f"register_pupils holds {len(upn_pk)} pupils, expected {n}")
    raw_rows, raw_s = raw_import(marks_csv, upn_pk, work / f"raw-{n}.db")
    res["raw_rate"] = raw_rows / raw_s
    say(f"raw csv.reader + executemany: {raw_rows:,} rows in {raw_s:.1f} s = {fmt(res['raw_rate'])} rows/s")
    child = marks_import(db, marks_csv)
    res.update(import_s=child.seconds, import_rate=rows / child.seconds, import_rss=child.maxrss_mb,
               import_anon=child.anon_mb, import_file=child.file_mb, import_shmem=child.shmem_mb,
               import_out=child.output.strip().splitlines()[:3])
    res["ratio"] = res["import_rate"] / res["raw_rate"]
    say(f"doorstep marks import: {child.seconds:.1f} s = {fmt(res['import_rate'])} rows/s, peak RSS "
        f"{child.maxrss_mb:.0f} MB (sampled peaks: heap {child.anon_mb:.0f} MB, mapped file {child.file_mb:.0f} MB, "
        f"shared {child.shmem_mb:.0f} MB); ÷ raw = {res['ratio']:.2f}  [{child.output.strip().splitlines()[0][:160]}]")
    if f"stored {rows} rows" not in child.output:
        res.setdefault("problems", []).append(f"term import output: {child.output.strip()[:300]}")
    bands = band_counts(db)
    res["bands"] = bands
    total = sum(bands.values()) or 1
    res["persistent_share"] = (bands.get("persistent", 0) + bands.get("severe", 0)) / total
    res["severe_share"] = bands.get("severe", 0) / total
    say(f"bands: {bands} -> persistent (incl. severe) {res['persistent_share']:.1%}, severe {res['severe_share']:.1%}")

    # 4. bytes on disk a mark
    use = disk_use(db)
    marks_bytes = use.get("register_marks")
    weekly = sum(v for k, v in use.items() if k in ("pupil_weeks", "school_weeks", "figures")
                 or k.startswith("figures_"))
    res.update(disk_total=use["*"], marks_bytes=marks_bytes, weekly_bytes=weekly or None,
               has_dbstat=marks_bytes is not None)
    res["bpm_marks"] = marks_bytes / rows if marks_bytes else float("nan")
    res["bpm_weekly"] = weekly / rows if weekly else float("nan")
    res["bpm_db"] = use["*"] / rows
    top = sorted(((v, k) for k, v in use.items() if k != "*"), reverse=True)[:8]
    say(f"disk: whole database {use['*'] / MB:.0f} MB; largest: "
        + ", ".join(f"{k} {v / MB:.1f} MB" for v, k in top))

    # 5. the next school day, then the same rows again
    next_day = school_days(term[-1][1] + dt.timedelta(days=1), 1)[0]
    next_csv = work / f"next-{n}.csv"
    next_rows, _ = write_marks(auth, next_csv, [(len(term), next_day)], rng)
    child = marks_import(db, next_csv)
    res.update(next_s=child.seconds, next_rows=next_rows, next_rss=child.maxrss_mb, next_anon=child.anon_mb)
    say(f"next day ({next_day}, {next_rows:,} rows): {child.seconds:.1f} s, peak RSS {child.maxrss_mb:.0f} MB "
        f"(heap {child.anon_mb:.0f} MB) [{child.output.strip().splitlines()[0][:160]}]")
    with open(next_csv, "a", encoding="utf-8") as fh:
        fh.write("\n")  # a different file hash: the rows are checked again, not skipped
    child = marks_import(db, next_csv)
    res.update(again_s=child.seconds, again_rss=child.maxrss_mb)
    res["again_vs_next"] = child.seconds / res["next_s"]
    res["again_vs_first"] = child.seconds / res["import_s"]
    say(f"same rows again: {child.seconds:.1f} s = {res['again_vs_next']:.2f} × the next-day import, "
        f"{res['again_vs_first']:.3f} × the term's import [{child.output.strip().splitlines()[0][:160]}]")
    if f"({next_rows} unchanged" not in child.output:
        res.setdefault("problems", []).append(f"re-import output: {child.output.strip()[:300]}")

    # 6. lists, and 7. pushes during a big import, against a real server
    add_users(db)
    server = doorstep_server(str(db))
    servers.append(server)
    server.start(timeout=180)
    try:
        url = server.url  # type: ignore[attr-defined]
        office_api = login(url, "bench-office")
        res["api_persistent"] = api_list(url, office_api, {"band": "persistent", "limit": str(LIST_LIMIT)})
        res["api_all"] = api_list(url, office_api, {"limit": str(LIST_LIMIT)})
        office = OfficeClient(url, "bench-office")
        try:
            res["office_persistent"] = office_list(office, "persistent")
            for key in ("api_persistent", "api_all", "office_persistent"):
                got = res[key]
                say(f"{key}: {len(got['latencies'])} requests, {got['failures']} failures, {got['pages']} pages "
                    f"({got['restarts']} restarts): p50 {percentile(got['latencies'], 50) * 1000:.0f} ms, "
                    f"p95 {percentile(got['latencies'], 95) * 1000:.0f} ms")
            if under_load:
                officers = [login(url, f"bench-officer{k + 1}") for k in range(OFFICERS)]
                cases = open_cases(url, login(url, "bench-office"), db, officers, auth)
                MAX_UPLOAD_BYTES = upload_limit(office)
                want = min(UNDER_LOAD_CAP, n * 10 * 2)
                first = school_days(next_day + dt.timedelta(days=1), 10)
                load_csv = work / f"load-{n}.csv"
                limit = MAX_UPLOAD_BYTES - 64 * 1024  # room for the multipart envelope
                load_rows, load_bytes = write_marks(auth, load_csv, [(len(term) + 1 + i, d) for i, d in
                                                                     enumerate(first)], rng, cap=want,
                                                    max_bytes=limit)
                res["load_wanted"], res["load_limit"] = want, MAX_UPLOAD_BYTES
                if load_rows < want:
                    say(f"under load: {want:,} marks would exceed the office upload limit of "
                        f"{MAX_UPLOAD_BYTES / MB:.0f} MB; uploading the largest file allowed, {load_rows:,} marks "
                        f"({load_bytes / MB:.1f} MB)")
                alone = pushes_alone(url, officers, cases)
                res["alone"] = alone
                say(f"pushes with no import (baseline, 10 s): {len(alone.latencies)} pushes, "
                    f"{sum(1 for x in alone.statuses if x != 200)} failures, p50 {ms(alone.latencies, 50)} ms, "
                    f"p99 {ms(alone.latencies, 99)} ms")
                office.csrf = _csrf(office.http.get("/office/marks").text)
                got = upload_under_load(url, db, office, officers, cases, load_csv, load_rows)
                res["load"] = got
                lat = got["latencies"]
                say(f"under load: {load_rows:,} marks uploaded ({got['bytes'] / MB:.1f} MB), answer "
                    f"{got['answer'].get('status')} {got['answer'].get('location', '')} after "
                    f"{got.get('answered_s', float('nan')):.1f} s; import "
                    f"{got.get('import_s', float('nan')):.1f} s ({got.get('import_status')}, stored "
                    f"{got.get('stored')}), wall {got['wall_s']:.1f} s; {got['pushes']} pushes during it "
                    f"({got['pushes_all']} in all), {got['failures']} failures ({got['failures_all']} in all), "
                    f"{got['log'].not_applied} changes not applied, p50 "
                    f"{percentile(lat, 50) * 1000:.0f} ms, p99 {percentile(lat, 99) * 1000:.0f} ms, max "
                    f"{max(lat, default=float('nan')) * 1000:.0f} ms")
                if got["log"].errors:
                    say("push errors: " + " | ".join(got["log"].errors))
                if "error" in got:
                    res.setdefault("problems", []).append(got["error"])
        finally:
            office.close()
    finally:
        server.stop()
        servers.remove(server)
    res["server_log"] = tail(Path(f"{db}.server.log"), 20)
    if res["server_log"].strip():
        say("server log (last lines):\n" + res["server_log"])
    res["wall_s"] = time.perf_counter() - t_size
    for name in ("roll", "marks", "next", "load"):
        (work / f"{name}-{n}.csv").unlink(missing_ok=True)
    return res


def tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# -- the report -------------------------------------------------------------------------------

def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:,.0f}" if values else "–"


def size_table(r: dict[str, Any]) -> str:
    def lst(key: str) -> str:
        got = r.get(key)
        if not got:
            return "–"
        fail = f", {got['failures']} failed" if got["failures"] else ""
        return f"{ms(got['latencies'], 50)} / {ms(got['latencies'], 95)}{fail}"

    rows = [
        ("authority", f"{r['pupils']:,} pupils, {r['schools']} schools, {r['households_created']:,} households", ""),
        ("roll import", f"{fmt(r['roll_rate'])} pupils/s ({r['roll_s']:.1f} s)", ""),
        ("marks file", f"{r['marks']:,} marks, {r['weeks']} weeks, {r['marks_mb']:.0f} MB", ""),
        ("bands (persistent incl. severe / severe)", f"{r['persistent_share']:.1%} / {r['severe_share']:.1%}",
         "~20 % / ~2 %"),
        ("raw csv.reader + executemany", f"{fmt(r['raw_rate'])} rows/s", ""),
        ("`doorstep marks import`", f"{fmt(r['import_rate'])} rows/s ({r['import_s']:.1f} s)", ""),
        ("**import ÷ raw**", f"**{r['ratio']:.2f}**", "≥ 0.33"),
        ("import peak RSS (VmHWM; sampled heap / mapped file)",
         f"{r['import_rss']:.0f} MB ({r['import_anon']:.0f} / {r['import_file']:.0f} MB)", "≤ 300 MB"),
        ("bytes a mark: register_marks", f"{r['bpm_marks']:.1f}", ""),
        ("bytes a mark: weekly counts + figures (+ indexes)", f"{r['bpm_weekly']:.1f}", ""),
        ("bytes a mark: whole database", f"{r['bpm_db']:.1f}", ""),
        ("next school day import", f"{r['next_s']:.1f} s ({r['next_rows']:,} marks)", "≤ 60 s at 200,000"),
        ("same rows again", f"{r['again_s']:.1f} s = {r['again_vs_next']:.2f} × next day, "
                            f"{r['again_vs_first']:.3f} × term import", "≤ 0.3 ×"),
        ("API ?band=persistent&limit=200, p50 / p95", f"{lst('api_persistent')} ms", "p95 ≤ 200 ms"),
        ("API ?limit=200, p50 / p95", f"{lst('api_all')} ms", "p95 ≤ 200 ms"),
        ("office /office/register?list=persistent, p50 / p95", f"{lst('office_persistent')} ms", "p95 ≤ 500 ms"),
    ]
    load = r.get("load")
    if load:
        lat = load["latencies"]
        cut = "" if load["rows"] >= r["load_wanted"] else f" (cut from {r['load_wanted']:,}: upload limit)"
        rows += [
            ("office upload under load", f"{load['rows']:,} marks{cut}, import {load.get('import_s', float('nan')):.1f} s "
                                         f"(wall {load['wall_s']:.1f} s)", ""),
            ("officers' pushes during it (8 × 200 visits / 0.5 s)",
             f"{load['pushes']} pushes, {load['failures']} failures, p50 {ms(lat, 50)} ms, **p99 {ms(lat, 99)} ms**",
             "p99 < 1 s, 0 failures"),
            ("the same pushes with no import (10 s baseline)",
             f"{len(r['alone'].latencies)} pushes, p50 {ms(r['alone'].latencies, 50)} ms, "
             f"p99 {ms(r['alone'].latencies, 99)} ms", ""),
        ]
    out = [f"### {r['pupils']:,} pupils, {r['weeks']} weeks ({r['wall_s'] / 60:.1f} min)", "",
           "| figure | measured | target |", "| --- | --- | --- |"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(out)


def summary(results: list[dict[str, Any]]) -> str:
    head = "| figure | " + " | ".join(f"{r['pupils']:,} pupils ({r['weeks']} wk)" for r in results) + " | target |"
    out = [head, "| --- |" + " --- |" * (len(results) + 1)]

    def line(name: str, target: str, value: Any) -> None:
        cells = []
        for r in results:
            try:
                cells.append(value(r))
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                cells.append("–")
        out.append(f"| {name} | " + " | ".join(cells) + f" | {target} |")

    line("roll import, pupils/s", "", lambda r: fmt(r["roll_rate"]))
    line("marks in the term file", "", lambda r: f"{r['marks']:,}")
    line("persistent / severe share", "~20 % / ~2 %", lambda r: f"{r['persistent_share']:.1%} / {r['severe_share']:.1%}")
    line("raw insert, rows/s", "", lambda r: fmt(r["raw_rate"]))
    line("doorstep marks import, rows/s", "", lambda r: fmt(r["import_rate"]))
    line("**import ÷ raw**", "≥ 0.33", lambda r: f"**{r['ratio']:.2f}**")
    line("import peak RSS, MB (heap / mapped DB)", "≤ 300",
         lambda r: f"{r['import_rss']:.0f} ({r['import_anon']:.0f} / {r['import_file']:.0f})")
    line("bytes a mark: marks table / weekly + figures / whole DB", "",
         lambda r: f"{r['bpm_marks']:.1f} / {r['bpm_weekly']:.1f} / {r['bpm_db']:.1f}")
    line("next-day import, s", "≤ 60 at 200,000", lambda r: f"{r['next_s']:.1f}")
    line("same rows again, s (÷ next day; ÷ term import)", "≤ 0.3 ×",
         lambda r: f"{r['again_s']:.1f} ({r['again_vs_next']:.2f}; {r['again_vs_first']:.3f})")
    line("API band=persistent p50 / p95, ms", "p95 ≤ 200",
         lambda r: f"{ms(r['api_persistent']['latencies'], 50)} / {ms(r['api_persistent']['latencies'], 95)}")
    line("API unfiltered p50 / p95, ms", "p95 ≤ 200",
         lambda r: f"{ms(r['api_all']['latencies'], 50)} / {ms(r['api_all']['latencies'], 95)}")
    line("office list=persistent p50 / p95, ms", "p95 ≤ 500",
         lambda r: f"{ms(r['office_persistent']['latencies'], 50)} / {ms(r['office_persistent']['latencies'], 95)}")
    line("import under load: marks, import s", "",
         lambda r: f"{r['load']['rows']:,}, {r['load']['import_s']:.1f}" if r.get("load") else "not run")
    line("pushes during it: n, failures, p50 / p99 ms", "p99 < 1000, 0 failures",
         lambda r: (f"{r['load']['pushes']}, {r['load']['failures']}, {ms(r['load']['latencies'], 50)} / "
                    f"**{ms(r['load']['latencies'], 99)}**") if r.get("load") else "not run")
    line("the same pushes, no import: p50 / p99 ms", "",
         lambda r: f"{ms(r['alone'].latencies, 50)} / {ms(r['alone'].latencies, 99)}" if r.get("alone") else "not run")
    return "\n".join(out)


def machine_line() -> str:
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (f"{os.cpu_count()} cores, load average {load}, Python {sys.version.split()[0]}, "
            f"SQLite {sqlite3.sqlite_version}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pupils", type=int, nargs="+", default=[2000, 40000], help="authority sizes (pupils)")
    p.add_argument("--weeks", type=int, default=15, help="school weeks of marks from 2026-09-07 (default 15)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--import-under-load", dest="under_load", action="store_true", default=None,
                   help="measure officers' pushes during a big office import (default: from 40,000 pupils)")
    p.add_argument("--no-import-under-load", dest="under_load", action="store_false")
    p.add_argument("--workdir", default=None, help="where the temporary files go (default: the system's)")
    args = p.parse_args(argv)
    if args.weeks < 1 or any(n < 10 for n in args.pupils):
        p.error("--weeks must be at least 1 and every --pupils at least 10")

    say(f"# register_scale: pupils {', '.join(f'{n:,}' for n in args.pupils)}; {args.weeks} weeks; "
        f"seed {args.seed}")
    say(f"machine: {machine_line()}")
    work = Path(tempfile.mkdtemp(prefix="doorstep-register-scale-", dir=args.workdir))
    servers: list[Process] = []
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    status = 0
    try:
        for n in args.pupils:
            under = args.under_load if args.under_load is not None else n >= 40_000
            try:
                results.append(run_size(n, args.weeks, args.seed, under, work, servers))
            except Exception:
                status = 1
                say(f"!! {n:,} pupils failed:\n{traceback.format_exc()}")
                for log in work.glob("*.server.log"):
                    say(f"server log {log.name}:\n{tail(log, 40)}")
                break
            say("")
            say(size_table(results[-1]))
            for problem in results[-1].get("problems", []):
                say(f"problem: {problem}")
            for db in work.glob("doorstep-*.db*"):
                db.unlink(missing_ok=True)
    finally:
        for server in list(servers):
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    if results:
        say("")
        say(f"## register_scale summary ({time.perf_counter() - started:.0f} s, seed {args.seed})")
        say("")
        say(f"machine: {machine_line()}; measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
        say("")
        say(summary(results))
        say("")
        say("Ratios are within one run. Raw = csv.reader + executemany into register_marks' layout "
            "(4,000 a transaction, WAL, synchronous=NORMAL); import = `doorstep marks import` as a child process, "
            "its wall time (startup, file hash, figures and publishing included) and its own peak RSS.")
        for r in results:
            say("")
            say(size_table(r))
    return status


if __name__ == "__main__":
    sys.exit(main())
