"""The UAI code that identifies a French school: 7 characters, then a check letter."""

from __future__ import annotations

import re

CHECK_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_SHAPE = re.compile(r"^[0-9]{7}[A-Z]$")


class UaiError(ValueError):
    """A UAI that is malformed or whose check letter is wrong."""


def check_letter(digits: str) -> str:
    """Return the check letter of the 7 leading digits (the number modulo 23)."""
    return CHECK_LETTERS[int(digits) % 23]


def validate_uai(value: str) -> str:
    """Return the UAI upper-cased, or raise UaiError saying what is wrong.

    Corsica's codes start 620 (Corse-du-Sud) and 720 (Haute-Corse): the
    département letters 2A/2B never appear in a UAI, so the 7 characters are
    always digits.
    """
    uai = value.strip().upper()
    if not _SHAPE.match(uai):
        raise UaiError(f"UAI {value!r} must be 7 digits followed by a check letter, e.g. 0350122T")
    expected = check_letter(uai[:7])
    if uai[7] != expected:
        raise UaiError(f"UAI {uai}: wrong check letter {uai[7]!r}, expected {expected!r}")
    return uai
