"""Moving a machine to another school: asked at a terminal, --yes for scripts, refused otherwise."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from agent.client import CollectorError
from agent.moving import MoveRefused, enroll_confirming
from config.wire import DeviceIdentity, EnrollRequest, EnrollResponse

SAID = ("this machine is enrolled to Les Lucioles (0350122T), room CM1; this code enrols it to "
        "Autre école (0350127Y). Confirm the move (socle-agent enroll --yes) or use a code of its own school")
REQ = EnrollRequest(code="ABCD-EFGH-JKLM-NPQR", room="CM2", agent_version="0.1.0",
                    device=DeviceIdentity(instance_id=uuid.uuid4(), hostname="pc"))
DONE = EnrollResponse(agent_id=uuid.uuid4(), token="sa_x", school_uai="0350127Y", school_name="Autre école",
                      room="CM2")


class Collector:
    """The collector's answers to enrolment: 409 unless the request says move."""

    def __init__(self) -> None:
        self.sent: list[bool] = []

    def enroll(self, req: EnrollRequest) -> EnrollResponse:
        self.sent.append(req.move)
        if not req.move:
            raise CollectorError(f"collector answered 409 to POST /api/v1/enroll: {SAID}", status=409,
                                 detail=SAID)
        return DONE


def _run(answer: bool | None, yes: bool = False) -> tuple[Collector, Any]:
    hub = Collector()
    asked: list[str] = []

    def ask(question: str) -> bool | None:
        asked.append(question)
        return answer

    try:
        result: Any = enroll_confirming(hub, REQ, yes, ask)  # type: ignore[arg-type]
    except MoveRefused as exc:
        result = exc
    return hub, (result, asked)


def test_yes_moves_without_asking() -> None:
    hub, (result, asked) = _run(None, yes=True)
    assert result is DONE and hub.sent == [True] and asked == []


def test_the_technician_says_yes_at_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    hub, (result, asked) = _run(True)
    assert result is DONE and hub.sent == [False, True]
    assert asked == ["Move this machine to the other school? Its credential at the first school is revoked."]
    assert SAID in capsys.readouterr().err


def test_the_technician_says_no() -> None:
    hub, (result, _) = _run(False)
    assert isinstance(result, MoveRefused) and "stays enrolled to its school" in str(result)
    assert hub.sent == [False]


def test_no_one_at_a_terminal_and_no_yes_is_refused_with_the_way_on() -> None:
    hub, (result, _) = _run(None)
    assert isinstance(result, MoveRefused) and "run again with --yes" in str(result)
    assert hub.sent == [False]
