"""``socle-agent displays``: the attached displays, or a saved EDID / tool output, as JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from agent.state import AgentState
from config.agent_settings import AgentSettings
from config.wire import ProbeStatus, dump
from probes.base import Outcome, ProbeContext
from probes.displays import run
from probes.displays.detect import TOOLS, parse_output

EXIT_OK = 0
EXIT_USAGE = 2


def add_displays_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``displays [--from-file PATH [--tool NAME]] [--json]``."""
    d = sub.add_parser("displays", parents=[common],
                       help="read the attached displays' EDIDs (projector, interactive display...)")
    d.add_argument("--from-file", metavar="PATH", type=Path,
                   help="decode a saved EDID (binary or hex dump) or a saved tool output "
                        "(xrandr --props, ioreg, system_profiler, WMI, reg query)")
    d.add_argument("--tool", choices=TOOLS, help="what --from-file holds (default: recognised)")
    d.add_argument("--json", action="store_true", help="print JSON (the only format; kept for symmetry)")


def _document(tool: str | None, outcome: Outcome, duration_s: float) -> dict[str, Any]:
    return {"probe": "displays", "tool": tool, "status": outcome.status.value, "reason": outcome.reason,
            "duration_s": round(duration_s, 3),
            "measurement": dump(outcome.measurement) if outcome.measurement is not None else None}


def cmd_displays(args: argparse.Namespace, settings: AgentSettings, state: AgentState) -> int:
    """Print one displays reading as JSON; exit 2 when a given file cannot be read."""
    start = time.monotonic()
    if args.tool and not args.from_file:
        print("socle-agent: --tool goes with --from-file", file=sys.stderr)
        return EXIT_USAGE
    if args.from_file is not None:
        try:
            data = args.from_file.read_bytes()
        except OSError as exc:
            print(f"socle-agent: cannot read {args.from_file}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
        tool, outcome = parse_output(data, args.tool)
    else:
        outcome = run(ProbeContext(settings=settings))
        tool = getattr(outcome.measurement, "source", None)
    print(json.dumps(_document(tool, outcome, time.monotonic() - start), indent=2, ensure_ascii=False))
    return EXIT_USAGE if (args.from_file is not None and outcome.status is ProbeStatus.error) else EXIT_OK
