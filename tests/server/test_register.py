from __future__ import annotations

import datetime

import pytest

from server.register import (
    CATEGORY_APPROVED,
    CATEGORY_AUTHORISED,
    CATEGORY_NOT_COUNTED,
    CATEGORY_PRESENT,
    CATEGORY_UNAUTHORISED,
    CODES,
    PROVISIONAL_NOT_COUNTED,
    BandThresholds,
    Figures,
    Mark,
    RowError,
    band_for,
    codes_with,
    compute_figures,
    parse_marks_csv,
    weekly_attendance,
)

UPN = "A123456789012"
D = datetime.date.fromisoformat
SLOTS = [(day, session) for day in range(5) for session in ("AM", "PM")]  # Mon AM .. Fri PM


def mark(day: str, session: str, code: str, upn: str = UPN) -> Mark:
    return Mark(upn=upn, date=D(day), session=session, code=code)


def week(monday: str, codes: list[str] | str = "/") -> list[Mark]:
    """Marks for the sessions of one week, Monday AM onwards, one per code given."""
    codes = [codes] * 10 if isinstance(codes, str) else codes
    start = D(monday)
    return [
        Mark(UPN, start + datetime.timedelta(days=day), session, code)
        for (day, session), code in zip(SLOTS, codes)
    ]


def mondays(first: str, count: int) -> list[str]:
    return [(D(first) + datetime.timedelta(weeks=n)).isoformat() for n in range(count)]


def sessions(codes: list[str]) -> list[Mark]:
    """One mark per code on consecutive weekday sessions from Monday 2 September 2024."""
    out: list[Mark] = []
    for n, monday in enumerate(mondays("2024-09-02", (len(codes) + 9) // 10)):
        out += week(monday, codes[10 * n : 10 * n + 10])
    return out


# --- the code table -------------------------------------------------------

EXPECTED_TABLE = {
    CATEGORY_PRESENT: ["/", "\\", "L"],
    CATEGORY_APPROVED: ["K", "V", "P", "W", "B"],
    CATEGORY_AUTHORISED: ["C1", "C2", "C", "M", "J1", "S", "T", "R", "I", "E"],
    CATEGORY_UNAUTHORISED: ["G", "N", "O", "U"],
    CATEGORY_NOT_COUNTED: ["D", "X", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Z", "#"],
}


def test_code_table_is_the_domain_table() -> None:
    expected = {code: cat for cat, codes in EXPECTED_TABLE.items() for code in codes}
    assert dict(CODES) == expected
    assert len(CODES) == 34
    assert PROVISIONAL_NOT_COUNTED == {"Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7"}


def test_every_category_is_counted_in_its_place() -> None:
    all_codes = [code for codes in EXPECTED_TABLE.values() for code in codes]
    figures = compute_figures(sessions(all_codes))
    # present 3 + approved 5 = 8 attended; 10 authorised; 4 unauthorised; 12 not counted
    assert figures.attended_sessions == 8
    assert figures.authorised_absences == 10
    assert figures.unauthorised_absences == 4
    assert figures.possible_sessions == 22
    assert figures.attendance_pct == 36.4  # 8 / 22 = 36.36..%
    assert figures.band == "severe"  # 14 / 22 = 63.6% absent


@pytest.mark.parametrize("category", list(EXPECTED_TABLE))
def test_each_category_alone(category: str) -> None:
    codes = EXPECTED_TABLE[category]
    figures = compute_figures(sessions(codes))
    n = len(codes)
    expected = {
        CATEGORY_PRESENT: (n, n, 0, 0, 100.0, "ok"),
        CATEGORY_APPROVED: (n, n, 0, 0, 100.0, "ok"),
        CATEGORY_AUTHORISED: (n, 0, n, 0, 0.0, "severe"),
        CATEGORY_UNAUTHORISED: (n, 0, 0, n, 0.0, "severe"),
        CATEGORY_NOT_COUNTED: (0, 0, 0, 0, 0.0, "ok"),
    }[category]
    assert (
        figures.possible_sessions,
        figures.attended_sessions,
        figures.authorised_absences,
        figures.unauthorised_absences,
        figures.attendance_pct,
        figures.band,
    ) == expected


@pytest.mark.parametrize("code", EXPECTED_TABLE[CATEGORY_NOT_COUNTED])
def test_not_counted_codes_leave_possible_sessions(code: str) -> None:
    # 9 present + 1 not counted: 9 possible, 100% (were it counted as absence: 10, 90%)
    figures = compute_figures(sessions(["/"] * 9 + [code]))
    assert figures.possible_sessions == 9
    assert figures.attended_sessions == 9
    assert figures.attendance_pct == 100.0
    assert figures.band == "ok"


def test_provisional_codes_can_be_counted_otherwise() -> None:
    table = codes_with(dict.fromkeys(PROVISIONAL_NOT_COUNTED, CATEGORY_AUTHORISED))
    marks = sessions(["/"] * 8 + ["Y1", "Q"])
    assert compute_figures(marks).possible_sessions == 8
    figures = compute_figures(marks, codes=table)
    assert figures.possible_sessions == 10
    assert figures.authorised_absences == 2
    assert figures.band == "persistent"  # 2 / 10 = 20%
    assert CODES["Y1"] == CATEGORY_NOT_COUNTED  # the module table is untouched


def test_code_table_override_rejects_unknown_category() -> None:
    with pytest.raises(ValueError, match="unknown categories"):
        codes_with({"Q": "sort_of_absent"})


def test_lower_case_letter_codes_are_accepted() -> None:
    figures = compute_figures(sessions(["l", "j1", "o", "y1"]))
    assert (figures.attended_sessions, figures.authorised_absences) == (1, 1)
    assert (figures.unauthorised_absences, figures.possible_sessions) == (1, 3)


def test_unknown_code_is_never_guessed() -> None:
    with pytest.raises(ValueError, match="unknown attendance code 'H'"):
        compute_figures(sessions(["/", "H"]))


def test_marks_of_two_pupils_are_refused() -> None:
    with pytest.raises(ValueError, match="one pupil"):
        compute_figures([mark("2024-09-02", "AM", "/"), mark("2024-09-02", "AM", "/", upn="B2")])


def test_same_session_twice_last_one_wins() -> None:
    first = compute_figures([mark("2024-09-02", "AM", "O"), mark("2024-09-02", "AM", "/")])
    assert (first.possible_sessions, first.attended_sessions) == (1, 1)
    assert first.unauthorised_absences == 0
    second = compute_figures([mark("2024-09-02", "AM", "/"), mark("2024-09-02", "AM", "O")])
    assert (second.possible_sessions, second.attended_sessions) == (1, 0)
    assert second.unauthorised_absences == 1


# --- bands ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("absent", "possible", "band"),
    [
        (0, 0, "ok"),
        (0, 380, "ok"),
        (4999, 100000, "ok"),  # 4.999%
        (5000, 100000, "at_risk"),  # exactly 5%
        (1, 20, "at_risk"),  # exactly 5%
        (1, 21, "ok"),  # 4.76%
        (9999, 100000, "at_risk"),  # 9.999%
        (10000, 100000, "persistent"),  # exactly 10%
        (38, 380, "persistent"),  # exactly 10% of a full year
        (37, 380, "at_risk"),  # 9.74%
        (499, 1000, "persistent"),  # 49.9%
        (500, 1000, "severe"),  # exactly 50%
        (190, 380, "severe"),
        (380, 380, "severe"),
    ],
)
def test_band_edges(absent: int, possible: int, band: str) -> None:
    assert band_for(absent, possible) == band


def test_band_edges_are_exact_for_any_threshold() -> None:
    # 0.07 * 100 == 7.000000000000001 in floats: 7 of 100 must still reach 7%.
    thresholds = BandThresholds(at_risk=0.07)
    assert band_for(7, 100, thresholds) == "at_risk"
    assert band_for(6999, 100000, thresholds) == "ok"
    assert band_for(5, 100, thresholds) == "ok"
    assert band_for(29, 100, BandThresholds(persistent=0.29)) == "persistent"
    assert band_for(28, 100, BandThresholds(persistent=0.29)) == "at_risk"


def test_band_thresholds_are_checked() -> None:
    with pytest.raises(ValueError, match="at_risk <= persistent"):
        BandThresholds(at_risk=0.2)
    with pytest.raises(ValueError):
        band_for(5, 4)
    with pytest.raises(ValueError):
        band_for(1, 0)


def test_figures_band_follows_authorised_plus_unauthorised() -> None:
    # 18 present, 1 illness, 1 unauthorised: 2 / 20 = 10% -> persistent
    figures = compute_figures(sessions(["/"] * 18 + ["I", "O"]))
    assert figures.band == "persistent"
    assert figures.attendance_pct == 90.0
    # 19 present, 1 illness: 1 / 20 = 5% -> at_risk
    assert compute_figures(sessions(["/"] * 19 + ["I"])).band == "at_risk"


# --- attendance % --------------------------------------------------------

@pytest.mark.parametrize(
    ("attended", "possible", "pct"),
    [
        (1, 16, 6.3),  # 6.25 -> half up (ties-to-even would give 6.2)
        (5, 16, 31.3),  # 31.25 -> half up (ties-to-even would give 31.2)
        (1, 8, 12.5),
        (2, 3, 66.7),
        (1, 3, 33.3),
        (399, 400, 99.8),  # 99.75
        (379, 380, 99.7),  # 99.736..
        (0, 10, 0.0),
        (10, 10, 100.0),
    ],
)
def test_attendance_pct_one_decimal_half_up(attended: int, possible: int, pct: float) -> None:
    figures = compute_figures(sessions(["/"] * attended + ["I"] * (possible - attended)))
    assert figures.possible_sessions == possible
    assert figures.attendance_pct == pct


def test_no_marks_at_all() -> None:
    assert compute_figures([]) == Figures(0, 0, 0, 0, 0.0, "ok", 0, False, [])


def test_register_fields() -> None:
    figures = compute_figures(sessions(["/"] * 7 + ["M", "G", "D"]))
    assert figures.register_fields() == {
        "possible_sessions": 9,
        "attended_sessions": 7,
        "authorised_absences": 1,
        "unauthorised_absences": 1,
        "attendance_pct": 77.8,
        "band": "persistent",  # 2 / 9 = 22.2%
        "unauthorised_last_10_weeks": 1,
        "penalty_threshold_met": False,
    }


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


# --- weekly attendance ---------------------------------------------------

def test_weekly_attendance() -> None:
    marks = (
        week("2024-09-09", ["/"] * 7 + ["I", "O", "D"])
        + week("2024-09-02", ["/"] * 2 + ["K"] + ["I"] * 5)
        + week("2024-10-28", "#")
    )
    assert weekly_attendance(marks) == [
        {"week": "2024-09-02", "possible": 8, "attended": 3, "pct": 37.5},
        {"week": "2024-09-09", "possible": 9, "attended": 7, "pct": 77.8},
        {"week": "2024-10-28", "possible": 0, "attended": 0, "pct": 0.0},
    ]


# --- CSV import ----------------------------------------------------------

KNOWN = {"A1", "A2"}


def test_parse_good_file_with_loose_header() -> None:
    text = " Code ,UPN, date,SESSION \r\n/,A1,2024-09-02,AM\r\n\\,A1,2024-09-02,PM\r\n"
    marks, errors = parse_marks_csv(text, KNOWN.__contains__)
    assert errors == []
    assert marks == [
        Mark("A1", D("2024-09-02"), "AM", "/"),
        Mark("A1", D("2024-09-02"), "PM", "\\"),
    ]


def test_parse_reports_bad_rows_with_line_and_reason_and_keeps_good_ones() -> None:
    text = "\n".join(
        [
            "upn,date,session,code",  # 1
            "A1,2024-09-02,AM,/",  # 2 good
            "A1,2024-09-02,PM,ZZ",  # 3 unknown code
            "B9,2024-09-02,AM,/",  # 4 unknown pupil
            "A1,2024-02-30,AM,/",  # 5 no such day
            "A1,02/09/2024,AM,/",  # 6 wrong date format
            "A1,2024-09-03,XM,/",  # 7 bad session
            "A1,2024-09-03,AM",  # 8 too few columns
            ",2024-09-03,AM,/",  # 9 empty upn
            "A1,2024-09-02,AM,O",  # 10 conflicts with line 2
            "A1,2024-09-02,AM,/",  # 11 exact repeat of line 2: dropped quietly
            "",  # 12 blank line: skipped
            " A2 ,2024-09-03,pm,o",  # 13 good (normalised)
            'A2,"2024-09-04",AM,j1',  # 14 good
            "A1,2024-09-03,AM,/,extra",  # 15 too many columns
            "A1,2024-13-01,AM,h",  # 16 two problems
            "A2,2024-09-05,PM,\\",  # 17 good
            "",
        ]
    )
    marks, errors = parse_marks_csv(text, KNOWN.__contains__)
    assert marks == [
        Mark("A1", D("2024-09-02"), "AM", "/"),
        Mark("A2", D("2024-09-03"), "PM", "O"),
        Mark("A2", D("2024-09-04"), "AM", "J1"),
        Mark("A2", D("2024-09-05"), "PM", "\\"),
    ]
    assert [(e.line, e.reason) for e in errors] == [
        (3, "unknown attendance code 'ZZ'"),
        (4, "unknown pupil 'B9'"),
        (5, "bad date '2024-02-30': no such day"),
        (6, "bad date '02/09/2024': expected YYYY-MM-DD"),
        (7, "bad session 'XM': expected AM or PM"),
        (8, "expected 4 columns, found 3"),
        (9, "empty upn"),
        (10, "duplicate of line 2 with a different code ('/' then 'O')"),
        (15, "expected 4 columns, found 5"),
        (16, "bad date '2024-13-01': no such day; unknown attendance code 'h'"),
    ]
    assert errors[0].raw == {"upn": "A1", "date": "2024-09-02", "session": "PM", "code": "ZZ"}
    assert errors[5].raw == {"upn": "A1", "date": "2024-09-03", "session": "AM"}
    assert errors[8].raw == {
        "upn": "A1", "date": "2024-09-03", "session": "AM", "code": "/", "column_5": "extra"
    }
    assert all(isinstance(e, RowError) for e in errors)


def test_parse_line_numbers_are_physical_lines() -> None:
    # A quoted field over two lines: the next record starts on line 5.
    text = (
        "upn,date,session,code\r\n"
        "A1,2024-09-02,AM,/\r\n"
        'A1,2024-09-02,PM,"O\r\nO"\r\n'
        "A1,2024-09-03,XX,/\r\n"
    )
    marks, errors = parse_marks_csv(text)
    assert len(marks) == 1
    assert [(e.line, e.reason) for e in errors] == [
        (3, "unknown attendance code 'O\\r\\nO'"),
        (5, "bad session 'XX': expected AM or PM"),
    ]


def test_parse_without_known_upns_accepts_any_pupil_and_asks_once_per_pupil() -> None:
    text = "upn,date,session,code\nZ9,2024-09-02,AM,/\nZ9,2024-09-02,PM,/\n"
    marks, errors = parse_marks_csv(text)
    assert (len(marks), errors) == (2, [])
    asked: list[str] = []
    marks, errors = parse_marks_csv(text, lambda upn: asked.append(upn) or False)
    assert asked == ["Z9"]
    assert marks == [] and [e.line for e in errors] == [2, 3]


def test_parse_accepts_a_byte_order_mark() -> None:
    marks, errors = parse_marks_csv("\ufeffupn,date,session,code\nA1,2024-09-02,AM,/\n")
    assert (len(marks), errors) == (1, [])


def test_parse_honours_a_code_table_override() -> None:
    text = "upn,date,session,code\nA1,2024-09-02,AM,Q\n"
    without_q = {code: cat for code, cat in CODES.items() if code != "Q"}
    marks, errors = parse_marks_csv(text, codes=without_q)
    assert marks == [] and errors[0].reason == "unknown attendance code 'Q'"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "A1,2024-09-02,AM,/\n",  # no header: data on line 1
        "\nupn,date,session,code\nA1,2024-09-02,AM,/\n",  # header not on line 1
        "upn,date,session\nA1,2024-09-02,AM\n",  # a column missing
        "upn,date,session,code,note\n",  # an extra column
        "upn,upn,session,code\n",  # a column twice
        "pupil,date,session,code\n",  # a wrong name
    ],
)
def test_parse_refuses_a_file_without_the_header(text: str) -> None:
    with pytest.raises(ValueError, match="header"):
        parse_marks_csv(text)
