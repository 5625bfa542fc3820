"""Moving marks stored in the old layout (``marks``, before migration m012) into the register."""
from __future__ import annotations

import datetime as dt
import sqlite3

from ..storage import SqliteTxn
from . import keys, tally
from .figures import BandThresholds
from .years import week_key, year_of

BATCH = 20_000


def from_old_marks(conn: sqlite3.Connection) -> int:
    """Runs inside the migration's transaction (a SQLite migration: PostgreSQL's schema never held
    the old layout); returns how many marks moved. The figures are marked dirty: the next import
    (or ``publish``) writes them to the pupil records. Every statement goes through the txn."""
    txn = SqliteTxn(conn)
    keys.refresh(txn)
    if txn.execute("SELECT count(*) FROM marks").fetchone()[0] == 0:
        return 0
    cur = txn.execute("INSERT INTO imports (id, kind, filename, extracted_at, started_at, finished_at, status) "
                      "VALUES ('stored-before-m012', 'marks', '', '', '', '', 'done')")
    import_no = int(cur.lastrowid or 0)
    pupils = {pid: (pk, school) for pk, pid, school in txn.execute(
        "SELECT pk, pupil_id, school_pk FROM register_pupils")}
    moved = 0
    rows = txn.execute("SELECT pupil_id, date, session, code FROM marks ORDER BY pupil_id, date, session")
    while True:
        batch = rows.fetchmany(BATCH)
        if not batch:
            break
        t = tally.Tally()
        writes = []
        for pupil_id, date, session, code in batch:
            key = pupils.get(pupil_id)
            if key is None or code not in tally.COUNTER:
                continue
            day = dt.date.fromisoformat(date).toordinal()
            writes.append((key[0], day, 0 if session == "AM" else 1, code, import_no))
            t.add(key[0], key[1], day, code, 1, year_of(dt.date.fromordinal(day)), week_key(day))
        txn.executemany("INSERT OR REPLACE INTO register_marks (pupil_pk, day, session, code, import_no) "
                        "VALUES (?, ?, ?, ?, ?)", writes)
        tally.apply(txn, t, BandThresholds())
        moved += len(writes)
    for school, year in txn.execute("SELECT DISTINCT school_pk, year FROM figures WHERE school_pk IS NOT NULL"
                                    ).fetchall():
        after = 0
        while pairs := tally.pupils_of(txn, school, year, after, 5_000):
            tally.windows(txn, pairs)
            after = pairs[-1][0]
    return moved
