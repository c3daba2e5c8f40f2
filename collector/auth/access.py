"""Who may do what: roles, scopes and the one place every access check is made.

Roles (an API token has one):

* ``reader`` — an IT lead or an inspector: reads the schools in its scope.
* ``technician`` — reads the schools in its scope and makes enrolment codes for them.
* ``admin`` — everything, within its scope (normally ``all``).

Agents are not API tokens: an agent credential only posts reports for the one
school it was enrolled to (checked at ingest).

Scopes, as written on ``socle-collector token create --scope``:

* ``all`` — every school;
* ``commune:<name>`` — the schools of one commune, by name as in the school
  directory (``commune:Baulon``; case-insensitive);
* ``departement:<code>`` — one département, by code (``departement:035`` or
  ``departement:35``, ``departement:2A``); a school without a recorded
  département is placed by the first three characters of its UAI;
* ``academie:<name>`` — one académie (``academie:Rennes``; case-insensitive).

The API: :func:`parse_scope` (validate a scope string), :func:`covers` (does a
scope cover a school), :func:`allowed` (may a role do an action on a school),
:func:`require` (the same, raising a 403 that says why), :func:`visible` (keep
the schools a token may read).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from fastapi import HTTPException

ROLES = ("reader", "technician", "admin")


class Action(enum.StrEnum):
    """What a caller asks to do."""

    read = "read"  # see a school's readiness and evidence
    enroll = "enroll"  # make an enrolment code for a school
    admin = "admin"  # manage schools and tokens


_GRANTS: dict[str, frozenset[Action]] = {
    "reader": frozenset({Action.read}),
    "technician": frozenset({Action.read, Action.enroll}),
    "admin": frozenset(Action),
}

SCOPE_KINDS = ("all", "commune", "departement", "academie")


class ScopeError(ValueError):
    """A scope string that does not parse."""


class SchoolLike(Protocol):
    """What a scope looks at on a school (an ORM row or a wire model)."""

    @property
    def uai(self) -> str: ...
    @property
    def commune(self) -> str: ...
    @property
    def departement(self) -> str | None: ...
    @property
    def academie(self) -> str | None: ...


S = TypeVar("S", bound=SchoolLike)


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def normalise_departement(code: str) -> str:
    """A département code as UAIs spell it: three characters (``35`` → ``035``, ``2a`` → ``02A``)."""
    code = code.strip().upper()
    return code.zfill(3) if len(code) < 3 else code


def departement_of(school: SchoolLike) -> str:
    """A school's département code: the recorded one, else read from its UAI (620/720 are Corsica)."""
    if school.departement:
        return normalise_departement(school.departement)
    prefix = school.uai[:3]
    return {"620": "02A", "720": "02B"}.get(prefix, prefix)


@dataclass(frozen=True)
class Scope:
    """A parsed scope: ``kind`` is one of :data:`SCOPE_KINDS`; ``value`` is None for ``all``."""

    kind: str
    value: str | None = None

    def __str__(self) -> str:
        return self.kind if self.value is None else f"{self.kind}:{self.value}"


def parse_scope(text: str) -> Scope:
    """Read a scope string (see the module docstring); raises :class:`ScopeError` saying what is wrong."""
    text = text.strip()
    if text == "all":
        return Scope("all")
    kind, sep, value = text.partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if not sep or kind not in SCOPE_KINDS[1:]:
        raise ScopeError(f"scope {text!r} not understood: use all, commune:<name>, "
                         "departement:<code> or academie:<name>")
    if not value or len(value) > 90:
        raise ScopeError(f"scope {text!r}: the {kind} after ':' must be 1 to 90 characters")
    if kind == "departement":
        value = normalise_departement(value)
        if len(value) != 3 or not value.isalnum():
            raise ScopeError(f"scope {text!r}: a département code is 2 or 3 characters (035, 2A, 971)")
    return Scope(kind, value)


def covers(scope: Scope, school: SchoolLike) -> bool:
    """Whether ``scope`` covers ``school``."""
    if scope.kind == "all":
        return True
    assert scope.value is not None
    if scope.kind == "commune":
        return _fold(school.commune) == _fold(scope.value)
    if scope.kind == "academie":
        return school.academie is not None and _fold(school.academie) == _fold(scope.value)
    return departement_of(school) == scope.value


def allowed(role: str, scope: str, action: Action, school: SchoolLike | None = None) -> bool:
    """Whether a token of ``role`` and ``scope`` may do ``action`` (on ``school`` when given)."""
    if action not in _GRANTS.get(role, frozenset()):
        return False
    try:
        parsed = parse_scope(scope)
    except ScopeError:
        return False  # a damaged scope grants nothing
    return school is None or covers(parsed, school)


def require(role: str, scope: str, action: Action, school: SchoolLike | None = None) -> None:
    """Raise a 403 that says why, unless a token of ``role`` and ``scope`` may do ``action``."""
    if action not in _GRANTS.get(role, frozenset()):
        who = sorted(r for r, grants in _GRANTS.items() if action in grants)
        raise HTTPException(403, f"a {role} token may not {_VERB[action]}; "
                                 f"this needs a {' or '.join(who)} token")
    if school is not None and not allowed(role, scope, action, school):
        raise HTTPException(403, f"this token's scope ({scope}) does not cover school {school.uai} "
                                 f"({school.commune}, département {departement_of(school)}, "
                                 f"académie {school.academie or 'unknown'})")


_VERB = {Action.read: "read schools", Action.enroll: "make enrolment codes",
         Action.admin: "administer the collector"}


def visible(role: str, scope: str, schools: Iterable[S]) -> Iterator[S]:
    """The schools among ``schools`` that a token of ``role`` and ``scope`` may read."""
    if Action.read not in _GRANTS.get(role, frozenset()):
        return
    try:
        parsed = parse_scope(scope)
    except ScopeError:
        return
    yield from (s for s in schools if covers(parsed, s))
