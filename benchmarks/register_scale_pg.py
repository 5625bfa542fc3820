"""``register_scale.py --db``: the same authority's roll, term of marks and next day on PostgreSQL,
right after SQLite's, with the same files; then the lists through one app server. Reported
against SQLite's figures of the same run (PostgreSQL ÷ SQLite).

Not measured on PostgreSQL: the raw limit (it is SQLite's), bytes by table (``dbstat``; the whole
database's size is), and the pushes during an office upload.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from _common import PASSWORD, fmt, login, percentile
from _pg import PgPlace, Servers, dbname
from _workload import ROOT
from register_scale_authority import ON_ROLL_FROM
from register_scale_local import CHILD_TIMEOUT_S, _rss
from register_scale_report import ms
from register_scale_server import OfficeClient, api_list, office_list


def cli(url: str, *args: str, timeout: float = CHILD_TIMEOUT_S) -> tuple[float, float, str]:
    """``doorstep --db URL ARGS`` as a child: wall seconds, its own peak RSS (VmHWM, MB), output."""
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "--db", url, *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "DOORSTEP_PASSWORD": PASSWORD})
    start = time.perf_counter()
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read() if proc.stdout else b""), daemon=True)
    reader.start()
    hwm = 0
    for _ in range(int(timeout / 0.1) + 1):
        if proc.poll() is not None:
            break
        hwm = max(hwm, _rss(proc.pid)[3])
        time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
        raise RuntimeError(f"doorstep {' '.join(args)} did not finish in {timeout:.0f} s")
    seconds = time.perf_counter() - start
    reader.join(30)
    text = (out[0] if out else b"").decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"doorstep {' '.join(args)} exited with {proc.returncode}: {text[-2000:]}")
    return seconds, hwm / 1024, text


def run_pg(pg: PgPlace, n: int, rows: int, next_rows: int, roll_csv: Path, marks_csv: Path, next_csv: Path,
           work: Path) -> dict[str, Any]:
    """The PostgreSQL figures of one size (the files as the SQLite pass left them)."""
    import psycopg

    from server.config import Settings
    from server.register import roll
    from server.state import open_state

    res: dict[str, Any] = {}
    url = pg.create(f"register{n}")
    try:
        st = open_state(Settings(db_path=url))
        try:
            t0 = time.perf_counter()
            report = roll.import_file(st.db, st.clock, roll_csv, on=ON_ROLL_FROM)
            res["roll_s"] = time.perf_counter() - t0
        finally:
            st.db.close()
        if report.pupils_created != n or report.rejected_total:
            raise RuntimeError(f"PostgreSQL roll import: {report.pupils_created} of {n} pupils")
        res["roll_rate"] = n / res["roll_s"]
        res["import_s"], res["import_rss"], text = cli(url, "marks", "import", str(marks_csv))
        res["import_rate"] = rows / res["import_s"]
        if f"stored {rows} rows" not in text:
            raise RuntimeError(f"PostgreSQL term import: {text.strip()[:300]}")
        with psycopg.connect(url) as conn:  # after the term, as SQLite's are read
            res["bands"] = dict(conn.execute(
                "SELECT band, count(*) FROM figures WHERE year = 2026 GROUP BY band").fetchall())
        res["next_s"], res["next_rss"], text = cli(url, "marks", "import", str(next_csv))
        if f"stored {next_rows} rows" not in text:
            raise RuntimeError(f"PostgreSQL next-day import: {text.strip()[:300]}")
        with open(next_csv, "a", encoding="utf-8") as fh:
            fh.write("\n")  # another file hash: the rows are checked again, not skipped
        res["again_s"], _, text = cli(url, "marks", "import", str(next_csv))
        if f"({next_rows} unchanged" not in text:
            raise RuntimeError(f"PostgreSQL re-import: {text.strip()[:300]}")
        with psycopg.connect(url) as conn:
            res["bpm_db"] = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / rows
            res["largest"] = conn.execute(  # tables with their indexes and TOAST, dead row versions included
                "SELECT relname, pg_total_relation_size(relid) FROM pg_stat_user_tables "
                "ORDER BY 2 DESC LIMIT 6").fetchall()
        cli(url, "user", "add", "bench-office", "--role", "office", timeout=120)
        with Servers(url, 1, work) as servers:
            office_api = login(servers.urls[0], "bench-office")
            res["api_persistent"] = api_list(servers.urls[0], office_api, {"band": "persistent", "limit": "200"})
            res["api_all"] = api_list(servers.urls[0], office_api, {"limit": "200"})
            office = OfficeClient(servers.urls[0], "bench-office")
            try:
                res["office_persistent"] = office_list(office, "persistent")
            finally:
                office.close()
        res["server_log"] = "\n".join((work / f"{dbname(url)}-0.server.log").read_text(errors="replace")
                                      .splitlines()[-20:])
    finally:
        pg.drop(url)
    return res


def pg_table(sq: dict[str, Any], pg: dict[str, Any]) -> str:
    """SQLite's and PostgreSQL's figures of one size, side by side, with PostgreSQL ÷ SQLite."""
    def lst(r: dict[str, Any], key: str) -> str:
        got = r.get(key)
        return f"{ms(got['latencies'], 50)} / {ms(got['latencies'], 95)}" if got else "–"

    def p95(r: dict[str, Any], key: str) -> float:
        return percentile(r[key]["latencies"], 95) if r.get(key) else float("nan")

    rows = [
        ("roll import (pupils/s)", fmt(sq["roll_rate"]), fmt(pg["roll_rate"]), pg["roll_rate"] / sq["roll_rate"]),
        ("`doorstep marks import`, the term (rows/s)", fmt(sq["import_rate"]), fmt(pg["import_rate"]),
         pg["import_rate"] / sq["import_rate"]),
        ("import peak RSS (MB)", f"{sq['import_rss']:.0f}", f"{pg['import_rss']:.0f}", pg["import_rss"] / sq["import_rss"]),
        ("next school day (s)", f"{sq['next_s']:.1f}", f"{pg['next_s']:.1f}", pg["next_s"] / sq["next_s"]),
        ("the same rows again (s)", f"{sq['again_s']:.1f}", f"{pg['again_s']:.1f}", pg["again_s"] / sq["again_s"]),
        ("bytes a mark, whole database", f"{sq['bpm_db']:.1f}", f"{pg['bpm_db']:.1f}", pg["bpm_db"] / sq["bpm_db"]),
        ("API `?band=persistent&limit=200`, p50 / p95 (ms)", lst(sq, "api_persistent"), lst(pg, "api_persistent"),
         p95(pg, "api_persistent") / p95(sq, "api_persistent")),
        ("API `?limit=200`, p50 / p95 (ms)", lst(sq, "api_all"), lst(pg, "api_all"),
         p95(pg, "api_all") / p95(sq, "api_all")),
        ("office `/office/register?list=persistent`, p50 / p95 (ms)", lst(sq, "office_persistent"),
         lst(pg, "office_persistent"), p95(pg, "office_persistent") / p95(sq, "office_persistent")),
    ]
    out = [f"| {sq['pupils']:,} pupils, {sq['weeks']} weeks | SQLite | PostgreSQL | PostgreSQL ÷ SQLite |",
           "| --- | --- | --- | --- |"]
    out += [f"| {name} | {a} | {b} | {fmt(r)} |" for name, a, b, r in rows]
    same = "the same" if pg["bands"] == sq["bands"] else f"DIFFERENT: {pg['bands']} against {sq['bands']}"
    out.append(f"\nbands after the term on PostgreSQL: {same}. A ratio of times above 1, or of rates below 1, "
               "is PostgreSQL slower. Largest tables on PostgreSQL (with indexes): "
               + ", ".join(f"{name} {size / 2**20:.1f} MB" for name, size in pg.get("largest", [])))
    return "\n".join(out)
