"""``socle-agent survey``: sample the Wi-Fi link in one room and file the room's coverage.

The technician stands in the room; the agent reads the link N times through the
Wi-Fi probe (so every OS and tool the probe knows works here), shows each
reading on stderr, and files one report whose ``wifi_survey`` result carries
every reading and the room's summary. The collector turns each reading into a
``wifi.signal_dbm`` / ``wifi.snr_db`` sample of the room (config/samples.py),
so W6 and W7 judge the room with no rule of their own.

The school, the profile the room is judged with on the spot and the filing of
the report (spool, one delivery attempt, exit code) are those of ``check``
(agent/filing.py): an enrolled agent that sends judges with its collector's
profile, and the summary's shares use that profile's W6 and W7 figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from agent.check import build_report, judge
from agent.exits import EXIT_FAIL, EXIT_PASS, UsageError
from agent.filing import (
    judged_with,
    judging_profile,
    keep_report,
    school_and_room,
    send_kept,
    send_unkept,
    uai_arg,
)
from agent.state import AgentState
from config.agent_settings import AgentSettings
from config.profile import Profile, Scope
from config.wire import (
    ProbeResult,
    ProbeStatus,
    Report,
    RuleOutcomeStatus,
    WifiMeasurement,
    WifiNetwork,
    WifiSurveyMeasurement,
    WifiSurveyReading,
)
from probes.base import Outcome, ProbeContext
from probes.wifi import run as read_wifi

# W6's and W7's figures in the bundled profile, used only for a judging profile that has no
# per-room rule on wifi.signal_dbm or wifi.snr_db (a district's own profile without W6 or W7).
FALLBACK_SIGNAL_DBM, FALLBACK_SNR_DB = -67.0, 25.0


class Figures(NamedTuple):
    """The signal and SNR a reading must reach to count in the summary's shares."""

    signal_dbm: float
    snr_db: float


@dataclass(frozen=True)
class Reading:
    """One probe reading of the survey and when it was taken."""

    taken_at: datetime
    outcome: Outcome


def take_readings(ctx: ProbeContext, samples: int, interval_s: float,
                  progress: Callable[[int, Reading], None] = lambda i, r: None) -> list[Reading]:
    """Read the link ``samples`` times, ``interval_s`` apart, through ``ctx``'s seams."""
    out: list[Reading] = []
    for i in range(samples):
        if i:
            ctx.sleep(interval_s)
        at = ctx.clock()
        try:
            outcome = read_wifi(ctx)
        except Exception as exc:  # noqa: BLE001 - one broken reading must not end the survey
            outcome = Outcome(ProbeStatus.error, None, f"{type(exc).__name__}: {exc}"[:300])
        reading = Reading(at, outcome)
        out.append(reading)
        progress(i + 1, reading)
    return out


def _link(r: Reading) -> WifiMeasurement | None:
    m = r.outcome.measurement
    return m if isinstance(m, WifiMeasurement) and r.outcome.status is not ProbeStatus.error else None


def _reading(r: Reading) -> WifiSurveyReading:
    m = _link(r)
    if m is None or (m.signal_dbm is None and m.signal_quality_pct is None):
        why = r.outcome.reason or (m.missing.get("signal_dbm") if m else None) or "no reading"
        return WifiSurveyReading(taken_at=r.taken_at, reason=why[:300])
    return WifiSurveyReading(taken_at=r.taken_at, signal_dbm=m.signal_dbm, snr_db=m.snr_db,
                             signal_quality_pct=m.signal_quality_pct, bssid=m.bssid, band=m.band,
                             channel=m.channel, same_channel_networks=m.same_channel_networks)


def _most_common(values: Sequence[Any]) -> Any:
    present = [v for v in values if v is not None]
    return Counter(present).most_common(1)[0][0] if present else None


def _share(values: Sequence[float], threshold: float) -> float | None:
    return round(100.0 * sum(1 for v in values if v >= threshold) / len(values), 1) if values else None


def summarise(readings: Sequence[Reading], figures: Figures,
              interval_s: float | None = None) -> WifiSurveyMeasurement:
    """The room's survey from its readings (pure): every reading kept, medians, minimum and shares."""
    threshold_dbm, snr_threshold_db = figures
    rows = [_reading(r) for r in readings]
    links = [m for m in (_link(r) for r in readings) if m is not None]
    signals = [r.signal_dbm for r in rows if r.signal_dbm is not None]
    snrs = [r.snr_db for r in rows if r.snr_db is not None]
    quality = [r.signal_quality_pct for r in rows if r.signal_quality_pct is not None]
    missing: dict[str, str] = {}
    if not signals:
        missing["signal_dbm"] = _most_common([r.reason for r in rows]) or next(
            (m.missing["signal_dbm"] for m in links if "signal_dbm" in m.missing), "no reading gave a signal")
    if not snrs:
        missing["snr_db"] = next((m.missing["snr_db"] for m in links if "snr_db" in m.missing),
                                 "no reading gave the noise floor")
    lost = sum(1 for r in rows if r.signal_dbm is None and r.signal_quality_pct is None)
    if lost:
        missing["readings"] = f"{lost} of {len(rows)} reading(s) without a signal: " + (
            _most_common([r.reason for r in rows]) or "unknown")
    heard: dict[str, WifiNetwork] = {}
    for m in links:  # the latest reading of each access point wins
        for n in m.neighbours:
            heard[n.bssid or f"{n.ssid}|{n.channel}"] = n
    same = [r.same_channel_networks for r in rows if r.same_channel_networks is not None]
    util = [m.channel_utilisation_pct for m in links if m.channel_utilisation_pct is not None]
    levels = [m.security_level for m in links if m.security_level is not None]
    plan = [m.channel_plan_ok for m in links if m.channel_plan_ok is not None]
    return WifiSurveyMeasurement(
        tool=_most_common([m.tool for m in links]), interval_s=interval_s, samples=len(rows),
        samples_with_signal=len(signals) or len(quality), threshold_dbm=threshold_dbm,
        snr_threshold_db=snr_threshold_db,
        signal_median_dbm=statistics.median(signals) if signals else None,
        signal_min_dbm=min(signals) if signals else None,
        signal_share_ok_pct=_share(signals, threshold_dbm),
        snr_median_db=statistics.median(snrs) if snrs else None,
        snr_share_ok_pct=_share(snrs, snr_threshold_db),
        signal_quality_median_pct=statistics.median(quality) if quality else None,
        ssid=_most_common([m.ssid for m in links]), bssid=_most_common([r.bssid for r in rows]),
        band=_most_common([r.band for r in rows]), channel=_most_common([r.channel for r in rows]),
        same_channel_networks=max(same) if same else None,
        security=_most_common([m.security for m in links]),
        security_level=min(levels) if levels else None,
        channel_plan_ok=all(plan) if plan else None,
        channel_utilisation_pct=statistics.median(util) if util else None,
        readings=rows, neighbours=list(heard.values())[:512], missing=missing)


def survey_result(readings: Sequence[Reading], duration_s: float, figures: Figures,
                  interval_s: float | None = None) -> ProbeResult:
    """The survey as one ``wifi_survey`` result (degraded when readings were lost, unavailable when all)."""
    m = summarise(readings, figures, interval_s)
    if m.samples_with_signal == 0:
        status, reason = ProbeStatus.unavailable, m.missing.get("signal_dbm")
    elif m.samples_with_signal < m.samples:
        status, reason = ProbeStatus.degraded, m.missing.get("readings")
    else:
        status, reason = ProbeStatus.ok, None
    return ProbeResult(probe="wifi_survey", status=status, reason=reason, duration_s=round(duration_s, 3),
                       measurement=m)


def thresholds(profile: Profile) -> Figures:
    """The figures of the profile's per-room rules on signal and SNR (W6, W7); a missing rule's fallback."""
    found = {r.metric: r.threshold for r in profile.rules if r.scope is Scope.room
             and r.metric in ("wifi.signal_dbm", "wifi.snr_db")}
    return Figures(found.get("wifi.signal_dbm", FALLBACK_SIGNAL_DBM),
                   found.get("wifi.snr_db", FALLBACK_SNR_DB))


def room_verdict(profile: Profile, report: Report) -> tuple[bool, list[str]]:
    """Whether the surveyed room meets the profile's Wi-Fi rules, and the ids of those it fails."""
    ev = judge(profile, report)
    failed = [o.rule_id for o in ev.outcomes if o.metric.startswith("wifi.")
              and o.outcome is RuleOutcomeStatus.failed]
    return not failed, failed


def describe(i: int, total: int, r: Reading) -> str:
    """One progress line for stderr."""
    row = _reading(r)
    if row.signal_dbm is None and row.signal_quality_pct is None:
        return f"sample {i}/{total}: no reading ({row.reason})"
    sig = f"{row.signal_dbm:g} dBm" if row.signal_dbm is not None else f"{row.signal_quality_pct:g} %"
    snr = f", SNR {row.snr_db:g} dB" if row.snr_db is not None else ""
    where = ", ".join(x for x in (row.band, f"ch {row.channel}" if row.channel else None) if x)
    return f"sample {i}/{total}: {sig}{snr}" + (f" ({where})" if where else "")


def render(m: WifiSurveyMeasurement, room: str, passed: bool, failed: Sequence[str]) -> str:
    """The room's summary for the technician."""
    def num(v: float | None, unit: str) -> str:
        return "—" if v is None else f"{v:g} {unit}"

    lines = [f"room {room}: {m.samples_with_signal}/{m.samples} readings"
             + (f" on {m.ssid}" if m.ssid else ""),
             f"  signal median {num(m.signal_median_dbm, 'dBm')}, minimum {num(m.signal_min_dbm, 'dBm')}, "
             f"{num(m.signal_share_ok_pct, '%')} at {m.threshold_dbm:g} dBm or better",
             f"  SNR median {num(m.snr_median_db, 'dB')}, {num(m.snr_share_ok_pct, '%')} at "
             f"{m.snr_threshold_db:g} dB or better",
             f"  band {m.band or '—'}, channel {m.channel or '—'}, "
             f"{'—' if m.same_channel_networks is None else m.same_channel_networks} other network(s) "
             "on the same channel"]
    for field, why in sorted(m.missing.items()):
        lines.append(f"  {field}: {why}")
    if m.samples_with_signal == 0:
        lines.append("NO DATA — no reading gave a signal: the room is not judged")
    else:
        lines.append("PASS — the room meets the profile's Wi-Fi rules" if passed
                     else f"FAIL — {', '.join(failed)}")
    return "\n".join(lines)


def add_survey_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``survey --room ROOM [--samples N] [--interval S] [--json] [--no-send]``."""
    s = sub.add_parser("survey", parents=[common],
                       help="sample the Wi-Fi link in one room and file the room's coverage")
    s.add_argument("--room", required=True, help="the room you are standing in, e.g. 'CM1-B'")
    s.add_argument("--samples", type=int, default=10, help="readings to take (default 10)")
    s.add_argument("--interval", type=float, default=2.0, metavar="S",
                   help="seconds between readings (default 2)")
    s.add_argument("--json", action="store_true", help="print the report as JSON instead of a summary")
    s.add_argument("--no-send", action="store_true", help="keep the report local")
    s.add_argument("--uai", type=uai_arg,
                   help="school UAI for an agent that is not enrolled (with --no-send)")


def cmd_survey(args: argparse.Namespace, settings: AgentSettings, state: AgentState,
               make_ctx: Callable[[], ProbeContext] | None = None) -> int:
    """Survey one room, print its summary, keep the report in the spool and send it."""
    if args.samples < 1 or args.interval < 0:
        raise UsageError("--samples must be at least 1 and --interval not negative")
    cred = state.credential()
    uai, room = school_and_room(cred, args.uai, args.room, no_send=args.no_send, command="survey")
    profile, origin = judging_profile(settings, cred, offline=args.no_send)
    ctx = make_ctx() if make_ctx else ProbeContext(settings=settings)
    print(f"surveying room {room}: {args.samples} reading(s), {args.interval:g} s apart", file=sys.stderr)
    start = time.monotonic()
    readings = take_readings(ctx, args.samples, args.interval,
                             lambda i, r: print(describe(i, args.samples, r), file=sys.stderr))
    result = survey_result(readings, time.monotonic() - start, thresholds(profile), args.interval)
    assert isinstance(result.measurement, WifiSurveyMeasurement)
    report = build_report(state, uai, room, [result], ctx)
    passed, failed = room_verdict(profile, report)
    unkept = None
    if not args.no_send:  # on disk before any attempt to send it, as check's
        report, unkept = keep_report(state, settings, report)
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print(render(result.measurement, room, passed, failed))
        print(judged_with(profile, origin))
    # A room without a single reading is not shown as passing.
    code = EXIT_PASS if passed and result.measurement.samples_with_signal else EXIT_FAIL
    if unkept is not None:
        return send_unkept(state, settings, report, unkept, "survey")
    return code if args.no_send else send_kept(state, settings, report, code, "survey")
