"""Agent routes under /api/v1: enrolment, credential rotation, clone re-enrolment.

The reports an agent sends go to collector/api/reports.py.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from collector.api.deps import CloneOrAgent, CurrentAgent, DbSession, Incarnation, Now
from collector.auth.credentials import enroll
from collector.auth.identity import reenroll_clone, rotate_credential
from collector.schools.records import get_school
from config.wire import AgentSchool, EnrollRequest, EnrollResponse, ReenrollRequest, RotateResponse

router = APIRouter(prefix="/api/v1")


# A role left unsaid is left out of the answer, which is then the one agents made before roles read.
@router.post("/enroll", status_code=201, response_model=EnrollResponse, response_model_exclude_none=True)
def post_enroll(body: EnrollRequest, request: Request, session: DbSession, at: Now,
                incarnation: Incarnation = None) -> EnrollResponse:
    """Trade an enrolment code for this device's credential; the machine enrolling holds it.

    409 when the machine is enrolled to another school and ``move`` is not set (the code is not spent).
    """
    address = request.client.host if request.client else None  # behind a trusted proxy: its client's
    return enroll(session, body, at, incarnation, address)


@router.get("/agents/school", response_model=AgentSchool)
def get_agent_school(agent: CurrentAgent, session: DbSession) -> AgentSchool:
    """The calling agent's school and the facts its rules scale with, so a check judges as the collector."""
    school = get_school(session, agent.school_uai)
    return AgentSchool(school_uai=school.uai, school_name=school.name, pupils=school.pupils,
                       staff=school.staff)


@router.post("/agents/rotate", response_model=RotateResponse)
def post_rotate(agent: CurrentAgent, session: DbSession, at: Now) -> RotateResponse:
    """A new credential for the calling agent; the old one works until the new one is first used."""
    return rotate_credential(session, agent, at)


@router.post("/agents/reenroll", status_code=201, response_model=EnrollResponse,
             response_model_exclude_none=True)
def post_reenroll(body: ReenrollRequest, agent: CloneOrAgent, session: DbSession, at: Now,
                  incarnation: Incarnation = None) -> EnrollResponse:
    """For a machine told (409) that it holds a cloned identity: an agent ID and credential of its own."""
    return reenroll_clone(session, agent, incarnation, body, at)
