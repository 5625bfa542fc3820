"""The register's arithmetic: the code table, bands, attendance % and weekly attendance.

(The penalty-notice threshold: test_register_threshold.py; parsing a marks CSV:
test_register_parse.py.)
"""
from __future__ import annotations

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
    band_for,
    codes_with,
    compute_figures,
    weekly_attendance,
)
from tests.server.register_marks import mark, sessions, week


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
