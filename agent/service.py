"""``socle-agent install-service``: a systemd unit with its own user and only the capabilities needed.

The unit runs ``socle-agent run`` as an unprivileged system user. Probes that
send ICMP or ARP through raw sockets (``lan``, ``bandwidth``) need CAP_NET_RAW;
it is granted as an ambient capability only when one of them is enabled, and the
agent treats a process holding it as privileged for those probes. Everything
else is locked down with systemd's sandboxing options.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from agent.launch import agent_argv, frozen
from agent.state import AgentState
from config.agent_settings import AgentSettings

UNIT_NAME = "socle-agent.service"
# Linux capabilities each probe needs to measure everything it can (raw sockets for ICMP and ARP).
PROBE_CAPABILITIES: dict[str, tuple[str, ...]] = {"lan": ("CAP_NET_RAW",), "bandwidth": ("CAP_NET_RAW",)}
CAP_NET_RAW_BIT = 13

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def capabilities_for(probes: Iterable[str]) -> list[str]:
    """The capabilities the given probes need, sorted, each once."""
    return sorted({cap for name in probes for cap in PROBE_CAPABILITIES.get(name, ())})


def effective_capabilities(status_text: str) -> int:
    """The CapEff mask from ``/proc/self/status`` text (0 when absent).

    >>> effective_capabilities("Name:\\tpython\\nCapEff:\\t0000000000002000\\n")
    8192
    """
    for line in status_text.splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return 0


def has_net_raw(proc_status: Path = Path("/proc/self/status")) -> bool:
    """Whether this process may open raw sockets (root, or CAP_NET_RAW granted by the unit)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return True
    try:
        return bool(effective_capabilities(proc_status.read_text(encoding="ascii")) >> CAP_NET_RAW_BIT & 1)
    except OSError:
        return False


def render_unit(exe: str, user: str, state_dir: Path, config: Path | None,
                capabilities: Sequence[str]) -> str:
    """The systemd unit text (pure)."""
    args = f"{exe} --state-dir {state_dir}" + (f" --config {config}" if config else "") + " run"
    caps = " ".join(capabilities)
    lines = [
        "[Unit]",
        "Description=Socle agent: nightly network checks of this classroom machine",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        f"User={user}",
        f"Group={user}",
        f"ExecStart={args}",
        "Restart=on-failure",
        "RestartSec=30",
        f"Environment=SOCLE_AGENT_HOME={state_dir}",
        f"ReadWritePaths={state_dir}",
        f"AmbientCapabilities={caps}",
        f"CapabilityBoundingSet={caps}",
        "NoNewPrivileges=true",
        "ProtectSystem=strict",
        "ProtectHome=true",
        "PrivateTmp=true",
        "ProtectKernelTunables=true",
        "ProtectKernelModules=true",
        "ProtectControlGroups=true",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK AF_PACKET",
        "RestrictNamespaces=true",
        "LockPersonality=true",
        "MemoryMax=256M",
        "Nice=10",
        "IOSchedulingClass=idle",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ]
    return "\n".join(lines)


def agent_executable() -> str:
    """The frozen agent itself, else the ``socle-agent`` next to this Python, else the one on PATH."""
    if frozen():
        return sys.executable
    here = Path(sys.executable).with_name("socle-agent")
    return str(here) if here.exists() else shutil.which("socle-agent") or " ".join(agent_argv())


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False)


def install(settings: AgentSettings, state: AgentState, *, user: str, unit_dir: Path, config: Path | None,
            enable: bool, run: Runner = _run, exe: str | None = None) -> list[str]:
    """Make the user, hand it the state directory, write the unit and enable it; returns what was done."""
    done = []
    if run(["id", "-u", user]).returncode != 0:
        res = run(["useradd", "--system", "--no-create-home", "--home-dir", str(state.root),
                   "--shell", "/usr/sbin/nologin", user])
        if res.returncode != 0:
            raise RuntimeError(f"useradd {user} failed: {res.stderr.strip()}")
        done.append(f"made system user {user}")
    state.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    res = run(["chown", "-R", f"{user}:{user}", str(state.root)])
    if res.returncode != 0:
        raise RuntimeError(f"chown {state.root} failed: {res.stderr.strip()}")
    done.append(f"gave {state.root} to {user}")
    caps = capabilities_for(settings.probes.enabled)
    unit = render_unit(exe or agent_executable(), user, state.root, config, caps)
    unit_dir.mkdir(parents=True, exist_ok=True)
    (unit_dir / UNIT_NAME).write_text(unit, encoding="utf-8")
    done.append(f"wrote {unit_dir / UNIT_NAME} (capabilities: {', '.join(caps) or 'none'})")
    if enable:
        for argv in (["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", UNIT_NAME]):
            res = run(argv)
            if res.returncode != 0:
                raise RuntimeError(f"{' '.join(argv)} failed: {res.stderr.strip()}")
        done.append(f"enabled and started {UNIT_NAME}")
    return done
