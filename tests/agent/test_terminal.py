"""The technician's terminal: the language chosen from the system, the check table (100 columns,
the failing service and why, yes/no), a live line only on a terminal, and exit codes with one line."""

from __future__ import annotations

import ast
import gettext
import io
import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent import cli, i18n
from agent.check import judge, meets_profile
from agent.exits import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE
from agent.progress import Progress, for_terminal
from agent.table import WIDTH, render_check
from config.agent_settings import AgentSettings
from config.profile import load_profile
from config.wire import DeviceIdentity, DeviceMeasurement, ProbeResult, ProbeStatus, Report
from probes import lan, services
from probes.base import ProbeContext
from probes.webcheck import Resolution, WebResult
from tests.conftest import ROOT

RESOLVER = "resolver: Name or service not known"  # what socket.gaierror says on Linux for such a name


@pytest.fixture(autouse=True)
def english_after() -> object:
    yield
    i18n.use_language("en")


@pytest.mark.parametrize(("env", "expected"), [
    ({"LANG": "fr_FR.UTF-8"}, "fr"),
    ({"LANG": "fr_BE.UTF-8"}, "fr"),
    ({"LANG": "en_GB.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, "fr"),
    ({"LANG": "fr_FR.UTF-8", "LC_ALL": "C"}, "en"),
    ({"LANG": "fr_FR.UTF-8", "SOCLE_AGENT_LANG": "en"}, "en"),
])
def test_language_from_the_environment(env: dict[str, str], expected: str) -> None:
    assert i18n.system_language(env, os_name="linux") == expected


def test_language_on_windows_from_the_ui_language() -> None:
    """GetUserDefaultUILanguage's LANGID: 0x040C fr-FR, 0x080C fr-BE, 0x0C0C fr-CA, 0x0409 en-US."""
    for langid, expected in ((0x040C, "fr"), (0x080C, "fr"), (0x0C0C, "fr"), (0x0409, "en"), (0x0407, "en")):
        assert i18n.system_language({}, os_name="windows", ui_language=lambda v=langid: v) == expected

    def no_kernel32() -> int:
        raise OSError("not Windows")
    assert i18n.system_language({}, os_name="windows", ui_language=no_kernel32) == "en"
    assert i18n.system_language({"LANG": "fr_FR"}, os_name="windows", ui_language=lambda: 0x0409) == "fr"


def _marked_messages() -> set[str]:
    found = set()
    for path in (ROOT / "agent").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("_", "N_") and node.args and isinstance(node.args[0], ast.Constant):
                found.add(node.args[0].value)
    return found


def test_every_marked_message_has_a_french_translation() -> None:
    fr = gettext.translation(i18n.DOMAIN, i18n.LOCALE_DIR, languages=["fr"])
    marked = _marked_messages()
    assert len(marked) > 40
    same = {"ok"}  # the same word in French
    untranslated = sorted(m for m in marked if fr.gettext(m) == m and m not in same)
    assert untranslated == []
    for message in marked:  # the same {fields}, so .format never fails in French
        assert sorted(_fields(fr.gettext(message))) == sorted(_fields(message)), message


def _fields(text: str) -> list[str]:
    import string

    return [f for _, f, _, _ in string.Formatter().parse(text) if f]


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_the_compiled_catalogue_is_the_po_file(tmp_path: Path) -> None:
    po = i18n.LOCALE_DIR / "fr" / "LC_MESSAGES" / "socle-agent.po"
    subprocess.run(["msgfmt", "--check", "-o", str(tmp_path / "fr.mo"), str(po)], check=True)
    with (tmp_path / "fr.mo").open("rb") as fresh, (po.with_suffix(".mo")).open("rb") as kept:
        assert gettext.GNUTranslations(fresh)._catalog == gettext.GNUTranslations(kept)._catalog  # type: ignore[attr-defined]


def _report(monkeypatch: pytest.MonkeyPatch) -> Report:
    """A report with the real services and LAN probes' results for a resolver that knows neither
    ÉduConnect nor the ministry (their fetch and lookup replaced), and a device without an SSD."""
    def fetch(url: str, **_kw: object) -> WebResult:
        if "educonnect" in url:
            return WebResult(url=url, failed_step="dns", error=RESOLVER)
        return WebResult(url=url, address="192.0.2.7", http_status=200, total_ms=120.0, cert_valid=True)
    monkeypatch.setattr(services, "fetch", fetch)
    monkeypatch.setattr(lan, "resolve", lambda name, *_a: Resolution(error=RESOLVER) if "educonnect" in name
                        else Resolution(ms=12.0))
    ctx = ProbeContext(settings=AgentSettings())
    svc = services.run(ctx)
    values: dict[str, object] = {}
    notes: list[str] = []
    lan._dns_part(ctx, values, {}, notes)
    from config.wire import LanMeasurement

    lan_m = LanMeasurement(**values)  # type: ignore[arg-type]
    results = [
        ProbeResult(probe="device", status=ProbeStatus.ok, duration_s=0.2, measurement=DeviceMeasurement(
            ram_total_gb=8.0, cpu_cores_logical=4, disk_total_gb=256.0, disk_free_pct=40.0,
            disk_is_ssd=False, os_supported=True)),
        ProbeResult(probe="lan", status=ProbeStatus.ok, duration_s=1.0, measurement=lan_m,
                    reason="; ".join(notes)),
        ProbeResult(probe="services", status=svc.status, duration_s=1.0, measurement=svc.measurement,
                    reason=svc.reason),
        ProbeResult(probe="wifi", status=ProbeStatus.unavailable, duration_s=0.1,
                    reason="iw not installed, and nmcli not installed"),
    ]
    return Report(report_id=uuid.uuid4(), agent_version="test",
                  device=DeviceIdentity(instance_id=uuid.uuid4(), hostname="pc-cm1"), school_uai="0350122T",
                  room="CM1", taken_at=datetime(2026, 11, 2, 3, tzinfo=UTC), results=results)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_table_fits_100_columns_and_names_the_failing_service(
        monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    i18n.use_language(lang)
    report = _report(monkeypatch)
    ev = judge(load_profile(None), report)
    text = render_check(report, ev, meets_profile(ev))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    words = {"en": ("DNS: educonnect.education.gouv.fr does not resolve", "disk_is_ssd = no", "== yes",
                    "problems found", "FAIL — "),
             "fr": ("DNS : educonnect.education.gouv.fr ne se résout pas", "disk_is_ssd = non", "== oui",
                    "problèmes détectés", "NON CONFORME — ", "E5-ram: >= 7,5")}[lang]
    for word in words:
        assert word in text, (word, text)
    services_row = next(i for i, line in enumerate(lines)
                        if line.startswith("services") and "all_reachable" in line)
    assert "educonnect.education.gouv.fr" in lines[services_row + 1]  # the reason right under the failure
    assert "Name or service not known" in lines[services_row + 1]  # and what the resolver said
    lan_row = next(line for line in lines if line.startswith("lan"))
    assert " ok" not in lan_row  # its own check failed: never shown ok
    assert not any(cell in text for cell in (" = 0 ", " = 1 ", "True", "False"))


def test_progress_shows_after_two_seconds_with_the_live_rate() -> None:
    now = [0.0]
    p = Progress(io.StringIO(), monotonic=lambda: now[0])
    p._name, p._started = "bandwidth", 0.0
    now[0] = 1.9
    assert p.render(0) is None  # short steps show nothing
    now[0] = 7.2
    p.note("download_mbps", 43.21)
    assert p.render(1) == "/ bandwidth: 7 s, download 43.2 Mbit/s"
    i18n.use_language("fr")
    p.note("upload_mbps", 9.0)
    assert p.render(2) == "- bandwidth : 7 s, émission 9,0 Mbit/s"


def test_progress_line_is_written_then_wiped() -> None:
    out = io.StringIO()
    p = Progress(out, after_s=0.05, every_s=0.01)
    p.step("bandwidth")
    p.note("download_mbps", 12.5)
    import time

    time.sleep(0.3)
    p.done()
    p.close()
    written = out.getvalue()
    assert "bandwidth: 0 s, download 12.5 Mbit/s" in written
    assert written.endswith("\r")  # wiped before the table is printed


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    assert for_terminal(io.StringIO(), _Tty()) is None  # stdout a pipe or a file: nothing
    assert for_terminal(_Tty(), io.StringIO()) is None
    assert isinstance(for_terminal(_Tty(), _Tty()), Progress)


@pytest.mark.parametrize(("url", "hint"), [
    ("collecteur.example.fr", "write https://collecteur.example.fr"),
    ("htp://socle.example.fr", "not 'htp'"),
    ("https://socle.example.fr:99999", "port"),
    ("https://socle example.fr", "spaces"),
    ("https://", "no host name"),
])
def test_a_malformed_collector_url_is_a_usage_error_with_a_hint(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, hint: str) -> None:
    code = cli.main(["enroll", "--collector", url, "--code", "ABCD1234", "--room", "CM1",
                     "--state-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert hint in err and "unreachable" not in err and "cannot reach" not in err


def test_a_crash_is_one_line_and_exit_4(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    def boom(*_a: object) -> int:
        raise RuntimeError("first line\nsecond line\nthird")
    monkeypatch.setitem(cli.COMMANDS, "status", boom)
    assert cli.main(["status", "--state-dir", str(tmp_path)]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.strip() == ("socle-agent: internal error: RuntimeError: first line "
                           "(run again with -v for the details)")


def test_ctrl_c_is_one_line_and_130_in_french(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*_a: object) -> int:
        raise KeyboardInterrupt
    monkeypatch.setitem(cli.COMMANDS, "status", interrupted)
    monkeypatch.setenv("SOCLE_AGENT_LANG", "fr")
    assert cli.main(["status", "--state-dir", str(tmp_path)]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "socle-agent : interrompu\n"


def test_a_value_the_contract_refuses_is_a_usage_error(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["enroll", "--collector", "http://127.0.0.1:9", "--code", "X", "--room", "CM1",
                     "--state-dir", str(tmp_path)])
    assert code == EXIT_USAGE
    assert "code: String should have at least 4 characters" in capsys.readouterr().err


def test_ctrl_c_while_the_agent_is_still_starting_is_one_line_and_130() -> None:
    """SIGINT while the console script still imports its libraries (seconds on a slow machine): the
    console script imports the ``agent`` package first, which catches it from then on. Shown in a
    child that is the console script as far as the package can tell (its argv[0]) and is interrupted
    in the middle of its imports."""
    import os
    import sys

    code = ("import sys; sys.argv[0] = '/usr/local/bin/socle-agent'; import agent, os, signal, time; "
            "os.kill(os.getpid(), signal.SIGINT); time.sleep(10); import agent.cli")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "SOCLE_AGENT_LANG": "fr"}, cwd=ROOT)
    assert done.returncode == EXIT_INTERRUPTED, done.stderr
    assert done.stderr == "socle-agent : interrompu\n"


def test_the_scheduler_failing_is_one_line_and_4_not_1(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from agent import daemon

    def broken(_plan: object) -> int:
        raise RuntimeError("database is locked\nmore")
    monkeypatch.setattr(daemon, "serve", broken)
    monkeypatch.setattr(daemon.Plan, "from_json", staticmethod(lambda _text: None))
    assert daemon.main(["--plan", "{}"]) == EXIT_INTERNAL
    assert capsys.readouterr().err == "socle-agent run: internal error: RuntimeError: database is locked\n"


def test_sending_and_enrolling_get_a_live_line_too(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from agent import progress

    out = io.StringIO()
    monkeypatch.setattr(progress, "for_terminal", lambda: Progress(out, after_s=0.02, every_s=0.01))
    with progress.during("sending to the collector"):
        time.sleep(0.2)
    assert "sending to the collector: 0 s" in out.getvalue() and out.getvalue().endswith("\r")
    monkeypatch.setattr(progress, "for_terminal", lambda: None)  # a pipe: nothing at all
    with progress.during("sending to the collector"):
        pass


def test_status_in_french(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOCLE_AGENT_LANG", "fr")
    assert cli.main(["status", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "inscription :         non inscrit" in out and "dernière exécution :  jamais" in out
    assert "file d'attente :      0 en attente (0,0 ko)" in out
