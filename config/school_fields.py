"""The rules every text a school record holds must meet, before any database sees it.

SQLite stores whatever it is given; PostgreSQL refuses a string longer than its
column or holding a NUL byte, and one refused row aborts the transaction it is
in. So each school field has an explicit length (in characters, as PostgreSQL's
``varchar(n)`` counts them) and one character rule: a single line of printable
text — no NUL, no other control character (C0, DEL, C1), no line or paragraph
separator, no lone surrogate. The same input is then accepted, or refused with
the same message, on both databases. ``collector/db/models.py`` sizes its
columns from :data:`LIMITS`; a test checks that each column is at least as
long as its rule.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from config.uai import validate_uai

# Characters, per field (the columns of ``schools`` and ``school_contracts``).
LIMITS: dict[str, int] = {
    "name": 200,
    "commune": 200,
    "commune_code": 5,
    "departement": 3,
    "academie": 100,
    "school_type": 100,
    "circonscription": 100,
    "email": 254,  # RFC 5321's longest forward path, less its angle brackets
    "classes_file": 200,
    "provider": 100,
    "contract_source": 200,
}
# Unicode categories refused anywhere: control characters (NUL included), line and paragraph
# separators, and surrogates (no UTF-8 form: PostgreSQL cannot store them).
REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})
_INSEE = re.compile(r"^(?:[0-9]{5}|2[AB][0-9]{3})$")
_DEPARTEMENT = re.compile(r"^(?:[0-9]{2,3}|0?2[AB])$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def plain_text(value: str) -> str:
    """``value`` if it is one line of printable text; a ValueError naming the first bad character."""
    for ch in value:
        if unicodedata.category(ch) in REFUSED_CATEGORIES:
            raise ValueError(f"contains the control character U+{ord(ch):04X}: a school's text is one "
                             "line of printable characters")
    return value


def insee_code(value: str) -> str:
    """An INSEE commune code (``35016``, Corsica ``2A004``), upper-cased; a ValueError otherwise."""
    code = value.strip().upper()
    if not _INSEE.match(code):
        raise ValueError(f"commune code {value!r} is not an INSEE code: 5 digits (35016), or 2A/2B "
                         "and 3 digits in Corsica (2A004)")
    return code


def departement_code(value: str) -> str:
    """A département code as UAIs spell it (``35`` → ``035``, ``2a`` → ``02A``); a ValueError otherwise."""
    code = value.strip().upper()
    if not _DEPARTEMENT.match(code):
        raise ValueError(f"département {value!r} is not a code: 2 or 3 characters (035, 2A, 971)")
    return code.zfill(3)


def email_address(value: str) -> str:
    """A mail address of the usual shape (one ``@``, a dot after it, no spaces); a ValueError otherwise."""
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not a mail address")
    return value


def _length(field: str, min_length: int = 1) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=LIMITS[field])


_PLAIN = AfterValidator(plain_text)
SchoolName = Annotated[str, _length("name"), _PLAIN]
CommuneName = Annotated[str, _length("commune"), _PLAIN]
Academie = Annotated[str, _length("academie"), _PLAIN]
SchoolType = Annotated[str, _length("school_type"), _PLAIN]
Circonscription = Annotated[str, _length("circonscription"), _PLAIN]
Email = Annotated[str, _length("email", 3), _PLAIN, AfterValidator(email_address)]
Provider = Annotated[str, _length("provider"), _PLAIN]
SourceText = Annotated[str, _length("classes_file"), _PLAIN]
CommuneCode = Annotated[str, StringConstraints(max_length=LIMITS["commune_code"] + 10),
                        AfterValidator(insee_code)]
DepartementCode = Annotated[str, StringConstraints(max_length=LIMITS["departement"] + 10),
                            AfterValidator(departement_code)]
UaiCode = Annotated[str, StringConstraints(max_length=20), AfterValidator(validate_uai)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]  # pupils, staff: far inside a 32-bit integer column
ClassCount = Annotated[int, Field(ge=0, le=10_000)]
