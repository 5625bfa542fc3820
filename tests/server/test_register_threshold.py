"""The register's penalty-notice threshold: 10 unauthorised sessions in 10 school weeks."""
from __future__ import annotations

import datetime

from server.register import Mark, compute_figures
from tests.server.register_marks import D, mark, mondays, week


# --- penalty notice threshold: 10 unauthorised in 10 school weeks --------

BEFORE_HALF_TERM = mondays("2024-09-16", 6)  # 16 Sep .. 21 Oct
HALF_TERM = "2024-10-28"
AFTER_HALF_TERM = mondays("2024-11-04", 4)  # 4 Nov .. 25 Nov


def one_o_a_week(weeks: list[str]) -> list[Mark]:
    return [m for monday in weeks for m in week(monday, ["O"] + ["/"] * 9)]


def test_window_spans_a_half_term_with_no_sessions() -> None:
    # 6 school weeks, a week's holiday, 4 school weeks: 10 school weeks, 10 O.
    figures = compute_figures(one_o_a_week(BEFORE_HALF_TERM + AFTER_HALF_TERM))
    assert figures.penalty_threshold_met is True
    assert figures.unauthorised_last_10_weeks == 10
    assert figures.threshold_sessions == [
        {"date": monday, "session": "AM", "code": "O"}
        for monday in BEFORE_HALF_TERM + AFTER_HALF_TERM
    ]
    assert (figures.possible_sessions, figures.attendance_pct) == (100, 90.0)


def test_same_sessions_over_eleven_school_weeks_do_not_meet_it() -> None:
    # The half-term week is now a school week (pupil present all week).
    marks = one_o_a_week(BEFORE_HALF_TERM + AFTER_HALF_TERM) + week(HALF_TERM, "/")
    figures = compute_figures(marks)
    assert figures.penalty_threshold_met is False
    assert figures.threshold_sessions == []
    assert figures.unauthorised_last_10_weeks == 9  # weeks 23 Sep .. 25 Nov


def test_school_weeks_come_from_the_school_when_given() -> None:
    only_absences = [mark(monday, "AM", "O") for monday in BEFORE_HALF_TERM + AFTER_HALF_TERM]
    # Without school_weeks: the pupil's own 10 marked weeks are the school weeks.
    assert compute_figures(only_absences).penalty_threshold_met is True
    # The school had sessions every week, half-term included: 11 school weeks.
    school = BEFORE_HALF_TERM + [HALF_TERM] + AFTER_HALF_TERM
    figures = compute_figures(only_absences, school_weeks=[D(m) for m in school])
    assert figures.penalty_threshold_met is False
    assert figures.unauthorised_last_10_weeks == 9
    # Any day of a week names that week.
    wednesdays = [D(m) + datetime.timedelta(days=2) for m in school]
    assert compute_figures(only_absences, school_weeks=wednesdays).penalty_threshold_met is False


def test_term_time_holiday_ten_g_in_one_week() -> None:
    marks = week("2024-09-09", "/") + week("2024-09-16", "G") + week("2024-09-23", "/")
    figures = compute_figures(marks)
    assert figures.penalty_threshold_met is True
    assert figures.unauthorised_absences == 10
    assert figures.unauthorised_last_10_weeks == 10
    assert len(figures.threshold_sessions) == 10
    assert figures.threshold_sessions[:3] == [
        {"date": "2024-09-16", "session": "AM", "code": "G"},
        {"date": "2024-09-16", "session": "PM", "code": "G"},
        {"date": "2024-09-17", "session": "AM", "code": "G"},
    ]
    assert figures.threshold_sessions[-1] == {"date": "2024-09-20", "session": "PM", "code": "G"}
    assert figures.band == "persistent"  # 10 / 30 = 33.3%


def test_nine_unauthorised_is_not_enough_and_authorised_do_not_count() -> None:
    figures = compute_figures(week("2024-09-16", ["G"] * 9 + ["I"]))
    assert figures.penalty_threshold_met is False
    assert figures.unauthorised_last_10_weeks == 9
    assert figures.threshold_sessions == []


def test_any_mix_of_g_n_o_u_counts() -> None:
    figures = compute_figures(week("2024-09-16", ["G", "N", "O", "U"] * 2 + ["N", "U"]))
    assert figures.penalty_threshold_met is True
    assert [s["code"] for s in figures.threshold_sessions] == ["G", "N", "O", "U"] * 2 + ["N", "U"]


def test_threshold_sessions_are_those_of_the_latest_qualifying_window() -> None:
    weeks = mondays("2024-01-08", 26)  # 26 consecutive school weeks
    marks = [m for monday in weeks for m in week(monday, "/")]
    marks += week(weeks[0], "O")  # 10 O in week 1 (replaces the / marks: last wins)
    marks += week(weeks[20], "G")  # 10 G in week 21
    marks += [mark((D(weeks[24]) + datetime.timedelta(days=1)).isoformat(), "PM", "U")]
    figures = compute_figures(marks)
    assert figures.penalty_threshold_met is True
    # latest qualifying window = the last 10 school weeks (17..26): 10 G + 1 U
    assert len(figures.threshold_sessions) == 11
    assert {s["code"] for s in figures.threshold_sessions} == {"G", "U"}
    assert figures.threshold_sessions[-1] == {"date": "2024-06-25", "session": "PM", "code": "U"}
    assert figures.unauthorised_last_10_weeks == 11
    assert figures.unauthorised_absences == 21


def test_old_window_still_flags_but_recent_count_is_low() -> None:
    weeks = mondays("2024-01-08", 15)
    marks = [m for monday in weeks for m in week(monday, "/")] + week(weeks[0], "N")
    figures = compute_figures(marks)
    assert figures.penalty_threshold_met is True
    assert {s["date"] for s in figures.threshold_sessions} == {
        "2024-01-08", "2024-01-09", "2024-01-10", "2024-01-11", "2024-01-12"
    }
    assert figures.unauthorised_last_10_weeks == 0  # weeks 6..15 have none


def test_scattered_pattern_o_then_weekly_u_crosses_the_threshold() -> None:
    # 4 O in week 1, then one U a week: the 10th unauthorised session lands in week 7.
    weeks = mondays("2025-01-06", 7)
    marks = week(weeks[0], ["O"] * 4 + ["/"] * 6)
    for monday in weeks[1:]:
        marks += week(monday, ["U"] + ["/"] * 9)
    assert compute_figures(marks).penalty_threshold_met is True
    assert compute_figures(marks[:-10]).penalty_threshold_met is False  # without week 7: 9
