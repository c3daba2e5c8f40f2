"""install-service: the unit text, the capabilities the probes need, and the install steps."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from agent.service import (
    UNIT_NAME,
    capabilities_for,
    effective_capabilities,
    has_net_raw,
    install,
    render_unit,
)
from agent.state import AgentState
from config.agent_settings import AgentSettings


def test_only_the_probes_that_need_raw_sockets_get_a_capability() -> None:
    assert capabilities_for(["device", "latency", "services", "wifi"]) == []
    assert capabilities_for(["device", "lan", "bandwidth"]) == ["CAP_NET_RAW"]


def test_the_unit_runs_the_agent_as_its_user_with_only_those_capabilities() -> None:
    unit = render_unit("/usr/bin/socle-agent", "socle-agent", Path("/var/lib/socle-agent"),
                       Path("/etc/socle/agent.toml"), ["CAP_NET_RAW"])
    lines = unit.splitlines()
    assert ("ExecStart=/usr/bin/socle-agent --state-dir /var/lib/socle-agent "
            "--config /etc/socle/agent.toml run") in lines
    assert {"User=socle-agent", "Group=socle-agent", "AmbientCapabilities=CAP_NET_RAW",
            "CapabilityBoundingSet=CAP_NET_RAW", "NoNewPrivileges=true", "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/socle-agent", "WantedBy=multi-user.target"} <= set(lines)
    bare = render_unit("/usr/bin/socle-agent", "socle-agent", Path("/var/lib/socle-agent"), None, [])
    assert "AmbientCapabilities=" in bare.splitlines() and "CapabilityBoundingSet=" in bare.splitlines()


def test_capeff_is_read_from_proc_status(tmp_path: Path) -> None:
    assert effective_capabilities("Name:\tx\nCapInh:\t0\nCapEff:\t0000000000002000\n") == 1 << 13
    assert effective_capabilities("Name:\tx\n") == 0
    status = tmp_path / "status"
    status.write_text("CapEff:\t0000000000002000\n")
    assert has_net_raw(status)


class FakeRunner:
    """Records commands; ``id -u`` fails so that the user is made."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        return subprocess.CompletedProcess(list(argv), 1 if argv[:2] == ["id", "-u"] else 0, "", "")


def test_install_makes_the_user_writes_the_unit_and_enables_it(tmp_path: Path) -> None:
    run = FakeRunner()
    settings = AgentSettings.model_validate({"probes": {"enabled": ["device", "lan"]}})
    state = AgentState(tmp_path / "state")
    done = install(settings, state, user="socle-agent", unit_dir=tmp_path / "units", config=None, enable=True,
                   run=run, exe="/opt/socle/bin/socle-agent")
    assert [c[0] for c in run.calls] == ["id", "useradd", "chown", "systemctl", "systemctl"]
    assert run.calls[-1] == ["systemctl", "enable", "--now", UNIT_NAME]
    unit = (tmp_path / "units" / UNIT_NAME).read_text()
    assert "AmbientCapabilities=CAP_NET_RAW" in unit and f"--state-dir {state.root} run" in unit
    assert done[-1] == f"enabled and started {UNIT_NAME}"
