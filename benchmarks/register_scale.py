"""The attendance register at an authority's size, in one run (issue 13 item 7; docs/performance.md).

    python benchmarks/register_scale.py                                  # 2,000 and 40,000 pupils, 15 weeks
    python benchmarks/register_scale.py --pupils 200000 --weeks 3        # the largest size, a shorter term
    python benchmarks/register_scale.py --pupils 2000 --db pg            # and on PostgreSQL, against SQLite

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
# The pieces: register_scale_authority.py (the authority, its roll and marks), register_scale_local.py
# (the raw limit, ``doorstep`` as a child, bytes on disk), register_scale_server.py (lists, the office
# upload, pushes under it) and register_scale_report.py (the tables).
from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PASSWORD, PgPlace, Process, doorstep_server, fmt, login, percentile  # noqa: E402
from register_scale_authority import (  # noqa: E402
    ON_ROLL_FROM,
    START,
    make_authority,
    school_days,
    write_marks,
    write_roll,
)
from register_scale_local import MB, disk_use, doorstep_cli, marks_import, raw_import, read_only  # noqa: E402
from register_scale_pg import pg_table, run_pg  # noqa: E402
from register_scale_report import machine_line, ms, size_table, summary  # noqa: E402
from register_scale_server import (  # noqa: E402
    OfficeClient,
    _csrf,
    api_list,
    office_list,
    open_cases,
    pushes_alone,
    upload_limit,
    upload_under_load,
)

OFFICERS = 8
LIST_LIMIT = 200
UNDER_LOAD_CAP = 1_000_000


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


def run_size(n: int, weeks: int, seed: int, under_load: bool, work: Path, servers: list[Process],
             pg: PgPlace | None = None) -> dict[str, Any]:
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
    if pg is not None:  # --db: the same files on PostgreSQL (register_scale_pg.py)
        say(f"\n### {n:,} pupils on PostgreSQL")
        res["pg"] = run_pg(pg, n, rows, next_rows, roll_csv, marks_csv, next_csv, work)
        say(pg_table(res, res["pg"]))
    res["wall_s"] = time.perf_counter() - t_size
    for name in ("roll", "marks", "next", "load"):
        (work / f"{name}-{n}.csv").unlink(missing_ok=True)
    return res


def tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pupils", type=int, nargs="+", default=[2000, 40000], help="authority sizes (pupils)")
    p.add_argument("--weeks", type=int, default=15, help="school weeks of marks from 2026-09-07 (default 15)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--import-under-load", dest="under_load", action="store_true", default=None,
                   help="measure officers' pushes during a big office import (default: from 40,000 pupils)")
    p.add_argument("--no-import-under-load", dest="under_load", action="store_false")
    p.add_argument("--workdir", default=None, help="where the temporary files go (default: the system's)")
    p.add_argument("--db", default=None,
                   help="also run the roll, the term, the next day and the lists on PostgreSQL, against SQLite "
                        "in the same run: pg (a throwaway cluster) or postgresql://… (register_scale_pg.py)")
    args = p.parse_args(argv)
    if args.weeks < 1 or any(n < 10 for n in args.pupils):
        p.error("--weeks must be at least 1 and every --pupils at least 10")

    say(f"# register_scale: pupils {', '.join(f'{n:,}' for n in args.pupils)}; {args.weeks} weeks; "
        f"seed {args.seed}")
    say(f"machine: {machine_line()}")
    work = Path(tempfile.mkdtemp(prefix="doorstep-register-scale-", dir=args.workdir))
    pg = PgPlace(args.db) if args.db else None
    servers: list[Process] = []
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    status = 0
    try:
        if pg is not None:
            say(f"database: {pg.describe()}")
        for n in args.pupils:
            under = args.under_load if args.under_load is not None else n >= 40_000
            try:
                results.append(run_size(n, args.weeks, args.seed, under, work, servers, pg))
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
        if pg is not None:
            pg.close()
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
            if "pg" in r:
                say("")
                say(pg_table(r, r["pg"]))
    return status


if __name__ == "__main__":
    sys.exit(main())
