"""After an import: roll figures forward, then publish them to the pupil records phones pull.

Both run in short slices (``SLICE_PUPILS``), so officers' syncs carry on. A
pupil whose published figures did not change is not written; one that did gets
a new version of its record (pulled by everyone who can see it) but no
change-log and no audit row of its own: the import's one audit row and each
mark's ``import_no`` say where the figures came from (docs/register.md).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from sync import Actor, Clock, server_stamp
from sync.merge import force_write

from ..storage import Database
from ..util import now_iso
from . import improvement, keys, tally
from .figures import BandThresholds
from .portable import INTS, on_sqlite
from .years import current

SLICE_PUPILS = 500
WAIT_S = 60.0
YIELD_S, YIELD_BUSY_S = 0.005, 0.25


def step_aside(db: Database) -> None:
    """Between two slices of an import: a long gap when the last slice had to wait for the
    lock (officers are pushing), so their writes go first; a short one otherwise."""
    waited = getattr(db, "last_begin_wait", 0.0)  # SQLite's; PostgreSQL queues its writers fairly
    time.sleep(YIELD_BUSY_S if waited > 0.002 else YIELD_S)


def roll_forward(db: Database, moved: Iterable[tuple[int, int]], bands: BandThresholds = BandThresholds()) -> int:
    """Recompute the window figures (and the improvement, ``improvement.py``) of every pupil of
    each (school, year) whose school weeks moved: the last 10 school weeks roll on for a pupil
    with no new absence too."""
    changed = 0
    for school, year in sorted(moved):
        after = 0
        cache: dict[tuple[int | None, int], list[int]] = {}
        while True:
            with db.write(timeout=WAIT_S) as txn:
                pairs = tally.pupils_of(txn, school, year, after, SLICE_PUPILS)
                if not pairs:
                    break
                changed += tally.windows(txn, pairs, cache)
                changed += improvement.recompute(txn, pairs, bands, cache)
            after = pairs[-1][0]
            step_aside(db)
    return changed


def publish(db: Database, clock: Clock, actor: Actor, progress: Callable[[dict[str, Any]], None] | None = None,
            year: int | None = None) -> int:
    """Write changed figures into the pupil records (the current year's, or the latest year
    before it for a pupil with none yet this year); returns how many records changed."""
    year = current() if year is None else year
    written = 0
    while True:
        with db.write(timeout=WAIT_S) as txn:
            rows = txn.execute(
                "SELECT f.pupil_pk, f.year, p.pupil_id, f.possible, f.attended, f.authorised, f.unauthorised, "
                "f.pct, f.band, f.last10, f.threshold_met, f.recent_pct, f.prior_pct, f.improving "
                "FROM figures f INDEXED BY figures_dirty "
                "JOIN register_pupils p ON p.pk = f.pupil_pk WHERE f.dirty = 1 LIMIT ?", (SLICE_PUPILS,)).fetchall()
            if not rows:
                break
            latest = dict(txn.execute(
                f"SELECT pupil_pk, max(year) FROM figures WHERE year <= ? AND pupil_pk IN ({INTS}) GROUP BY pupil_pk",
                (year, orjson.dumps(sorted({r[0] for r in rows})).decode())).fetchall())
            # the current year's figures; until a pupil has any, the latest year before it
            mine = {r[2]: {**tally.register_fields(r[3:11]), **improvement.fields(*r[11:14])}
                    for r in rows if latest.get(r[0]) == r[1]}
            seq = txn.max_seq()
            fast, slow = _split(txn, mine)
            # a slice that changes no pupil issues no stamp (a second import of the same file changes nothing)
            stamp, now = (server_stamp(txn, clock) if fast or slow else ""), now_iso()
            fast_rows = []
            for pupil_id, fields in fast:
                seq += 1
                fast_rows.append((*_values(fields), stamp, actor.user_id, *_values(fields), now, actor.user_id,
                                  seq, now, actor.user_id, pupil_id))
            if fast_rows:  # never on PostgreSQL (_split)
                txn.executemany(_FAST_UPDATE, fast_rows)
            records = txn.get("pupil", [pupil_id for pupil_id, _ in slow])
            save = []
            for pupil_id, fields in slow:
                record = records.get(pupil_id)
                if record is None or record.deleted:
                    continue
                force_write(record, fields, stamp, actor.user_id)
                seq += 1
                record.seq, record.updated_at, record.updated_by = seq, now, actor.user_id
                save.append(record)
            txn.save(save)
            # these saves touch only register fields: the keys' watermark may skip them
            txn.execute("UPDATE meta SET value = ? WHERE key = ? AND value = ?", (seq, keys.WATERMARK, txn.max_seq()))
            txn.set_max_seq(seq)
            txn.executemany("UPDATE figures SET dirty = 0 WHERE pupil_pk = ? AND year = ?",
                                 [(r[0], r[1]) for r in rows])
            written += len(save) + len(fast_rows)
        step_aside(db)
        if progress is not None:
            progress({"published": written})
    return written


_NAMES = ("possible_sessions", "attended_sessions", "authorised_absences", "unauthorised_absences",
          "attendance_pct", "band", "unauthorised_last_10_weeks", "penalty_threshold_met", *improvement.FIELDS)
_BOOLS = ("penalty_threshold_met", "improving")
_SET = ", ".join(f"'$.{{prefix}}{name}', " + ("json(?)" if name in _BOOLS else "?") for name in _NAMES)
# The register fields share one write of their own in a record's per-field stamps
# (server/storage.py: ``[[write, ...], {field: index of its write}]``): a record whose register
# write is that (the 11 of _NAMES point at it, no other) is updated in place in SQL, its JSON edited with
# json_set; any other record (never published, or stored in an older layout) goes through
# force_write and a full save. Both give the same record (tests/server/test_register_import.py).
_OWN_WRITE = ("(SELECT count(*) FROM json_each(meta, '$[1]') "
              f"WHERE value = json_extract(meta, '$[1].possible_sessions')) = {len(_NAMES)}")
_FAST_UPDATE = (
    f"UPDATE pupils SET data = json_set(data, {_SET.format(prefix='')}), "
    "meta = json_set(meta, '$[0][' || json_extract(meta, '$[1].possible_sessions') || ']', "
    "json_array(?, version + 1, ?)), "
    f"item = json_set(CAST(item AS TEXT), '$.version', version + 1, {_SET.format(prefix='fields.')}, "
    "'$.fields.updated_at', ?, '$.fields.updated_by', ?), "
    "version = version + 1, seq = ?, updated_at = ?, updated_by = ? WHERE id = ?")


def _values(fields: dict[str, Any]) -> list[Any]:
    return [("true" if fields[n] else "false") if n in _BOOLS else fields[n] for n in _NAMES]


def _split(txn: Any, mine: dict[str, dict[str, Any]]) -> tuple[list[tuple[str, dict[str, Any]]],
                                                                list[tuple[str, dict[str, Any]]]]:
    """The pupils whose published figures differ: (updated in SQL, updated through the engine).
    On PostgreSQL every one goes through the engine (``_FAST_UPDATE`` edits SQLite's JSON)."""
    if not mine:
        return [], []
    ids = orjson.dumps(list(mine)).decode()
    fast, slow = [], []
    if not on_sqlite(txn):
        for pupil_id, data in txn.execute(
                "SELECT id, data FROM pupils WHERE deleted = 0 AND id IN (SELECT value FROM json_each(?))", (ids,)):
            fields, stored = mine[pupil_id], orjson.loads(data)
            if {n: stored.get(n) for n in _NAMES} != fields:
                slow.append((pupil_id, fields))
        return fast, slow
    extract = ", ".join(f"json_extract(data, '$.{n}')" for n in _NAMES)
    for row in txn.execute(
            f"SELECT id, {extract}, item IS NOT NULL AND json_type(meta) = 'array' AND {_OWN_WRITE} FROM pupils "
            "WHERE deleted = 0 AND id IN (SELECT value FROM json_each(?))", (ids,)):
        fields = mine[row[0]]
        stored = dict(zip(_NAMES, row[1:-1]))
        for name in _BOOLS:
            stored[name] = None if stored[name] is None else bool(stored[name])
        if stored == fields:
            continue
        (fast if row[-1] else slow).append((row[0], fields))
    return fast, slow
