"""The scheduler process of ``socle-agent run``: small, and it stays small.

``socle-agent run`` checks its settings, works out a plan (schedule section,
instance ID, spool path) and replaces itself (exec) with this module, which
imports only the schedule, the spool and APScheduler — no probes, no HTTP
library, not even pydantic. Each check and each delivery runs
in a child process (``socle-agent job`` / ``socle-agent flush``) whose memory
goes back to the system when it ends; so the agent idles at the size of this
process and not at the size of its largest check. The jobs' locks and outcomes
are kept here.

    socle-agent scheduler-process --plan JSON      (agent/launch.py: frozen or not)
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType, SimpleNamespace
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from agent.exits import EXIT_FAIL, EXIT_INTERNAL, EXIT_PASS, EXIT_UNREACHABLE
from agent.launch import agent_argv
from agent.runlog import last_runs, record_run
from agent.schedule import Jobs, build_scheduler, next_nightly, nightly_slot, offset_fraction, parse_hhmm
from agent.spool import Spool
from config.compat import UTC

if TYPE_CHECKING:
    from config.agent_settings import ScheduleSettings

log = logging.getLogger("socle.agent.daemon")


@dataclass(frozen=True)
class Plan:
    """What the scheduler needs, worked out by ``socle-agent run`` from the validated settings."""

    state_dir: Path
    config: Path | None
    instance_id: uuid.UUID
    spool_path: Path
    check_budget_s: float
    schedule: dict[str, Any]

    def to_json(self) -> str:
        """The plan as the daemon's argument."""
        config = str(self.config) if self.config else None
        return json.dumps({"state_dir": str(self.state_dir), "config": config,
                           "instance_id": str(self.instance_id), "spool_path": str(self.spool_path),
                           "check_budget_s": self.check_budget_s, "schedule": self.schedule})

    @classmethod
    def from_json(cls, text: str) -> Plan:
        """Read a plan back."""
        d = json.loads(text)
        config = Path(d["config"]) if d["config"] else None
        return cls(Path(d["state_dir"]), config, uuid.UUID(d["instance_id"]), Path(d["spool_path"]),
                   float(d["check_budget_s"]), d["schedule"])

    def schedule_settings(self) -> ScheduleSettings:
        """The schedule section with attribute access (already validated by the parent)."""
        light = SimpleNamespace(**self.schedule["light"])
        return cast("ScheduleSettings", SimpleNamespace(**{**self.schedule, "light": light}))


def child_argv(plan: Plan, *command: str) -> list[str]:
    """The command line of a child ``socle-agent`` run with this agent's state and settings."""
    argv = agent_argv("--state-dir", str(plan.state_dir))
    if plan.config is not None:
        argv += ["--config", str(plan.config)]
    return [*argv, *command]
def _child(argv: list[str], timeout_s: float) -> str:
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"no result after {timeout_s:g} s; stopped") from None
    outcomes = {EXIT_PASS: "done", EXIT_FAIL: "done", EXIT_UNREACHABLE: "done, not sent yet"}
    if done.returncode not in outcomes:
        last = (done.stderr or "").strip().splitlines()
        raise RuntimeError(last[-1] if last else f"exit code {done.returncode}")
    return outcomes[done.returncode]


def serve(plan: Plan) -> int:
    """Run the schedule until SIGTERM or SIGINT."""
    settings = plan.schedule_settings()
    tz = ZoneInfo(settings.timezone)

    def clock() -> datetime:
        return datetime.now(UTC)

    def check(kind: str, probes: list[str] | None) -> str:
        return _child(child_argv(plan, "job", kind), plan.check_budget_s)

    def deliver() -> str:
        return _child(child_argv(plan, "flush", "--max-wait", "60"), 3600)

    def due() -> bool:
        with Spool(plan.spool_path) as spool:
            st = spool.stats()
        return st.depth > 0 and (st.not_before is None or clock().timestamp() >= st.not_before)

    def record(job: str, at: datetime, outcome: str, error: str | None) -> None:
        record_run(plan.state_dir, job, at, outcome, error)

    jobs = Jobs(settings, plan.state_dir / "locks", check=check, deliver=deliver, due=due,
                clock=clock, tz=tz, record=record)
    last = last_runs(plan.state_dir).get("nightly")
    sched = build_scheduler(jobs, plan.instance_id, last_nightly=last.at if last else None)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        if sched.running:
            sched.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    slot = nightly_slot(parse_hhmm(settings.window_start), parse_hhmm(settings.window_end),
                        offset_fraction(plan.instance_id))
    print(f"socle-agent run: nightly check at {slot.isoformat()} ({tz.key}), next "
          f"{next_nightly(clock(), slot, tz).isoformat(timespec='seconds')}; spool {plan.spool_path}",
          flush=True)
    sched.start()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``socle-agent scheduler-process`` (``run`` execs it with the plan it worked out)."""
    p = argparse.ArgumentParser(prog="socle-agent run")
    p.add_argument("--plan", required=True, help="JSON, as 'socle-agent run' writes it")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from agent.tls import use_system_trust
    from probes.base import current_os

    use_system_trust(current_os())  # delivery to the collector runs in this process
    try:
        return serve(Plan.from_json(args.plan))
    except Exception as exc:  # never exit 1 ("does not meet the profile"): one line and code 4
        log.info("the scheduler failed", exc_info=True)
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        print(f"socle-agent run: internal error: {type(exc).__name__}: {first}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
