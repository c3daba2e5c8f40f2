"""The last run of each job (nightly, light, check), kept in the state directory for ``status``.

Plain dataclasses and JSON: the scheduler process imports this and stays small.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from filelock import FileLock


@dataclass(frozen=True)
class RunRecord:
    """How one job last ended."""

    at: datetime
    outcome: str  # done | pass | fail | error
    error: str | None = None


def _path(root: Path) -> Path:
    return root / "runs.json"


def last_runs(root: Path) -> dict[str, RunRecord]:
    """The last run of every job that ran, by job name (state directory ``root``)."""
    try:
        raw = json.loads(_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for name, rec in raw.items() if isinstance(raw, dict) else ():
        try:
            out[name] = RunRecord(at=datetime.fromisoformat(rec["at"]), outcome=str(rec["outcome"]),
                                  error=rec.get("error"))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def record_run(root: Path, job: str, at: datetime, outcome: str, error: str | None = None) -> None:
    """Keep how a job ended (read-modify-write under a file lock: several processes may record)."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    with FileLock(str(_path(root)) + ".lock", timeout=30):
        runs = last_runs(root)
        runs[job] = RunRecord(at=at, outcome=outcome, error=error)
        data = {k: {**asdict(v), "at": v.at.isoformat()} for k, v in runs.items()}
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".runs.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2)
            os.replace(tmp, _path(root))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
