"""A machine's role: sent at enrolment (or not), kept on the agent's row, changed by an admin."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from collector.auth.credentials import create_enroll_code
from collector.cli.main import main as collector_main
from collector.db.models import AgentRow
from tests.collector_db import NOW, Harness


def _enrol(h: Harness, **extra: object) -> tuple[int, dict[str, object]]:
    with h.sessions() as s:
        code = create_enroll_code(s, "0350122T", NOW, timedelta(hours=1))
        s.commit()
    resp = h.client.post("/api/v1/enroll", json={
        "code": code, "room": "CM1", "agent_version": "0.1.0",
        "device": {"instance_id": str(uuid.uuid4()), "hostname": "pc-cm1"}, **extra})
    return resp.status_code, resp.json()


def test_the_role_is_kept_and_an_agent_that_sends_none_enrols_as_before(harness: Harness) -> None:
    status, body = _enrol(harness, role="teacher")
    assert (status, body["role"]) == (201, "teacher")
    status, older = _enrol(harness)
    assert status == 201 and "role" not in older  # the answer an agent made before roles reads
    with harness.sessions() as s:
        assert s.get(AgentRow, body["agent_id"]).role == "teacher"  # type: ignore[union-attr]
        assert s.get(AgentRow, older["agent_id"]).role is None  # type: ignore[union-attr]
    status, refused = _enrol(harness, role="headmaster")
    assert status == 422 and "role" in str(refused)


def test_an_admin_changes_a_role_from_the_command_line(harness: Harness, db_url: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    _, body = _enrol(harness, role="pupil")
    db = ["--db", db_url, "--data-dir", str(tmp_path)]
    assert collector_main(["agent", "list", "0350122T", *db]) == 0
    assert f"{body['agent_id']}\tCM1\tpc-cm1\tpupil\tnever" in capsys.readouterr().out
    assert collector_main(["agent", "role", str(body["agent_id"]), "teacher", *db]) == 0
    assert "role teacher" in capsys.readouterr().out
    with harness.sessions() as s:
        assert s.get(AgentRow, body["agent_id"]).role == "teacher"  # type: ignore[union-attr]
    assert collector_main(["agent", "role", str(uuid.uuid4()), "teacher", *db]) == 1
    assert "no agent" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        collector_main(["agent", "role", str(body["agent_id"]), "director", *db])
