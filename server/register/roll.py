"""The school roll import: schools, households and pupils from a CSV, as sync records.

``import_file`` (the CLI), ``import_text`` (the office page) and ``import_rows``
(the demo) all run the same code. The file is read as a stream in chunks of
``CHUNK`` rows: each chunk's existing pupils are read by UPN in one query, its
changes are pushed through ``sync.push`` as the importing actor (so phones get
them at their next pull) in batches of at most ``PUSH_BATCH`` changes, and its
enrolments are written in the same transaction as its last batch. Memory grows
only with the set of UPNs seen (needed to know who is missing from a full roll).

Records have deterministic ids (uuid5 of the URN, the UPN, the normalised
address and postcode) and only fields that differ are written, so importing the
same file again changes nothing. Columns and rules: docs/register.md, "The
school roll".
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import uuid
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from sync import ADMIN, Actor, Clock, Record, push

from .. import audit
from ..storage import Database, SqliteTxn
from ..util import now_iso
from . import keys
from .upn import upn_error

SYSTEM = Actor("system", ADMIN, None)
NAMESPACE = uuid.UUID("0f3f5a52-4b7e-4f0e-9a51-2d3c9b7e6a10")
_NS_BYTES = NAMESPACE.bytes
CHUNK = 500           # rows read, checked and written together: one sync.push (one write transaction)
PUSH_BATCH = 2000     # at most this many changes per push (a chunk of new pupils in new households: ~1000)
LEAVER_BATCH = 500    # pupils marked as left per write
LEAVER_LIMIT = 0.10   # a full roll may mark at most this share of a school's pupils as left without force
MAX_REJECTS_KEPT = 10_000
ALERT_KIND = "possible_cme"
TASK_DUE_DAYS = 5

REQUIRED = ("upn", "first_name", "last_name", "date_of_birth", "year_group", "urn")
OPTIONAL = ("school_name", "school_address", "school_postcode", "school_lat", "school_lon", "school_day_starts",
            "household_address", "household_postcode", "household_lat", "household_lon",
            "contacts", "contact_name", "contact_relationship", "contact_phone",
            "send", "on_roll_from", "left_on", "destination", "fsm", "cin", "cp", "enrolment")
COLUMNS = REQUIRED + OPTIONAL
# ids kept from another system (the demo's fixtures); honoured only with explicit_ids=True
ID_COLUMNS = ("pupil_id", "household_id", "school_id")
ALIASES = {"forename": "first_name", "surname": "last_name", "dob": "date_of_birth", "year": "year_group",
           "ncyear": "year_group", "sen": "send", "sen_status": "send", "school_urn": "urn",
           "address": "household_address", "postcode": "household_postcode", "enrol_status": "enrolment"}

_DATE_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_UK = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_URN = re.compile(r"\d{5,7}")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_NOT_WORD = re.compile(r"[^0-9A-Z]+")
TRUE = frozenset({"Y", "YES", "TRUE", "T", "1"})
FALSE = frozenset({"N", "NO", "FALSE", "F", "0"})
SEND = {"NONE": "none", "N": "none", "SEN_SUPPORT": "sen_support", "SEN SUPPORT": "sen_support", "K": "sen_support",
        "EHCP": "ehcp", "E": "ehcp", "S": "ehcp"}
ENROLMENT = {"": True, "C": True, "SINGLE": True, "CURRENT": True, "M": True, "MAIN": True,
             "S": False, "SUBSIDIARY": False}


# -- the report ------------------------------------------------------------------------

@dataclass
class RollReport:
    """What an import did (or, in a dry run, would do). Counts are of records, not rows,
    except ``rows_read`` and ``rejected``."""

    date: str = ""
    full: bool = False
    dry_run: bool = False
    rows_read: int = 0
    schools_created: int = 0
    schools_updated: int = 0
    pupils_created: int = 0
    pupils_updated: int = 0
    pupils_unchanged: int = 0
    pupils_moved: int = 0     # an existing pupil whose main school changed
    pupils_left: int = 0      # newly marked as left (a left_on in the file, or missing from a full roll)
    households_created: int = 0
    households_updated: int = 0
    enrolments_opened: int = 0
    enrolments_closed: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {line, reason, row}
    rejected_total: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)
    leaving: list[dict[str, Any]] = field(default_factory=list)   # per school of a full roll
    refused: bool = False
    refusal: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    not_saved: list[str] = field(default_factory=list)  # changes the sync engine refused (should not happen)

    def reject(self, line: int, reason: str, row: dict[str, str]) -> None:
        self.rejected_total += 1
        if len(self.rejected) < MAX_REJECTS_KEPT:
            self.rejected.append({"line": line, "reason": reason, "row": row})

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# -- reading the file -----------------------------------------------------------------

Numbered = Iterator[tuple[int, dict[str, str]]]


def _canon(name: str) -> str:
    text = re.sub(r"[\s\-]+", "_", name.strip().lower())
    return ALIASES.get(text, text)


def read_csv(fh: Iterable[str], report: RollReport | None = None, *, explicit_ids: bool = False) -> Numbered:
    """(first physical line, row keyed by canonical column name) for each CSV record.

    Raises ValueError for a file that cannot be read: no header, a required column
    missing, a column named twice, broken CSV.
    """
    reader = csv.reader(fh)
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError("the file is empty: the first line must be the header") from None
    except csv.Error as exc:
        raise ValueError(f"cannot read the file as CSV (line 1): {exc}") from exc
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    names = [_canon(h) for h in header]
    known = set(COLUMNS) | (set(ID_COLUMNS) if explicit_ids else set())
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise ValueError("line 1 must be the header; it needs the columns " + ", ".join(REQUIRED)
                         + " (any order, any case) and is missing " + ", ".join(missing))
    twice = sorted({n for n in names if n and names.count(n) > 1})
    if twice:
        raise ValueError("line 1 names a column twice: " + ", ".join(twice))
    if report is not None:
        report.ignored_columns = [h.strip() for h, n in zip(header, names) if n not in known]
    keep = [(i, n) for i, n in enumerate(names) if n in known]
    previous = reader.line_num
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ValueError(f"cannot read the file as CSV (line {previous + 1}): {exc}") from exc
        line = previous + 1
        previous = reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # a blank line is not a row
        row = {n: (fields[i] if i < len(fields) else "") for i, n in keep}
        if len(fields) > len(names):
            row["_extra"] = ",".join(fields[len(names):])
        yield line, row


def rows_source(rows: Iterable[dict[str, Any]]) -> Numbered:
    """Python rows (the demo) as numbered rows, values as the strings a CSV would hold."""
    for i, row in enumerate(rows):
        yield i + 2, {_canon(k): _text(v) for k, v in row.items()}


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "Y" if v else "N"
    if isinstance(v, list):
        return ";".join("|".join(_text(c.get(k)) for k in ("name", "relationship", "phone")) for c in v)
    return str(v)


# -- checking one row -------------------------------------------------------------------

@dataclass(slots=True)
class _Row:
    line: int
    raw: dict[str, str]
    upn: str
    urn: str
    main: bool
    pupil: dict[str, Any]          # pupil fields the row states (no school_id / household_id)
    school: dict[str, Any]         # school fields the row states
    household: dict[str, Any] | None  # address, postcode, lat, lon
    household_key: str | None
    household_id: str | None       # set when the chunk is read
    contacts: list[dict[str, Any]]
    on_roll_from: str | None
    left_on: str | None
    ids: dict[str, str]


def _date(value: str, name: str, reasons: list[str]) -> str | None:
    v = value.strip()
    if not v:
        return None
    m = _DATE_UK.fullmatch(v)
    if m:
        text = f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}"
    elif _DATE_ISO.fullmatch(v):
        text = v
    else:
        reasons.append(f"bad {name} {value!r}: expected YYYY-MM-DD or DD/MM/YYYY")
        return None
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        reasons.append(f"bad {name} {value!r}: no such day")
        return None
    return text


def _year_group(value: str, reasons: list[str]) -> int | None:
    v = value.strip().upper()
    if v in ("R", "REC", "RECEPTION"):
        return 0
    if v in ("N", "N1", "N2", "NURSERY"):
        return -1
    v = v.removeprefix("YEAR").removeprefix("Y").strip()
    try:
        n = int(v)
    except ValueError:
        reasons.append(f"bad year_group {value!r}: expected a number from -1 to 14, R or N")
        return None
    if not -1 <= n <= 14:
        reasons.append(f"bad year_group {value!r}: expected a number from -1 to 14, R or N")
        return None
    return n


def _flag(value: str, name: str, reasons: list[str]) -> bool | None:
    v = value.strip().upper()
    if not v:
        return None
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    reasons.append(f"bad {name} {value!r}: expected Y or N (or blank when not known)")
    return None


def _number(value: str, name: str, lo: float, hi: float, reasons: list[str]) -> float | None:
    v = value.strip()
    if not v:
        return None
    try:
        n = float(v)
    except ValueError:
        n = float("nan")
    if not lo <= n <= hi:
        reasons.append(f"bad {name} {value!r}: expected a number from {lo:g} to {hi:g}")
        return None
    return n


def _postcode(value: str, name: str, reasons: list[str]) -> str | None:
    v = " ".join(value.upper().split())
    if not v:
        return None
    if " " not in v and 5 <= len(v) <= 7:
        v = f"{v[:-3]} {v[-3:]}"
    if len(v) > 10:
        reasons.append(f"bad {name} {value!r}: at most 10 characters")
        return None
    return v


def _short(value: str, name: str, limit: int, reasons: list[str]) -> str | None:
    v = " ".join(value.split())
    if len(v) > limit:
        reasons.append(f"{name} is longer than {limit} characters")
        return None
    return v or None


def normalise_address(address: str, postcode: str | None) -> str:
    """The household key: the address and postcode in capitals, punctuation and spacing ignored."""
    words = _NOT_WORD.sub(" ", address.upper()).strip()
    return f"{words}|{(postcode or '').replace(' ', '')}"


def _uuid5(name: str) -> str:
    """``str(uuid.uuid5(NAMESPACE, name))``, twice as fast (it runs a few times per row)."""
    h = bytearray(hashlib.sha1(_NS_BYTES + name.encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def household_id_for(key: str) -> str:
    return _uuid5("household:" + key)


def pupil_id_for(upn: str) -> str:
    return _uuid5("pupil:" + upn)


def school_id_for(urn: str) -> str:
    return _uuid5("school:" + urn)


def _contacts(raw: dict[str, str], reasons: list[str]) -> list[dict[str, Any]]:
    found: list[tuple[str, str, str]] = []
    for part in (raw.get("contacts") or "").split(";"):
        if part.strip():
            bits = [b.strip() for b in part.split("|")] + ["", ""]
            found.append((bits[0], bits[1], bits[2]))
    one = (raw.get("contact_name", "").strip(), raw.get("contact_relationship", "").strip(),
           raw.get("contact_phone", "").strip())
    if any(one):
        found.insert(0, one)
    out: list[dict[str, Any]] = []
    for name, relationship, phone in found:
        name = " ".join(name.split())
        if not name:
            reasons.append("a contact needs a name")
            continue
        if len(name) > 200 or len(relationship) > 100 or len(phone) > 40:
            reasons.append(f"contact {name[:40]!r} is too long (name 200, relationship 100, phone 40 characters)")
            continue
        if any(_contact_key(c) == _contact_key({"name": name, "relationship": relationship}) for c in out):
            continue
        out.append({"name": name, "relationship": relationship or None, "phone": phone or None})
    if len(out) > 20:
        reasons.append("at most 20 contacts")
        return []
    return out


def _contact_key(contact: dict[str, Any]) -> tuple[str, str]:
    """A contact is the same person when name and relationship match (an officer may have
    corrected the phone number since; two relatives may share a name)."""
    return ((contact.get("name") or "").casefold(), (contact.get("relationship") or "").casefold())


def check_row(line: int, raw: dict[str, str], explicit_ids: bool = False) -> _Row | list[str]:
    """The row's values, checked, or every reason it is rejected."""
    reasons: list[str] = []
    if raw.get("_extra"):
        reasons.append("more fields than the header has columns")
    g = raw.get
    upn = g("upn", "").strip().upper()
    problem = upn_error(upn)
    if problem:
        reasons.append(f"bad UPN {g('upn', '')!r}: {problem}")
    for column in ("first_name", "last_name", "date_of_birth", "year_group"):
        if not g(column, "").strip():
            reasons.append(f"empty {column}")
    first = _short(g("first_name", ""), "first_name", 200, reasons)
    last = _short(g("last_name", ""), "last_name", 200, reasons)
    dob = _date(g("date_of_birth", ""), "date_of_birth", reasons)
    year = _year_group(g("year_group", ""), reasons) if g("year_group", "").strip() else None
    urn = g("urn", "").strip()
    if not _URN.fullmatch(urn):
        reasons.append(f"bad URN {g('urn', '')!r}: expected the school's URN (6 digits)")
    main = ENROLMENT.get(g("enrolment", "").strip().upper())
    if main is None:
        reasons.append(f"bad enrolment {g('enrolment', '')!r}: expected C (single), M (main) or S (subsidiary)")
    pupil: dict[str, Any] = {"upn": upn, "first_name": first, "last_name": last, "date_of_birth": dob,
                             "year_group": year}
    send = g("send", "").strip()
    if send:
        value = SEND.get(send.upper().replace("-", "_"))
        if value is None:
            reasons.append(f"bad send {send!r}: expected none, sen_support or ehcp (or N, K, E)")
        pupil["send"] = value
    on_roll_from = _date(g("on_roll_from", ""), "on_roll_from", reasons)
    left_on = _date(g("left_on", ""), "left_on", reasons)
    if on_roll_from and left_on and left_on < on_roll_from:
        reasons.append(f"left_on {left_on} is before on_roll_from {on_roll_from}")
    if on_roll_from:
        pupil["on_roll_from"] = on_roll_from
    destination = _short(g("destination", ""), "destination", 200, reasons)
    if destination:
        pupil["destination"] = destination
    for column, name in (("fsm", "free_school_meals"), ("cin", "child_in_need"), ("cp", "child_protection")):
        value = _flag(g(column, ""), column, reasons)
        if value is not None:
            pupil[name] = value
    school: dict[str, Any] = {}
    name = _short(g("school_name", ""), "school_name", 200, reasons)
    if name:
        school["name"] = name
    address = _short(g("school_address", ""), "school_address", 500, reasons)
    if address:
        school["address"] = address
    postcode = _postcode(g("school_postcode", ""), "school_postcode", reasons)
    if postcode:
        school["postcode"] = postcode
    lat = _number(g("school_lat", ""), "school_lat", -90, 90, reasons)
    lon = _number(g("school_lon", ""), "school_lon", -180, 180, reasons)
    if (lat is None) != (lon is None) and not reasons:
        reasons.append("school_lat and school_lon go together: give both or neither")
    elif lat is not None:
        school["lat"], school["lon"] = lat, lon
    starts = g("school_day_starts", "").strip()
    if starts:
        m = _TIME.fullmatch(starts)
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            reasons.append(f"bad school_day_starts {starts!r}: expected a time such as 08:45")
        else:
            school["day_starts"] = f"{int(m.group(1)):02d}:{m.group(2)}"
    household = None
    key = None
    h_address = _short(g("household_address", ""), "household_address", 500, reasons)
    h_postcode = _postcode(g("household_postcode", ""), "household_postcode", reasons)
    h_lat = _number(g("household_lat", ""), "household_lat", -90, 90, reasons)
    h_lon = _number(g("household_lon", ""), "household_lon", -180, 180, reasons)
    if (h_lat is None) != (h_lon is None):
        reasons.append("household_lat and household_lon go together: give both or neither")
    if h_address:
        household = {"address": h_address, "postcode": h_postcode}
        if h_lat is not None and h_lon is not None:
            household["lat"], household["lon"] = h_lat, h_lon
        key = normalise_address(h_address, h_postcode)
    elif h_postcode or h_lat is not None:
        reasons.append("a household needs its household_address")
    contacts = _contacts(raw, reasons)
    if contacts and household is None:
        reasons.append("contacts belong to a household: give the household_address too")
    ids: dict[str, str] = {}
    if explicit_ids:
        for column in ID_COLUMNS:
            value = g(column, "").strip().lower()
            if value:
                try:
                    ids[column] = str(uuid.UUID(value))
                except ValueError:
                    reasons.append(f"bad {column} {value!r}: expected a UUID")
    if reasons:
        return reasons
    return _Row(line, raw, upn, urn, bool(main), pupil, school, household, key, None, contacts, on_roll_from,
                left_on, ids)


# -- the import -------------------------------------------------------------------------

def import_file(db: Database, clock: Clock, path: str | Path, **options: Any) -> RollReport:
    """Import a roll CSV from a file (read twice for a full roll: once to count leavers)."""

    def opener() -> Iterator[str]:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            yield from fh

    return run(db, clock, lambda report: read_csv(opener(), report), **options)


def import_text(db: Database, clock: Clock, text: str, **options: Any) -> RollReport:
    return run(db, clock, lambda report: read_csv(io.StringIO(text.removeprefix("\ufeff"), newline=""), report),
               **options)


def import_rows(db: Database, clock: Clock, rows: Callable[[], Iterable[dict[str, Any]]], **options: Any
                ) -> RollReport:
    """Python rows keyed by column name (values as Python values): how the demo loads.

    With ``explicit_ids=True`` the rows may carry ``pupil_id``, ``household_id`` and
    ``school_id``: records created get those ids instead of the derived ones.
    """
    return run(db, clock, lambda report: rows_source(rows()), **options)


def run(db: Database, clock: Clock, source: Callable[[RollReport], Numbered], *, actor: Actor = SYSTEM,
        full: bool = False, dry_run: bool = False, force: bool = False, on: dt.date | str | None = None,
        explicit_ids: bool = False, progress: Callable[[RollReport], None] | None = None) -> RollReport:
    """Import a roll. ``source(report)`` opens the rows afresh each time it is called.

    ``full``: the file is the whole roll of every school it names; a pupil on such a
    school's roll who is not in the file is marked as left on ``on`` (default today).
    A full import that would mark more than 10% of some school's pupils as left is
    refused (``report.refused``) unless ``force``; a dry run says so and writes nothing.
    Raises ValueError when the file cannot be read.
    """
    day = on.isoformat() if isinstance(on, dt.date) else (on or dt.date.today().isoformat())
    dt.date.fromisoformat(day)
    report = RollReport(date=day, full=full, dry_run=dry_run)
    if full and not dry_run:
        # count the leavers before writing anything: a refused file changes nothing
        scout = RollReport(date=day, full=True)
        upns, urns = _scan(source(scout), scout)
        scout.leaving = _leaving(db, upns, urns)
        _judge(scout, force)
        if scout.refused:
            return scout
    job = _Import(db, clock, actor, report, explicit_ids, progress)
    job.read(source(report))
    if full:
        report.leaving = _leaving(db, job.seen, job.urns)
        if dry_run:
            _judge(report, force)
        job.leave_missing()
    return report


def _scan(rows: Numbered, report: RollReport) -> tuple[set[str], set[str]]:
    upns, urns = set(), set()
    for _line, raw in rows:
        report.rows_read += 1
        upn = raw.get("upn", "").strip().upper()
        if upn:
            upns.add(upn)
        urn = raw.get("urn", "").strip()
        if urn:
            urns.add(urn)
    return upns, urns


def _on_roll(db: Database, urns: Iterable[str], in_file: Container[str]
             ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], list[tuple[str, str]]]:
    """The schools (by id) of these URNs; per school, its pupils on roll and how many of them are
    not in the file; and those pupils, (pupil id, school id). Streamed: no list of every pupil."""
    with db.read() as txn:
        schools = {r["id"]: r for r in txn.rows(
            "SELECT id, json_extract(data, '$.urn') AS urn, json_extract(data, '$.name') AS name FROM schools "
            "WHERE deleted = 0 AND json_extract(data, '$.urn') IN (SELECT value FROM json_each(?))",
            (_json(sorted(urns)),))}
        counts = {sid: [0, 0] for sid in schools}
        missing: list[tuple[str, str]] = []
        for pid, upn, sid in txn.execute(
                "SELECT id, upn, school_id FROM pupils WHERE deleted = 0 AND school_id IN "
                "(SELECT value FROM json_each(?)) AND json_extract(data, '$.left_on') IS NULL",
                (_json(sorted(schools)),)):
            counts[sid][0] += 1
            if upn not in in_file:
                counts[sid][1] += 1
                missing.append((pid, sid))
    leaving = sorted(({"urn": schools[sid]["urn"], "name": schools[sid]["name"], "on_roll": n, "leaving": gone}
                      for sid, (n, gone) in counts.items()), key=lambda s: (-s["leaving"], s["name"] or ""))
    return schools, leaving, missing


def _leaving(db: Database, in_file: Container[str], urns: Iterable[str]) -> list[dict[str, Any]]:
    return _on_roll(db, urns, in_file)[1]


def _judge(report: RollReport, force: bool) -> None:
    over = [s for s in report.leaving if s["on_roll"] and s["leaving"] / s["on_roll"] > LEAVER_LIMIT]
    if over and not force:
        report.refused = True
        report.refusal = "; ".join(
            f"{s['leaving']} of {s['on_roll']} pupils ({100 * s['leaving'] / s['on_roll']:.1f}%) of "
            f"{s['name']} (URN {s['urn']}) would be marked as left" for s in over) + \
            f": more than {LEAVER_LIMIT:.0%}. Check the file is the full roll of each school in it."


@dataclass(slots=True)
class _Enrol:
    pupil_id: str
    school_id: str
    from_date: str
    explicit_from: bool
    to_date: str | None
    main: bool
    leave: bool = False  # close the open registration at the school on to_date (missing from a full roll)


@dataclass(slots=True)
class _Leaver:
    pupil_id: str
    fields: dict[str, Any]  # the pupil as it is once left
    school_name: str
    left_on: str
    destination: str | None


class _Import:
    def __init__(self, db: Database, clock: Clock, actor: Actor, report: RollReport, explicit_ids: bool,
                 progress: Callable[[RollReport], None] | None) -> None:
        self.db, self.clock, self.actor, self.report = db, clock, actor, report
        self.explicit_ids, self.progress = explicit_ids, progress
        self.dry = report.dry_run
        self.day = report.date
        # upn -> its first row, packed (``_pack``): line, URN, main; a rejected row has line 0, so a
        # pupil whose row was bad is not taken for missing from a full roll. One int a pupil.
        self.seen: dict[str, int] = {}
        self.urn_index: dict[str, int] = {}
        self.urn_list: list[str] = []
        self.dual: set[tuple[str, str]] = set()  # (upn, urn) of second rows (dual registration)
        self.urns: set[str] = set()
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

    # -- reading ------------------------------------------------------------------------
    def read(self, rows: Numbered) -> None:
        chunk: list[_Row] = []
        for line, raw in rows:
            self.report.rows_read += 1
            checked = check_row(line, raw, self.explicit_ids)
            if isinstance(checked, list):
                self._mention(raw)
                self.report.reject(line, "; ".join(checked), raw)
                continue
            packed = self.seen.get(checked.upn)
            first = self._unpack(packed) if packed is not None else None
            if first is not None and first[0] > 0:
                if first[1] == checked.urn:
                    self.report.reject(line, f"duplicate: UPN {checked.upn} is already on line {first[0]} "
                                             "at the same school", raw)
                    continue
                if first[2] and checked.main:
                    self.report.reject(line, f"UPN {checked.upn} is on line {first[0]} at another school: "
                                             "for dual registration mark one row's enrolment S (subsidiary)", raw)
                    continue
                self.dual.add((checked.upn, checked.urn))
            elif first is None or first[0] == 0:
                self.seen[checked.upn] = self._pack(line, checked.urn, checked.main)
            self.urns.add(checked.urn)
            chunk.append(checked)
            if len(chunk) >= CHUNK:
                self._chunk(chunk)
                chunk = []
        if chunk:
            self._chunk(chunk)

    def _pack(self, line: int, urn: str, main: bool) -> int:
        index = self.urn_index.get(urn)
        if index is None:
            index = self.urn_index[urn] = len(self.urn_list)
            self.urn_list.append(urn)
        return (((line << 24) | index) << 1) | main

    def _unpack(self, packed: int) -> tuple[int, str, bool]:
        return packed >> 25, self.urn_list[(packed >> 1) & 0xFFFFFF], bool(packed & 1)

    def _first_line(self, upn: str) -> int | None:
        packed = self.seen.get(upn)
        return None if packed is None else packed >> 25

    def _mention(self, raw: dict[str, str]) -> None:
        upn = raw.get("upn", "").strip().upper()
        urn = raw.get("urn", "").strip()
        if upn and upn not in self.seen:
            self.seen[upn] = self._pack(0, urn, True)
        if urn and _URN.fullmatch(urn):
            self.urns.add(urn)

    # -- one chunk ----------------------------------------------------------------------
    def _chunk(self, rows: list[_Row]) -> None:
        changes: list[dict[str, Any]] = []
        lines: dict[str, int] = {}  # change id -> line, for a change the engine refuses
        rows = self._schools(rows, changes, lines)
        with self.db.read() as txn:
            existing = {r.fields["upn"]: r for r in txn.find("pupil", "upn", {r.upn for r in rows}) if not r.deleted}
            hids = {self._household_id(r) for r in rows if r.household is not None}
            households = txn.get("household", hids)
        self._households(rows, existing, households, changes, lines)
        intents, leavers = self._pupils(rows, existing, changes, lines)
        self._write(changes, lines, intents, leavers)
        if self.progress is not None:
            self.progress(self.report)

    def _schools(self, rows: list[_Row], changes: list[dict[str, Any]], lines: dict[str, int]) -> list[_Row]:
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

    def _household_id(self, row: _Row) -> str:
        if row.household_id is None:
            assert row.household_key is not None
            row.household_id = row.ids.get("household_id") or self.foreign.get(row.household_key) \
                or household_id_for(row.household_key)
        return row.household_id

    def _speaks(self, row: _Row, existing: dict[str, Record]) -> bool:
        """Whether the row sets the pupil's own fields: a main (or single) registration, or the
        first row of a pupil not known yet. A subsidiary row only adds its registration."""
        return row.main or row.upn not in existing

    def _households(self, rows: list[_Row], existing: dict[str, Record], stored: dict[str, Record],
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
            known = {_contact_key(c) for c in have}
            added = [c for c in row.contacts if _contact_key(c) not in known]
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

    def _pupils(self, rows: list[_Row], existing: dict[str, Record], changes: list[dict[str, Any]],
                lines: dict[str, int]) -> tuple[list[_Enrol], list[_Leaver]]:
        intents: list[_Enrol] = []
        leavers: list[_Leaver] = []
        pending: dict[str, tuple[dict[str, Any], Record | None, _Row]] = {}  # pid -> fields, record, first row
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
            intents.append(_Enrol(pid, school.id, row.on_roll_from or self.day, row.on_roll_from is not None,
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
                leavers.append(_Leaver(pid, after, self.school_names.get(after.get("school_id", ""), ""),
                                       diff["left_on"], after.get("destination")))
        return intents, leavers

    def _reject_row(self, row: _Row, reason: str) -> None:
        self.report.reject(row.line, reason, row.raw)
        if self._first_line(row.upn) == row.line:
            self.seen[row.upn] = self._pack(0, row.urn, True)

    # -- changes ------------------------------------------------------------------------
    def _change(self, type_: str, id_: str, fields: dict[str, Any], base: int | None, lines: dict[str, int],
                line: int) -> dict[str, Any]:
        digest = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS).decode()
        change_id = _uuid5(f"{type_}:{id_}:{base}:{digest}")
        lines[change_id] = line
        return {"change_id": change_id, "type": type_, "id": id_, "op": "put", "fields": fields,
                "base_version": base, "hlc": self.clock.send()}

    def _write(self, changes: list[dict[str, Any]], lines: dict[str, int], intents: list[_Enrol],
               leavers: list[_Leaver]) -> None:
        tasks: list[dict[str, Any]] = []
        alerts = self._alerts(leavers, tasks)
        if self.dry or not (changes or intents or alerts):
            return
        changes = changes + tasks
        batches = [changes[i:i + PUSH_BATCH] for i in range(0, len(changes), PUSH_BATCH)]

        def finish(txn: SqliteTxn) -> None:
            self._enrol(txn, intents)
            self._save_alerts(txn, alerts)

        for n, batch in enumerate(batches):
            last = n == len(batches) - 1

            def before_commit(txn: SqliteTxn, outcome: Any, last: bool = last) -> None:
                touched = [i for t, i in outcome.touched if t in audit.PERSONAL_TYPES]
                if touched:
                    audit.record(txn, self.actor.user_id, self.actor.device_id, "roll_import", touched,
                                 {"changes": len(outcome.results), "date": self.day})
                if last:
                    finish(txn)

            outcome = push(self.db, self.actor, batch, self.clock, before_commit=before_commit)
            for r in outcome.results:
                if r.status == "rejected":
                    self._not_saved(r, lines)
        if not batches:
            with self.db.write() as txn:
                finish(txn)

    def _not_saved(self, result: Any, lines: dict[str, int]) -> None:
        reason = "; ".join(e.get("message", "") for e in result.errors)
        line = lines.get(result.change_id or "", 0)
        self.report.not_saved.append(f"line {line}: {reason}")
        self.report.reject(line, f"not saved: {reason}", {})

    # -- enrolments ---------------------------------------------------------------------
    def _enrol(self, txn: SqliteTxn, intents: list[_Enrol]) -> None:
        if not intents:
            return
        keys.refresh(txn)
        ppk = dict(txn.execute("SELECT pupil_id, pk FROM register_pupils WHERE pupil_id IN "
                               "(SELECT value FROM json_each(?))",
                               (_json(sorted({i.pupil_id for i in intents})),)).fetchall())
        spk = dict(txn.execute("SELECT school_id, pk FROM register_schools WHERE school_id IN "
                               "(SELECT value FROM json_each(?))",
                               (_json(sorted({i.school_id for i in intents})),)).fetchall())
        state: dict[int, list[list[Any]]] = {}
        # entry: [school_pk, from, to, main, original from (None: new), changed]
        for p, s, f, t, m in txn.execute(
                "SELECT pupil_pk, school_pk, from_date, to_date, main FROM enrolments WHERE pupil_pk IN "
                "(SELECT value FROM json_each(?))", (_json(sorted(ppk.values())),)):
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
                        e[2], e[5] = max(it.to_date or self.day, e[1]), True
                        self.report.enrolments_closed += 1
                continue
            latest = at_school[-1] if at_school else None
            if latest is not None and (latest[2] is None or it.to_date is not None):
                if it.explicit_from and latest[1] != it.from_date and \
                        not any(e[1] == it.from_date for e in at_school):
                    latest[1], latest[5] = it.from_date, True
                if latest[2] != it.to_date:
                    if latest[2] is None:
                        self.report.enrolments_closed += 1
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
                self.report.enrolments_opened += 1
            if it.main and it.to_date is None:
                # a move: the registration at the old main school ends the day before
                end = (dt.date.fromisoformat(entry[1]) - dt.timedelta(days=1)).isoformat()
                for e in entries:
                    if e is not entry and e[0] != s and e[3] and e[2] is None:
                        e[2], e[5] = max(end, e[1]), True
                        self.report.enrolments_closed += 1
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
            txn.conn.executemany("UPDATE enrolments SET from_date = ?, to_date = ?, main = ? "
                                 "WHERE pupil_pk = ? AND school_pk = ? AND from_date = ?", updates)
        if inserts:
            txn.conn.executemany(
                "INSERT INTO enrolments (pupil_pk, school_pk, from_date, to_date, main) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (pupil_pk, school_pk, from_date) DO UPDATE SET to_date = excluded.to_date, "
                "main = excluded.main", inserts)

    # -- leavers and alerts -------------------------------------------------------------
    def _alerts(self, leavers: list[_Leaver], tasks: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Office alerts for leavers with an open case or no known destination (a possible child
        missing education), and a task on each open case for its officer (added to ``tasks``)."""
        if not leavers:
            return []
        with self.db.read() as txn:
            found = txn.find("case", "pupil_id", [lv.pupil_id for lv in leavers])
        cases: dict[str, list[Record]] = {}
        for c in sorted(found, key=lambda c: c.id):
            if not c.deleted and c.fields.get("status") == "open":
                cases.setdefault(c.fields["pupil_id"], []).append(c)
        rows: list[tuple[Any, ...]] = []
        now = now_iso()
        due = (dt.date.fromisoformat(self.day) + dt.timedelta(days=TASK_DUE_DAYS)).isoformat()
        for lv in leavers:
            open_cases = cases.get(lv.pupil_id, [])
            if not open_cases and lv.destination:
                continue
            f = lv.fields
            who = f"{f.get('first_name', '')} {f.get('last_name', '')}".strip()
            school = lv.school_name or "school"
            why = (["no known destination"] if not lv.destination else []) + (["an open case"] if open_cases else [])
            detail = (f"Possible child missing education: {who} ({f.get('upn', '')}) left {school} on "
                      f"{lv.left_on}" + (f" (destination: {lv.destination})" if lv.destination else "")
                      + "; " + " and ".join(why) + ".")
            alert_id = _uuid5(f"alert:{ALERT_KIND}:{lv.pupil_id}:{lv.left_on}")
            self.report.alerts.append({
                "id": alert_id, "pupil_id": lv.pupil_id, "upn": f.get("upn"), "name": who, "school": lv.school_name,
                "left_on": lv.left_on, "destination": lv.destination, "case_ids": [c.id for c in open_cases],
                "officer_ids": [c.fields.get("assigned_officer_id") for c in open_cases], "detail": detail})
            rows.append((alert_id, ALERT_KIND, lv.pupil_id, f.get("school_id"), now, detail))
            for case in open_cases:
                task_id = _uuid5(f"task:{ALERT_KIND}:{case.id}:{lv.left_on}")
                title = (f"Possible child missing education: {who} left {school} on {lv.left_on}"
                         + (f" (destination: {lv.destination})" if lv.destination else " with no known destination")
                         + ". Find out where they are now.")
                fields: dict[str, Any] = {"case_id": case.id, "title": title[:300], "due_on": due, "done": False}
                if case.fields.get("assigned_officer_id"):
                    fields["assigned_to"] = case.fields["assigned_officer_id"]
                tasks.append({"change_id": _uuid5(f"change:{task_id}"), "type": "task",
                              "id": task_id, "op": "put", "fields": fields, "base_version": None,
                              "hlc": self.clock.send()})
        return rows

    def _save_alerts(self, txn: SqliteTxn, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            txn.conn.executemany("INSERT OR IGNORE INTO register_alerts (id, kind, pupil_id, school_id, created_at, "
                                 "detail) VALUES (?, ?, ?, ?, ?, ?)", rows)

    def leave_missing(self) -> None:
        """Mark as left every pupil on the roll of a school in the file who is not in it."""
        schools, _leaving, missing = _on_roll(self.db, self.urns, self.seen)
        for i in range(0, len(missing), LEAVER_BATCH):
            part = missing[i:i + LEAVER_BATCH]
            with self.db.read() as txn:
                records = txn.get("pupil", [pid for pid, _ in part])
            changes: list[dict[str, Any]] = []
            lines: dict[str, int] = {}
            leavers, intents = [], []
            for pid, sid in part:
                record = records.get(pid)
                if record is None or record.fields.get("left_on"):
                    continue
                changes.append(self._change("pupil", pid, {"left_on": self.day}, record.version, lines, 0))
                leavers.append(_Leaver(pid, {**record.fields, "left_on": self.day}, schools[sid]["name"] or "",
                                       self.day, record.fields.get("destination")))
                intents.append(_Enrol(pid, sid, self.day, False, self.day, True, leave=True))
                self.report.pupils_left += 1
            self._write(changes, lines, intents, leavers)
        self._close_subsidiary(schools)

    def _close_subsidiary(self, schools: dict[str, dict[str, Any]]) -> None:
        """Subsidiary (dual) registrations at a school of the file whose pupil is not in it at that school."""
        if not schools or self.dry:
            return
        with self.db.read() as txn:
            rows = txn.execute(
                "SELECT p.pupil_id, p.upn, s.school_id, s.urn FROM enrolments e "
                "JOIN register_pupils p ON p.pk = e.pupil_pk JOIN register_schools s ON s.pk = e.school_pk "
                "WHERE e.main = 0 AND e.to_date IS NULL AND s.school_id IN (SELECT value FROM json_each(?))",
                (_json(sorted(schools)),)).fetchall()
        intents = [_Enrol(pid, sid, self.day, False, self.day, False, leave=True)
                   for pid, upn, sid, urn in rows
                   if not ((upn, urn) in self.dual or (upn in self.seen and self._unpack(self.seen[upn])[1] == urn))]
        if intents:
            with self.db.write() as txn:
                self._enrol(txn, intents)


def _json(values: list[Any]) -> str:
    return orjson.dumps(values).decode()


# -- office alerts ------------------------------------------------------------------------

def open_alerts(db: Database, limit: int = 50) -> list[dict[str, Any]]:
    """Unresolved register alerts, newest first."""
    return db.query("SELECT a.id, a.kind, a.pupil_id, a.school_id, a.created_at, a.detail, "
                    "json_extract(s.data, '$.name') AS school FROM register_alerts a "
                    "LEFT JOIN schools s ON s.id = a.school_id WHERE a.resolved_at IS NULL "
                    "ORDER BY a.created_at DESC, a.id LIMIT ?", (limit,))


def count_open_alerts(db: Database) -> int:
    return db.query("SELECT count(*) AS n FROM register_alerts WHERE resolved_at IS NULL")[0]["n"]


def resolve_alert(db: Database, alert_id: str, user_id: str) -> bool:
    with db.write() as txn:
        cur = txn.execute("UPDATE register_alerts SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL",
                          (now_iso(), alert_id))
        if cur.rowcount:
            audit.record(txn, user_id, None, "register_alert_resolved", [alert_id])
        return bool(cur.rowcount)


# -- the report as text (the CLI) ---------------------------------------------------------

def summary(report: RollReport) -> str:
    what = "would change (dry run)" if report.dry_run else "refused, nothing changed" if report.refused else "imported"
    return (f"roll {what}, dated {report.date}{', full roll' if report.full else ''}: "
            f"{report.rows_read} rows read, {report.rejected_total} rejected; "
            f"schools {report.schools_created} created, {report.schools_updated} updated; "
            f"pupils {report.pupils_created} created, {report.pupils_updated} updated "
            f"({report.pupils_moved} moved school), {report.pupils_unchanged} unchanged, "
            f"{report.pupils_left} marked as left; households {report.households_created} created, "
            f"{report.households_updated} updated; {len(report.alerts)} alerts")


def print_report(report: RollReport, out: Any) -> None:
    print(summary(report), file=out)
    if report.ignored_columns:
        print("ignored columns: " + ", ".join(report.ignored_columns), file=out)
    for school in (s for s in report.leaving if s["leaving"]):
        print(f"full roll of {school['name']} (URN {school['urn']}): {school['leaving']} of {school['on_roll']} "
              "pupils on roll are not in the file" + (" and would be marked as left" if report.dry_run or
                                                     report.refused else " and were marked as left"), file=out)
    for row in report.rejected:
        print(f"line {row['line']}: {row['reason']}", file=out)
    if report.rejected_total > len(report.rejected):
        print(f"... and {report.rejected_total - len(report.rejected)} more rejected rows", file=out)
    for alert in report.alerts:
        print(("would alert: " if report.dry_run else "alert: ") + alert["detail"], file=out)
