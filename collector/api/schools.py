"""School routes under /api/v1: the profile, the school list, a school's readiness, enrolment codes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy import select

from collector.api.deps import CurrentReader, DbSession, Now, State
from collector.auth.access import Action, require, visible
from collector.auth.credentials import create_enroll_code
from collector.auth.enrolment import MAX_USES
from collector.db.models import School
from collector.judge.history import timeline
from collector.judge.school import school_readiness
from collector.judge.verdicts import NO_VERDICT, verdict_table
from collector.schools.records import get_school
from config.wire import (
    Level,
    ProfilePublic,
    SchoolReadiness,
)

router = APIRouter(prefix="/api/v1")


class SchoolSummary(BaseModel):
    """One line of the school list."""

    uai: str
    name: str
    commune: str
    level: Level
    failing: list[str]
    since: datetime | None = None  # when the level began (None: no verdict yet)


class RuleSince(BaseModel):
    """A rule not met and since when (None: since the school was first judged)."""

    outcome: str
    since: datetime | None


class HistoryChange(BaseModel):
    """One change of a school's level (``subject`` "level") or of a rule's outcome (its id).

    ``cause``: data, profile (a new profile version judged it), silent or heard. ``evidence``: the
    reference judge's evidence at that time, None while it is not recorded yet."""

    at: datetime
    subject: str
    was: str | None
    became: str | None
    cause: str
    evidence: dict[str, Any] | None


class SchoolHistory(BaseModel):
    """Since when a school stands where it does, and every change of its verdict (newest first)."""

    uai: str
    level: Level
    since: datetime | None
    rules: dict[str, RuleSince]
    changes: list[HistoryChange]


class EnrollCodeCreate(BaseModel):
    """What a technician may ask of a new code: how many machines, for how long, rooms from hostnames."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    uses: int = Field(default=1, ge=1, le=MAX_USES)
    expires_hours: float | None = Field(default=None, gt=0, le=24 * 90)  # default: the settings'
    room_pattern: str | None = Field(default=None, max_length=300)  # default: the settings'
    label: str | None = Field(default=None, max_length=200)


class EnrollCodeResponse(BaseModel):
    """An enrolment code (shown once), how many machines it may enrol, and until when it works."""

    school_uai: str
    code: str
    expires_at: datetime
    uses: int = 1


@router.get("/profile", response_model=ProfilePublic)
def get_profile(state: State, equipment: bool = False) -> JSONResponse:
    """The requirement profile this collector judges with: its network rules, those an agent judges a
    report with (an agent made before the equipment rules refuses a profile that has them); with
    ``?equipment=true``, its equipment rules (E1-E4) too."""
    body = ProfilePublic(profile=state.profile).model_dump(
        mode="json", exclude=None if equipment else {"profile": {"equipment"}})
    return JSONResponse(body)


_LISTED = (select(School.uai, School.name, School.commune, School.departement, School.academie,
                  School.commune_code, School.circonscription, School.circonscription_code)
           .order_by(School.uai))
_SUMMARIES = TypeAdapter(list[SchoolSummary])
_LEVELS = {lv.value: lv for lv in Level}


@router.get("/schools", response_model=list[SchoolSummary])
def list_schools(reader: CurrentReader, session: DbSession, state: State, at: Now) -> Response:
    """Every school in the token's scope with its level and the rules it fails."""
    require(reader.role, reader.scope, Action.read)
    schools = list(visible(reader.role, reader.scope, session.execute(_LISTED)))
    uais = [s.uai for s in schools] if len(schools) <= 2000 else None  # a small scope: its schools only
    table = verdict_table(session.connection(), state.profile, at, uais,  # out of date ones judged again
                          cache=state.verdicts)
    out = []
    for school in schools:  # built as validated: the values come from the store's own columns
        v = table.get(school.uai, NO_VERDICT)
        out.append(SchoolSummary.model_construct(uai=school.uai, name=school.name, commune=school.commune,
                                                 level=_LEVELS[v.level], failing=list(v.failing),
                                                 since=v.since))
    return Response(_SUMMARIES.dump_json(out), media_type="application/json")


@router.get("/schools/{uai}/history", response_model=SchoolHistory)
def get_school_history(uai: str, reader: CurrentReader, session: DbSession) -> SchoolHistory:
    """Since when the school's level and each rule not met hold, and every change of its verdict."""
    school = get_school(session, uai)
    require(reader.role, reader.scope, Action.read, school)
    tl = timeline(session.connection(), school.uai)
    if tl is None:
        return SchoolHistory(uai=school.uai, level=Level.no_data, since=None, rules={}, changes=[])
    return SchoolHistory(uai=school.uai, level=Level(tl.level), since=tl.since,
                         rules={r: RuleSince(outcome=o, since=t) for r, (o, t) in tl.rules.items()},
                         changes=[HistoryChange(at=c.at, subject=c.subject, was=c.was, became=c.became,
                                                cause=c.cause, evidence=c.evidence) for c in tl.changes])


@router.get("/schools/{uai}", response_model=SchoolReadiness)
def get_school_readiness(uai: str, reader: CurrentReader, session: DbSession, state: State,
                     at: Now) -> SchoolReadiness:
    """A school's level and every rule's outcome with its evidence."""
    school = get_school(session, uai)
    require(reader.role, reader.scope, Action.read, school)
    return school_readiness(session, school, state.profile, at)


@router.post("/schools/{uai}/enroll-codes", status_code=201, response_model=EnrollCodeResponse)
def post_enroll_code(uai: str, caller: CurrentReader, session: DbSession, state: State,
                     at: Now, body: EnrollCodeCreate | None = None) -> EnrollCodeResponse:
    """An enrolment code for a school in a technician's (or admin's) scope: one use, unless the body
    asks for more (``{"uses": 30, "expires_hours": 168}``)."""
    school = get_school(session, uai)
    require(caller.role, caller.scope, Action.enroll, school)
    ask = body or EnrollCodeCreate()
    ttl = timedelta(hours=ask.expires_hours or state.settings.enroll_code_ttl_hours)
    code = create_enroll_code(session, school.uai, at, ttl, uses=ask.uses, label=ask.label,
                              room_pattern=ask.room_pattern or state.settings.enroll_room_pattern)
    return EnrollCodeResponse(school_uai=school.uai, code=code, expires_at=at + ttl, uses=ask.uses)
