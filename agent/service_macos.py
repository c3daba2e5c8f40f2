"""``install-service`` on macOS: a launchd daemon (``/Library/LaunchDaemons/org.socle.agent.plist``)
running ``socle-agent run`` as root from boot, started again when it exits with an error, with the
real path of this agent's executable; loaded with ``launchctl bootstrap system``."""

from __future__ import annotations

import plistlib
import shlex
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

LABEL = "org.socle.agent"
PLIST_DIR = Path("/Library/LaunchDaemons")
LOG = "/Library/Logs/socle-agent.log"

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def render_plist(command: Sequence[str], state_dir: Path, config: Path | None) -> str:
    """The daemon's property list (pure)."""
    args = [*command, "--state-dir", str(state_dir), *(["--config", str(config)] if config else []), "run"]
    doc = {
        "Label": LABEL,
        "ProgramArguments": args,
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},  # again after a failure; not after a clean stop
        "ThrottleInterval": 30,
        "ProcessType": "Background",
        "EnvironmentVariables": {"SOCLE_AGENT_HOME": str(state_dir)},
        "StandardOutPath": LOG,
        "StandardErrorPath": LOG,
    }
    return plistlib.dumps(doc, sort_keys=False).decode("utf-8")


def plan(command: Sequence[str], state_dir: Path, config: Path | None, plist_dir: Path,
         start: bool) -> tuple[str, Path, list[list[str]]]:
    """What install does (pure): the plist, where it goes, the commands in order."""
    path = plist_dir / f"{LABEL}.plist"
    argvs = [["chown", "root:wheel", str(path)], ["chmod", "644", str(path)]]
    if start:
        argvs += [["launchctl", "bootout", f"system/{LABEL}"],  # a previous version, if loaded
                  ["launchctl", "bootstrap", "system", str(path)],
                  ["launchctl", "enable", f"system/{LABEL}"]]
    return render_plist(command, state_dir, config), path, argvs


def install(command: Sequence[str], state_dir: Path, config: Path | None, *, plist_dir: Path = PLIST_DIR,
            start: bool, run: Runner) -> list[str]:
    """Write the plist, lock the state directory to root, load the daemon; returns what was done."""
    text, path, argvs = plan(command, state_dir, config, plist_dir, start)
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    state_dir.chmod(0o700)
    plist_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    done = [f"wrote {path}", f"{state_dir} readable by root only"]
    for argv in argvs:
        res = run(argv)
        if res.returncode != 0 and argv[:2] != ["launchctl", "bootout"]:  # not loaded before: fine
            raise RuntimeError(f"{shlex.join(argv)} failed: {(res.stderr or res.stdout).strip()}")
    if start:
        done.append(f"loaded {LABEL} (launchctl bootstrap system)")
    return done
