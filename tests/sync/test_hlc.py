"""sync/hlc.py: stamps, their order, send and receive (PROTOCOL §6)."""
from __future__ import annotations

import threading

import pytest

from sync import Clock, Stamp, parse_hlc
from sync.hlc import MAX_COUNTER, is_valid

NODE = "7454287c-3dd6-43a6-9df3-b6527d19fff2"


class Wall:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def test_a_stamp_is_15_digits_6_digits_and_the_node() -> None:
    s = "001795421700000-000000-" + NODE
    assert parse_hlc(s) == Stamp(1795421700000, 0, NODE)
    assert str(parse_hlc(s)) == s
    assert str(Stamp(5, 7, "server")) == "000000000000005-000007-server"


@pytest.mark.parametrize("bad", [
    "1795421700000-0-x", "001795421700000-000000-", "001795421700000-000000--x", "001795421700000-0000000-x",
    "001795421700000-000000-" + "n" * 65, "001795421700000-000000-a b", "001795421700000-000000-é", "",
    "0017954217000000-000000-x", " 001795421700000-000000-x",
    "001795421700000-000000-x\n"])  # a final newline too (the pattern is matched whole)
def test_malformed_stamps_are_refused(bad: str) -> None:
    assert not is_valid(bad)
    with pytest.raises(ValueError):
        parse_hlc(bad)


def test_non_strings_are_refused() -> None:
    assert not is_valid(None) and not is_valid(1795421700000)
    with pytest.raises(ValueError):
        parse_hlc(17)  # type: ignore[arg-type]


def test_node_ids_of_64_characters_and_the_allowed_punctuation() -> None:
    assert is_valid("000000000000001-000000-" + "a" * 64)
    assert is_valid("000000000000001-000000-A_b.c:d-9")


def test_string_order_is_time_order_then_counter_then_node() -> None:
    stamps = [Stamp(999, 5, "z"), Stamp(1000, 0, "a"), Stamp(1000, 1, "a"), Stamp(1000, 1, "b"),
              Stamp(99_999_999, 0, "a"), Stamp(1795421700000, 0, "a")]
    texts = [str(s) for s in stamps]
    assert sorted(texts) == texts
    assert sorted(stamps) == stamps


def test_send_takes_the_wall_clock_when_it_moved_on() -> None:
    wall = Wall(1000)
    c = Clock("d", wall=wall)
    assert c.send() == "000000000001000-000000-d"
    wall.ms = 2000
    assert c.send() == "000000000002000-000000-d"


def test_send_counts_on_a_tie_and_when_the_wall_clock_goes_back() -> None:
    wall = Wall(1000)
    c = Clock("d", wall=wall)
    c.send()
    assert c.send() == "000000000001000-000001-d"
    wall.ms = 900
    assert c.send() == "000000000001000-000002-d"


def test_the_counter_carries_into_the_next_millisecond() -> None:
    c = Clock("d", wall=Wall(5000))
    c.receive(Stamp(5000, MAX_COUNTER, "server"))
    assert c.send() == "000000000005001-000000-d"


def test_receive_keeps_the_larger_and_the_next_send_is_later() -> None:
    wall = Wall(1000)
    c = Clock("d", wall=wall)
    c.receive("000000009000000-000007-server")
    nxt = c.send()
    assert nxt == "000000009000000-000008-d"
    c.receive("000000000000010-000000-server")  # older: nothing changes
    assert c.send() == "000000009000000-000009-d"
    c.receive(Stamp(9_000_000, 50, "x"))
    assert c.send() == "000000009000000-000051-d"


def test_receive_refuses_a_malformed_stamp() -> None:
    with pytest.raises(ValueError):
        Clock("d").receive("soon")


def test_sends_from_many_threads_are_unique_and_increasing_per_thread() -> None:
    c = Clock("d", wall=Wall(1))
    seen: list[list[str]] = [[] for _ in range(4)]

    def work(n: int) -> None:
        for _ in range(500):
            seen[n].append(c.send())

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [s for part in seen for s in part]
    assert len(set(every)) == 2000
    assert all(part == sorted(part) for part in seen)
