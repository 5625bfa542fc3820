"""Unique pupil numbers (UPNs): the DfE format and its check letter.

A UPN is 13 characters: a check letter, then the local authority number (3
digits), the DfE establishment number (4 digits), the last two digits of the
year of allocation, and a 3-character serial. A permanent UPN's serial is 3
digits; a *temporary* UPN's serial is 2 digits and a letter (DfE: "Unique
pupil numbers (UPN): a guide for schools and local authorities"; the UK
Government Data Standards Catalogue, "Unique Pupil Number" 2.0: formats
``Annnnnnnnnnnn`` and ``AnnnnnnnnnnnA``).

The check letter: multiply characters 2-13 by the weights 2-13, add them up
and take the remainder modulo 23; 0-22 map to ``ABCDEFGHJKLMNPQRTUVWXYZ`` (A-Z
without I, O and S). A temporary UPN's final letter counts as its position in
that same list (A = 0, B = 1, ... Z = 22), and I, O and S are not used there
either.
"""
from __future__ import annotations

import re

CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # A-Z without I, O, S: remainder 0-22
_VALUE = {letter: i for i, letter in enumerate(CHECK_LETTERS)}
_SHAPE = re.compile(r"[A-Z]\d{11}[0-9A-Z]")


def check_letter(body: str) -> str:
    """The check letter of the 12 characters after it (11 digits, then a digit or a letter)."""
    if len(body) != 12 or not body[:11].isdigit() or not (body[11].isdigit() or body[11] in _VALUE):
        raise ValueError(f"not the 12 characters of a UPN after its check letter: {body!r}")
    total = sum(weight * (int(ch) if ch.isdigit() else _VALUE[ch])
                for weight, ch in zip(range(2, 14), body))
    return CHECK_LETTERS[total % 23]


def upn_error(upn: str) -> str | None:
    """None for a well-formed UPN (permanent or temporary), else why it is not one.

    The UPN is taken as given: callers strip and upper-case it first if they mean to.
    """
    if not isinstance(upn, str) or not upn:
        return "empty UPN"
    if len(upn) != 13:
        return f"a UPN has 13 characters, not {len(upn)}"
    if not _SHAPE.fullmatch(upn):
        return "a UPN is a letter, 11 digits and a final digit (or, in a temporary UPN, a letter)"
    if upn[12] in "IOS":
        return "a temporary UPN never ends in I, O or S"
    if upn[0] in "IOS":
        return f"wrong check letter {upn[0]!r}: I, O and S are never check letters (expected {check_letter(upn[1:])})"
    expected = check_letter(upn[1:])
    if upn[0] != expected:
        return f"wrong check letter {upn[0]!r} (expected {expected})"
    return None


def is_temporary(upn: str) -> bool:
    """A well-formed temporary UPN (its 13th character is a letter)."""
    return upn_error(upn) is None and upn[12].isalpha()


def make_upn(serial: str | int) -> str:
    """A valid UPN for fixtures, tests and benchmarks.

    ``serial`` gives the 12 characters after the check letter: an int or a
    string of digits, left-padded with zeros to 12 (an LA number of 000 is not
    a real authority, so generated numbers never collide with real ones), or
    exactly 12 characters in the temporary form (11 digits and a letter).
    """
    text = str(serial)
    if isinstance(serial, int) or text.isdigit():
        if int(text) < 0 or len(text) > 12:
            raise ValueError(f"a UPN serial is at most 12 digits: {serial!r}")
        text = text.zfill(12)
    return check_letter(text) + text
