"""What a chunk of roll rows changes in the school, household and pupil records.

``RecordChanges`` is the half of the import (``roll._Import``) that compares each
checked row with the stored record and turns only the fields that differ into
sync changes, so importing the same file again changes nothing. It also says
which registrations the rows state (``Enrol``) and who has left (``Leaver``).
"""
from __future__ import annotations

from typing import Any

import orjson

from sync import Clock, Record
from sync.clock_mark import UNSTAMPED

from ..storage import Database
from .roll_alerts import Leaver
from .roll_csv import Row, contact_key
from .roll_enrol import Enrol
from .roll_ids import household_id_for, normalise_address, pupil_id_for, school_id_for, uuid5
from .roll_report import RollReport


class RecordChanges:
    """The schools and households known so far, and the changes each chunk makes to them."""

    def __init__(self, db: Database, clock: Clock, report: RollReport) -> None:
        self.db, self.clock, self.report = db, clock, report
        self.day = report.date
        with db.read() as txn:
            found = txn.rows("SELECT id FROM schools WHERE deleted = 0 AND json_extract(data, '$.urn') IS NOT NULL")
            self.schools: dict[str, Record] = {r.fields["urn"]: r for r in
                                               txn.get("school", [x["id"] for x in found]).values()}
            # households whose ids are not derived from their address (made elsewhere): found by key
            self.foreign: dict[str, str] = {}
            for hid, address, postcode in txn.execute(
                    "SELECT id, json_extract(data, '$.address'), json_extract(data, '$.postcode') "
                    "FROM households WHERE deleted = 0"):
                key = normalise_address(address or "", postcode)
                if hid != household_id_for(key):
                    self.foreign.setdefault(key, hid)
        self.schools_done: set[str] = set()
        self.households_done: set[str] = set()
        self.households_made: set[str] = set()  # created by this run: a later sibling's update is no news
        self.school_names = {r.id: r.fields.get("name", "") for r in self.schools.values()}

    def _first_line(self, upn: str) -> int | None:
        """The line of the pupil's first row in the file (0: rejected), None when not seen (the import says)."""
        raise NotImplementedError

    def _reject_row(self, row: Row, reason: str) -> None:
        """Report the row as rejected (the import says, and forgets the pupil's line)."""
        raise NotImplementedError

    def _schools(self, rows: list[Row], changes: list[dict[str, Any]], lines: dict[str, int]) -> list[Row]:
        good = []
        for row in rows:
            school = self.schools.get(row.urn)
            if row.urn not in self.schools_done:
                if school is None and "name" not in row.school:
                    self._reject_row(row, f"unknown school: no school with URN {row.urn}; name it in school_name "
                                          "(with its address) on this row to add it")
                    continue
                self.schools_done.add(row.urn)
                if school is None:
                    sid = row.ids.get("school_id") or school_id_for(row.urn)
                    fields = {"urn": row.urn, **row.school}
                    changes.append(self._change("school", sid, fields, None, lines, row.line))
                    school = Record(type="school", id=sid, fields=fields, version=1)
                    self.schools[row.urn] = school
                    self.school_names[sid] = fields["name"]
                    self.report.schools_created += 1
                else:
                    diff = {k: v for k, v in row.school.items() if school.fields.get(k) != v}
                    if diff:
                        changes.append(self._change("school", school.id, diff, school.version, lines, row.line))
                        school.fields.update(diff)
                        school.version += 1
                        self.school_names[school.id] = school.fields.get("name", "")
                        self.report.schools_updated += 1
            good.append(row)
        return good

    def _household_id(self, row: Row) -> str:
        if row.household_id is None:
            assert row.household_key is not None
            row.household_id = row.ids.get("household_id") or self.foreign.get(row.household_key) \
                or household_id_for(row.household_key)
        return row.household_id

    def _speaks(self, row: Row, existing: dict[str, Record]) -> bool:
        """Whether the row sets the pupil's own fields: a main (or single) registration, or the
        first row of a pupil not known yet. A subsidiary row only adds its registration."""
        return row.main or row.upn not in existing

    def _households(self, rows: list[Row], existing: dict[str, Record], stored: dict[str, Record],
                    changes: list[dict[str, Any]], lines: dict[str, int]) -> None:
        pending: dict[str, tuple[dict[str, Any], Record | None, int]] = {}
        for row in rows:
            if row.household is None or not self._speaks(row, existing):
                continue
            hid = self._household_id(row)
            if hid in pending:
                fields, record, line = pending[hid]
            else:
                record = stored.get(hid)
                if record is None and hid in self.households_done:
                    continue  # made by an earlier chunk of this (dry) run
                fields, line = {}, row.line
                if record is None:
                    fields = {k: v for k, v in row.household.items() if v is not None}
                    fields["contacts"] = []
            if record is not None:
                for k in ("lat", "lon"):
                    if k in row.household and record.fields.get(k) != row.household[k]:
                        fields[k] = row.household[k]
            have = list(fields["contacts"] if "contacts" in fields else
                        (record.fields.get("contacts") or [] if record is not None else []))
            known = {contact_key(c) for c in have}
            added = [c for c in row.contacts if contact_key(c) not in known]
            if added:
                fields["contacts"] = have + added
            pending[hid] = (fields, record, line)
        for hid, (fields, record, line) in pending.items():
            self.households_done.add(hid)
            if record is None:
                changes.append(self._change("household", hid, fields, None, lines, line))
                self.report.households_created += 1
                self.households_made.add(hid)
            elif fields:
                changes.append(self._change("household", hid, fields, record.version, lines, line))
                self.report.households_updated += hid not in self.households_made

    def _pupils(self, rows: list[Row], existing: dict[str, Record], changes: list[dict[str, Any]],
                lines: dict[str, int]) -> tuple[list[Enrol], list[Leaver]]:
        intents: list[Enrol] = []
        leavers: list[Leaver] = []
        pending: dict[str, tuple[dict[str, Any], Record | None, Row]] = {}  # pid -> fields, record, first row
        for row in rows:
            school = self.schools[row.urn]
            record = existing.get(row.upn)
            pid = record.id if record is not None else (row.ids.get("pupil_id") or pupil_id_for(row.upn))
            if pid not in pending:
                pending[pid] = ({}, record, row)
            fields = pending[pid][0]
            if row.main or (record is None and "school_id" not in fields):
                fields.update(row.pupil)
                fields["school_id"] = school.id
                if row.household is not None:
                    fields["household_id"] = self._household_id(row)
                if row.main:
                    fields["left_on"] = row.left_on  # on roll without a left_on: back on roll
            intents.append(Enrol(pid, school.id, row.on_roll_from or self.day, row.on_roll_from is not None,
                                 row.left_on, row.main))
        for pid, (fields, record, row) in pending.items():
            counted = self._first_line(row.upn) == row.line  # the pupil's first row in the file
            current = record.fields if record is not None else {}
            diff = {k: v for k, v in fields.items() if current.get(k) != v and not (record is None and v is None)}
            if record is None:
                changes.append(self._change("pupil", pid, diff, None, lines, row.line))
                self.report.pupils_created += counted
                continue
            if diff:
                changes.append(self._change("pupil", pid, diff, record.version, lines, row.line))
                self.report.pupils_updated += counted
                self.report.pupils_moved += "school_id" in diff
            else:
                self.report.pupils_unchanged += counted
            if diff.get("left_on") and not current.get("left_on"):
                self.report.pupils_left += 1
                after = {**current, **diff}
                leavers.append(Leaver(pid, after, self.school_names.get(after.get("school_id", ""), ""),
                                      diff["left_on"], after.get("destination")))
        return intents, leavers

    # -- changes ------------------------------------------------------------------------
    def _change(self, type_: str, id_: str, fields: dict[str, Any], base: int | None, lines: dict[str, int],
                line: int) -> dict[str, Any]:
        digest = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS).decode()
        change_id = uuid5(f"{type_}:{id_}:{base}:{digest}")
        lines[change_id] = line
        # stamped inside the write transaction that applies it (roll._Import._write)
        return {"change_id": change_id, "type": type_, "id": id_, "op": "put", "fields": fields,
                "base_version": base, "hlc": UNSTAMPED}
