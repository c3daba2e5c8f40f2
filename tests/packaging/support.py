"""Fresh virtual environments, wheels and site-packages sizes, for tests/packaging and bench/agent_install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What only the collector needs: none of it may come with the agent (issue 17).
COLLECTOR_ONLY = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "numpy", "jinja2")


def sh(*argv: str | Path, env: dict[str, str] | None = None, timeout: float = 900,
       cwd: Path | None = None, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    """Run a command; fail with its output when its exit code is not one of ``ok``.

    Commands of a fresh venv run with ``cwd`` outside this tree, or ``python -c`` would
    import the tree's own agent/ and collector/ folders instead of the installed ones.
    """
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env} if env else None, cwd=cwd, check=False)
    if done.returncode not in ok:
        raise AssertionError(f"{' '.join(map(str, argv))} exited {done.returncode}:\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def offline_env() -> dict[str, str]:
    """pip with no index, no find-links and no configuration file: only what the command names."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def build_wheels(out: Path) -> dict[str, Path]:
    """socle-agent's and socle-collector's wheels, built from this tree into ``out``."""
    sh(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", ROOT / "packaging" / "agent",
       ROOT / "packaging" / "collector", "-w", out)
    return {"agent": next(out.glob("socle_agent-*.whl")),
            "collector": next(out.glob("socle_collector-*.whl"))}


@dataclass(frozen=True)
class Venv:
    """A fresh virtual environment."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        return self.bin / ("python.exe" if os.name == "nt" else "python")

    def site_packages(self) -> Path:
        """Its purelib folder."""
        code = "import sysconfig; print(sysconfig.get_path('purelib'))"
        return Path(sh(self.python, "-c", code, cwd=self.root).stdout.strip())

    def distributions(self) -> set[str]:
        """The names of the distributions installed in it, lower case."""
        code = ("import importlib.metadata as m, json; "
                "print(json.dumps(sorted({d.metadata['Name'].lower() for d in m.distributions()})))")
        return set(json.loads(sh(self.python, "-c", code, cwd=self.root).stdout))

    def size_bytes(self) -> int:
        """Bytes of every file in site-packages (compiled .pyc files included: pip writes them)."""
        return sum(p.stat().st_size for p in self.site_packages().rglob("*") if p.is_file())


def make_venv(path: Path) -> Venv:
    """A new venv at ``path`` with this Python (without the test venv's packages)."""
    base = getattr(sys, "_base_executable", sys.executable)
    sh(base, "-m", "venv", path)
    return Venv(path)


@dataclass(frozen=True)
class Growth:
    """What one install added to a venv."""

    added: frozenset[str]
    mb: float


def install_growth(venv: Venv, *pip_args: str | Path, env: dict[str, str] | None = None) -> Growth:
    """pip install ``pip_args`` into ``venv``; the distributions and the site-packages MB it added."""
    before_d, before_b = venv.distributions(), venv.size_bytes()
    sh(venv.python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *pip_args, env=env,
       cwd=venv.root)
    return Growth(frozenset(venv.distributions() - before_d), round((venv.size_bytes() - before_b) / 1e6, 1))
