"""Identity: hardware hints, cloned images made to re-enrol, revoked and rotated credentials."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from agent.client import CollectorClient
from agent.delivery import deliver, keep, make_client, open_spool
from agent.identity import incarnation, read_boot_id, read_hardware_uuid, state_copy, usable_hardware_uuid
from agent.sender import FlushResult
from agent.state import AgentState
from collector.cli.main import main as collector_main
from config.agent_settings import AgentSettings
from config.wire import INCARNATION_HEADER, INCARNATION_MAX_CHARS
from tests.agent.test_delivery import Sleeps, make_report
from tests.delivery_support import Collector, running_collector


@pytest.fixture
def collector(tmp_path: Path, db_url: str) -> Iterator[Collector]:
    """The real collector, on SQLite and on PostgreSQL."""
    with running_collector(tmp_path / "collector", db_url) as c:
        yield c


@pytest.mark.parametrize(("raw", "expected"), [
    ("4C4C4544-0042-3510-8052-B3C04F4B4E32\n", "4c4c4544-0042-3510-8052-b3c04f4b4e32"),
    ("{4C4C4544-0042-3510-8052-B3C04F4B4E32}", "4c4c4544-0042-3510-8052-b3c04f4b4e32"),
    ("03000200-0400-0500-0006-000700080009", None),  # shared by whole series of boards
    ("00000000-0000-0000-0000-000000000000", None),
    ("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", None),
    ("11111111-1111-1111-1111-111111111111", None),
    ("Not Settable", None),
    ("", None),
    (None, None),
])
def test_placeholder_smbios_uuids_are_ignored(raw: str | None, expected: str | None) -> None:
    assert usable_hardware_uuid(raw) == expected


def test_hardware_and_boot_ids_are_read_from_the_file_system(tmp_path: Path) -> None:
    (tmp_path / "sys/class/dmi/id").mkdir(parents=True)
    (tmp_path / "sys/class/dmi/id/product_uuid").write_text("03000200-0400-0500-0006-000700080009\n")
    (tmp_path / "proc/sys/kernel/random").mkdir(parents=True)
    (tmp_path / "proc/sys/kernel/random/boot_id").write_text("5f0c0a0e-8a4b-4e0b-9d55-0e4bb0b7f0e1\n")
    assert read_hardware_uuid(tmp_path) is None
    assert read_boot_id(tmp_path) == "5f0c0a0e-8a4b-4e0b-9d55-0e4bb0b7f0e1"
    assert read_boot_id(tmp_path / "nowhere") is None


def test_the_incarnation_names_one_copy_across_reboots_and_tells_copies_apart(tmp_path: Path) -> None:
    iid = uuid.uuid4()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    here = state_copy(tmp_path / "a")
    one = incarnation(iid, "boot-a", "00163e000001", here)
    lineage, boot = one.split(".")
    assert len(lineage) == len(boot) == 24
    assert one == incarnation(iid, "boot-a", "00163e000001", here)  # another process, same boot
    rebooted = incarnation(iid, "boot-b", "00163e000001", here)
    assert rebooted.split(".")[0] == lineage and rebooted != one  # a reboot: the same lineage
    assert incarnation(iid, "boot-a", "00163e0000ff", here).split(".")[0] != lineage  # another machine
    # a second copy of the state directory on the same machine, at the same boot
    assert incarnation(iid, "boot-a", "00163e000001", state_copy(tmp_path / "b")).split(".")[0] != lineage
    assert incarnation(uuid.uuid4(), "boot-a", "00163e000001", here).split(".")[0] != lineage  # re-enrolled


class HeaderSeen:
    """A session stand-in that keeps each request's headers and answers a rotation."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        self.verify: bool | str = True

    def request(self, method: str, url: str, headers: dict[str, str], **_kw: object) -> requests.Response:
        self.headers.append(dict(headers))
        resp = requests.Response()
        resp.status_code = 200
        resp._content = b'{"agent_id": "7c1e7f4e-6a43-4b8e-9d3e-2f6f1f0c9a11", "token": "new"}'
        return resp


def test_each_request_carries_the_incarnation_in_the_wire_header_within_its_length() -> None:
    inc = incarnation(uuid.uuid4(), "boot-a", None, None)
    seen = HeaderSeen()
    CollectorClient("http://collector.invalid", session=seen, token="t",  # type: ignore[arg-type]
                    incarnation=inc).rotate()
    assert INCARNATION_HEADER == "X-Socle-Incarnation"
    assert seen.headers[0][INCARNATION_HEADER] == inc
    assert len(inc) <= INCARNATION_MAX_CHARS == 64


def _settings(url: str) -> AgentSettings:
    return AgentSettings.model_validate({"collector": {"url": url, "timeout_s": 2}})


def _send(state: AgentState, settings: AgentSettings, machine: str, n: int = 1,
          boot: str = "boot") -> FlushResult:
    """Spool ``n`` reports on ``state`` and deliver them from machine ``machine`` (its MAC) at ``boot``."""
    with open_spool(state, settings) as spool:
        for i in range(n):
            keep(spool, make_report(state, i))
        return deliver(state, settings, spool, sleep=Sleeps(),
                       incarnation=lambda s: incarnation(s.instance_id(), boot, machine, state_copy(s.root)))


def test_two_agents_with_one_copied_identity_the_second_is_made_to_re_enrol(tmp_path: Path,
                                                                           collector: Collector) -> None:
    original = AgentState(tmp_path / "pc-1")
    cred = collector.enroll(original.root)
    settings = _settings(collector.url)
    assert _send(original, settings, "00163e000001").stored == 1
    # The disk is imaged onto a second machine: same instance id, same credential, same spool.
    shutil.copytree(original.root, tmp_path / "pc-2")
    clone = AgentState(tmp_path / "pc-2")
    assert clone.instance_id() == original.instance_id() and clone.credential() == cred
    # The original reboots meanwhile; the second machine is told (409) at its first post, gets an
    # identity of its own, then delivers what it held.
    assert _send(original, settings, "00163e000001", boot="boot-2").stored == 1
    result = _send(clone, settings, "00163e000002", n=2)
    assert (result.stored, result.error) == (2, None)
    new_cred = clone.credential()
    assert new_cred is not None and new_cred.agent_id != cred.agent_id and new_cred.token != cred.token
    assert clone.instance_id() != original.instance_id()
    agents = collector.agents()
    assert [str(a.agent_id) for a in agents] == [str(cred.agent_id), str(new_cred.agent_id)]
    assert (agents[1].room, agents[1].school_uai, agents[1].instance_id) == (
        "CM1", cred.school_uai, str(clone.instance_id()))
    # the original's two reports under its identity, the clone's two under its own
    assert collector.reports_by_agent() == {str(cred.agent_id): 2, str(new_cred.agent_id): 2}
    # Both keep working afterwards, reboots included; the old identity from the clone stays refused.
    assert _send(original, settings, "00163e000001", boot="boot-3").stored == 1
    assert _send(clone, settings, "00163e000002", boot="boot-2").stored == 1
    stale = make_client(settings, cred, incarnation(original.instance_id(), "boot", "00163e000002",
                                                    state_copy(clone.root)))
    with pytest.raises(Exception, match="409") as info:
        stale.send_report(make_report(original, 9))
    assert "another machine" in str(info.value)


def test_a_reboot_is_not_a_clone(tmp_path: Path, collector: Collector) -> None:
    state = AgentState(tmp_path / "pc")
    collector.enroll(state.root)
    settings = _settings(collector.url)
    for boot in ("boot-1", "boot-1", "boot-2", "boot-3", "boot-3"):
        r = _send(state, settings, "00163e000001", boot=boot)
        assert (r.stored, r.error) == (1, None)
    assert len(collector.agents()) == 1


def test_a_revoked_agent_credential_is_refused(tmp_path: Path, collector: Collector,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    state = AgentState(tmp_path / "pc")
    cred = collector.enroll(state.root)
    settings = _settings(collector.url)
    assert _send(state, settings, "boot").stored == 1
    db = collector.db_url
    assert collector_main(["--db", db, "token", "revoke", str(cred.agent_id)]) == 0
    assert "revoked agent" in capsys.readouterr().out
    r = _send(state, settings, "boot")
    assert (r.sent, r.status, r.remaining) == (0, 401, 1)
    assert r.unauthorised and "revoked" in (r.error or "")
    assert collector.report_count() == 1


def test_a_revoked_api_token_is_refused(tmp_path: Path, collector: Collector,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    db = collector.db_url
    assert collector_main(["--db", db, "token", "create", "--role", "reader", "--label", "mairie"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(collector.url + "/api/v1/schools", headers=headers, timeout=5).status_code == 200
    assert collector_main(["--db", db, "token", "list"]) == 0
    listing = capsys.readouterr().out
    token_id = next(line.split()[0] for line in listing.splitlines() if "mairie" in line)
    assert collector_main(["--db", db, "token", "revoke", token_id]) == 0
    assert "revoked API token" in capsys.readouterr().out
    assert requests.get(collector.url + "/api/v1/schools", headers=headers, timeout=5).status_code == 401
    assert collector_main(["--db", db, "token", "revoke", "no-such-id"]) != 0


def test_credential_rotation_old_token_works_until_the_new_one_is_used(tmp_path: Path,
                                                                      collector: Collector) -> None:
    state = AgentState(tmp_path / "pc")
    cred = collector.enroll(state.root)
    settings = _settings(collector.url)
    old = make_client(settings, cred, "machine")
    rotated = old.rotate()
    assert rotated.agent_id == cred.agent_id and rotated.token != cred.token
    # The answer might have been lost: the old credential still works, and may rotate again.
    assert old.send_report(make_report(state, 1)).status == "stored"
    new = make_client(settings, cred.model_copy(update={"token": rotated.token}), "machine")
    assert new.send_report(make_report(state, 2)).status == "stored"
    with pytest.raises(Exception, match="401"):
        old.send_report(make_report(state, 3))  # the new one was used: the old one is gone
    assert collector.report_count() == 2


def test_the_agent_rotates_its_credential_when_it_is_old(tmp_path: Path, collector: Collector) -> None:
    import os

    from agent.delivery import rotate_if_due

    state = AgentState(tmp_path / "pc")
    cred = collector.enroll(state.root)
    settings = _settings(collector.url)
    made = state.credential_path.stat().st_mtime
    assert not rotate_if_due(state, settings, made + 89 * 86400, "machine")
    assert rotate_if_due(state, settings, made + 91 * 86400, "machine")
    new = state.credential()
    assert new is not None and new.token != cred.token and new.agent_id == cred.agent_id
    assert (os.stat(state.credential_path).st_mode & 0o777) == 0o600
    assert _send(state, settings, "machine").stored == 1  # the new credential works
    old = make_client(settings, cred, "machine")
    with pytest.raises(Exception, match="401"):
        old.send_report(make_report(state, 4))
