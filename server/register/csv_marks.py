"""Reading a marks file (`upn,date,session,code`), row by row. See docs/register.md."""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from .codes import CODES, SESSIONS, Mark, check_code_table, normalise_code

COLUMNS: tuple[str, ...] = ("upn", "date", "session", "code")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class RowError:
    """A rejected row: 1-based physical line (header is line 1), why, and the row as read."""

    line: int
    reason: str
    raw: dict[str, str]


def parse_marks_csv(
    text: str,
    known_upns: Callable[[str], bool] | None = None,
    *,
    codes: Mapping[str, str] = CODES,
) -> tuple[list[Mark], list[RowError]]:
    """Parse a marks file into good marks and rejected rows.

    Raises ValueError when the file cannot be read (no header, wrong header,
    broken CSV). Every bad row is reported with its line number and skipped.
    """
    check_code_table(codes)
    rows = numbered_rows(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    columns = _read_header(rows)
    marks: list[Mark] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, datetime.date, str], tuple[int, str]] = {}
    known: dict[str, bool] = {}

    def is_known(upn: str) -> bool:
        if upn not in known:
            known[upn] = bool(known_upns(upn)) if known_upns is not None else True
        return known[upn]

    for line, fields in rows:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # a blank line is not a row
        raw = _raw(columns, fields)
        if len(fields) != len(COLUMNS):
            errors.append(RowError(line, f"expected 4 columns, found {len(fields)}", raw))
            continue
        mark, reasons = _check_row(raw, codes, is_known)
        if mark is not None:
            key = (mark.upn, mark.date, mark.session)
            if key in seen:
                first_line, first_code = seen[key]
                if first_code == mark.code:
                    continue  # an exact repeat: already kept once
                reasons.append(
                    f"duplicate of line {first_line} with a different code "
                    f"({first_code!r} then {mark.code!r})"
                )
            else:
                seen[key] = (line, mark.code)
                marks.append(mark)
                continue
        errors.append(RowError(line, "; ".join(reasons), raw))
    return marks, errors


def numbered_rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield (first physical line, fields) for each CSV record; broken CSV raises ValueError
    naming its line. The roll file is read the same way (``roll_csv.read_csv``)."""
    reader = csv.reader(lines)
    previous = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ValueError(f"cannot read the file as CSV (line {previous + 1}): {exc}") from exc
        yield previous + 1, fields
        previous = reader.line_num


def _read_header(rows: Iterator[tuple[int, list[str]]]) -> list[str]:
    expected = ",".join(COLUMNS)
    _, header = next(rows, (1, None))
    if header is None:
        raise ValueError(f"the file is empty: expected the header {expected}")
    names = [name.strip().lower() for name in header]
    if sorted(names) != sorted(COLUMNS):
        found = ",".join(header) if header else "(blank line)"
        raise ValueError(f"line 1 must be the header {expected} (any order); found {found!r}")
    return names


def _raw(columns: list[str], fields: list[str]) -> dict[str, str]:
    raw = dict(zip(columns, fields))
    for position in range(len(columns), len(fields)):
        raw[f"column_{position + 1}"] = fields[position]
    return raw


def _check_row(
    raw: dict[str, str], codes: Mapping[str, str], is_known: Callable[[str], bool]
) -> tuple[Mark | None, list[str]]:
    reasons: list[str] = []
    upn = raw["upn"].strip()
    if not upn:
        reasons.append("empty upn")
    elif not is_known(upn):
        reasons.append(f"unknown pupil {upn!r}")
    day = _parse_date(raw["date"].strip(), reasons)
    session = raw["session"].strip().upper()
    if session not in SESSIONS:
        reasons.append(f"bad session {raw['session']!r}: expected AM or PM")
    code = normalise_code(raw["code"])
    if code not in codes:
        reasons.append(f"unknown attendance code {raw['code']!r}")
    if reasons or day is None:
        return None, reasons
    return Mark(upn=upn, date=day, session=session, code=code), reasons


def _parse_date(value: str, reasons: list[str]) -> datetime.date | None:
    if not _DATE.fullmatch(value):
        reasons.append(f"bad date {value!r}: expected YYYY-MM-DD")
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        reasons.append(f"bad date {value!r}: no such day")
        return None
