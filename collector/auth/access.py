"""Who may do what: roles, scopes and the one place every access check is made.

Roles (an API token has one):

* ``reader`` — an IT lead or an inspector: reads the schools in its scope.
* ``technician`` — reads the schools in its scope and makes enrolment codes for them.
* ``admin`` — everything, within its scope (normally ``all``).

Agents are not API tokens: an agent credential only posts reports for the one
school it was enrolled to (checked at ingest).

Scopes, as written on ``socle-collector token create --scope``:

* ``all`` — every school;
* ``commune:<INSEE code>`` — the schools of one commune, by the code the school
  directory gives (``Code_commune``): ``commune:35016`` (Baulon), ``commune:2A004``;
  or by name and département, a readable alias: ``commune:Baulon (35)``
  (case-insensitive). A name alone is refused: commune names repeat across
  France (Saint-Denis is in 93 and in 974);
* ``circonscription:<UAI>`` — the primary schools of one inspection district, by
  the circonscription's own UAI (``code_circonscription`` in the directory); or by
  name and département: ``circonscription:Bruz (35)`` (the directory's name, with
  or without its "Circonscription d'inspection du 1er degré de " prefix);
* ``departement:<code>`` — one département, by code (``departement:035`` or
  ``departement:35``, ``departement:2A``); a school without a recorded
  département is placed by the first three characters of its UAI;
* ``academie:<name>`` — one académie (``academie:Rennes``; case-insensitive).

A refusal names the token's own scope and the school asked for, never where that
school is (its commune, département or académie).

The API: :func:`parse_scope` (validate a scope string), :func:`covers` (does a
scope cover a school), :func:`allowed` (may a role do an action on a school),
:func:`require` (the same, raising a 403 that says why), :func:`visible` (keep
the schools a token may read).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from fastapi import HTTPException

from config.school_fields import departement_code, insee_code, plain_text
from config.uai import validate_uai

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

SCOPE_KINDS = ("all", "commune", "circonscription", "departement", "academie")
SCOPE_SYNTAX = ("all, commune:<INSEE code>, commune:<name> (<département>), circonscription:<UAI>, "
                "circonscription:<name> (<département>), departement:<code> or academie:<name>")
# The directory's circonscription names start so; a scope may leave it out.
CIRCONSCRIPTION_PREFIXES = ("circonscription d'inspection du 1er degré de ",
                            "circonscription d'inspection du 1er degré du ",
                            "circonscription d'inspection du 1er degré des ",
                            "circonscription d'inspection du 1er degré d'")


class ScopeError(ValueError):
    """A scope string that does not parse."""


class SchoolLike(Protocol):
    """What a scope looks at on a school (an ORM row or a wire model)."""

    @property
    def uai(self) -> str: ...
    @property
    def commune(self) -> str: ...
    @property
    def commune_code(self) -> str | None: ...
    @property
    def circonscription(self) -> str | None: ...
    @property
    def circonscription_code(self) -> str | None: ...
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
    return school_departement(school.departement, school.uai)


def school_departement(recorded: str | None, uai: str) -> str:
    """:func:`departement_of` from a school's recorded département and its UAI."""
    if recorded:
        return normalise_departement(recorded)
    prefix = uai[:3]
    return {"620": "02A", "720": "02B"}.get(prefix, prefix)


@dataclass(frozen=True)
class Scope:
    """A parsed scope: ``kind`` is one of :data:`SCOPE_KINDS`; ``value`` is None for ``all``.

    A commune's or circonscription's value is its code, or its alias ``<name> (<département>)`` with
    the département as UAIs spell it (``Baulon (035)``).
    """

    kind: str
    value: str | None = None

    def __str__(self) -> str:
        return self.kind if self.value is None else f"{self.kind}:{self.value}"

    @property
    def alias(self) -> tuple[str, str] | None:
        """(name, département) of an alias scope; None for a code or another kind."""
        if self.kind not in ("commune", "circonscription") or self.value is None:
            return None
        m = _ALIAS.match(self.value)
        return None if m is None else (m["name"], m["dep"])


_ALIAS = re.compile(r"^(?P<name>.+?)\s*\(\s*(?P<dep>[^()]+?)\s*\)$")


def _place(kind: str, value: str, text: str) -> str:
    """A commune's or circonscription's scope value: its code, or its name and département."""
    try:
        return insee_code(value) if kind == "commune" else validate_uai(value)
    except ValueError:
        pass
    m = _ALIAS.match(value)
    if m is None:
        example = ("commune:35016 (an INSEE code, the directory's Code_commune)" if kind == "commune"
                   else "circonscription:0941397H (its UAI, the directory's code_circonscription)")
        raise ScopeError(f"scope {text!r}: a {kind} name alone is ambiguous (names repeat across France: "
                         f"Saint-Denis is in 93 and in 974); write {example} or {kind}:{value} "
                         "(<département>)")
    try:
        dep = departement_code(m["dep"])
    except ValueError as exc:
        raise ScopeError(f"scope {text!r}: {exc}") from None
    return f"{' '.join(m['name'].split())} ({dep})"


def parse_scope(text: str) -> Scope:
    """Read a scope string (see the module docstring); raises :class:`ScopeError` saying what is wrong."""
    text = text.strip()
    if text == "all":
        return Scope("all")
    kind, sep, value = text.partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if not sep or kind not in SCOPE_KINDS[1:]:
        raise ScopeError(f"scope {text!r} not understood: use {SCOPE_SYNTAX}")
    if not value or len(value) > 90:
        raise ScopeError(f"scope {text!r}: the {kind} after ':' must be 1 to 90 characters")
    try:
        plain_text(value)
    except ValueError as exc:
        raise ScopeError(f"scope {text!r}: {exc}") from None
    if kind == "departement":
        try:
            value = departement_code(value)
        except ValueError:
            raise ScopeError(f"scope {text!r}: a département code is 2 or 3 characters "
                             "(035, 2A, 971)") from None
    elif kind in ("commune", "circonscription"):
        value = _place(kind, value, text)
    return Scope(kind, value)


def _short(circonscription: str) -> str:
    """A circonscription's name folded, without the directory's usual prefix."""
    folded = _fold(circonscription)
    for prefix in CIRCONSCRIPTION_PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix):]
    return folded


def covers(scope: Scope, school: SchoolLike) -> bool:
    """Whether ``scope`` covers ``school``."""
    if scope.kind == "all":
        return True
    assert scope.value is not None
    alias = scope.alias
    if scope.kind == "commune":
        if alias is None:
            return school.commune_code == scope.value
        return departement_of(school) == alias[1] and _fold(school.commune) == _fold(alias[0])
    if scope.kind == "circonscription":
        if alias is None:
            return school.circonscription_code == scope.value
        return (departement_of(school) == alias[1] and school.circonscription is not None
                and _short(school.circonscription) == _short(alias[0]))
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


def scope_problem(scope: str) -> str | None:
    """Why a stored scope grants nothing (one written under older rules, or damaged); None if it is valid."""
    try:
        parse_scope(scope)
    except ScopeError as exc:
        return str(exc)
    return None


def require(role: str, scope: str, action: Action, school: SchoolLike | None = None) -> None:
    """Raise a 403 that says why, unless a token of ``role`` and ``scope`` may do ``action``.

    A refusal by scope names the school asked for and the token's own scope, never
    where that school is.
    """
    if action not in _GRANTS.get(role, frozenset()):
        who = sorted(r for r, grants in _GRANTS.items() if action in grants)
        raise HTTPException(403, f"a {role} token may not {_VERB[action]}; "
                                 f"this needs a {' or '.join(who)} token")
    problem = scope_problem(scope)
    if problem is not None:
        raise HTTPException(403, f"this token grants nothing: {problem}. Ask an admin for a new token")
    if school is not None and not allowed(role, scope, action, school):
        raise HTTPException(403, f"school {school.uai} is not in your scope ({scope})")


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
