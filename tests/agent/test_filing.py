"""The plumbing ``check`` and ``survey`` share: exit codes, whom a report is for, its profile, filing it.

Both commands run against the real collector on loopback (SQLite), directly or
through the scripted proxy of tests/delivery_support.py; survey reads recorded
macOS outputs (tests/agent/test_wifi_survey.py), check runs the device probe alone.
"""

from __future__ import annotations

import argparse
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import exits
from agent.cli import cmd_check
from agent.exits import UsageError
from agent.filing import delivery_exit, school_and_room
from agent.sender import FlushResult
from agent.state import AgentState, Credential
from agent.survey import cmd_survey
from config.agent_settings import AgentSettings
from config.profile import load_profile
from tests.agent.test_wifi_survey import MAC_STRONG, MAC_WEAK, T0, mac_ctx
from tests.conftest import ROOT
from tests.delivery_support import UAI, Collector, Proxy, closed_port_url, running_collector

OTHER_UAI = "0350123U"  # a valid UAI of a school this agent is not enrolled to
# W6 alone: check (device probe only) has no data for it and passes; a survey at -55 dBm passes.
W6_ONLY = """\
[profile]
id = "w6-only"
title = "W6 alone"
version = "1"

[[rules]]
id = "W6-signal"
title = "90 % of samples at -67 dBm or better"
source = "W6"
metric = "wifi.signal_dbm"
comparison = ">="
threshold = -67
scope = "room"
aggregate = "share"
share_min_pct = 90
window_days = 30
level = "base"
required = false
"""


def test_exit_codes_are_the_documented_ones() -> None:
    assert (exits.EXIT_PASS, exits.EXIT_FAIL, exits.EXIT_USAGE, exits.EXIT_UNREACHABLE) == (0, 1, 2, 3)


@pytest.mark.parametrize(("status", "code"), [
    (None, 3), (500, 3), (502, 3), (503, 3), (429, 3),  # no answer, a server fault, overload: later
    (400, 2), (401, 2), (403, 2), (409, 2), (422, 2),  # the collector will not take it as it is
])
def test_a_failed_delivery_exits_3_when_the_collector_could_not_take_it_now(status: int | None,
                                                                              code: int) -> None:
    assert delivery_exit(FlushResult(error="x", status=status)) == code


CRED = Credential(collector_url="http://127.0.0.1:9", agent_id=uuid.UUID(int=1), token="t", school_uai=UAI,
                  school_name="École de Baulon", room="CM1")


def test_school_and_room_come_from_the_command_line_else_the_enrolment() -> None:
    assert school_and_room(CRED, None, None, no_send=False, command="check") == (UAI, "CM1")
    assert school_and_room(CRED, OTHER_UAI, "CP", no_send=False, command="check") == (OTHER_UAI, "CP")
    assert school_and_room(None, UAI, "CP", no_send=True, command="survey") == (UAI, "CP")
    with pytest.raises(UsageError, match=r"not enrolled: run 'socle-agent enroll' first, or use --no-send"):
        school_and_room(None, UAI, "CP", no_send=False, command="check")
    with pytest.raises(UsageError, match=r"^not enrolled: give --uai and --room to check with --no-send$"):
        school_and_room(None, None, None, no_send=True, command="check")
    with pytest.raises(UsageError, match=r"^not enrolled: give --uai to survey with --no-send$"):
        school_and_room(None, None, "CP", no_send=True, command="survey")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Collector]:
    """The real collector on SQLite (the agent's side does not depend on the database)."""
    with running_collector(tmp_path / "collector") as c:
        yield c


def _check(state: Path, settings: AgentSettings, uai: str | None = None, no_send: bool = False,
           json_out: bool = False) -> int:
    args = argparse.Namespace(json=json_out, no_send=no_send, uai=uai, room=None)
    return cmd_check(args, settings, AgentState(state))


def _survey(state: Path, settings: AgentSettings, files: list[str], uai: str | None = None,
            no_send: bool = False, json_out: bool = False) -> int:
    args = argparse.Namespace(room="CM1", samples=3, interval=2.0, json=json_out, no_send=no_send, uai=uai)
    return cmd_survey(args, settings, AgentState(state), make_ctx=lambda: mac_ctx(files, T0))


def _device_only(**extra: object) -> AgentSettings:
    return AgentSettings.model_validate({"probes": {"enabled": ["device"]},
                                         "collector": {"timeout_s": 2}, **extra})


OUTCOMES = ["stored", "unreachable", "overloaded", "refused", "credential refused"]


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_check_and_survey_exit_alike_for_each_delivery_outcome(outcome: str, hub: Collector, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "w6-only.toml"
    profile.write_text(W6_ONLY, encoding="utf-8")
    settings = _device_only(profile_path=str(profile))
    proxy = Proxy(hub.url, script=["503"] * 10).start()
    url = {"unreachable": closed_port_url(), "overloaded": proxy.url}.get(outcome, hub.url)
    uai = OTHER_UAI if outcome == "refused" else None
    codes, errs = [], []
    try:
        for name in ("check", "survey"):
            state = tmp_path / name
            cred = hub.enroll(state, url=url)
            if outcome == "credential refused":
                AgentState(state).save_credential(cred.model_copy(update={"token": "not-a-credential"}))
            code = (_check(state, settings, uai) if name == "check"
                    else _survey(state, settings, [MAC_STRONG], uai))
            codes.append(code)
            errs.append(capsys.readouterr().err)
    finally:
        proxy.stop()
    expected = {"stored": 0, "unreachable": 3, "overloaded": 3, "refused": 2, "credential refused": 2}
    assert codes == [expected[outcome]] * 2, errs
    assert hub.report_count() == (2 if outcome == "stored" else 0)
    for what, err in zip(("report", "survey"), errs, strict=True):
        if outcome == "stored":
            assert f"{what} " in err and "stored by the collector" in err
        elif outcome == "refused":
            assert f"socle-agent: the collector refused {what} " in err
        else:
            assert f"socle-agent: {what} not sent yet:" in err and "kept in the spool (1 waiting)" in err


def test_survey_and_check_judge_with_the_collector_profile_when_enrolled(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundled = (ROOT / "config/profiles/socle-default.toml").read_text(encoding="utf-8")
    district = tmp_path / "district.toml"  # the bundled profile with W6 at -70 dBm
    district.write_text(bundled.replace('id = "socle-default"', 'id = "district-35"')
                        .replace("threshold = -67", "threshold = -70"), encoding="utf-8")
    assert load_profile(district).profile.id == "district-35"
    with running_collector(tmp_path / "collector", profile_path=district) as hub:
        state = tmp_path / "agent"
        hub.enroll(state)
        settings = _device_only()
        # -68 dBm in every reading: meets the collector's -70 dBm, not the bundled -67 dBm.
        assert _survey(state, settings, [MAC_WEAK], json_out=True) == 0
        sent = json.loads(capsys.readouterr().out)
        assert sent["results"][0]["measurement"]["threshold_dbm"] == -70
        assert sent["results"][0]["measurement"]["signal_share_ok_pct"] == 100
        assert hub.report_count() == 1

        assert _survey(state, settings, [MAC_WEAK], no_send=True) == 1  # not sent: the bundled profile
        out = capsys.readouterr().out
        assert "FAIL — W6-signal" in out and "0 % at -67 dBm or better" in out
        assert "(judged with the bundled default profile 'socle-default')" in out

        _check(state, settings, no_send=False)
        assert "(judged with the collector profile 'district-35' and no pupil count at the collector: " \
               "per-pupil rules use their fixed thresholds)" in capsys.readouterr().out
        _check(state, settings, no_send=True)
        assert "(judged with the bundled default profile 'socle-default' and no pupil count (kept from the " \
               "collector's last answer)" in capsys.readouterr().out


def test_a_collector_that_does_not_answer_leaves_survey_judging_with_the_bundled_profile(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    state = tmp_path / "agent"
    AgentState(state).save_credential(CRED.model_copy(update={"collector_url": closed_port_url()}))
    assert _survey(state, _device_only(), [MAC_WEAK]) == 3
    out = capsys.readouterr()
    assert "(judged with the bundled default profile 'socle-default')" in out.out
    assert "FAIL — W6-signal" in out.out
    assert "could not fetch the profile" in caplog.text
