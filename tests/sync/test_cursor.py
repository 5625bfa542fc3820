"""sync/cursor.py: opaque pull cursors."""
from __future__ import annotations

import base64

import pytest

from sync import RequestInvalid, decode_cursor, encode_cursor


@pytest.mark.parametrize("seq", [0, 1, 42, 1842, 10**17])
def test_round_trip(seq: int) -> None:
    c = encode_cursor(seq)
    assert "=" not in c and "+" not in c and "/" not in c
    assert decode_cursor(c) == seq


def test_no_cursor_is_the_start() -> None:
    assert decode_cursor(None) == 0
    assert decode_cursor("") == 0


def test_the_documented_example() -> None:
    assert encode_cursor(1842) == "djEuMTg0Mg"


@pytest.mark.parametrize("bad", [
    "nonsense!", "djIuMTg0Mg",  # v2.1842
    base64.urlsafe_b64encode(b"v1.-1").decode(), base64.urlsafe_b64encode(b"v1.").decode(),
    base64.urlsafe_b64encode(b"v1.1234567890123456789").decode(),  # 19 digits
    base64.urlsafe_b64encode("v1.١٢".encode()).decode(), "%%%", "a"])
def test_cursors_this_server_did_not_give_out(bad: str) -> None:
    with pytest.raises(RequestInvalid) as err:
        decode_cursor(bad)
    assert err.value.details == {"field": "cursor"}
    assert err.value.code == "validation_failed"
