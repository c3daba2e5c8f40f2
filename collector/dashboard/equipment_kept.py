"""The equipment pages' judgement of every school, kept per process until its facts change.

Judging the equipment of 50,000 schools reads every machine and declaration and
judges each school (about 0.3 ms a school): seconds, where a page has 300 ms. So
the equipment page and its exports read a judgement of every school made once
and kept, with what each output made of it, until
:func:`collector.equipment.facts.facts_token` moves: a machine's new displays
reading, role, revocation or return within the window, one leaving the window,
a declaration or a class count set or removed, in any process. Then each
school's own token (the same counts, school by school) tells which schools to
judge again: after one declaration, one school. The tokens are read before the
facts, so a change committed in between makes the next token differ and the
school is judged again then. The school page judges its
school afresh, with the evidence (collector/equipment/school.py).

Only what the pages show is kept per school (its :class:`Tally` and what it
lacks), not the verdicts and their evidence.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from collector.equipment.facts import facts_token, school_classes, school_tokens
from collector.equipment.school import many_equipment
from config.profile import Profile

from .equipment_view import Missing, Tally, missing_of, tally_of

OUTPUTS = 32  # pages and exports kept per judgement (by scope, filters and language)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Judged:
    """What the equipment pages show of one school's equipment verdict."""

    tally: Tally
    missing: tuple[Missing, ...]


@dataclass
class Judgement:
    """Every school's :class:`Judged`, by UAI, as of a facts token and for a profile, with each school's
    own token (collector/equipment/facts.py ``school_tokens``)."""

    token: tuple[Any, ...]
    profile: Profile
    schools: dict[str, Judged]
    tokens: dict[str, tuple[Any, ...]]


class EquipmentKept:
    """The kept judgement and the outputs made of it (thread-safe: sync routes run in threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._judgement: Judgement | None = None
        self._outputs: OrderedDict[Hashable, tuple[Any, Any]] = OrderedDict()

    def judgement(self, session: Session, profile: Profile, now: datetime) -> Judgement:
        """Every school's judgement as of ``now``: the kept one while the facts token has not moved;
        when it moved, the schools whose own token moved are judged again (all of them for another
        profile)."""
        conn = session.connection()
        token = facts_token(conn, now)
        with self._lock:
            kept = self._judgement
        if kept is not None and kept.token == token and kept.profile is profile:
            return kept
        tokens = school_tokens(conn, now)
        if kept is None or kept.profile is not profile:
            judged: dict[str, Judged] = {}
            again = list(tokens)
        else:
            judged = {uai: j for uai, j in kept.schools.items() if uai in tokens}
            again = [uai for uai, t in tokens.items() if kept.tokens.get(uai) != t]
        judged.update(_judged(session, profile, now, again))
        made = Judgement(token, profile, judged, tokens)
        with self._lock:
            self._judgement = made
            self._outputs.clear()
        return made

    def output(self, judgement: Judgement, rows: Any, key: Hashable, make: Callable[[], T]) -> T:
        """What ``make`` makes of ``judgement`` for the schools ``rows`` (the directory's list for a
        scope, which is replaced when the directory is read again) and ``key`` (the output and its
        filters): kept with the judgement."""
        with self._lock:
            found = self._outputs.get(key)
            # the directory read again (each minute) is most often the same: kept with the new list
            if found is not None and found[0] is judgement and (found[1][0] is rows or found[1][0] == rows):
                self._outputs[key] = (judgement, (rows, found[1][1]))
                self._outputs.move_to_end(key)
                return found[1][1]
        value = make()
        with self._lock:
            if self._judgement is judgement:
                self._outputs[key] = (judgement, (rows, value))
                while len(self._outputs) > OUTPUTS:
                    self._outputs.popitem(last=False)
        return value


def _judged(session: Session, profile: Profile, now: datetime, uais: list[str]) -> dict[str, Judged]:
    """These schools judged from their facts."""
    if not uais:
        return {}
    rows = school_classes(session, uais)
    return {uai: Judged(tally_of(eq), tuple(missing_of(uai, eq)))
            for uai, eq in many_equipment(session, rows, profile, now).items()}


def kept_of(app_state: Any) -> EquipmentKept:
    """The judgement kept on the app's state (made on first use)."""
    kept = getattr(app_state, "socle_equipment", None)
    if kept is None:
        kept = EquipmentKept()
        app_state.socle_equipment = kept
    return kept
