"""Reading a roll file and checking each row: the columns, their aliases, and every rule a
row must keep (docs/register.md, "The school roll"). A good row becomes a ``Row``; a bad
one, every reason it is rejected."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .csv_marks import numbered_rows
from .roll_ids import normalise_address
from .roll_report import RollReport
from .upn import upn_error

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
URN = re.compile(r"\d{5,7}")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
TRUE = frozenset({"Y", "YES", "TRUE", "T", "1"})
FALSE = frozenset({"N", "NO", "FALSE", "F", "0"})
SEND = {"NONE": "none", "N": "none", "SEN_SUPPORT": "sen_support", "SEN SUPPORT": "sen_support", "K": "sen_support",
        "EHCP": "ehcp", "E": "ehcp", "S": "ehcp"}
ENROLMENT = {"": True, "C": True, "SINGLE": True, "CURRENT": True, "M": True, "MAIN": True,
             "S": False, "SUBSIDIARY": False}


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
    rows = numbered_rows(fh)
    try:
        _, header = next(rows)
    except StopIteration:
        raise ValueError("the file is empty: the first line must be the header") from None
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
    for line, fields in rows:
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
class Row:
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
        if any(contact_key(c) == contact_key({"name": name, "relationship": relationship}) for c in out):
            continue
        out.append({"name": name, "relationship": relationship or None, "phone": phone or None})
    if len(out) > 20:
        reasons.append("at most 20 contacts")
        return []
    return out


def contact_key(contact: dict[str, Any]) -> tuple[str, str]:
    """A contact is the same person when name and relationship match (an officer may have
    corrected the phone number since; two relatives may share a name)."""
    return ((contact.get("name") or "").casefold(), (contact.get("relationship") or "").casefold())


def check_row(line: int, raw: dict[str, str], explicit_ids: bool = False) -> Row | list[str]:
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
    if not URN.fullmatch(urn):
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
    return Row(line, raw, upn, urn, bool(main), pupil, school, household, key, None, contacts, on_roll_from,
               left_on, ids)

