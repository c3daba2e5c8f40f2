"""``socle-agent bundle --platform TAG --out DIR``: make the offline folder (agent/bundle.py)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.bundle import (
    EXAMPLES,
    BundleError,
    Target,
    canonical,
    install_text,
    parse_lock,
    parse_platform,
    parse_python,
    rewrite_lock,
    sha256,
    source_only,
    wheel_requirements,
)

if TYPE_CHECKING:
    from agent.state import AgentState
    from config.agent_settings import AgentSettings

# (argv, extra environment) -> (exit code, stdout, stderr); tests replace it.
Runner = Callable[[Sequence[str], "dict[str, str] | None"], "tuple[int, str, str]"]


def run_tool(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run a resolver or pip, with the extra environment given."""
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False,
                          env={**os.environ, **env} if env else None)
    return done.returncode, done.stdout, done.stderr


def uv_binary() -> str:
    """The uv executable: the one of the ``bundle`` extra, else uv on PATH."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found:
            return found
    raise BundleError("the bundle needs uv to resolve for another platform: "
                      "pip install 'socle-agent[bundle]' (or put uv on PATH)")


@dataclass(frozen=True)
class Bundle:
    """What ``bundle`` made."""

    out: Path
    agent: str
    wheels: int
    size_mb: float


def _tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _agent_wheel(wheel: Path | None, out: Path, run: Runner) -> Path:
    """The agent's wheel, copied into ``out``; built from this source tree when none is given."""
    if wheel is not None:
        if not wheel.is_file() or wheel.suffix != ".whl":
            raise BundleError(f"--wheel {wheel}: no such wheel file")
        return Path(shutil.copy2(wheel, out / wheel.name))
    project = Path(__file__).resolve().parents[1] / "packaging" / "agent"
    if not (project / "pyproject.toml").is_file():
        raise BundleError("this agent was not installed from a source tree: give its wheel with --wheel FILE")
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(project), "-w", str(out)]
    code, _, err = run(build, None)
    built = sorted(out.glob("socle_agent-*.whl"))
    if code != 0 or len(built) != 1:
        raise BundleError(f"could not build the agent's wheel from {project}:\n{_tail(err)}")
    return built[0]


def _resolve(reqs: list[str], target: Target, python: str, work: Path, run: Runner) -> str:
    """uv's lock (pins and hashes) of ``reqs`` for the target."""
    req_in = work / "requirements.in"
    req_in.write_text("\n".join(reqs) + "\n", encoding="utf-8")
    env = {"MACOSX_DEPLOYMENT_TARGET": target.macos_version} if target.macos_version else None
    code, out, err = run([uv_binary(), "pip", "compile", str(req_in), "--python-platform", target.uv_platform,
                          "--python-version", python, "--only-binary", ":all:", "--generate-hashes",
                          "--no-header", "--no-annotate", "--quiet"], env)
    if code != 0:
        raise BundleError(f"the agent's requirements cannot be resolved for {target.tag} and CPython "
                          f"{python} with wheels only (a source-only package is refused):\n{_tail(err)}")
    return out


def _download(lock: Path, target: Target, python: str, out: Path, run: Runner) -> None:
    platforms = [arg for tag in target.pip_platforms for arg in ("--platform", tag)]
    code, _, err = run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                        "--no-deps", "--only-binary=:all:", "--implementation", "cp", "--python-version",
                        python, *platforms, "--require-hashes", "-r", str(lock), "-d", str(out)], None)
    if code == 0:
        return
    missing = source_only(err)
    if missing:
        raise BundleError(f"{missing} has no wheel for {target.tag} and CPython {python} (source only: "
                          "each machine would need a compiler); the bundle is refused")
    raise BundleError(f"pip could not download the wheels for {target.tag}:\n{_tail(err)}")


def make_bundle(platform: str, python: str, out: Path, wheel: Path | None = None,
                run: Runner = run_tool) -> Bundle:
    """Fill ``out`` (new or empty) with the agent's wheels for ``platform``; remove them on failure."""
    target, python = parse_platform(platform), parse_python(python)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BundleError(f"--out {out}: exists and is not an empty folder")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        agent = _agent_wheel(wheel, out, run)
        name, version, reqs = wheel_requirements(agent)
        with tempfile.TemporaryDirectory(prefix="socle-bundle-") as tmp:
            lock_text = _resolve(reqs, target, python, Path(tmp), run)
            pins = parse_lock(lock_text)
            (Path(tmp) / "lock.txt").write_text(lock_text, encoding="utf-8")
            _download(Path(tmp) / "lock.txt", target, python, out, run)
        deps = {p.name: sha256(p) for p in out.iterdir() if p != agent}
        lines = [*rewrite_lock(pins, deps), f"{canonical(name)}=={version} --hash=sha256:{sha256(agent)}"]
        size_mb = sum(p.stat().st_size for p in out.iterdir()) / 1e6
        (out / "requirements.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        text = install_text(target, python, f"{name} {version}", len(lines), size_mb)
        (out / "INSTALL.txt").write_text(text, encoding="utf-8")
        return Bundle(out, f"{name} {version}", len(lines), round(size_mb, 1))
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        else:
            for p in out.iterdir():
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        raise


def add_bundle_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``bundle --platform TAG [--python X.Y] --out DIR [--wheel FILE]``."""
    b = sub.add_parser("bundle", parents=[common],
                       help="a folder of the agent's wheels for one platform, to install offline",
                       description="Resolve and download the agent's wheels for another platform and "
                                   "Python, so machines install from a folder with the index switched off. "
                                   "Needs uv: pip install 'socle-agent[bundle]'.")
    b.add_argument("--platform", required=True, metavar="TAG", help=f"wheel platform tag: {EXAMPLES}")
    b.add_argument("--python", default=f"{sys.version_info[0]}.{sys.version_info[1]}", metavar="X.Y",
                   help="the machines' CPython version (default: this one's); 3.10 or newer")
    b.add_argument("--out", required=True, type=Path, metavar="DIR", help="new or empty folder to fill")
    b.add_argument("--wheel", type=Path, metavar="FILE",
                   help="the socle-agent wheel to ship (default: built from this source tree)")


def cmd_bundle(args: argparse.Namespace, settings: AgentSettings, state: AgentState) -> int:
    """Make the bundle and say what it holds; a refusal is a usage error (exit 2)."""
    from agent.exits import EXIT_PASS, UsageError

    try:
        made = make_bundle(args.platform, args.python, args.out, args.wheel)
    except BundleError as exc:
        raise UsageError(f"bundle: {exc}") from None
    print(f"{made.out}: {made.agent} and its dependencies, {made.wheels} wheels, {made.size_mb:.1f} MB, "
          f"for {parse_platform(args.platform).tag} and CPython {parse_python(args.python)}")
    print(f"install offline: pip install --no-index --find-links {made.out} "
          f"-r {made.out / 'requirements.txt'}")
    return EXIT_PASS
