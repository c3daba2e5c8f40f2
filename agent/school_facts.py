"""The school's facts a check judges with (pupils, staff), so the verdict on the spot is the collector's.

Rules such as A2 scale with the school's pupils (and staff): a 700-pupil school needs
35 Mbit/s where a small one needs 16. The collector knows these counts; ``check`` asks
it (``GET /api/v1/agents/school``) and keeps the answer in the state directory
(``school.json``), so a check that cannot reach the collector, or runs with
``--no-send``, still judges with the last counts it was given. The judging itself is
config/readiness.py's, the collector's own: only the facts travel.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from pydantic import ValidationError

from agent.client import CollectorError
from agent.delivery import make_client
from agent.state import AgentState, Credential, write_private
from config.agent_settings import AgentSettings
from config.readiness import SchoolFacts
from config.wire import AgentSchool

log = logging.getLogger("socle.agent.school_facts")

CACHE = "school.json"
FROM_COLLECTOR = "from the collector"


@dataclass(frozen=True)
class JudgingFacts:
    """The facts and where they came from, for the line under the verdict."""

    facts: SchoolFacts
    origin: str  # "the collector", "kept from the collector on …", or why there are none

    def describe(self) -> str:
        """``the school's 700 pupils and 40 staff, from the collector``, or why fixed thresholds apply."""
        f = self.facts
        if f.pupils is None:
            where = "at the collector" if self.origin == FROM_COLLECTOR else f"({self.origin})"
            return f"no pupil count {where}: per-pupil rules use their fixed thresholds"
        staff = f" and {f.staff} staff" if f.staff is not None else ""
        return f"the school's {f.pupils} pupils{staff}, {self.origin}"


def _facts(school: AgentSchool) -> SchoolFacts:
    return SchoolFacts(pupils=school.pupils, staff=school.staff)


def kept_school(state: AgentState, uai: str) -> AgentSchool | None:
    """The school's facts kept by the last check that reached the collector, if they are this school's."""
    try:
        school = AgentSchool.model_validate(json.loads((state.root / CACHE).read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError):
        return None
    return school if school.school_uai == uai else None


def judging_facts(state: AgentState, settings: AgentSettings, cred: Credential | None, uai: str, *,
                  offline: bool) -> JudgingFacts:
    """The facts to judge school ``uai`` with: the collector's now, else the kept ones, else none."""
    if cred is not None and cred.school_uai == uai and not offline:
        try:
            school = make_client(settings, cred).school()
        except CollectorError as exc:
            log.warning("could not fetch the school's facts (%s); using the kept ones", exc)
        else:
            try:
                write_private(state.root / CACHE, school.model_dump_json(indent=2) + "\n")
            except OSError as exc:  # a full disk: judge with them all the same
                log.warning("could not keep the school's facts: %s", exc)
            return JudgingFacts(_facts(school), FROM_COLLECTOR)
    kept = kept_school(state, uai)
    if kept is not None:
        return JudgingFacts(_facts(kept), "kept from the collector's last answer")
    enrolled_here = cred is not None and cred.school_uai == uai
    why = "the collector did not say" if enrolled_here else "not enrolled to this school"
    return JudgingFacts(SchoolFacts(), why)
