"""Internet bandwidth by ndt7 (M-Lab's protocol) against the collector or any ndt7 server.

The probe measures, in order: idle latency (TCP handshakes to the server), loss
(ICMP echoes when privileged), the download, then the upload. Each transfer's
figure is the steady rate of the receiver's count (see ``ndt7`` and
``analysis``); a transfer stops early once stable, and always at the maximum
duration or its share of the per-test byte cap. A monthly byte budget is kept in
a small file; when it is spent the probe does not run.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from config import confidence
from config.wire import BandwidthMeasurement, ProbeStatus
from probes.bandwidth import analysis, local, ndt7, record, wifi_link
from probes.base import Outcome, ProbeContext, ProbeSpec
from probes.latency import jitter

log = logging.getLogger(__name__)

MB = 1_000_000
DOWNLOAD_SHARE = 0.75  # of the per-test byte cap; the upload gets the rest


class Loss(NamedTuple):
    """The loss figure the probe found, how, or why none; an ICMP figure's echoes sent and lost."""

    pct: float | None
    method: str | None
    why: str | None
    sent: int | None = None
    lost: int | None = None


@dataclass(frozen=True)
class Direction:
    """One subtest's outcome: the transfer, or why there is none."""

    transfer: ndt7.Transfer | None
    error: str | None = None


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _same_server(server: str, collector_url: str | None) -> bool:
    """Whether the ndt7 server is the agent's own collector (same host and port)."""
    if not collector_url:
        return False
    a, b = urlsplit(server), urlsplit(collector_url)
    return (a.hostname, a.port or (443 if a.scheme in ("https", "wss") else 80)) == \
        (b.hostname, b.port or (443 if b.scheme in ("https", "wss") else 80))


def _run_direction(fn: ndt7.TransferFunction, url: str, limits: ndt7.Limits,
                   ctx: ProbeContext) -> Direction:
    try:
        return Direction(fn(url, limits, ctx.monotonic))
    except Exception as exc:  # noqa: BLE001 - any transport failure is this subtest's result
        log.info("ndt7 %s failed: %s", url, exc)
        return Direction(None, f"{type(exc).__name__}: {exc}"[:300])


def _short_note(name: str, t: ndt7.Transfer) -> str:
    how = "byte cap reached" if t.stop == "byte_cap" else f"transfer ended ({t.stop})"
    return f"{name}: {how} after {t.duration_s:.2f} s: figure from a short transfer"


def _windows(name: str, t: ndt7.Transfer, median: float, m: BandwidthMeasurement) -> None:
    """Record how many windows the figure is the median of and their spread; doubt it when they disagree."""
    windows = analysis.window_rates(t.samples)
    spread = analysis.spread_pct(windows)
    setattr(m, f"{name}_windows", len(windows) or None)
    setattr(m, f"{name}_spread_pct", None if spread is None else round(min(spread, 1000.0), 2))
    if spread is not None and spread > analysis.SPREAD_PCT:
        lo, hi = analysis.percentile(windows, 10), analysis.percentile(windows, 90)
        m.doubtful[f"{name}_mbps"] = (
            f"its {len(windows)} windows disagree: {lo:.3f}-{hi:.3f} Mbit/s (p10-p90), {spread:.1f} % "
            f"of the {median:.3f} Mbit/s median, over {analysis.SPREAD_PCT:g} %")


def _loss_figure(loss: Loss, m: BandwidthMeasurement) -> None:
    """An ICMP figure's sample and 95 % interval; doubted when the interval is too wide to judge."""
    if loss.pct is None or loss.sent is None or loss.lost is None or loss.sent <= 0:
        return
    low, high = confidence.loss_interval_pct(loss.lost, loss.sent)
    m.loss_samples, m.loss_ci_low_pct, m.loss_ci_high_pct = loss.sent, low, high
    if not confidence.loss_is_sound(low, high):
        m.doubtful["loss_pct"] = (f"{confidence.describe(loss.lost, loss.sent, low, high)}: too few echoes "
                                  f"to judge (an interval over {confidence.MAX_LOSS_INTERVAL_PCT:g} points)")


def build_measurement(server: str, idle: list[float], down: Direction, up: Direction,
                      loss: Loss | tuple[float | None, str | None, str | None]
                      ) -> tuple[BandwidthMeasurement, list[str]]:
    """The measurement from what the subtests saw, and notes on figures that are less sure.

    A transfer too short for a steady window (a byte cap reached on a fast link)
    still gives a figure, from :func:`analysis.short_summary`, with a note. A
    steady figure whose windows disagree, or that is well under its span's mean,
    and a loss whose interval is too wide, are named in ``doubtful``.
    Agent-side context is filled in by ``run``.
    """
    missing: dict[str, str] = {}
    notes: list[str] = []
    m = BandwidthMeasurement(server=server, idle_latency_samples=len(idle))
    if idle:
        m.idle_latency_min_ms = round(min(idle), 3)
        m.idle_latency_median_ms = round(statistics.median(idle), 3)
        m.idle_jitter_ms = _rounded(jitter(idle))
    else:
        missing["idle_latency_median_ms"] = "no TCP handshake to the server succeeded"
    for name, d in (("download", down), ("upload", up)):
        t = d.transfer
        if t is None:
            missing[f"{name}_mbps"] = d.error or "not run"
            continue
        median, p90, _ = analysis.summarise(t.samples)
        if median is not None and (name == "download" or t.source) and (
                mean := analysis.below_mean(median, t.samples)) is not None:
            m.doubtful[f"{name}_mbps"] = (f"figure {median:.3f} Mbit/s under 90 % of the {mean:.3f} "
                                          "Mbit/s counted over the steady span: windows read counts held "
                                          "back by a hole")
            notes.append(f"{name}: {m.doubtful[f'{name}_mbps']}")
        if median is not None and (name == "download" or t.source):
            _windows(name, t, median, m)
        if median is None:
            median, p90, _ = analysis.short_summary(t.fine if len(t.fine) > 2 else t.samples)
            if median is None:
                missing[f"{name}_mbps"] = f"nothing counted in {t.duration_s:.1f} s ({t.stop})"
            elif name == "download" or t.source:
                notes.append(_short_note(name, t))
        setattr(m, f"{name}_mbps", _rounded(median))
        setattr(m, f"{name}_p90_mbps", _rounded(p90))
        setattr(m, f"{name}_s", round(t.duration_s, 3))
        setattr(m, f"{name}_stop", t.stop)
        loaded = ndt7.median_or_none(t.loaded_rtt_ms)
        setattr(m, f"loaded_latency_{name}_ms", _rounded(loaded))
        if loaded is None:
            missing[f"loaded_latency_{name}_ms"] = "no handshake completed during the transfer"
        m.bytes_used += t.wire_bytes or t.app_bytes
    if up.transfer is not None:
        m.upload_source = up.transfer.source or None
        if not up.transfer.source:
            missing["upload_mbps"] = "the server sent no measurement of what it received"
            m.upload_mbps = m.upload_p90_mbps = None
            m.doubtful.pop("upload_mbps", None)
    loss = Loss(*loss)
    loss_pct, method, why = loss.pct, loss.method, loss.why
    if method == "icmp":
        _loss_figure(loss, m)
    if loss_pct is None:
        sent = sum(d.transfer.sent_bytes or 0 for d in (down, up) if d.transfer)
        retr = sum(d.transfer.retrans_bytes or 0 for d in (down, up) if d.transfer)
        if sent > 0:
            loss_pct, method = round(100.0 * retr / sent, 3), "tcp_retrans"
        else:
            missing["loss_pct"] = why or "no TCP_INFO on either side"
    m.loss_pct, m.loss_method = loss_pct, method  # type: ignore[assignment]
    m.missing = missing
    return m, notes


def _loss(ctx: ProbeContext, host: str, count: int, tcp_answers: bool) -> Loss:
    if not ctx.privileged:
        return Loss(None, None, "no raw-socket rights for ICMP; TCP retransmissions unavailable")
    try:
        echoes = local.icmp_echo(host, count)
    except Exception as exc:  # noqa: BLE001 - fall back to TCP retransmissions
        log.info("ICMP loss probe failed: %s", exc)
        return Loss(None, None, f"ICMP probe failed ({type(exc).__name__})")
    pct, why = local.icmp_loss(echoes, tcp_answers)
    if pct is None:
        log.info("no ICMP loss figure: %s", why)
        return Loss(None, None, why)
    return Loss(pct, "icmp", None, echoes.sent, echoes.sent - min(echoes.received, echoes.sent))


def _caps(cap: int) -> tuple[int, int]:
    """The download's and the upload's byte caps: fixed shares of the test's."""
    down = int(cap * DOWNLOAD_SHARE)
    return down, max(cap - down, MB)


def _wifi(ctx: ProbeContext, m: BandwidthMeasurement) -> None:
    """Attach the Wi-Fi reading of the interface that carried the test, when it is wireless."""
    if m.interface is None or m.wireless is False:
        return
    reading, why = wifi_link.reading(ctx, m.interface)
    if reading is not None:
        m.wifi, m.wireless = reading, True
    elif m.wireless:
        m.missing["wifi"] = why or "no Wi-Fi reading"


def _starved(m: BandwidthMeasurement) -> str:
    """Why the client's CPU is taken to have capped the figures, with the figures that say so."""
    why = [f"the client at {m.client_cpu_pct:g} % of a core"] if m.client_cpu_pct is not None else []
    if m.client_wait_pct is not None:
        why.append(f"its threads kept waiting for a CPU {m.client_wait_pct:g} % of the transfer")
    if m.machine_cpu_pct is not None:
        why.append(f"the machine's CPU at {m.machine_cpu_pct:g} %")
    return ("client CPU starved (" + ", ".join(why) + "): the figures are this machine's, "
            "not the link's, and may be low")


def _machine_side(ctx: ProbeContext, m: BandwidthMeasurement, done: list[ndt7.Transfer],
                  system_pct: float) -> None:
    """Fill in this machine's side of the test: client CPU, interface, its speed, Wi-Fi, what limited it."""
    transfers = [t for t in done if t.duration_s > 0]
    busiest = max(transfers, key=lambda t: t.cpu_s / t.duration_s, default=None)
    m.machine_cpu_pct = round(min(max(system_pct, 0.0), 100.0), 1)
    if busiest is not None:
        busy = busiest.cpu_s / busiest.duration_s
        waited = max((t.wait_s / t.duration_s for t in transfers if t.wait_s is not None), default=None)
        m.client_cpu_pct = round(100.0 * busy, 1)
        m.client_wait_pct = None if waited is None else round(min(100.0 * waited, 10_000.0), 1)
        m.client_limited = local.client_limited(busy, system_pct, waited)
    m.interface, speed = local.interface_for(next((t.local_addr for t in transfers), None), ctx.ps())
    m.link_speed_mbps = speed
    m.wireless = local.is_wireless(m.interface, ctx.os_name, ctx.fs_root)
    _wifi(ctx, m)
    best = max((v for v in (m.download_mbps, m.upload_mbps) if v is not None), default=None)
    rates = (((m.download_mbps, m.wifi.rx_rate_mbps), (m.upload_mbps, m.wifi.tx_rate_mbps))
             if m.wifi is not None else ())
    m.limited_by = local.limited_by(m.client_limited, m.wireless, speed, best, rates)
    if m.interface is None:
        m.missing["interface"] = "no local interface holds the test's source address"


def run(ctx: ProbeContext) -> Outcome:
    """Idle latency, loss, download and upload against the ndt7 server."""
    cfg = ctx.settings.probes.bandwidth
    server = ctx.options.get("server") or cfg.server or ctx.collector_url
    if not server:
        return Outcome.unavailable("no ndt7 server: the agent is not enrolled and none is configured")
    try:
        down_url, up_url = ndt7.ndt7_urls(server, {"client_name": "socle-agent"})
    except ValueError as exc:
        return Outcome(ProbeStatus.error, None, str(exc))

    usage_file = local.usage_file(cfg.usage_file, ctx.state_dir)
    month = local.month_key(ctx.clock())
    used = local.read_usage(usage_file, month)
    cap = int(cfg.max_mb_per_test * MB)
    if cfg.monthly_budget_mb is not None:
        left = int(cfg.monthly_budget_mb * MB) - used
        if left <= cap * 0.1:
            return Outcome.unavailable(
                f"monthly bandwidth budget spent: {used / MB:.0f} of {cfg.monthly_budget_mb:g} MB")
        cap = min(cap, left)

    idle = ndt7.idle_rtts(down_url, cfg.idle_samples, 0.05, ctx.sleep)
    if not idle:
        return Outcome(ProbeStatus.error, None, f"ndt7 server unreachable at {down_url}")
    host, _ = ndt7.host_port(down_url)
    loss = _loss(ctx, host, cfg.loss_probes, tcp_answers=True)

    ps = ctx.ps()
    ps.cpu_percent(interval=None)
    down_cap, up_cap = _caps(cap)
    # The agent's credential goes to its own collector only, never to another ndt7 server.
    credential = ctx.credential if _same_server(server, ctx.collector_url) else None
    limits = ndt7.Limits(cfg.max_duration_s, cfg.min_duration_s, cfg.stable_tolerance_pct,
                         down_cap, cfg.open_timeout_s, credential,
                         on_rate=lambda mbps: ctx.progress("download_mbps", mbps))
    down = _run_direction(ndt7.download, down_url, limits, ctx)
    limits = ndt7.Limits(cfg.max_duration_s, cfg.min_duration_s, cfg.stable_tolerance_pct,
                         up_cap, cfg.open_timeout_s, credential,
                         on_rate=lambda mbps: ctx.progress("upload_mbps", mbps))
    up = _run_direction(ndt7.upload, up_url, limits, ctx)
    system_pct = ps.cpu_percent(interval=None)

    m, notes = build_measurement(server, idle, down, up, loss)
    _machine_side(ctx, m, [d.transfer for d in (down, up) if d.transfer is not None], system_pct)
    if cfg.monthly_budget_mb is not None:
        m.monthly_used_mb = round(local.add_usage(usage_file, month, m.bytes_used) / MB, 3)
        m.monthly_budget_mb = cfg.monthly_budget_mb

    outcome = outcome_of(m, notes)
    if ctx.options.get("record"):
        record.write(ctx.options["record"], {"download": down.transfer, "upload": up.transfer},
                     {"status": outcome.status.value, "reason": outcome.reason,
                      "measurement": m.model_dump(mode="json")})
    return outcome


def outcome_of(m: BandwidthMeasurement, notes: list[str]) -> Outcome:
    """The status: error with no figure; degraded with one missing, limited, noted or doubted; else ok.

    The reason names each cause with the figures behind it: a starved client's
    CPU and wait, the windows' spread, a loss's echoes and interval.
    """
    if m.download_mbps is None and m.upload_mbps is None:
        return Outcome(ProbeStatus.error, m, "; ".join(f"{k}: {v}" for k, v in m.missing.items()
                                                       if k.endswith("_mbps")))
    doubts = [d for d in (f"{k.removesuffix('_mbps').removesuffix('_pct')}: {v}"
                          for k, v in m.doubtful.items()) if d not in notes]
    if m.download_mbps is None or m.upload_mbps is None or m.limited_by or notes or doubts:
        why = [f"{k}: {m.missing[k]}" for k in ("download_mbps", "upload_mbps") if k in m.missing]
        why += notes + doubts
        if m.limited_by == "client_cpu":
            why.append(f"limited by client_cpu: {_starved(m)}")
        elif m.limited_by:
            why.append(f"limited by {m.limited_by}")
        return Outcome(ProbeStatus.degraded, m, "; ".join(why))
    return Outcome.ok(m)


SPEC = ProbeSpec(
    name="bandwidth",
    run=run,
    summary="Download and upload throughput, latency under load and loss (ndt7)",
    default_timeout_s=60.0,
    needs=("collector",),
)
