"""Registrations from a roll import: the ``enrolments`` table (pupil, school, from, to, main),
written in the same transaction as a chunk's last push. A pupil's new main school closes the
registration at the old one the day before; a dual registration is a subsidiary row."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..storage import SqliteTxn
from . import keys
from .portable import INTS
from .roll_report import RollReport


@dataclass(slots=True)
class Enrol:
    pupil_id: str
    school_id: str
    from_date: str
    explicit_from: bool
    to_date: str | None
    main: bool
    leave: bool = False  # close the open registration at the school on to_date (missing from a full roll)


def write_enrolments(txn: SqliteTxn, intents: list[Enrol], day: str, report: RollReport) -> None:
    """Open, update and close the registrations the intents of a chunk say, in ``txn``."""
    if not intents:
        return
    keys.refresh(txn)
    ppk = dict(txn.execute("SELECT pupil_id, pk FROM register_pupils WHERE pupil_id IN "
                           "(SELECT value FROM json_each(?))",
                           (keys.json_list(sorted({i.pupil_id for i in intents})),)).fetchall())
    spk = dict(txn.execute("SELECT school_id, pk FROM register_schools WHERE school_id IN "
                           "(SELECT value FROM json_each(?))",
                           (keys.json_list(sorted({i.school_id for i in intents})),)).fetchall())
    state: dict[int, list[list[Any]]] = {}
    # entry: [school_pk, from, to, main, original from (None: new), changed]
    for p, s, f, t, m in txn.execute(
            f"SELECT pupil_pk, school_pk, from_date, to_date, main FROM enrolments WHERE pupil_pk IN ({INTS})",
            (keys.json_list(sorted(ppk.values())),)):
        state.setdefault(p, []).append([s, f, t, bool(m), f, False])
    for it in intents:
        p, s = ppk.get(it.pupil_id), spk.get(it.school_id)
        if p is None or s is None:
            continue  # the pupil was not saved (reported already)
        entries = state.setdefault(p, [])
        at_school = sorted((e for e in entries if e[0] == s), key=lambda e: e[1])
        if it.leave:
            for e in at_school:
                if e[2] is None:
                    e[2], e[5] = max(it.to_date or day, e[1]), True
                    report.enrolments_closed += 1
            continue
        latest = at_school[-1] if at_school else None
        if latest is not None and (latest[2] is None or it.to_date is not None):
            if it.explicit_from and latest[1] != it.from_date and \
                    not any(e[1] == it.from_date for e in at_school):
                latest[1], latest[5] = it.from_date, True
            if latest[2] != it.to_date:
                if latest[2] is None:
                    report.enrolments_closed += 1
                latest[2], latest[5] = it.to_date, True
            if latest[3] != it.main:
                latest[3], latest[5] = it.main, True
            entry = latest
        else:
            same = next((e for e in at_school if e[1] == it.from_date), None)
            if same is not None:  # reopened on the date it first opened
                same[2], same[3], same[5] = it.to_date, it.main, True
                entry = same
            else:
                entry = [s, it.from_date, it.to_date, it.main, None, True]
                entries.append(entry)
            report.enrolments_opened += 1
        if it.main and it.to_date is None:
            # a move: the registration at the old main school ends the day before
            end = (dt.date.fromisoformat(entry[1]) - dt.timedelta(days=1)).isoformat()
            for e in entries:
                if e is not entry and e[0] != s and e[3] and e[2] is None:
                    e[2], e[5] = max(end, e[1]), True
                    report.enrolments_closed += 1
    updates, inserts = [], []
    for p, entries in state.items():
        for e in entries:
            if not e[5]:
                continue
            if e[4] is None:
                inserts.append((p, e[0], e[1], e[2], int(e[3])))
            else:
                updates.append((e[1], e[2], int(e[3]), p, e[0], e[4]))
    if updates:
        txn.executemany("UPDATE enrolments SET from_date = ?, to_date = ?, main = ? "
                             "WHERE pupil_pk = ? AND school_pk = ? AND from_date = ?", updates)
    if inserts:
        txn.executemany(
            "INSERT INTO enrolments (pupil_pk, school_pk, from_date, to_date, main) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (pupil_pk, school_pk, from_date) DO UPDATE SET to_date = excluded.to_date, "
            "main = excluded.main", inserts)
