"""sync/checks.py: each compiled checker's quick accept agrees with the kind's full checker."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.checks import Invalid, compile_check, full_check
from sync.schema import ENUMS, FIELDS

SPECS = [(t, name, spec) for t, fields in FIELDS.items() for name, spec in fields.items()]
CHECKS = [(f"{t}.{name}", compile_check(spec, ENUMS), full_check(spec, ENUMS)) for t, name, spec in SPECS]


def outcome(check: Any, value: Any) -> tuple[Any, ...]:
    try:
        got = check(value)
    except Invalid as exc:
        return ("invalid", str(exc))
    return ("ok", type(got), repr(got))


def times() -> st.SearchStrategy[str]:
    """Times in the forms a phone or a script may send, valid or not."""
    moment = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                          timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=1))]))
    written = moment.map(lambda d: d.isoformat().replace("+00:00", "Z"))
    millis = moment.map(lambda d: d.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.")
                        + f"{d.microsecond // 1000:03d}Z")
    broken = st.from_regex(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z\Z")
    return st.one_of(written, millis, broken, st.sampled_from(
        ["2026-11-23T09:10:00Z", "2026-11-23T09:10:00.000Z", "2026-11-23T09:10:00.120Z",
         "2026-02-30T09:10:00Z", "2026-11-23T24:00:00Z", "2026-11-23T09:10Z", "２０２６-11-23T09:10:00Z"]))


VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.text(min_size=195, max_size=205), times(),
    st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()), st.just(str(uuid.uuid4()) + "\n"),
    st.sampled_from([c for codes in ENUMS.values() for c in codes]),
    st.lists(st.sampled_from(["transport", "housing", "x", 3]), max_size=4),
    st.dictionaries(st.sampled_from(["name", "phone", "action", "x"]), st.text(max_size=5), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_the_quick_accept_returns_what_the_full_check_returns(value: Any) -> None:
    for name, quick, full in CHECKS:
        assert outcome(quick, value) == outcome(full, value), name


def test_well_formed_values_are_accepted_unchanged_or_normalised_as_before() -> None:
    check = dict((n, q) for n, q, _f in CHECKS)
    assert check["visit.started_at"]("2026-11-23T09:10:00.000Z") == "2026-11-23T09:10:00Z"
    assert check["visit.started_at"]("2026-11-23T10:10:00+01:00") == "2026-11-23T09:10:00Z"
    assert check["visit.case_id"]("EF47F7BB-172C-4A25-82D5-649EE21BF24E") == "ef47f7bb-172c-4a25-82d5-649ee21bf24e"
    assert check["visit.lat"](53) == 53.0 and type(check["visit.lat"](53)) is float
    assert check["visit.notes"](None) is None
    for bad, field in ((None, "visit.case_id"), ("2026-02-30T09:10:00Z", "visit.started_at"), (True, "visit.lat")):
        try:
            check[field](bad)
        except Invalid:
            continue
        raise AssertionError(f"{field} took {bad!r}")


def test_text_with_a_nul_character_is_refused_wherever_it_sits() -> None:
    """No typed text holds U+0000, and PostgreSQL's text and jsonb cannot store it (docs/postgresql.md)."""
    notes = compile_check(FIELDS["visit"]["notes"], ENUMS)
    assert notes("Card left\ncalled back") == "Card left\ncalled back"
    for bad in ("\x00", "Card left\x00", "x" * 50 + "\x00" + "y"):
        with pytest.raises(Invalid, match="NUL"):
            notes(bad)
