"""Counting school weeks (server/casework/school_calendar.py), by hand on autumn 2025.

The calendar: autumn first half Wed 3 Sep to Fri 24 Oct 2025, half term 27-31 Oct,
second half Mon 3 Nov to Fri 19 Dec 2025.
"""
from __future__ import annotations

import datetime as dt

import pytest

from server.casework.school_calendar import CalendarGap, Period, SchoolCalendar, for_school, parse_csv

D = dt.date.fromisoformat
AUTUMN = (Period("term", D("2025-09-03"), D("2025-10-24"), "Autumn 1"),
          Period("term", D("2025-11-03"), D("2025-12-19"), "Autumn 2"))
CAL = SchoolCalendar(AUTUMN)


def test_four_school_weeks_from_a_monday_skip_the_half_term():
    # weeks of 13 Oct (1), 20 Oct (2), [27 Oct half term], 3 Nov (3), 10 Nov (4): Friday 14 Nov
    assert CAL.end_after_school_weeks(D("2025-10-13"), 4) == D("2025-11-14")


def test_a_notice_given_mid_week_counts_from_the_next_week():
    # Wed 15 Oct: its week has passed school days, so 20 Oct (1), 3 Nov (2), 10 Nov (3), 17 Nov (4)
    assert CAL.end_after_school_weeks(D("2025-10-15"), 4) == D("2025-11-21")


def test_a_notice_given_in_the_half_term_counts_from_the_first_week_back():
    # 3 Nov (1), 10 (2), 17 (3), 24 (4), 1 Dec (5), 8 Dec (6): six weeks end Friday 12 Dec
    assert CAL.end_after_school_weeks(D("2025-10-29"), 3) == D("2025-11-21")
    assert CAL.end_after_school_weeks(D("2025-10-29"), 6) == D("2025-12-12")


def test_a_short_week_is_a_school_week_and_a_closed_day_moves_the_end():
    # the first week of term (Wed 3 to Fri 5 Sep) counts: 1 Sep week (1), 8 Sep (2), 15 Sep (3)
    assert CAL.end_after_school_weeks(D("2025-09-01"), 3) == D("2025-09-19")
    inset = SchoolCalendar(AUTUMN + (Period("closed", D("2025-11-14"), D("2025-11-14"), "INSET"),))
    assert inset.end_after_school_weeks(D("2025-10-13"), 4) == D("2025-11-13")
    assert not inset.is_school_day(D("2025-11-14")) and inset.is_school_day(D("2025-11-13"))


def test_a_calendar_that_ends_too_soon_says_so():
    with pytest.raises(CalendarGap, match="enter the next term"):
        CAL.end_after_school_weeks(D("2025-12-01"), 4)


def test_school_weeks_between_skips_the_half_term():
    assert CAL.school_weeks_between(D("2025-10-20"), D("2025-11-07")) == 2  # 20 Oct and 3 Nov weeks
    assert CAL.school_weeks_between(D("2025-10-13"), D("2025-10-13")) == 1


def test_a_schools_own_dates_replace_the_authoritys_for_that_year():
    own = (Period("term", D("2025-09-01"), D("2025-10-17"), "Academy autumn 1"),
           Period("term", D("2025-11-03"), D("2025-12-19"), "Academy autumn 2"))
    spring = Period("term", D("2026-01-05"), D("2026-02-13"), "Spring 1")
    next_autumn = Period("term", D("2026-09-02"), D("2026-10-23"), "Autumn 1")
    cal = for_school(AUTUMN + (spring, next_autumn), own)
    assert not cal.is_school_day(D("2025-10-20"))  # the academy's half term is two weeks
    # the whole year is the academy's (it has entered no spring term yet); the next year is the authority's
    assert not cal.is_school_day(D("2026-01-05")) and cal.is_school_day(D("2026-09-02"))
    # 13 Oct (1), [20 and 27 Oct off], 3 Nov (2), 10 Nov (3), 17 Nov (4)
    assert cal.end_after_school_weeks(D("2025-10-13"), 4) == D("2025-11-21")


def test_term_dates_csv_rows_and_rejections():
    rows, errors = parse_csv("school_urn,kind,starts_on,ends_on,name\n,term,2025-09-03,2025-10-24,Autumn 1\n"
                             "123456,closed,2025-11-14,2025-11-14,INSET\n,holiday,2025-10-27,2025-10-31,x\n"
                             ",term,2025-11-03,2025-10-01,backwards\n")
    assert rows == [("", AUTUMN[0]), ("123456", Period("closed", D("2025-11-14"), D("2025-11-14"), "INSET"))]
    assert errors == ["line 4: kind must be term or closed", "line 5: the period ends before it starts"]
    assert parse_csv("a,b\n1,2\n")[1][0].startswith("the first line must name the columns")
