"""The last run of each job (nightly, light, check), kept in the state directory for ``status``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from filelock import FileLock
from pydantic import BaseModel, ConfigDict

from agent.state import AgentState, write_private


class RunRecord(BaseModel):
    """How one job last ended."""

    model_config = ConfigDict(extra="ignore")

    at: datetime
    outcome: str  # pass | fail | error | skipped
    error: str | None = None


def _path(state: AgentState) -> Path:
    return state.root / "runs.json"


def last_runs(state: AgentState) -> dict[str, RunRecord]:
    """The last run of every job that ran, by job name."""
    try:
        raw = json.loads(_path(state).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for name, rec in raw.items() if isinstance(raw, dict) else ():
        try:
            out[name] = RunRecord.model_validate(rec)
        except ValueError:
            continue
    return out


def record_run(state: AgentState, job: str, at: datetime, outcome: str, error: str | None = None) -> None:
    """Keep how a job ended (read-modify-write under a file lock: several processes may record)."""
    state.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    with FileLock(str(_path(state)) + ".lock", timeout=30):
        runs = last_runs(state)
        runs[job] = RunRecord(at=at, outcome=outcome, error=error)
        write_private(_path(state), json.dumps({k: v.model_dump(mode="json") for k, v in runs.items()},
                                               indent=2) + "\n")
