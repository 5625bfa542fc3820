"""The fast field checks answer exactly what the full checks answer (sync/schema.py).

``validate_fields`` first tries each field's fast check and falls back to the full check for
anything it does not accept; ``_validate_slowly`` with nothing accepted is the full check of
every field, so both must give the same clean values, in the same order, and the same errors.
"""
from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.schema import ENTITY_TYPES, _validate_slowly, validate_fields

TYPES = sorted(ENTITY_TYPES)
FIELDS = [(t, name) for t in TYPES for name in ENTITY_TYPES[t]]

timestamps = st.one_of(
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"),
    st.datetimes().map(lambda d: d.isoformat() + "+01:00"),
    st.sampled_from(["2026-11-22T08:15:00Z", "2026-11-22T08:15:00.000Z", "2026-11-22T08:15:00.120Z",
                     "2026-02-30T08:15:00Z", "2026-11-22T24:15:00Z", "2026-11-22T08:15Z",
                     "2026-11-22 08:15:00Z", "2026-11-22T08:15:00.1234567Z"]),
)
uuids = st.one_of(st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()),
                  st.just("{" + str(uuid.uuid4()) + "}"), st.just(uuid.uuid4().hex))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.integers(),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.text(min_size=95, max_size=110), st.text(min_size=195, max_size=205),
    st.sampled_from(["no_answer", "draft", "submitted", "open", "housing", "ehcp", "08:45", "25:00",
                     "2026-11-22", "2026-13-01", "A123456789012", "123456", "12"]),
    timestamps, uuids)
values = st.one_of(scalars, st.lists(scalars, max_size=4),
                   st.dictionaries(st.sampled_from(["name", "phone", "action", "x"]), scalars, max_size=3))


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(FIELDS), values)
def test_one_field_fast_and_full_agree(field, value):
    type_, name = field
    fields = {name: value}
    assert validate_fields(type_, fields) == _validate_slowly(type_, fields, {})


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(TYPES), st.data())
def test_whole_records_fast_and_full_agree_in_order(type_, data):
    names = st.sampled_from([*ENTITY_TYPES[type_], "id", "created_by", "nonsense"])
    fields = data.draw(st.dictionaries(names, values, max_size=8))
    fast, full = validate_fields(type_, fields), _validate_slowly(type_, fields, {})
    assert fast == full
    assert list(fast[0]) == list(full[0])  # the stored JSON keeps the client's field order


def test_the_fast_checks_take_the_common_values_and_refuse_the_rest():
    case = str(uuid.uuid4())
    clean, errors = validate_fields("visit", {"case_id": case.upper(), "lat": 53, "child_seen": False,
                                              "started_at": "2026-11-22T08:15:00.000Z",
                                              "outcome": "no_answer", "notes": None})
    assert errors == [] and clean == {"case_id": case, "lat": 53.0, "child_seen": False,
                                      "started_at": "2026-11-22T08:15:00Z", "outcome": "no_answer",
                                      "notes": None}
    assert isinstance(clean["lat"], float)
    _clean, errors = validate_fields("visit", {"lat": True, "outcome": "gone", "child_seen": 1,
                                               "started_at": "2026-02-30T08:15:00Z"})
    assert [(e.field, e.code) for e in errors] == [("lat", "validation_failed"), ("outcome", "validation_failed"),
                                                  ("child_seen", "validation_failed"),
                                                  ("started_at", "validation_failed")]
