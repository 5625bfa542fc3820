"""Reading a marks file (`upn,date,session,code`), row by row: its header, and the one check of a
row, which the streamed import (``marks.py``) uses too. See docs/register.md."""

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
    columns = check_header(next(rows, (1, None))[1])
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
        values, reasons = check_row(fields, columns, is_known, codes)
        if values is not None:
            mark = Mark(*values)
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
        errors.append(RowError(line, "; ".join(reasons), raw_row(fields, columns)))
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


def check_header(header: list[str] | None) -> list[int]:
    """Where each of ``COLUMNS`` is in the header row (any order, any case, spaces around); a
    ValueError saying the header expected when it is not that."""
    expected = ",".join(COLUMNS)
    if header is None:
        raise ValueError(f"the file is empty: expected the header {expected}")
    names = [name.strip().lower().removeprefix("\ufeff") for name in header]
    if sorted(names) != sorted(COLUMNS):
        found = ",".join(header) if header else "(blank line)"
        raise ValueError(f"line 1 must be the header {expected} (any order); found {found!r}")
    return [names.index(c) for c in COLUMNS]


def raw_row(fields: list[str], columns: list[int]) -> dict[str, str]:
    """A row as read, by column name (a rejected row's ``raw``); extra fields as ``column_N``."""
    raw = {name: fields[i] for name, i in zip(COLUMNS, columns) if i < len(fields)}
    for position in range(len(COLUMNS), len(fields)):
        raw[f"column_{position + 1}"] = fields[position]
    return raw


def check_row(fields: list[str], columns: list[int], is_known: Callable[[str], bool],
              codes: Mapping[str, object]) -> tuple[tuple[str, datetime.date, str, str] | None, list[str]]:
    """The checked ``(upn, date, session, code)`` of a row, or None and every reason it is wrong
    (the marks import's rules: docs/register.md)."""
    if len(fields) != len(COLUMNS):
        return None, [f"expected 4 columns, found {len(fields)}"]
    upn, date, session, code = (fields[i] for i in columns)
    reasons: list[str] = []
    upn = upn.strip()
    if not upn:
        reasons.append("empty upn")
    elif not is_known(upn):
        reasons.append(f"unknown pupil {upn!r}")
    day = _parse_date(date.strip(), reasons)
    checked_session = session.strip().upper()
    if checked_session not in SESSIONS:
        reasons.append(f"bad session {session!r}: expected AM or PM")
    checked_code = normalise_code(code)
    if checked_code not in codes:
        reasons.append(f"unknown attendance code {code!r}")
    if reasons or day is None:
        return None, reasons
    return (upn, day, checked_session, checked_code), reasons


def _parse_date(value: str, reasons: list[str]) -> datetime.date | None:
    if not _DATE.fullmatch(value):
        reasons.append(f"bad date {value!r}: expected YYYY-MM-DD")
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        reasons.append(f"bad date {value!r}: no such day")
        return None
