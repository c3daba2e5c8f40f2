"""Enrolment codes of several uses: counted atomically on both databases, revocable, logged; rooms from
hostnames; a machine of another school moved only when the request says so; the speed-test QR code."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from collector.auth.code_qr import qr_svg, qr_terminal, speedtest_url
from collector.auth.credentials import create_enroll_code, enroll
from collector.auth.enrolment import code_uses, find_code, list_codes, revoke_code
from collector.db.engine import session_factory
from collector.db.models import AgentRow, EnrollCode
from collector.errors import StoreError
from collector.schools.records import upsert_school
from config.collector_settings import CollectorSettings
from config.rooms import RoomPatternError, check_room_pattern, room_from_hostname
from config.wire import DeviceIdentity, EnrollRequest
from tests.collector_db import NOW, SCHOOLS, Harness

PATTERN = r"^(?P<room>[A-Z0-9]+)-PC\d+$"
LUCIOLES, BRUZ = SCHOOLS[0].uai, SCHOOLS[1].uai


def _req(code: str, room: str | None = "CM1", hostname: str = "pc-cm1", instance: uuid.UUID | None = None,
         move: bool = False) -> EnrollRequest:
    return EnrollRequest(code=code, room=room, agent_version="0.1.0", move=move,
                         device=DeviceIdentity(instance_id=instance or uuid.uuid4(), hostname=hostname))


def _schools(engine: Engine) -> None:
    with session_factory(engine)() as s:
        for school in SCHOOLS:
            upsert_school(s, school, NOW)
        s.commit()


def _code(engine: Engine, uai: str = LUCIOLES, uses: int = 1, **kw: object) -> str:
    with session_factory(engine)() as s:
        code = create_enroll_code(s, uai, NOW, timedelta(days=7), uses=uses, **kw)  # type: ignore[arg-type]
        s.commit()
    return code


def test_two_agents_racing_for_the_last_use_one_wins(engine: Engine) -> None:
    _schools(engine)
    code = _code(engine, uses=2)
    racers = 6
    start = threading.Barrier(racers)
    won: list[str] = []
    refused: list[str] = []
    failed: list[BaseException] = []

    def race() -> None:
        with session_factory(engine)() as s:
            start.wait()
            try:
                won.append(str(enroll(s, _req(code), NOW).agent_id))
                s.commit()
            except StoreError as exc:
                s.rollback()
                refused.append(exc.message)
            except BaseException as exc:  # noqa: BLE001 - kept to fail the test with it
                failed.append(exc)

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failed, failed
    assert len(won) == 2 and len(refused) == racers - 2
    assert all("already used 2 times, all of its 2 uses" in r for r in refused)
    with session_factory(engine)() as s:
        row = s.scalars(select(EnrollCode)).one()
        assert (row.uses, row.max_uses) == (2, 2)
        assert sorted(u.agent_id for u in code_uses(s, row)) == sorted(won)
        assert s.scalar(select(AgentRow.agent_id).where(AgentRow.agent_id.not_in(won))) is None


def test_a_revoked_or_expired_code_is_refused_with_the_reason(engine: Engine) -> None:
    _schools(engine)
    code = _code(engine, uses=30)
    with session_factory(engine)() as s:
        enroll(s, _req(code), NOW)
        row = revoke_code(s, list_codes(s, LUCIOLES)[0].code_hash[:12], NOW + timedelta(hours=1))
        assert row.uses == 1
        s.commit()
        with pytest.raises(StoreError, match="was revoked on 2026-11-20 10:00 UTC") as info:
            enroll(s, _req(code), NOW + timedelta(hours=2))
        assert info.value.status == 401
    other = _code(engine, uses=30)
    with session_factory(engine)() as s, pytest.raises(StoreError, match="has expired"):
        enroll(s, _req(other), NOW + timedelta(days=8))


def test_find_code_by_id_refuses_what_is_no_id() -> None:
    with pytest.raises(StoreError, match="is not a code id"):
        find_code(None, "ABCD-EFGH")  # type: ignore[arg-type]  # refused before any query


def test_room_from_the_hostname_pattern_or_a_clear_refusal(engine: Engine) -> None:
    _schools(engine)
    code = _code(engine, uses=5, room_pattern=PATTERN)
    with session_factory(engine)() as s:
        assert enroll(s, _req(code, room=None, hostname="CM1-PC03"), NOW).room == "CM1"
        assert enroll(s, _req(code, room="BCD", hostname="CM1-PC04"), NOW).room == "BCD"  # --room wins
        with pytest.raises(StoreError, match="'salle-prof' does not match this code's room pattern") as info:
            enroll(s, _req(code, room=None, hostname="salle-prof"), NOW)
        assert info.value.status == 422
        s.commit()
    plain = _code(engine)
    with session_factory(engine)() as s, pytest.raises(StoreError, match="no hostname pattern: enrol with"):
        enroll(s, _req(plain, room=None, hostname="CM1-PC03"), NOW)


def test_room_patterns_are_checked() -> None:
    assert room_from_hostname(PATTERN, "CM1-PC03") == "CM1"
    assert room_from_hostname(PATTERN, "cm1-pc03") is None
    assert room_from_hostname("(?i)" + PATTERN, "cm1-pc03") == "cm1"
    with pytest.raises(RoomPatternError, match="no \\(\\?P<room>"):
        check_room_pattern(r"^[A-Z]+-PC\d+$")
    with pytest.raises(RoomPatternError, match="is not a regular expression"):
        check_room_pattern("(?P<room>[A-Z")
    with pytest.raises(ValueError, match="enroll_room_pattern"):
        CollectorSettings(enroll_room_pattern="CM1")


def test_a_machine_of_another_school_moves_only_when_confirmed(engine: Engine) -> None:
    _schools(engine)
    machine = uuid.uuid4()
    with session_factory(engine)() as s:
        first = enroll(s, _req(_code(engine, LUCIOLES), instance=machine), NOW)
        s.commit()
    code = _code(engine, BRUZ)
    with session_factory(engine)() as s:
        with pytest.raises(StoreError, match=r"enrolled to Les Lucioles \(0350122T\), room CM1; this code "
                                             r"enrols it to Autre école \(0350127Y\)") as info:
            enroll(s, _req(code, instance=machine), NOW)
        assert info.value.status == 409
        s.rollback()
        assert s.scalars(select(EnrollCode).where(EnrollCode.school_uai == BRUZ)).one().uses == 0  # unspent
        moved = enroll(s, _req(code, instance=machine, move=True), NOW)
        s.commit()
        assert moved.school_uai == BRUZ
        assert s.get(AgentRow, str(first.agent_id)).revoked_at is not None  # type: ignore[union-attr]
        use = code_uses(s, s.scalars(select(EnrollCode).where(EnrollCode.school_uai == BRUZ)).one())[0]
        assert (use.moved_from, use.agent_id) == (LUCIOLES, str(moved.agent_id))
    # The same school again is no move: no question asked.
    with session_factory(engine)() as s:
        assert enroll(s, _req(_code(engine, BRUZ), instance=machine), NOW).school_uai == BRUZ


def test_a_clone_of_another_lineage_does_not_take_the_original_away(engine: Engine) -> None:
    _schools(engine)
    machine = uuid.uuid4()
    original, clone = "a" * 24 + "." + "b" * 24, "c" * 24 + "." + "d" * 24
    with session_factory(engine)() as s:
        first = enroll(s, _req(_code(engine, LUCIOLES), instance=machine), NOW, original)
        s.commit()
    with session_factory(engine)() as s:
        enroll(s, _req(_code(engine, BRUZ), instance=machine), NOW, clone)  # no 409: another machine
        s.commit()
        assert s.get(AgentRow, str(first.agent_id)).revoked_at is None  # type: ignore[union-attr]


def test_the_api_logs_the_address_and_answers_the_agent_school(engine: Engine) -> None:
    hub = Harness(engine)
    with hub.sessions() as s:
        code = create_enroll_code(s, LUCIOLES, NOW, timedelta(days=1), uses=3)
        s.commit()
    resp = hub.client.post("/api/v1/enroll", json=_req(code).model_dump(mode="json"))
    assert resp.status_code == 201, resp.text
    token = resp.json()["token"]
    school = hub.client.get("/api/v1/agents/school", headers={"Authorization": f"Bearer {token}"})
    assert school.json() == {"school_uai": LUCIOLES, "school_name": "Les Lucioles", "pupils": 143,
                             "staff": None}
    assert hub.client.get("/api/v1/agents/school").status_code == 401
    with hub.sessions() as s:
        (use,) = code_uses(s, s.scalars(select(EnrollCode)).one())
        assert use.address == "testclient" and use.hostname == "pc-cm1" and use.room == "CM1"


def test_the_speedtest_qr_code_carries_the_page_and_the_code_in_the_fragment() -> None:
    url = speedtest_url("https://socle.example.fr/", "abcd-EFGH-2345-6789")
    assert url == "https://socle.example.fr/speedtest#code=abcd-EFGH-2345-6789"
    svg = qr_svg(url)
    assert svg.startswith("<svg") and f"<title>{url}</title>" in svg
    art = qr_terminal(url).splitlines()
    # A version 4 symbol (33 modules) at medium correction plus the 4-module quiet zones, two rows a line.
    assert {len(line) for line in art} == {41} and len(art) == 21
    assert re.fullmatch(r"[█▀▄ ]+", "".join(art))


def _terminal_art_as_pgm(art: str, path: Path, scale: int = 8) -> Path:
    """The printed QR code as a picture, as a terminal with light text on a dark background shows it."""
    rows: list[list[bool]] = []
    for line in art.splitlines():
        rows.append([ch in "█▀" for ch in line])  # the upper half of each character cell
        rows.append([ch in "█▄" for ch in line])
    with path.open("wb") as fh:
        fh.write(f"P5 {len(rows[0]) * scale} {len(rows) * scale} 255\n".encode())
        for row in rows:
            fh.write(bytes(255 if lit else 0 for lit in row for _ in range(scale)) * scale)
    return path


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg (zbar-tools) is not installed")
def test_the_printed_qr_code_scans_to_the_speedtest_page(tmp_path: Path) -> None:
    url = speedtest_url("https://socle.example.org", "KF3N-VUCL-H82A-DJLN")
    picture = _terminal_art_as_pgm(qr_terminal(url), tmp_path / "qr.pgm")
    out = subprocess.run(["zbarimg", "-q", "--raw", str(picture)], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.stdout.strip() == url


def test_a_technician_makes_a_code_for_a_room_through_the_api(engine: Engine) -> None:
    hub = Harness(engine, CollectorSettings(enroll_room_pattern=PATTERN))
    tech = {"Authorization": f"Bearer {hub.token('technician', 'commune:35016')}"}
    made = hub.client.post(f"/api/v1/schools/{LUCIOLES}/enroll-codes", headers=tech,
                           json={"uses": 2, "expires_hours": 168, "label": "CM1"})
    assert made.status_code == 201, made.text
    assert made.json()["uses"] == 2 and made.json()["expires_at"].startswith("2026-11-27T09:00")
    code = made.json()["code"]
    for host in ("CM1-PC01", "CM1-PC02"):  # the settings' pattern gives the room
        body = _req(code, room=None, hostname=host).model_dump(mode="json")
        answer = hub.client.post("/api/v1/enroll", json=body)
        assert answer.status_code == 201 and answer.json()["room"] == "CM1", answer.text
    third = hub.client.post("/api/v1/enroll", json=_req(code).model_dump(mode="json"))
    assert third.status_code == 401 and "all of its 2 uses" in third.json()["detail"]
    one = hub.client.post(f"/api/v1/schools/{LUCIOLES}/enroll-codes", headers=tech)  # no body: as before
    assert one.status_code == 201 and one.json()["uses"] == 1
    bad = hub.client.post(f"/api/v1/schools/{LUCIOLES}/enroll-codes", headers=tech,
                          json={"room_pattern": "CM1-PC"})
    assert bad.status_code == 422 and "has no (?P<room>...) group" in bad.json()["detail"]
