"""The penalty notice rules (server/casework/legal_rules.py), computed by hand."""
from __future__ import annotations

import datetime as dt

from server.casework.legal_rules import (already_used, add_working_days, cap_reached, notices_in_window,
                                         parent_key, terms)

D = dt.date.fromisoformat


def test_two_in_a_rolling_three_years_at_its_edges():
    earlier = [D("2023-03-10"), D("2024-06-01")]
    # a third on 10 March 2026: the first notice is exactly three years before, so it no longer counts
    assert notices_in_window(earlier, D("2026-03-10")) == [D("2024-06-01")]
    assert not cap_reached(earlier, D("2026-03-10"))
    # the day before, both count: refused
    assert cap_reached(earlier, D("2026-03-09"))
    # one notice in the window is not the cap
    assert not cap_reached([D("2024-06-01")], D("2024-06-02"))
    # 29 February 2024: on 28 February 2027 the window starts after 28 February 2024, so it still
    # counts; on 1 March 2027 it starts after 1 March 2024 and no longer does
    assert notices_in_window([D("2024-02-29")], D("2027-02-28")) == [D("2024-02-29")]
    assert notices_in_window([D("2024-02-29")], D("2027-03-01")) == []
    # a later date than the new one never counts
    assert notices_in_window([D("2026-05-01")], D("2026-04-30")) == []


def test_sessions_used_once_per_parent_and_child():
    mum_used = [(739500, 0), (739500, 1)]
    assert already_used([(739500, 1), (739501, 0)], mum_used) == [(739500, 1)]
    assert already_used([(739501, 0)], mum_used) == []
    # each parent has their own key: the same sessions may evidence a notice to the other parent
    assert parent_key(None, "  Jo   SMITH ") == "name:jo smith" != parent_key(None, "Sam Smith")
    assert parent_key("ABC", "x") == "person:abc"


def test_first_notice_by_post_amounts_and_dates():
    # posted Thursday 6 Nov 2025, deemed received 2 working days later: Monday 10 Nov
    t = terms(D("2025-11-06"), "post", 2, earlier=0)
    assert t.received_on == D("2025-11-10")
    assert (t.first_amount, t.pay_first_by) == (80, D("2025-12-01"))  # 21 days from receipt
    assert (t.full_amount, t.pay_by) == (160, D("2025-12-08"))  # 28 days
    assert t.amount_due(D("2025-12-01")) == 80 and t.amount_due(D("2025-12-02")) == 160
    assert t.amount_due(D("2025-12-08")) == 160 and t.amount_due(D("2025-12-09")) is None


def test_second_notice_is_160_and_by_hand_is_received_that_day():
    t = terms(D("2025-11-06"), "hand", 2, earlier=1)
    assert t.received_on == D("2025-11-06") and t.second
    assert t.first_amount is None and t.pay_first_by is None
    assert (t.full_amount, t.pay_by) == (160, D("2025-12-04"))
    assert t.amount_due(D("2025-11-07")) == 160


def test_working_days_skip_the_weekend():
    assert add_working_days(D("2025-11-07"), 2) == D("2025-11-11")  # Friday -> Tuesday
    assert add_working_days(D("2025-11-08"), 0) == D("2025-11-08")
