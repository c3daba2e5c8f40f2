"""On a shaped link: the collector in the server namespace, the agent and M-Lab's client in the other.

Shared by tests/probes/test_bandwidth_interop.py and bench/bandwidth_interop.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.netns import Link

ROOT = Path(__file__).resolve().parent.parent.parent


def browser_unavailable() -> str | None:
    """Why M-Lab's client cannot run here (no chromium, no playwright), or None."""
    from tests.interop.mlab_driver import CHROMIUM

    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        return f"Debian's chromium is not installed ({CHROMIUM})"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


class HarnessError(RuntimeError):
    """A side did not start or printed no result."""


def start_collector(link: Link, data_dir: Path, port: int, timeout_s: float = 30.0) -> Path:
    """``socle-collector serve`` in the server namespace; returns its log file once it listens."""
    log_path = data_dir.parent / f"{data_dir.name}.log"
    with log_path.open("wb") as log:
        link.popen(link.server_ns, [sys.executable, "-m", "collector.cli.main", "--data-dir", str(data_dir),
                                    "serve", "--host", link.server_ip, "--port", str(port)],
                   cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while not link.run(link.server_ns, ["ss", "-Hltn", f"sport = :{port}"], check=False).stdout.strip():
        if time.monotonic() > deadline:
            raise HarnessError(f"the collector did not start: {log_path.read_text()[-1500:]}")
        time.sleep(0.2)
    return log_path


def _json(out: subprocess.CompletedProcess[str], what: str) -> dict[str, Any]:
    try:
        value: dict[str, Any] = json.loads(out.stdout)
    except ValueError:
        raise HarnessError(f"{what} printed no JSON: {out.stdout[-500:]} {out.stderr[-2000:]}") from None
    return value


def agent_probe(link: Link, port: int, config: Path, state_dir: Path,
                record: Path | None = None) -> dict[str, Any]:
    """``socle-agent probe bandwidth --json`` in the client namespace against the collector.

    With ``record``, the probe also writes its raw series there (``--record``).
    """
    extra = ["--record", str(record)] if record is not None else []
    out = link.run(link.client_ns, [sys.executable, "-m", "agent.cli", "probe", "bandwidth", "--json",
                                    "--server", f"http://{link.server_ip}:{port}", "--config", str(config),
                                    "--state-dir", str(state_dir), *extra], timeout=90, check=False)
    return _json(out, "socle-agent probe bandwidth")


def mlab_client(link: Link, port: int) -> dict[str, Any]:
    """M-Lab's ndt7-js in headless chromium in the client namespace (tests/interop/mlab_driver.py)."""
    out = link.run(link.client_ns, [sys.executable, "-m", "tests.interop.mlab_driver",
                                    f"{link.server_ip}:{port}", "--timeout", "60"], timeout=120, check=False)
    return _json(out, "tests/interop/mlab_driver.py")


def agent_config(tmp: Path, min_s: float = 3.0, max_s: float = 6.0) -> Path:
    """An agent settings file for the bandwidth probe, its byte budget kept in ``tmp``."""
    cfg = tmp / "agent.toml"
    cfg.write_text(f'[probes.bandwidth]\nmin_duration_s = {min_s}\nmax_duration_s = {max_s}\n'
                   f'usage_file = "{tmp / "usage.json"}"\nmonthly_budget_mb = 1000000\n', encoding="utf-8")
    return cfg
