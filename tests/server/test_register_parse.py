"""Parsing a marks CSV for the register: a loose header, bad rows reported by line with the
good ones kept, unknown pupils, a byte order mark, a code table override."""
from __future__ import annotations

import pytest

from server.register import CODES, Mark, RowError, parse_marks_csv
from tests.server.register_marks import D


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
