"""UAI validation against the real codes of the national school directory."""

from __future__ import annotations

import csv

import pytest

from config.uai import UaiError, check_letter, validate_uai
from tests.conftest import FIXTURES


def _codes(name: str, column: str) -> list[str]:
    with (FIXTURES / "schools" / name).open(encoding="utf-8-sig", newline="") as fh:
        return [row[column] for row in csv.DictReader(fh, delimiter=";")]


def test_every_code_of_the_ille_et_vilaine_directory_is_valid() -> None:
    codes = _codes("annuaire-education-2023-dep035.csv", "Identifiant_de_l_etablissement")
    assert len(codes) == 996
    assert all(validate_uai(c) == c for c in codes)


def test_corsica_and_overseas_codes_are_valid() -> None:
    codes = _codes("geoloc-etablissements-2024-colleges-dep015-corse-outremer.csv", "numero_uai")
    corsica = [c for c in codes if c.startswith(("620", "720"))]
    assert len(corsica) == 32
    assert all(validate_uai(c) == c for c in codes)


@pytest.mark.parametrize(("digits", "letter"), [("0350122", "T"), ("0150014", "J"), ("0150024", "V")])
def test_check_letter_is_the_number_modulo_23(digits: str, letter: str) -> None:
    assert check_letter(digits) == letter
    assert "ABCDEFGHJKLMNPRSTUVWXYZ"[int(digits) % 23] == letter


def test_lower_case_and_spaces_are_normalised() -> None:
    assert validate_uai(" 0350122t ") == "0350122T"


@pytest.mark.parametrize(("code", "message"), [
    ("0350122A", "wrong check letter 'A', expected 'T'"),
    ("035012T", "must be 7 digits followed by a check letter"),
    ("2A00001X", "must be 7 digits followed by a check letter"),
    ("", "must be 7 digits"),
])
def test_wrong_codes_are_refused_with_the_reason(code: str, message: str) -> None:
    with pytest.raises(UaiError, match=message):
        validate_uai(code)
