"""Coverage routes under /api/v1: a school's per-room Wi-Fi coverage, as JSON and as an SVG picture."""

from __future__ import annotations

from fastapi import APIRouter, Response

from collector.api.deps import CurrentReader, DbSession, Now, State
from collector.auth.access import Action, require
from collector.schools.records import get_school
from collector.wifi.coverage import SchoolCoverage, school_coverage
from collector.wifi.coverage_svg import coverage_svg

router = APIRouter(prefix="/api/v1")


@router.get("/schools/{uai}/coverage", response_model=SchoolCoverage)
def get_coverage(uai: str, reader: CurrentReader, session: DbSession, state: State,
                 at: Now) -> SchoolCoverage:
    """Per-room Wi-Fi coverage of a school, with the W6/W7 verdict of each room."""
    school = get_school(session, uai)
    require(reader.role, reader.scope, Action.read, school)
    return school_coverage(session, school, state.profile, at)


@router.get("/schools/{uai}/coverage.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}}})
def get_coverage_svg(uai: str, reader: CurrentReader, session: DbSession, state: State, at: Now) -> Response:
    """The school's coverage as an SVG picture: rooms against signal, the threshold marked."""
    school = get_school(session, uai)
    require(reader.role, reader.scope, Action.read, school)
    cov = school_coverage(session, school, state.profile, at)
    svg = coverage_svg(cov.rooms, cov.threshold_dbm, f"Wi-Fi coverage — {school.name} ({school.uai})")
    return Response(svg, media_type="image/svg+xml")
