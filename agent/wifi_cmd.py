"""``socle-agent wifi``: the live Wi-Fi reading, a saved tool output, or a capture, as JSON."""

from __future__ import annotations

import argparse
import codecs
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from agent.exits import EXIT_PASS, EXIT_USAGE
from agent.state import AgentState
from config.agent_settings import AgentSettings
from config.wire import ProbeStatus, dump
from probes.base import Outcome, ProbeContext
from probes.wifi import run
from probes.wifi.detect import TOOLS, parse_output


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {name!r} (e.g. utf-8, cp850, cp1252)") from None


def add_wifi_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``wifi [--from-file PATH [--tool NAME]] [--pcap FILE] [--json]``."""
    w = sub.add_parser("wifi", parents=[common], help="read the Wi-Fi link and the networks around")
    src = w.add_mutually_exclusive_group()
    src.add_argument("--from-file", metavar="PATH", type=Path,
                     help="parse a saved tool output (netsh, iw, nmcli, wdutil, airport...)")
    src.add_argument("--pcap", metavar="FILE", type=Path, help="read beacons from a capture")
    w.add_argument("--tool", choices=TOOLS, help="the tool that printed --from-file (default: recognised)")
    w.add_argument("--encoding", default="utf-8", type=_codec,
                   help="what --from-file was saved in (default utf-8; cp850 for a netsh output "
                   "redirected to a file on a French Windows)")
    w.add_argument("--json", action="store_true", help="print JSON (the only format; kept for symmetry)")


def _document(tool: str | None, outcome: Outcome, duration_s: float) -> dict[str, Any]:
    return {"probe": "wifi", "tool": tool, "status": outcome.status.value, "reason": outcome.reason,
            "duration_s": round(duration_s, 3),
            "measurement": dump(outcome.measurement) if outcome.measurement is not None else None}


def _emit(text: str) -> bool:
    """Print the document; False when the reader went away (``| head``): a quiet end, no traceback."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python's own advice (signal docs): point stdout at devnull so the flush at exit is silent
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return False
    return True


def cmd_wifi(args: argparse.Namespace, settings: AgentSettings, state: AgentState) -> int:
    """Print one Wi-Fi reading as JSON; exit 2 when a given file cannot be read."""
    start = time.monotonic()
    if args.tool and not args.from_file:
        print("socle-agent: --tool goes with --from-file", file=sys.stderr)
        return EXIT_USAGE
    path = args.from_file or args.pcap
    if path is not None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            print(f"socle-agent: cannot read {path}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
        tool, outcome = parse_output(data, "pcap" if args.pcap else args.tool, path=path,
                                     encoding=args.encoding)
    else:
        tool, outcome = None, run(ProbeContext(settings=settings))
        if outcome.measurement is not None:
            tool = getattr(outcome.measurement, "tool", None)
    text = json.dumps(_document(tool, outcome, time.monotonic() - start), indent=2, ensure_ascii=False)
    if not _emit(text):
        return EXIT_PASS
    return EXIT_USAGE if (path is not None and outcome.status is ProbeStatus.error) else EXIT_PASS
