"""The attendance register: the roll, marks, figures per academic year, and the lists.

Figures rules: docs/register.md. Public names of the pure figures code are
re-exported here.
"""
from __future__ import annotations

from .codes import (
    CATEGORY_APPROVED,
    CATEGORY_AUTHORISED,
    CATEGORY_NOT_COUNTED,
    CATEGORY_PRESENT,
    CATEGORY_UNAUTHORISED,
    CODE_MEANINGS,
    CODES,
    PROVISIONAL_NOT_COUNTED,
    Mark,
    codes_with,
)
from .csv_marks import RowError, parse_marks_csv
from .figures import BandThresholds, Figures, band_for, compute_figures, weekly_attendance

__all__ = [
    "BandThresholds",
    "CATEGORY_APPROVED",
    "CATEGORY_AUTHORISED",
    "CATEGORY_NOT_COUNTED",
    "CATEGORY_PRESENT",
    "CATEGORY_UNAUTHORISED",
    "CODES",
    "CODE_MEANINGS",
    "Figures",
    "Mark",
    "PROVISIONAL_NOT_COUNTED",
    "RowError",
    "band_for",
    "codes_with",
    "compute_figures",
    "parse_marks_csv",
    "weekly_attendance",
]
